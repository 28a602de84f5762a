"""Admin views of requests, exports and links, read-only: every change goes through the services
(pages and API), which check the workflow and write the audit trail."""

from __future__ import annotations

from django.contrib import admin

from access_requests.models import AccessRequest, Delivery, Export
from footage.admin import ReadOnlyAdmin


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["reference", "kind", "state", "received_at", "due_on", "requester_name", "recipient_organisation"]
    list_filter = ["kind", "state", "channel"]
    search_fields = ["reference", "requester_name", "recipient_organisation"]
    date_hierarchy = "received_at"


@admin.register(Export)
class ExportAdmin(ReadOnlyAdmin):
    list_display = ["request", "camera", "start", "end", "status", "progress", "created_by", "approved_by"]
    list_filter = ["status"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["export", "recipient", "expires_at", "downloads", "max_downloads", "revoked_at"]
