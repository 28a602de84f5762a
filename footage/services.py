"""Writes to the footage index: leases, runs, gaps, segment ingest, storage status, holds.

Who calls what:

* the recorder (``footage.recorder``) takes a lease, opens and ends runs, opens gaps;
* an ingest job (``footage.tasks.segment_ingest``) moves one closed segment from the spool to the
  storage server and indexes it (``segment_ingest``);
* the supervisor (``footage.tasks.recording_supervise``) queues recorders whose lease lapsed,
  re-queues spool files whose job was lost, probes an unreachable storage server with backoff;
* people place and release holds (``hold_place`` / ``hold_release``), audited.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cameras.models import Camera, CameraHealth
from cameras.services import health_count_stored, health_update
from footage import spool
from footage.models import (SEGMENT_LONGEST, EndReason, Gap, Hold, Incident, RecorderLease, Run, Segment, StorageStatus)
from safecam.audit import AuditAction, audit_record

log = logging.getLogger(__name__)

HASH_CHUNK = 1 << 20


_per_thread = threading.local()


def footage_storage() -> Any:
    """The storage server, one client per thread.

    Django shares one storage instance per process, and paramiko's SFTP client is not safe for
    concurrent requests: on a thread-pool worker, two ingest threads on one connection steal each
    other's answers. Each thread gets its own instance (its own connection) instead; the instance
    is rebuilt when the settings change (tests) and is cheap for file and S3 storage.
    """
    config = settings.STORAGES["footage"]
    cached = getattr(_per_thread, "storage", None)
    if cached is None or _per_thread.config is not config:
        _per_thread.storage = storages.create_storage(config)
        _per_thread.config = config
    return _per_thread.storage


def file_sha256(handle: Any) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    while chunk := handle.read(HASH_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


# --- leases: exactly one recorder per camera across every worker host -----------------------------


def lease_ttl() -> timedelta:
    return timedelta(seconds=settings.SAFECAM_RECORDER_LEASE_SECONDS)


def lease_acquire(*, camera_id: int, holder: str) -> uuid.UUID | None:
    """Take the camera's lease if nobody holds a live one; the token proves ownership afterwards."""
    RecorderLease.objects.get_or_create(camera_id=camera_id)
    now = timezone.now()
    token = uuid.uuid4()
    taken = RecorderLease.objects.filter(camera_id=camera_id).filter(
        Q(holder="") | Q(expires_at__isnull=True) | Q(expires_at__lte=now)
    ).update(holder=holder, token=token, expires_at=now + lease_ttl(), heartbeat_at=now, requested_at=None,
             handover_to="")
    return token if taken else None


def lease_renew(*, camera_id: int, token: uuid.UUID) -> bool:
    """Extend the lease; False when another worker took it (this one must stop recording at once)."""
    now = timezone.now()
    renewed = RecorderLease.objects.filter(camera_id=camera_id, token=token).update(
        expires_at=now + lease_ttl(), heartbeat_at=now)
    if renewed:
        health_update(camera_id=camera_id, recorder_heartbeat_at=now)
    return bool(renewed)


def lease_release(*, camera_id: int, token: uuid.UUID) -> None:
    RecorderLease.objects.filter(camera_id=camera_id, token=token).update(holder="", token=None, expires_at=None,
                                                                        handover_to="")


