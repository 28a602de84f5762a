"""The DPO's audit trail pages (``safecam.views_audit``)."""

from django.urls import path

from safecam import views_audit

urlpatterns = [
    path("audit/", views_audit.audit_trail, name="audit-trail"),
    path("audit/export.<str:export_format>", views_audit.audit_export, name="audit-export"),
    path("audit/verify/", views_audit.audit_verify, name="audit-verify"),
    path("audit/verify/<uuid:public_id>/", views_audit.audit_verification, name="audit-verification"),
    path("audit/<int:seq>/", views_audit.audit_event_detail, name="audit-event"),
]
