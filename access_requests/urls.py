"""Pages of the requests app. The public pages (no login) and the registers live in their own modules."""

from django.urls import include, path

from access_requests import views

urlpatterns = [
    path("", include("access_requests.urls_public")),
    path("", include("access_requests.urls_registers")),
    path("requests/", views.dashboard, name="request-dashboard"),
    path("requests/new/", views.request_new, name="request-new"),
    path("requests/<uuid:public_id>/", views.request_detail, name="request-detail"),
    path("requests/<uuid:public_id>/move/", views.request_move, name="request-move"),
    path("requests/<uuid:public_id>/extend/", views.request_extend, name="request-extend"),
    path("requests/<uuid:public_id>/erase/", views.request_erase, name="request-erase"),
    path("requests/<uuid:public_id>/search/", views.request_search, name="request-search"),
    path("requests/<uuid:public_id>/letter-<str:language>.pdf", views.request_letter, name="request-letter"),
    path("requests/<uuid:public_id>/footage/", views.footage_attach, name="request-footage-attach"),
    path("requests/<uuid:public_id>/footage/<uuid:footage_id>/detach/", views.footage_detach,
         name="request-footage-detach"),
    path("requests/<uuid:public_id>/footage/<uuid:footage_id>/redact/", views.redaction_editor,
         name="request-redact"),
    path("exports/<uuid:public_id>/", views.export_detail, name="export-detail"),
    path("exports/<uuid:public_id>/redacted.mp4", views.export_redacted, name="export-redacted"),
    path("exports/<uuid:public_id>/approve/", views.export_approve, name="export-approve"),
    path("exports/<uuid:public_id>/deliver/", views.delivery_create, name="delivery-create"),
    path("deliveries/<uuid:public_id>/revoke/", views.delivery_revoke, name="delivery-revoke"),
    path("download/<str:token>/", views.delivery_download, name="delivery-download"),
]
