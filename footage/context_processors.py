"""The red banner every camera user sees while the storage server is down or the spool is filling."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from footage.models import StorageStatus
from footage.supervise import spool_alerting


def recording_alert(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not (
            user.is_superuser or user.has_perm("cameras.view_site") or _has_any_site(user)):
        return {}
    status = StorageStatus.objects.filter(pk=1).first()
    if status is None:
        return {}
    filling = spool_alerting(status)
    if status.reachable and not filling:
        return {}
    return {"recording_alert": {"storage_down": not status.reachable, "since": status.failing_since,
                                "error": status.error, "spool_files": status.spool_files,
                                "spool_bytes": status.spool_bytes, "spool_filling": filling}}


def _has_any_site(user: Any) -> bool:
    from cameras.models import Site

    return Site.objects.restrict(user, "view").exists()
