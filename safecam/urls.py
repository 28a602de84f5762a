"""Root URLconf. Apps are included by dotted string, so this package imports no app (STYLE.md)."""

from django.contrib import admin
from django.urls import include, path

from safecam import views

api_patterns = [
    path("", include("safecam.api")),
    path("", include("cameras.api")),
]

urlpatterns = [
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_patterns, "api"), namespace="api")),
    path("healthz", views.healthz, name="healthz"),
    path("", include("cameras.urls")),
]

handler404 = "safecam.views.not_found"
handler500 = "safecam.views.server_error"
