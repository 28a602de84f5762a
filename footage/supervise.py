"""The supervisor: what beat runs every ``SAFECAM_SUPERVISE_SECONDS`` to keep recording honest.

* queue a recorder for every enabled camera whose lease lapsed (a worker died, or it just started),
  on the recording host with the fewest cameras, and spread them again when a host came back
  (``footage.hosts``);
* sweep this host's spool: re-queue segments whose ingest job was lost, finish the folders of
  recorders that died (their last, unlisted segment is probed once and kept), remove empty ones.
  Each recording host also sweeps its own spool (its host agent, ``footage.hosts``): with several
  hosts, no other can read it;
* probe an unreachable storage server with backoff, and re-queue everything once it answers;
* alert loudly when the spool nears what it may hold (``footage.spool.fill``: its limit, or its
  disk's free space less a reserve); at 100 % the recorders stop (``footage.recorder``);
* refresh each camera's health: today's coverage, and an email when a camera has been offline
  longer than ``SAFECAM_OFFLINE_ALERT_MINUTES`` and again when it recovers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery, Sum
from django.template.loader import render_to_string
from django.utils import timezone, translation

from cameras.models import Camera, CameraHealth, CameraStatus
from cameras.selectors import camera_status
from cameras.services import health_update
from footage import services, spool
from footage.models import EndReason, Run, Segment, StorageStatus
from safecam import roles
from safecam.timeranges import today_so_far

log = logging.getLogger(__name__)

# A queued ingest job that has not finished after this long is presumed lost and queued again.
REQUEUE_AFTER_SECONDS = 120

Enqueue = Callable[[int, int, str, float, float], None]


@dataclass
class SweepReport:
    queued: int = 0
    recovered_runs: int = 0
    removed_folders: int = 0
    waiting: int = 0
    notes: list[str] = field(default_factory=list)


def spool_sweep(*, enqueue: Enqueue, force: bool = False) -> SweepReport:
    """Re-queue what waits in this host's spool; finish the folders of recorders that died."""
    report = SweepReport()
    accepting = services.storage_accepting()
    for folder in spool.run_folders():
        lock = spool.RunLock(folder)
        try:
            live = not lock.acquire(blocking=False)
        except FileNotFoundError:  # removed since it was listed (by its recorder or another sweep)
            continue
        try:
            _sweep_folder(folder, live=live, accepting=accepting, force=force, enqueue=enqueue, report=report)
        except Exception:  # noqa: BLE001  one bad folder must not stop the sweep of the others
            log.exception("Spool sweep failed for %s", folder)
        finally:
            if not live:
                lock.release()
    return report


def _sweep_folder(folder: Path, *, live: bool, accepting: bool, force: bool, enqueue: Enqueue,
                  report: SweepReport) -> None:
    if live and not force:
        # The recorder queues each segment as it closes: only a file never queued (storage was down)
        # or queued long ago needs the segment list, which grows all run long. The newest file is
        # the one ffmpeg is writing.
        waiting = sorted(folder.glob("*.ts"))[:-1]
        if not any((age := spool.queued_age(p)) is None or age > REQUEUE_AFTER_SECONDS for p in waiting):
            return
    meta = spool.meta_read(folder)
    listed = spool.closed_segments(folder)
    run = Run.objects.filter(pk=meta["run_id"]).first() if meta.get("run_id") else None
    if run is None and not live and meta.get("started_at") and listed:
        # Its recorder took the anchor but died before the database (down at the time) heard of the run.
        run = services.run_open(camera_id=int(meta["camera_id"]), started_at=datetime.fromisoformat(meta["started_at"]),
                                recorder=meta.get("recorder") or "spool sweep")
        spool.meta_write(folder, **{**meta, "run_id": run.pk})
    present = {p.name for p in folder.glob("*.ts")}
    pending = [(s.sequence, folder / s.filename, s.start, s.end) for s in listed if s.filename in present]
    if not live:
        # The recorder died (its lock is free): segments it never listed still hold footage.
        last_end = listed[-1].end if listed else 0.0
        listed_names = {s.filename for s in listed}
        for path in sorted(folder.glob("*.ts")):
            if path.name in listed_names:
                continue
            duration = _probe_duration(path)
            if duration <= 0:
                log.warning("Discarding unreadable spool file %s", path)
                spool.segment_discard(path)
                continue
            if run is None:
                # Not even the first segment closed: anchor the run on the file's last write.
                started_at = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC) - timedelta(
                    seconds=duration)
                run = services.run_open(camera_id=int(_camera_id(folder)), started_at=started_at,
                                        recorder="spool sweep")
                spool.meta_write(folder, run_id=run.pk, camera_id=run.camera_id)
            sequence = int(path.stem)
            pending.append((sequence, path, last_end, last_end + duration))
            last_end += duration
        if run is not None and run.ended_at is None:
            services.run_end(run=run, ended_at=run.started_at + timedelta(seconds=last_end),
                             reason=EndReason.RECORDER_LOST,
                             detail="The recorder stopped without closing the recording; its spool was recovered.")
            report.recovered_runs += 1
    if run is None:
        if not live and spool.run_folder_is_empty(folder):
            spool.run_folder_remove(folder)
            report.removed_folders += 1
        return
    for sequence, path, start, end in pending:
        age = spool.queued_age(path)
        if not accepting:
            report.waiting += 1
            continue
        if force or age is None or age > REQUEUE_AFTER_SECONDS or not live:
            spool.mark_queued(path)
            try:
                enqueue(run.pk, sequence, str(path), start, end)
            except Exception:
                # The broker is down (a recording host sweeps on its own, without it): unmarked, the
                # file is queued by the first sweep after the broker answers, not 120 s later.
                spool.queued_clear(path)
                raise
            report.queued += 1
    if not live and not pending and spool.run_folder_is_empty(folder):
        spool.run_folder_remove(folder)
        report.removed_folders += 1


