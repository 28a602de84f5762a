"""Fault: the Redis broker restarts (and, keeping nothing on disk, comes back with empty queues).

Recording does not depend on the broker: ffmpeg keeps writing, segments whose ingest job could not
be queued wait in the spool, and the spool sweep queues them once the broker answers. Workers and
beat reconnect by themselves (``CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP`` / ``..._MAX_RETRIES``).
Work asked for while the broker was away (an export) is a database row, and the beat job
``exports_resume`` sends it again, so nothing stays stuck in "queued".
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from access_requests import services
from access_requests.models import Export, ExportStatus, RequestState
from footage.models import Gap, Run, Segment
from tests.access_requests.conftest import request_make
from tests.faults.services import broker_for_this_process, private_redis
from tests.footage.recording_harness import RecordingPipeline, alive

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 10


def test_recording_ingest_beat_and_asked_work_recover_from_a_redis_restart(
        pipeline: RecordingPipeline, dpo: Any, settings: Any, tmp_path: Path) -> None:
    (tmp_path / "redis").mkdir()
    with private_redis(tmp_path / "redis") as redis:
        pipeline.broker_url = redis.url
        pipeline.extra_env.update({"SAFECAM_EXPORT_STALE_SECONDS": "3", "SAFECAM_RESUME_SECONDS": "1"})
        settings.DATA_DIR = pipeline.data_dir
        pipeline.start_simulator(count=1)
        camera = pipeline.camera(0)
        worker = pipeline.start_worker("alpha")
        pipeline.start_beat()
        pipeline.wait_until(lambda: Segment.objects.filter(camera=camera).count() >= 3, 60.0, "3 stored segments")
        run = Run.objects.get(camera=camera)
        (ffmpeg,) = pipeline.ffmpeg_of(worker)
        stored = list(Segment.objects.filter(run=run).order_by("sequence"))

        redis.stop()
        down = time.monotonic()
        # A DPO asks for an export meanwhile: the row is saved and the page answers (no broker error).
        request = request_make(by=dpo, camera=camera, start=stored[0].start, minutes=5)
        services.request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo,
                              identity_method="id_document")
        services.request_move(request=request, to=RequestState.SEARCHING, by=dpo)
        found = services.footage_attach(request=request, camera=camera, start=stored[0].start,
                                        end=stored[-1].end, by=dpo)
        services.request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=dpo)
        with broker_for_this_process(redis.url, pipeline.data_dir):
            export = services.export_create(found=found, by=dpo)
        assert Export.objects.get(pk=export.pk).status == ExportStatus.QUEUED
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down)))
        waiting = pipeline.spool_waiting()
        assert len(waiting) >= 3, pipeline.report(f"only {len(waiting)} segments wait in the spool")
        assert alive(ffmpeg), pipeline.report("ffmpeg stopped while the broker was down")

        redis.start()  # empty: whatever was queued before is gone
        last = max(closed.sequence for _folder, closed in waiting)
        pipeline.wait_until(lambda: not [c for _f, c in pipeline.spool_waiting() if c.sequence <= last]
                            and Segment.objects.filter(run=run, sequence__lte=last).count() == last + 1, 60.0,
                            f"segments 0..{last} are stored and gone from the spool")
        pipeline.wait_until(lambda: Export.objects.filter(pk=export.pk, status=ExportStatus.READY).exists(), 60.0,
                            "the export asked for during the outage is ready")
        # Beat still drives the supervisor: new segments keep arriving after the outage too.
        pipeline.wait_until(lambda: Segment.objects.filter(run=run, sequence__gt=last + 2).exists(), 30.0,
                            "recording goes on after the outage")

        assert pipeline.ffmpeg_of(worker) == [ffmpeg], pipeline.report("the recording was restarted")
        assert Run.objects.filter(camera=camera).count() == 1
        assert not Gap.objects.filter(camera=camera, start__gte=run.started_at).exists()
        segments = list(Segment.objects.filter(run=run).order_by("sequence"))
        assert [s.sequence for s in segments] == list(range(len(segments)))
        assert [a.end for a in segments[:-1]] == [b.start for b in segments[1:]]
        pipeline.stop_all()