def database_up_for() -> timedelta | None:
    """How long the database server has been running (PostgreSQL); None where it cannot say."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT now() - pg_postmaster_start_time()")
        return cursor.fetchone()[0]


def recorders_due(now: datetime | None = None) -> list[int]:
    """Enabled cameras nobody records (no live lease) and for which no recorder was just queued.

    None in the first lease period after the database server started: every lease looks lapsed
    after a restart (nobody could renew), but the recorders kept recording through it and renew
    within a second of its return. Taking their cameras over then would cut every recording in two.
    """
    up_for = database_up_for()
    if up_for is not None and up_for < lease_ttl():
        return []
    now = now or timezone.now()
    live = RecorderLease.objects.filter(holder__gt="", expires_at__gt=now).values("camera_id")
    recently_queued = RecorderLease.objects.filter(requested_at__gt=now - 2 * lease_ttl()).values("camera_id")
    due = list(Camera.objects.filter(enabled=True).exclude(pk__in=live).exclude(pk__in=recently_queued)
               .values_list("pk", flat=True))
    for camera_id in due:
        RecorderLease.objects.get_or_create(camera_id=camera_id)
    RecorderLease.objects.filter(camera_id__in=due).update(requested_at=now)
    return due


# --- runs and gaps ------------------------------------------------------------------------------------


@transaction.atomic
def run_open(*, camera_id: int, started_at: datetime, recorder: str) -> Run:
    """A new run's first segment has closed: index the run and close the camera's open gap."""
    run = Run.objects.create(camera_id=camera_id, started_at=started_at, recorder=recorder)
    gap = Gap.objects.select_for_update().filter(camera_id=camera_id, end__isnull=True).first()
    if gap is not None:
        if started_at > gap.start:
            gap.end = started_at
            gap.save(update_fields=["end"])
        else:  # the previous run's tail overlaps this start (clock jitter): there was no gap
            gap.delete()
    return run


@transaction.atomic
def run_end(*, run: Run, ended_at: datetime, reason: str, detail: str = "") -> None:
    """Close a run and open a gap from its last second, saying why recording stopped."""
    updated = Run.objects.filter(pk=run.pk, ended_at__isnull=True).update(
        ended_at=ended_at, end_reason=reason, end_detail=detail[:2000])
    if not updated:
        return
    gap_open(camera_id=run.camera_id, start=ended_at, reason=reason, detail=detail, after_run=run)


def gap_open(*, camera_id: int, start: datetime, reason: str, detail: str = "", after_run: Run | None = None) -> Gap:
    """The camera is not recording from ``start``; if a gap is already open, only its detail changes."""
    with transaction.atomic():
        gap = Gap.objects.select_for_update().filter(camera_id=camera_id, end__isnull=True).first()
        if gap is not None:
            if detail and detail != gap.detail:
                gap.detail = detail[:2000]
                gap.save(update_fields=["detail"])
            return gap
        try:
            with transaction.atomic():
                return Gap.objects.create(camera_id=camera_id, start=start, reason=reason, detail=detail[:2000],
                                          after_run=after_run)
        except IntegrityError:  # another process opened it a moment ago
            return Gap.objects.get(camera_id=camera_id, end__isnull=True)


@transaction.atomic
def recording_stopped_spool_full(*, camera_id: int, run: Run | None, ended_at: datetime, host: str,
                                 fill: spool.SpoolFill) -> Gap:
    """The recorder stops writing a camera because this host's spool is full: the run (if any) ends
    and a gap "spool full" opens, and the trail records what was not recorded and why, once per stop.

    Nothing already in the spool is deleted: the oldest footage not yet stored is kept (it may be
    evidence), the new footage is not recorded until the spool drains (see ``footage.spool``).
    """
    detail = _("The spool on %(host)s is full (%(used)d MB of %(capacity)d MB may be used, %(free)d MB free "
               "on its disk): the storage server has not taken segments. Recording resumes once they are "
               "stored.") % {"host": host, "used": fill.used // 2**20, "capacity": fill.capacity // 2**20,
                             "free": fill.free // 2**20}
    if run is not None:
        run_end(run=run, ended_at=ended_at, reason=EndReason.SPOOL_FULL, detail=detail)
    gap = gap_open(camera_id=camera_id, start=ended_at, reason=EndReason.SPOOL_FULL, detail=detail,
                   after_run=run)
    camera = Camera.objects.get(pk=camera_id)
    audit_record(action=AuditAction.RECORDING_SPOOL_FULL, actor=None, target=camera,
                 details={"camera": str(camera.public_id), "host": host, "from": gap.start,
                          "run": str(run.public_id) if run else "", "spool_bytes": fill.used,
                          "spool_files": fill.files, "capacity_bytes": fill.capacity, "disk_free_bytes": fill.free})
    log.critical("Camera %s: recording stopped, the spool on %s is full (%d of %d bytes)", camera_id, host,
                 fill.used, fill.capacity)
    return gap


def runs_dangling_close(*, camera_id: int) -> None:
    """Close runs of a recorder that died without ending them (its lease lapsed).

    The run ends at the latest second known to be recorded: the newest indexed segment, or what the
    recorder last reported (segments still waiting in its spool arrive later and extend it).
    """
    health = CameraHealth.objects.filter(camera_id=camera_id).first()
    for run in Run.objects.filter(camera_id=camera_id, ended_at__isnull=True):
        last = run.segments.aggregate(end=models.Max("end"))["end"]
        reported = health.last_segment_end if health else None
        candidates = [t for t in (last, reported) if t is not None and t >= run.started_at]
        ended_at = max(candidates) if candidates else run.started_at
        run_end(run=run, ended_at=ended_at, reason=EndReason.RECORDER_LOST,
                detail=_("The recorder on %(host)s stopped without closing the recording.") % {"host": run.recorder})


# --- ingest: spool → storage server → index ---------------------------------------------------------


class StorageUnavailable(Exception):
    """The storage server did not take or return a segment; it stays in the spool."""


@dataclass(frozen=True)
class IngestResult:
    outcome: str  # "stored", "duplicate", "waiting" (storage down), "lost", "busy" (another job has it)
    segment: Segment | None = None


def storage_name_for(camera: Camera, run: Run, sequence: int, start: datetime) -> str:
    """Where a segment lives on the storage server: by camera, then UTC hour, so retention and
    an operator browsing the share both find a day's footage in one place."""
    return (f"{camera.public_id}/{start:%Y/%m/%d/%H}/"
            f"{start:%Y%m%dT%H%M%S}Z-{run.public_id.hex[:8]}-{sequence:06d}.ts")


