"""The DPO's registers: requests, disclosures and the record of processing activities (Art. 30)."""

from django.urls import path

from access_requests import views_registers

urlpatterns = [
    path("requests/register/", views_registers.request_register, name="request-register"),
    path("requests/disclosures/", views_registers.disclosure_log, name="disclosure-log"),
    path("records/processing/", views_registers.processing_record, name="processing-record"),
]
