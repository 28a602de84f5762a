"""Pages of the requests app. The public pages (no login) and the registers live in their own modules."""

from django.urls import include, path

urlpatterns = [
    path("", include("access_requests.urls_public")),
    path("", include("access_requests.urls_registers")),
]
