"""Pages for residents without an account (the request form, the notices), and the printable signs."""

from django.urls import path

from access_requests import public

urlpatterns = [
    path("request/", public.request_form, name="public-request"),
    path("request/sent/<str:token>/", public.request_sent, name="public-request-sent"),
    path("privacy/", public.notice_index, name="public-notice-index"),
    path("privacy/<slug:slug>/", public.notice, name="public-notice"),
    path("signs/", public.sign_index, name="sign-index"),
    path("signs/<slug:slug>.pdf", public.sign_pdf, name="sign-pdf"),
]
