"""Admin views of the footage index, read-only: recording writes it, holds change through their
services (pages and API) so every change is audited, and retention records are proof."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from footage.models import Gap, Hold, RetentionRecord, RetentionRun, Run, Segment, StorageStatus


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Run)
class RunAdmin(ReadOnlyAdmin):
    list_display = ["camera", "started_at", "ended_at", "end_reason", "recorder", "video_codec", "width", "height",
                    "clock_skew"]
    list_filter = ["end_reason", "camera__site"]
    date_hierarchy = "started_at"


@admin.register(Segment)
class SegmentAdmin(ReadOnlyAdmin):
    list_display = ["camera", "start", "duration", "size", "state", "storage_name"]
    list_filter = ["state", "camera__site"]
    date_hierarchy = "start"
    show_full_result_count = False  # millions of rows: no COUNT(*) per page


@admin.register(Gap)
class GapAdmin(ReadOnlyAdmin):
    list_display = ["camera", "start", "end", "reason", "detail"]
    list_filter = ["reason", "camera__site"]
    date_hierarchy = "start"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["camera", "start", "end", "reason", "created_by", "review_on", "expires_at", "released_at"]
    list_filter = ["camera__site"]


@admin.register(RetentionRun)
class RetentionRunAdmin(ReadOnlyAdmin):
    list_display = ["started_at", "finished_at", "status", "segments_deleted", "bytes_deleted", "segments_held"]


@admin.register(RetentionRecord)
class RetentionRecordAdmin(ReadOnlyAdmin):
    list_display = ["run", "camera", "removed_from", "removed_until", "segments", "bytes", "retention_hours"]
    list_filter = ["camera__site"]


@admin.register(StorageStatus)
class StorageStatusAdmin(ReadOnlyAdmin):
    list_display = ["reachable", "failing_since", "error", "spool_bytes", "spool_files", "checked_at"]