def _camera_id(folder: Path) -> int:
    camera = Camera.objects.filter(public_id=folder.parent.name).values_list("pk", flat=True).first()
    if camera is None:
        raise ValueError(f"spool folder {folder} belongs to no known camera")
    return camera


def _probe_duration(path: Path) -> float:
    import ffmpeg

    try:
        return float(ffmpeg.probe(str(path))["format"]["duration"])
    except (ffmpeg.Error, KeyError, ValueError):
        return 0.0


def storage_check(*, enqueue: Enqueue) -> None:
    """Probe a storage server marked down once its backoff has passed; on recovery re-queue all."""
    status = StorageStatus.get()
    if status.reachable:
        return
    if status.next_attempt_at and status.next_attempt_at > timezone.now():
        return
    if services.storage_probe():
        spool_sweep(enqueue=enqueue, force=True)


def spool_check() -> StorageStatus:
    """Measure the spool; above the alert threshold, log at CRITICAL and email the administrators
    (again, once, when it is full and the recorders stop)."""
    measured = spool.fill()
    status = StorageStatus.get()
    now = timezone.now()
    fields: dict[str, Any] = {"spool_bytes": measured.used, "spool_files": measured.files, "checked_at": now}
    if measured.alerting:
        log.critical("Spool is filling: %d MB of %d MB (%d files, %.0f %%), %d MB free on its disk. "
                     "The storage server is not taking segments: %s", measured.used // 2**20,
                     measured.capacity // 2**20, measured.files, measured.percent, measured.free // 2**20,
                     status.error or "no error recorded")
        again = measured.full and not _spool_full_mailed.is_set()
        if again or status.spool_alerted_at is None or status.spool_alerted_at < now - timedelta(hours=1):
            _mail_admins_spool(used=measured.used, limit=measured.capacity, files=measured.files, free=measured.free,
                               error=status.error, full=measured.full)
            fields["spool_alerted_at"] = now
            if measured.full:
                _spool_full_mailed.set()
    else:
        _spool_full_mailed.clear()
        if status.spool_alerted_at is not None:
            fields["spool_alerted_at"] = None
    StorageStatus.objects.filter(pk=1).update(**fields)
    status.refresh_from_db()
    return status


# Per process: the "recording stopped" mail goes once per filling, not every supervision.
_spool_full_mailed = threading.Event()


def spool_alerting(status: StorageStatus) -> bool:
    """For the banner: the supervisor alerted (it measured the spool against its disk too)."""
    limit = settings.SAFECAM_SPOOL_LIMIT_MB * 1024 * 1024
    return status.spool_alerted_at is not None or status.spool_bytes >= limit * settings.SAFECAM_SPOOL_ALERT_PERCENT / 100


# --- health -----------------------------------------------------------------------------------------


