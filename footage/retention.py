"""Retention as a legal maximum: delete footage older than each camera's retention, crash-safe.

Each pass is a :class:`RetentionRun` row. For each camera, in batches:

1. **claim**: segments that ended before the cut-off, are stored, and overlap no active hold are
   marked ``deleting`` and tagged with this run, by one conditional UPDATE. Two passes at once
   cannot claim the same row (``state = 'stored'`` is re-checked by the UPDATE; PostgreSQL skips
   rows another pass has locked);
2. **delete the files** on the storage server, each segment's preview picture too when it has one
   (a file already gone counts as deleted);
3. **delete the rows** and add them to the run's :class:`RetentionRecord` for the camera (time
   range, segments, bytes) in one transaction.

A crash between 2 and 3 leaves rows marked ``deleting`` whose run stopped beating; the next pass
claims them first and finishes them. So there is never a row pointing at nothing that playback
could use (``deleting`` rows are never played), nor a file nobody indexes.

A shortened retention waits out its notice period (``cameras.selectors.retention_hours_effective``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Min, Q, Sum
from django.db.models.functions import Greatest
from django.utils import timezone

from cameras.models import Camera, CameraHealth
from cameras.selectors import retention_hours_effective
from footage import services
from footage.models import DeletionKind, JobStatus, RetentionRecord, RetentionRun, Segment, SegmentState
from footage.thumbnails import thumbnail_name
from safecam.audit import AuditAction, audit_record

log = logging.getLogger(__name__)

BATCH = 1000


@dataclass(frozen=True)
class Claimed:
    pk: int
    camera_id: int
    storage_name: str
    size: int
    start: datetime
    end: datetime
    thumbnail: bool


def retention_apply(*, now: datetime | None = None, batch: int = BATCH,
                    after_files_deleted: Any = None) -> RetentionRun:
    """One retention pass over every camera. ``after_files_deleted`` is a test hook (simulated crash)."""
    now = now or timezone.now()
    run = RetentionRun.objects.create(heartbeat_at=timezone.now())
    try:
        services.holds_expire(now)
        repaired = _finish_abandoned(run, after_files_deleted=after_files_deleted)
        failures: list[str] = []
        for camera in Camera.objects.prefetch_related("retention_changes").order_by("pk"):
            try:
                _apply_camera(run, camera, now=now, batch=batch, after_files_deleted=after_files_deleted,
                              recount=camera.pk in repaired)
            except Exception as exc:  # one camera's failure must not keep the others' footage for ever
                if after_files_deleted is not None:
                    raise  # the crash hook simulates a dying process, which does not go on
                log.exception("Retention failed for camera %s; the next pass retries it", camera.pk)
                failures.append(f"{camera.pk}: {type(exc).__name__}: {exc}")
        if failures:
            raise RuntimeError("; ".join(failures))
    except Exception as exc:
        RetentionRun.objects.filter(pk=run.pk).update(status=JobStatus.FAILED, finished_at=timezone.now(),
                                                      error=f"{type(exc).__name__}: {exc}"[:2000])
        log.exception("Retention pass %s failed; the next pass finishes what it claimed", run.pk)
        raise
    with transaction.atomic():
        RetentionRun.objects.filter(pk=run.pk).update(status=JobStatus.DONE, finished_at=timezone.now())
        run.refresh_from_db()
        if run.segments_deleted:
            audit_record(action=AuditAction.RETENTION_APPLIED, actor=None, target=run,
                         details={"segments": run.segments_deleted, "bytes": run.bytes_deleted,
                                  "kept_by_holds": run.segments_held})
    return run


def _apply_camera(run: RetentionRun, camera: Camera, *, now: datetime, batch: int, after_files_deleted: Any,
                  recount: bool) -> None:
    hours = retention_hours_effective(camera, now)
    cutoff = now - timedelta(hours=hours)
    deleted = False
    while True:
        claimed = _claim(run, camera_id=camera.pk, cutoff=cutoff, now=now, batch=batch)
        if not claimed:
            break
        _delete(run, claimed, retention_hours=hours, after_files_deleted=after_files_deleted)
        deleted = True
    held = (Segment.objects.filter(camera=camera, state=SegmentState.STORED, end__lte=cutoff)
            .filter(services.segments_held(now)).count())
    if held:
        RetentionRun.objects.filter(pk=run.pk).update(segments_held=F("segments_held") + held)
    if recount:
        _recount(camera.pk)
    elif deleted:
        # The counters were kept in step with each batch; only the oldest footage moved.
        oldest = Segment.objects.filter(camera=camera, state=SegmentState.STORED).aggregate(o=Min("start"))["o"]
        CameraHealth.objects.filter(camera=camera).update(oldest_footage=oldest)


def _claim(run: RetentionRun, *, camera_id: int, cutoff: datetime, now: datetime, batch: int) -> list[Claimed]:
    with transaction.atomic():
        candidates = (Segment.objects.filter(camera_id=camera_id, state=SegmentState.STORED, end__lte=cutoff)
                      .exclude(services.segments_held(now)).order_by("start"))
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True, of=("self",))
        ids = list(candidates.values_list("pk", flat=True)[:batch])
        if not ids:
            return []
        Segment.objects.filter(pk__in=ids, state=SegmentState.STORED).update(
            state=SegmentState.DELETING, retention_run=run)
    return _claimed_by(run, camera_id=camera_id)


def _claimed_by(run: RetentionRun, *, camera_id: int | None = None) -> list[Claimed]:
    rows = Segment.objects.filter(state=SegmentState.DELETING, retention_run=run)
    if camera_id is not None:
        rows = rows.filter(camera_id=camera_id)
    return [Claimed(*values) for values in
            rows.values_list("pk", "camera_id", "storage_name", "size", "start", "end", "thumbnail")]


def _finish_abandoned(run: RetentionRun, *, after_files_deleted: Any) -> set[int]:
    """Take over segments a crashed pass claimed but did not finish; the cameras concerned."""
    stale = [r.pk for r in RetentionRun.objects.filter(
        pk__in=Segment.objects.filter(state=SegmentState.DELETING).values("retention_run")) if r.is_stale()]
    orphaned = Q(retention_run__isnull=True) | Q(retention_run__in=stale)
    Segment.objects.filter(state=SegmentState.DELETING).filter(orphaned).update(retention_run=run)
    claimed = _claimed_by(run)
    if claimed:
        log.warning("Retention pass %s finishes %d segments left by a crashed pass", run.pk, len(claimed))
        hours = {c.pk: c.retention_hours for c in Camera.objects.filter(pk__in={x.camera_id for x in claimed})}
        by_camera: dict[int, list[Claimed]] = {}
        for item in claimed:
            by_camera.setdefault(item.camera_id, []).append(item)
        for camera_id, items in by_camera.items():
            _delete(run, items, retention_hours=hours[camera_id], after_files_deleted=after_files_deleted)
    return {item.camera_id for item in claimed}


def _delete(run: RetentionRun, claimed: list[Claimed], *, retention_hours: int, after_files_deleted: Any) -> None:
    storage = services.footage_storage()
    for item in claimed:
        names = [item.storage_name, thumbnail_name(item.storage_name)] if item.thumbnail else [item.storage_name]
        for name in names:
            try:
                storage.delete(name)
            except Exception:
                if storage.exists(name):
                    raise  # a file that is gone was deleted already (a crashed pass); one that stays is an error
    if after_files_deleted is not None:
        after_files_deleted(claimed)
    camera_id = claimed[0].camera_id
    size = sum(c.size for c in claimed)
    seconds = sum((c.end - c.start).total_seconds() for c in claimed)
    with transaction.atomic():
        deleted, _ = Segment.objects.filter(pk__in=[c.pk for c in claimed], retention_run=run,
                                            state=SegmentState.DELETING).delete()
        record, _created = RetentionRecord.objects.select_for_update().get_or_create(
            run=run, camera_id=camera_id,
            defaults={"removed_from": min(c.start for c in claimed), "removed_until": max(c.end for c in claimed),
                      "retention_hours": retention_hours})
        record.removed_from = min(record.removed_from, *(c.start for c in claimed))
        record.removed_until = max(record.removed_until, *(c.end for c in claimed))
        record.segments += deleted
        record.bytes += size
        record.save()
        RetentionRun.objects.filter(pk=run.pk).update(
            segments_deleted=F("segments_deleted") + deleted, bytes_deleted=F("bytes_deleted") + size,
            heartbeat_at=timezone.now())
        # Never below zero: a counter that drifted low must not stop deletion (the recount repairs it).
        CameraHealth.objects.filter(camera_id=camera_id).update(
            stored_bytes=Greatest(F("stored_bytes") - size, 0),
            stored_seconds=Greatest(F("stored_seconds") - seconds, 0.0),
            stored_segments=Greatest(F("stored_segments") - deleted, 0))


def _recount(camera_id: int) -> None:
    """Reset the camera's storage counters from the index (repairs any drift after a crash).

    Rows being deleted still count: their pass subtracts them when it deletes them. The health
    row is locked first, so a concurrent pass's subtraction lands either before this count (which
    then no longer sees its rows) or after it (which then still did).
    """
    CameraHealth.objects.get_or_create(camera_id=camera_id)
    with transaction.atomic():
        CameraHealth.objects.select_for_update().filter(camera_id=camera_id).first()
        rows = Segment.objects.filter(camera_id=camera_id)
        totals = rows.aggregate(size=Sum("size"), seconds=Sum("duration"), oldest=Min("start"))
        CameraHealth.objects.filter(camera_id=camera_id).update(
            stored_bytes=totals["size"] or 0, stored_seconds=totals["seconds"] or 0.0, stored_segments=rows.count(),
            oldest_footage=rows.filter(state=SegmentState.STORED).aggregate(oldest=Min("start"))["oldest"])


def footage_erase(*, camera: Camera, start: datetime, end: datetime, by: Any, reason: str) -> RetentionRun:
    """Delete a camera's footage overlapping ``[start, end)`` before its retention ends (an erasure
    under GDPR Art. 17), by the same crash-safe steps as retention: claim, delete the files, delete
    the rows into a ``RetentionRecord``. Whole segments go (a little more than the range, never
    less). Footage an active hold keeps stays (another case needs it); the run counts it in
    ``segments_held``. The run (kind "erasure", who and why) and its record are the proof."""
    if end <= start:
        raise ValueError("the end of the range must be after its start")
    now = timezone.now()
    run = RetentionRun.objects.create(kind=DeletionKind.ERASURE, note=reason.strip(), requested_by=by,
                                      heartbeat_at=now)
    in_range = Segment.objects.filter(camera=camera, state=SegmentState.STORED).overlapping(start, end)
    with transaction.atomic():
        held = in_range.filter(services.segments_held(now)).count()
        ids = list(in_range.exclude(services.segments_held(now)).values_list("pk", flat=True))
        Segment.objects.filter(pk__in=ids, state=SegmentState.STORED).update(state=SegmentState.DELETING,
                                                                           retention_run=run)
    claimed = _claimed_by(run, camera_id=camera.pk)
    if claimed:
        _delete(run, claimed, retention_hours=0, after_files_deleted=None)
        _recount(camera.pk)
    with transaction.atomic():
        RetentionRun.objects.filter(pk=run.pk).update(status=JobStatus.DONE, finished_at=timezone.now(),
                                                      segments_held=held)
        run.refresh_from_db()
        audit_record(action=AuditAction.FOOTAGE_ERASED, actor=by, target=run,
                     details={"camera": str(camera.public_id), "camera_name": camera.name, "start": start,
                              "end": end, "reason": run.note, "segments": run.segments_deleted,
                              "bytes": run.bytes_deleted, "kept_by_holds": held})
    return run
