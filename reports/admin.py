"""Admin views of the statistics and the reports, read-only: the project record is kept on the
project pages, whose services validate each change and write it to the audit trail."""

from __future__ import annotations

from django.contrib import admin

from footage.admin import ReadOnlyAdmin
from reports.models import Activity, CameraDay, Expenditure, Partner, Project, Report


@admin.register(CameraDay)
class CameraDayAdmin(ReadOnlyAdmin):
    list_display = ["day", "camera", "expected_seconds", "recorded_seconds", "outages", "playback_sessions",
                    "final", "computed_at"]
    list_filter = ["final", "camera__site"]
    date_hierarchy = "day"


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["kind", "language", "period_start", "period_end", "status", "progress", "created_by", "created_at"]
    list_filter = ["kind", "status", "language"]


for model in (Project, Partner, Activity, Expenditure):
    admin.site.register(model, ReadOnlyAdmin)
