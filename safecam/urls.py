"""Root URLconf. Apps are included by dotted string, so this package imports no app (STYLE.md)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from safecam import views, views_accounts

api_patterns = [
    path("", include("safecam.api")),
    path("", include("cameras.api")),
    path("", include("footage.api")),
    path("", include("access_requests.api")),
    path("", include("reports.api")),
]

urlpatterns = [
    # Login, logout and password change only: no self-service password reset by email (accounts
    # are managed by the municipality's administrator, and a reset form is one more door).
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", views.AuditedPasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    # The second factor (safecam/twofactor.py): set up at the first login, asked at every login.
    path("accounts/two-factor/", views_accounts.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", views_accounts.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/recovery-codes/", views_accounts.recovery_codes, name="two_factor_codes"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_patterns, "api"), namespace="api")),
    path("healthz", views.healthz, name="healthz"),
    path("", include("safecam.urls_audit")),
    path("", include("reports.urls")),
    path("", include("access_requests.urls")),
    path("", include("footage.urls")),
    path("", include("cameras.urls")),
]

handler404 = "safecam.views.not_found"
handler500 = "safecam.views.server_error"
handler400 = "safecam.uploads.bad_request"