def storage_accepting(now: datetime | None = None) -> bool:
    """False while the storage server is known to be down and its next probe is not yet due."""
    status = StorageStatus.objects.filter(pk=1).first()
    if status is None or status.reachable:
        return True
    return bool(status.next_attempt_at and status.next_attempt_at <= (now or timezone.now()))


def storage_failed(*, error: str) -> None:
    """Record a storage failure and push the next attempt out (exponential backoff, at most 5 min)."""
    now = timezone.now()
    with transaction.atomic():
        StorageStatus.get()
        status = StorageStatus.objects.select_for_update().get(pk=1)
        backoff = min(max(status.backoff_seconds * 2, 2), 300)
        status.reachable = False
        status.error = error[:2000]
        status.failing_since = status.failing_since or now
        status.backoff_seconds = backoff
        status.next_attempt_at = now + timedelta(seconds=backoff)
        status.checked_at = now
        status.save()
    log.error("Storage server unreachable, segments stay in the spool: %s", error)


def storage_recovered() -> bool:
    """Mark the storage server reachable; True when it had been down (the sweep then re-queues)."""
    changed = StorageStatus.objects.filter(pk=1, reachable=False).update(
        reachable=True, error="", failing_since=None, next_attempt_at=None, backoff_seconds=0,
        checked_at=timezone.now())
    if changed:
        log.warning("Storage server reachable again; queued segments will be stored.")
    return bool(changed)


def storage_probe() -> bool:
    """Write, read and delete a small file on the storage server."""
    storage = footage_storage()
    name = f".safecam-probe/{uuid.uuid4().hex}"
    try:
        saved = storage.save(name, ContentFile(b"safecam"))
        with storage.open(saved, "rb") as handle:
            ok = handle.read() == b"safecam"
        storage.delete(saved)
    except Exception as exc:  # noqa: BLE001  any failure of the remote side means "down"
        storage_failed(error=f"{type(exc).__name__}: {exc}")
        return False
    if not ok:
        storage_failed(error="the storage server returned different bytes than were written")
        return False
    storage_recovered()
    return True


def _store_verified(name: str, path: Path, sha256: str, size: int) -> None:
    """Copy a spool file to storage under exactly ``name`` and check the copy; raise if anything fails."""
    storage = footage_storage()
    try:
        # No indexed segment has this name (the caller checked), so a file there is the orphan of an
        # attempt that crashed before indexing: replace it rather than store a second copy.
        if storage.exists(name):
            storage.delete(name)
        with path.open("rb") as handle:
            saved = storage.save(name, File(handle, name=path.name))
        if saved != name:
            storage.delete(saved)
            raise StorageUnavailable(f"the storage server renamed {name} to {saved}")
        if settings.SAFECAM_INGEST_VERIFY == "hash":
            with storage.open(name, "rb") as handle:
                copy_hash, copy_size = file_sha256(handle)
        else:
            copy_hash, copy_size = sha256, storage.size(name)
    except StorageUnavailable:
        raise
    except Exception as exc:  # noqa: BLE001  SFTP, S3 and file backends raise different families
        raise StorageUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if (copy_hash, copy_size) != (sha256, size):
        try:
            storage.delete(name)
        except Exception:  # noqa: BLE001
            pass
        raise StorageUnavailable(f"the stored copy of {name} differs from the spool file")