def health_refresh(now: datetime | None = None) -> None:
    """Today's coverage per camera, and offline/recovery emails."""
    now = now or timezone.now()
    today = today_so_far(now)
    # One indexed (camera, start) range per camera, not a scan of the whole segment table.
    today_seconds = (Segment.objects.filter(camera=OuterRef("pk"), start__gte=today.start, start__lt=now)
                     .order_by().values("camera").annotate(seconds=Sum("duration")).values("seconds"))
    cameras = Camera.objects.select_related("site", "health").annotate(recorded_today=Subquery(today_seconds))
    recorded = {camera.pk: camera.recorded_today for camera in cameras}
    for camera in cameras:
        health = _health(camera)
        since = max(today.start, camera.created_at)
        elapsed = (now - since).total_seconds()
        coverage = min(100.0, 100.0 * (recorded.get(camera.pk) or 0.0) / elapsed) if elapsed > 60 else None
        fields: dict[str, Any] = {"coverage_today": coverage, "coverage_day": today.start.date()}
        status = camera_status(camera, now=now)
        if status == CameraStatus.RECORDING or status == CameraStatus.DISABLED:
            if health.alert_sent_at is not None and status == CameraStatus.RECORDING:
                _mail_camera(camera, "recovered", down_since=health.down_since, now=now)
            fields.update(down_since=None, alert_sent_at=None)
        else:
            down_since = health.down_since or health.last_segment_end or camera.created_at
            fields["down_since"] = down_since
            threshold = timedelta(minutes=settings.SAFECAM_OFFLINE_ALERT_MINUTES)
            if health.alert_sent_at is None and now - down_since >= threshold:
                _mail_camera(camera, "offline", down_since=down_since, now=now)
                fields["alert_sent_at"] = now
        health_update(camera_id=camera.pk, **fields)


def _health(camera: Camera) -> CameraHealth:
    try:
        return camera.health
    except CameraHealth.DoesNotExist:
        return CameraHealth.objects.get_or_create(camera=camera)[0]


def camera_alert_recipients(camera: Camera) -> list[str]:
    """The site's specialists and the Public Order department, with an email address."""
    from guardian.shortcuts import get_users_with_perms

    users = set(get_users_with_perms(camera.site, only_with_perms_in=["view_site"], with_group_users=True))
    users |= set(get_user_model().objects.filter(groups__name=roles.PUBLIC_ORDER_OFFICER))
    return sorted({u.email for u in users if u.is_active and u.email})


def _mail_camera(camera: Camera, kind: str, *, down_since: datetime | None, now: datetime) -> None:
    recipients = camera_alert_recipients(camera)
    if not recipients:
        log.warning("Camera %s is %s but nobody has an email address to tell", camera, kind)
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {"camera": camera, "kind": kind, "down_since": down_since, "now": now,
                   "health": _health(camera)}
        subject = render_to_string("footage/email/camera_subject.txt", context).strip()
        body = render_to_string("footage/email/camera_body.txt", context)
    transaction.on_commit(lambda: send_mail(subject, body, None, recipients, fail_silently=False))


def _mail_admins_spool(*, used: int, limit: int, files: int, free: int, error: str, full: bool = False) -> None:
    users = get_user_model().objects.filter(Q(is_superuser=True) | Q(groups__name=roles.PUBLIC_ORDER_OFFICER))
    recipients = sorted({u.email for u in users if u.is_active and u.email})
    if not recipients:
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {"used_mb": used // 2**20, "limit_mb": limit // 2**20, "files": files, "free_mb": free // 2**20,
                   "error": error, "full": full}
        subject = render_to_string("footage/email/spool_subject.txt", context).strip()
        body = render_to_string("footage/email/spool_body.txt", context)
    send_mail(subject, body, None, recipients, fail_silently=True)


def disabled_cameras_mark() -> None:
    """A camera switched off while no recorder ran still gets its "disabled" gap."""
    for camera_id in Camera.objects.filter(enabled=False).values_list("pk", flat=True):
        with transaction.atomic():
            open_gap = services.Gap.objects.select_for_update().filter(camera_id=camera_id, end__isnull=True).first()
            now = timezone.now()
            if open_gap is not None:
                if open_gap.reason == EndReason.CAMERA_DISABLED:
                    continue
                open_gap.end = now
                open_gap.save(update_fields=["end"])
            elif not Run.objects.filter(camera_id=camera_id).exists():
                continue  # never recorded: nothing to explain yet
            services.gap_open(camera_id=camera_id, start=now, reason=EndReason.CAMERA_DISABLED)
