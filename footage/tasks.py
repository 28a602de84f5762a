"""Celery tasks for recording. Thin: each one calls into ``recorder``, ``services``,
``supervise`` or ``retention`` and is safe to run twice.

Queues:

* ``recording``: ``camera_record``, one long task per camera (minutes to weeks). Run it on a worker
  with a thread pool big enough for every camera it may take (``-P threads -c 32``).
* the worker's own direct queue (``<worker name>.dq2``, Celery's ``worker_direct``): ingest jobs. A
  closed segment sits on the recording host's disk, so only a worker on that host can move it;
  if that worker dies, the job waits for it to come back and the spool sweep re-queues it anyway.
* the default queue: the supervisor, retention, verification.

With several recording hosts the supervisor queues each camera on the direct queue of the host
with the fewest cameras (``footage.hosts``), not on ``recording``, so the cameras spread.
"""

from __future__ import annotations

import logging
from pathlib import Path

from celery import Task, shared_task
from celery.utils import worker_direct
from django.db import InterfaceError, OperationalError

from footage import hosts, recorder, retention, services, spool, supervise

log = logging.getLogger(__name__)


def ingest_enqueuer(hostname: str):
    """Queue ingest jobs for the worker ``hostname`` (on the host whose disk holds the files)."""

    def enqueue(run_id: int, sequence: int, path: str, start: float, end: float) -> None:
        options = {"queue": worker_direct(hostname)} if hostname else {}
        segment_ingest.apply_async((run_id, sequence, path, start, end), **options)

    return enqueue


@shared_task(bind=True, acks_late=False, ignore_result=True)
def camera_record(self: Task, camera_id: int) -> str:
    """Record one camera for as long as this worker holds its lease.

    ``acks_late=False``: a recording task is acknowledged when it starts. If its worker dies the
    lease lapses and the supervisor queues a fresh one; redelivering the old message would only
    start a second task that finds the lease taken.
    """
    holder = recorder.recorder_holder(self.request.hostname or "")
    return recorder.CameraRecorder(camera_id=camera_id, holder=holder,
                                   enqueue_ingest=ingest_enqueuer(self.request.hostname or ""),
                                   hand_over=camera_record_queue).record()


def camera_record_queue(camera_id: int, host: str = "") -> None:
    """Queue a recorder for the camera on ``host``'s own queue (footage.hosts), or the shared one."""
    options = {"queue": worker_direct(host)} if host else {}
    camera_record.apply_async((camera_id,), **options)


@shared_task(ignore_result=True)
def segment_ingest(run_id: int, sequence: int, path: str, start: float, end: float) -> str:
    try:
        result = services.segment_ingest(run_id=run_id, sequence=sequence, path=Path(path), start_offset=start,
                                         end_offset=end)
    except (OperationalError, InterfaceError) as exc:
        # The database is down (a restart, a failover): the file stays in the spool, and with its
        # marker gone the next sweep queues it again, rather than after REQUEUE_AFTER_SECONDS.
        spool.queued_clear(Path(path))
        log.warning("Ingest of %s waits: the database is unreachable (%s)", path, exc)
        return "waiting"
    if result.outcome == "waiting":
        # No job is queued for the file any more: the spool sweep queues it again as soon as the
        # storage server answers, whoever notices that first (a probe or another segment's ingest).
        spool.queued_clear(Path(path))
    return result.outcome


@shared_task(bind=True, ignore_result=True)
def recording_supervise(self: Task) -> None:
    """Every few seconds (beat): start lapsed recorders, sweep the spool, watch storage and health."""
    enqueue = ingest_enqueuer(self.request.hostname or "")
    for camera_id, host in hosts.recorders_assign(services.recorders_due()):
        camera_record_queue(camera_id, host)
    hosts.rebalance()
    supervise.disabled_cameras_mark()
    supervise.storage_check(enqueue=enqueue)
    supervise.spool_sweep(enqueue=enqueue)
    supervise.spool_check()
    supervise.health_refresh()


@shared_task(ignore_result=True)
def retention_apply() -> int:
    run = retention.retention_apply()
    return run.segments_deleted


@shared_task(ignore_result=True)
def viewing_sessions_close() -> int:
    """Every minute (beat): close idle viewing sessions, writing their aggregated audit events."""
    from footage import playback

    return playback.sessions_close_idle()


@shared_task(ignore_result=True)
def thumbnails_make() -> int:
    """Every minute (beat): preview pictures for the timeline from recent segments."""
    from footage import thumbnails

    return thumbnails.thumbnails_make_pass()