def segment_ingest(*, run_id: int, sequence: int, path: Path, start_offset: float, end_offset: float) -> IngestResult:
    """Move one closed segment from the spool to storage, verify, index, then delete the spool file.

    Safe to run twice and in any order: the (run, sequence) pair is unique, and the spool file is
    removed only after its row is committed. Two jobs at once for one file: the second answers "busy".
    """
    try:
        with spool.segment_claimed(path):
            return _segment_ingest(run_id=run_id, sequence=sequence, path=path, start_offset=start_offset,
                                   end_offset=end_offset)
    except spool.SegmentBusy:
        return IngestResult("busy")


def _segment_ingest(*, run_id: int, sequence: int, path: Path, start_offset: float, end_offset: float) -> IngestResult:
    run = Run.objects.select_related("camera").get(pk=run_id)
    existing = Segment.objects.filter(run=run, sequence=sequence).first()
    if existing is not None:
        spool.segment_discard(path)
        return IngestResult("duplicate", existing)
    start = run.started_at + timedelta(seconds=start_offset)
    end = run.started_at + timedelta(seconds=end_offset)
    if not path.exists():
        # The file vanished from the spool before it was indexed: say so on the timeline.
        _segment_lost(run=run, start=start, end=end, detail=f"{path.name} missing from the spool")
        return IngestResult("lost")
    status = StorageStatus.objects.filter(pk=1).only("reachable", "next_attempt_at").first()
    was_down = status is not None and not status.reachable
    if was_down and not (status.next_attempt_at and status.next_attempt_at <= timezone.now()):
        return IngestResult("waiting")
    with path.open("rb") as handle:
        sha256, size = file_sha256(handle)
    if size == 0 or end <= start:
        spool.segment_discard(path)
        _segment_lost(run=run, start=start, end=end, detail=f"{path.name} is empty")
        return IngestResult("lost")
    if end - start > SEGMENT_LONGEST:
        log.error("Segment %s of camera %s lasts %s, longer than %s: playback will not find it. Does the camera "
                  "send keyframes?", path.name, run.camera_id, end - start, SEGMENT_LONGEST)
    name = storage_name_for(run.camera, run, sequence, start)
    try:
        _store_verified(name, path, sha256, size)
    except StorageUnavailable as exc:
        storage_failed(error=str(exc))
        return IngestResult("waiting")
    if was_down:
        storage_recovered()
    try:
        segment = _segment_index(run=run, sequence=sequence, start=start, end=end, size=size, sha256=sha256,
                                 name=name)
    except IntegrityError:  # a concurrent job indexed it first
        spool.segment_discard(path)
        return IngestResult("duplicate", Segment.objects.filter(run=run, sequence=sequence).first())
    spool.segment_discard(path)
    return IngestResult("stored", segment)


@transaction.atomic
def _segment_index(*, run: Run, sequence: int, start: datetime, end: datetime, size: int, sha256: str,
                   name: str) -> Segment:
    segment = Segment.objects.create(
        camera_id=run.camera_id, run=run, sequence=sequence, start=start, end=end,
        duration=(end - start).total_seconds(), size=size, sha256=sha256, storage_name=name)
    health_count_stored(camera_id=run.camera_id, size=size, seconds=segment.duration, start=start)
    # A segment that arrives after its run was closed (a dead recorder's spool, swept later)
    # extends the run, and the gap after it starts later.
    if run.ended_at is not None and end > run.ended_at:
        Run.objects.filter(pk=run.pk, ended_at__lt=end).update(ended_at=end)
        Gap.objects.filter(after_run=run, start__lt=end).update(start=end)
        Gap.objects.filter(after_run=run, end__isnull=False, end__lte=models.F("start")).delete()
    return segment


def _segment_lost(*, run: Run, start: datetime, end: datetime, detail: str) -> None:
    if end <= start:
        return
    with transaction.atomic():
        Gap.objects.create(camera_id=run.camera_id, start=start, end=end, reason=EndReason.SEGMENT_LOST,
                           detail=detail, after_run=None)
    log.error("Segment lost for camera %s at %s: %s", run.camera_id, start.isoformat(), detail)


# --- holds ---------------------------------------------------------------------------------------------


def _hold_details(hold: Hold) -> dict[str, Any]:
    return {"camera": str(hold.camera.public_id), "start": hold.start, "end": hold.end, "reason": hold.reason,
            "review_on": hold.review_on, "expires_at": hold.expires_at,
            "cause": f"{hold.cause_type.model}:{hold.cause_id}" if hold.cause_type_id else ""}


# The longest reason or note a person types (forms and serializers say so before a service is called).
TEXT_MAX = 2000


