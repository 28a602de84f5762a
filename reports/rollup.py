"""Daily roll-ups: one :class:`~reports.models.CameraDay` per camera and local day.

The figures come from the other apps' selectors (``footage.selectors.day_figures``,
``access_requests.selectors.export_counts``); nothing here is typed in. A beat job rolls up today
and yesterday every five minutes (``statistics_rollup_recent``): yesterday again because a
segment that waited in the spool during a storage outage is indexed late. A day is ``final`` once
it has ended. An existing row is recomputed only while all of the day's footage is still within
its camera's retention; after that retention may have deleted some of it, and the row is the only
record of the day, so neither the beat job nor ``manage.py statistics_rollup`` (backfill, e.g.
after installation) touches it unless told ``--force``.

Expected time is the local day (23, 24 or 25 hours on the clock-change Sundays) from the camera's
installation (``Camera.installed_on``, else the moment it was entered in the registry) until now.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from access_requests.selectors import export_counts
from cameras.models import Camera
from cameras.selectors import cameras_for_figures
from footage.selectors import DayFigures, day_figures
from reports.models import CameraDay
from safecam.timeranges import TimeRange, local_day, local_today

log = logging.getLogger(__name__)


def _expected_from(camera: Camera) -> datetime:
    if camera.installed_on is not None:
        return local_day(camera.installed_on).start
    return camera.created_at


def expected_seconds(camera: Camera, window: TimeRange, now: datetime) -> float:
    start = max(window.start, _expected_from(camera))
    end = min(window.end, now)
    return max(0.0, (end - start).total_seconds())


def _stored_bytes() -> dict[int, int]:
    from cameras.models import CameraHealth

    return dict(CameraHealth.objects.values_list("camera_id", "stored_bytes"))


@transaction.atomic
def day_rollup(day: date, *, now: datetime | None = None, force: bool = False) -> int:
    """Compute ``day`` for every camera; returns how many rows were written. A row whose footage
    may already be partly deleted by retention is kept unless ``force``."""
    now = now or timezone.now()
    window = local_day(day)
    if window.start >= now:
        return 0
    cameras = cameras_for_figures()
    figures = day_figures(window, now=now)
    exports = export_counts(window)
    existing = {row.camera_id: row for row in CameraDay.objects.select_for_update().filter(day=day)}
    final = window.end <= now
    # Storage in use is a reading of the counters, not something the index can tell after the fact:
    # taken while the day is current or just ended, kept afterwards.
    stored = _stored_bytes() if window.end > now - timedelta(days=1) else {}
    rows, written = [], 0
    for camera in cameras:
        row = existing.get(camera.pk)
        if row is not None and not force and window.start < now - timedelta(hours=camera.retention_hours):
            continue
        item = figures.get(camera.pk, DayFigures(gap_seconds={}))
        row = row or CameraDay(camera=camera, day=day)
        row.expected_seconds = round(expected_seconds(camera, window, now), 3)
        row.recorded_seconds = round(min(item.recorded_seconds, row.expected_seconds or item.recorded_seconds), 3)
        row.gap_seconds = {reason: round(seconds, 3) for reason, seconds in sorted((item.gap_seconds or {}).items())}
        row.outages, row.segments, row.bytes_recorded = item.outages, item.segments, item.bytes_recorded
        if camera.pk in stored:
            row.bytes_stored = stored[camera.pk]
        row.playback_sessions, row.live_sessions = item.playback_sessions, item.live_sessions
        row.request_sessions, row.seconds_viewed = item.request_sessions, round(item.seconds_viewed, 3)
        row.stills, row.holds, row.incidents = item.stills, item.holds, item.incidents
        row.exports = exports.get(camera.pk, 0)
        row.final = final
        row.computed_at = now
        rows.append(row)
        written += 1
    new = [row for row in rows if row.pk is None]
    old = [row for row in rows if row.pk is not None]
    CameraDay.objects.bulk_create(new)
    CameraDay.objects.bulk_update(old, [
        "expected_seconds", "recorded_seconds", "gap_seconds", "outages", "segments", "bytes_recorded",
        "bytes_stored", "playback_sessions", "live_sessions", "request_sessions", "seconds_viewed", "stills",
        "exports", "holds", "incidents", "final", "computed_at"])
    return written


def statistics_rollup_recent(*, now: datetime | None = None) -> int:
    """The beat job: yesterday (late segments from the spool) and today so far."""
    now = now or timezone.now()
    today = local_today(now)
    return day_rollup(today - timedelta(days=1), now=now) + day_rollup(today, now=now)


def days_rollup(first: date, last: date, *, force: bool = False, now: datetime | None = None) -> int:
    """Backfill ``first`` … ``last``, one transaction per day."""
    written, day = 0, first
    while day <= last:
        written += day_rollup(day, now=now, force=force)
        day += timedelta(days=1)
    return written
