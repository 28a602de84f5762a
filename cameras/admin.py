"""Admin for the registry. Saves go through the services, so every change is validated and audited.

The camera form never shows stored credentials: the user name and password are write-only fields
("leave empty to keep"), and the list shows only whether credentials are set.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from cameras import services
from cameras.models import Camera, Controller, Site
from cameras.streams import StreamURLError, split_stream_url


class CameraAdminForm(forms.ModelForm):
    stream_username = forms.CharField(label=_("stream user name"), required=False,
                                      help_text=_("Leave empty to keep the stored one."))
    stream_password = forms.CharField(label=_("stream password"), required=False,
                                      widget=forms.PasswordInput(render_value=False),
                                      help_text=_("Leave empty to keep the stored one."))
    clear_credentials = forms.BooleanField(label=_("remove stored credentials"), required=False)

    class Meta:
        model = Camera
        fields = ["site", "name", "location", "latitude", "longitude", "stream_url", "purpose", "legal_basis",
                  "retention_hours", "retention_justification", "enabled", "installed_on", "sign_installed_on",
                  "privacy_masking_notes"]

    def clean_stream_url(self) -> str:
        try:
            split_stream_url(self.cleaned_data["stream_url"])
        except StreamURLError as exc:
            raise forms.ValidationError(str(exc)) from None
        return self.cleaned_data["stream_url"]

    def _post_clean(self) -> None:
        # Move credentials out of the URL before the model validates and before anything is shown again.
        if "stream_url" in self.cleaned_data:
            if self.cleaned_data.get("clear_credentials"):
                username, password = "", ""
            else:
                username = self.cleaned_data.get("stream_username") or None
                password = self.cleaned_data.get("stream_password") or None
            services.stream_url_apply(camera=self.instance, url=self.cleaned_data.pop("stream_url"),
                                      username=username, password=password)
            # If the form is shown again (another field's error), show the URL without credentials.
            self.data = self.data.copy()
            self.data[self.add_prefix("stream_url")] = self.instance.stream_url
        super()._post_clean()


@admin.register(Site)
class SiteAdmin(GuardedModelAdmin):
    list_display = ["name", "slug", "address", "contact_name"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        services.site_save(site=obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: Site) -> None:
        services.site_delete(site=obj, by=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # No bulk "delete selected": every deletion goes through the audited service, one at a time.
        return False if obj is None else super().has_delete_permission(request, obj)


@admin.register(Camera)
class CameraAdmin(admin.ModelAdmin):
    form = CameraAdminForm
    list_display = ["name", "site", "stream_url", "has_credentials", "retention_hours", "enabled",
                    "installed_on", "sign_installed_on"]
    list_filter = ["site", "enabled"]
    search_fields = ["name", "location"]
    readonly_fields = ["public_id", "has_credentials"]
    fieldsets = [
        (None, {"fields": ["public_id", "site", "name", "location", ("latitude", "longitude"), "enabled"]}),
        (_("Stream"), {"fields": ["stream_url", "has_credentials", "stream_username", "stream_password",
                                  "clear_credentials"]}),
        (_("Lawfulness"), {"fields": ["purpose", "legal_basis", "retention_hours", "retention_justification",
                                      "installed_on", "sign_installed_on", "privacy_masking_notes"]}),
    ]

    @admin.display(boolean=True, description=_("credentials set"))
    def has_credentials(self, obj: Camera) -> bool:
        return obj.has_credentials

    def save_model(self, request: HttpRequest, obj: Camera, form: Any, change: bool) -> None:
        services.camera_save(camera=obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: Camera) -> None:
        services.camera_delete(camera=obj, by=request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is None else super().has_delete_permission(request, obj)


@admin.register(Controller)
class ControllerAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "address"]

    def save_model(self, request: HttpRequest, obj: Controller, form: Any, change: bool) -> None:
        services.controller_save(controller=obj, by=request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Controller.objects.exists() and super().has_add_permission(request)