@transaction.atomic
def hold_place(*, camera: Camera, start: datetime, end: datetime, reason: str, by: Any,
               review_on: date | None = None, expires_at: datetime | None = None,
               cause: models.Model | None = None) -> Hold:
    """Lock a camera's footage in [start, end) against retention until released or expired."""
    errors: dict[str, str] = {}
    if end <= start:
        errors["end"] = _("The end of a hold must be after its start.")
    if not reason.strip():
        errors["reason"] = _("Say why the footage must be kept.")
    if review_on is None and expires_at is None:
        errors["review_on"] = _("Give a review date or an expiry time, so the hold does not last for ever.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry time must be in the future.")
    if errors:
        raise ValidationError(errors)
    hold = Hold(camera=camera, start=start, end=end, reason=reason.strip(), review_on=review_on,
                expires_at=expires_at, created_by=by)
    if cause is not None:
        hold.cause = cause
    hold.save()
    audit_record(action=AuditAction.HOLD_PLACED, actor=by, target=hold, details=_hold_details(hold))
    return hold


@transaction.atomic
def hold_release(*, hold: Hold, by: Any, reason: str) -> Hold:
    """End a hold; its footage follows the camera's retention again."""
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the hold is no longer needed.")})
    updated = Hold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
        released_at=timezone.now(), released_by=by, release_reason=reason.strip())
    if not updated:
        raise ValidationError(_("This hold has already been released."))
    hold.refresh_from_db()
    audit_record(action=AuditAction.HOLD_RELEASED, actor=by, target=hold,
                 details={**_hold_details(hold), "release_reason": hold.release_reason})
    return hold


def holds_expire(now: datetime | None = None) -> int:
    """Record, once, each hold whose expiry has passed (nobody acted; the trail says so)."""
    now = now or timezone.now()
    count = 0
    for hold in Hold.objects.filter(released_at__isnull=True, expires_at__lte=now).select_related("camera"):
        with transaction.atomic():
            if Hold.objects.filter(pk=hold.pk, released_at__isnull=True).update(
                    released_at=hold.expires_at, release_reason="expired"):
                audit_record(action=AuditAction.HOLD_EXPIRED, actor=None, target=hold, details=_hold_details(hold))
                count += 1
    return count


def segments_held(now: datetime | None = None) -> Q:
    """A filter for segments overlapping an active hold of their camera."""
    now = now or timezone.now()
    active = Hold.objects.active(now).filter(camera=models.OuterRef("camera"), start__lt=models.OuterRef("end"),
                                             end__gt=models.OuterRef("start"))
    return Q(models.Exists(active))


# --- incidents ------------------------------------------------------------------------------------

INCIDENT_MAX = timedelta(hours=24)
INCIDENT_HOLD_REVIEW_DAYS = 30


@transaction.atomic
def incident_mark(*, camera: Camera, start: datetime, end: datetime, note: str, by: Any,
                  place_hold: bool = False) -> Incident:
    """Mark ``[start, end)`` of a camera's footage as an incident; with the hold right, also keep it.

    The hold (reviewed in ``INCIDENT_HOLD_REVIEW_DAYS``) goes through ``hold_place``, so it is the
    same audited hold as any other, with the incident as its cause.
    """
    from safecam.permissions import can
    from safecam.timeranges import local_today

    errors: dict[str, str] = {}
    if end <= start:
        errors["end"] = _("The end of an incident must be after its start.")
    elif end - start > INCIDENT_MAX:
        errors["end"] = _("An incident can cover at most 24 hours; mark longer events as several incidents.")
    if not note.strip():
        errors["note"] = _("Describe what happened, so others know why this time was marked.")
    if place_hold and not can(by, "hold", camera):
        errors["place_hold"] = _("You may not place holds on this camera's footage.")
    if errors:
        raise ValidationError(errors)
    incident = Incident.objects.create(camera=camera, start=start, end=end, note=note.strip(), created_by=by)
    if place_hold:
        incident.hold = hold_place(camera=camera, start=start, end=end, by=by, cause=incident,
                                   reason=_("Incident: %(note)s") % {"note": incident.note},
                                   review_on=local_today() + timedelta(days=INCIDENT_HOLD_REVIEW_DAYS))
        incident.save(update_fields=["hold"])
    audit_record(action=AuditAction.INCIDENT_MARKED, actor=by, target=incident,
                 details={"camera": str(camera.public_id), "start": start, "end": end, "note": incident.note,
                          "hold": str(incident.hold.public_id) if incident.hold else ""})
    return incident
