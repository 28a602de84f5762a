"""Admin for the audit trail (read-only for everyone) and user accounts (changes audited)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

from safecam.audit import AuditAction, audit_record
from safecam.models import AuditEvent

User = get_user_model()
AUDITED_USER_FIELDS = ("username", "first_name", "last_name", "email", "is_active", "is_staff", "is_superuser")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["seq", "at", "actor_username", "action", "target_repr", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_username", "target_repr", "target_id"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    date_hierarchy = "at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


admin.site.unregister(User)


@admin.register(User)
class AuditedUserAdmin(UserAdmin):
    """Django's user admin; account changes are audited (group and permission changes by receivers)."""

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        changed = [name for name in form.changed_data if name in AUDITED_USER_FIELDS]
        password_set = "password1" in form.changed_data or "password" in form.changed_data
        super().save_model(request, obj, form, change)
        if changed or password_set or not change:
            details = {"changes": {name: form.cleaned_data.get(name) for name in changed},
                       "created": not change, "password_set": password_set}
            audit_record(action=AuditAction.USER_CHANGED, actor=request.user, target=obj, details=details)


# django-otp's admin pages show a user's authenticator secret (as a QR code) to the administrator;
# nobody but the user should ever see it. A lost phone is reset with `manage.py twofactor_reset`
# (audited), after which the user enrols afresh.
def _otp_admin_unregister() -> None:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_otp_admin_unregister()
