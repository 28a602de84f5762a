"""Fault: the Celery worker rendering an export is killed (SIGKILL, as the OOM killer or a power cut
would) half-way through. Nothing partial is ever offered; a new worker finishes the export.

The footage: a minute of 640x360 video at 25 fps cut into the recorder's 10-s MPEG-TS segments and
indexed as ingest indexes them (``tests.media``): enough that re-encoding the redacted copy takes
seconds, so the worker can be killed while the row says it is redacting. The worker, beat and the
redaction's ffmpeg are real processes; the test only kills one and starts another.
"""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from access_requests import services
from access_requests.models import Export, ExportStatus, RequestState
from cameras.models import Camera
from footage.services import footage_storage
from safecam.audit import AuditAction
from safecam.models import AuditEvent
from tests.access_requests.conftest import request_make
from tests.factories import CameraFactory
from tests.faults.services import broker_for_this_process
from tests.footage.recording_harness import RecordingPipeline, alive, sha256_of
from tests.media import segments_make, media_index

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

STALE_SECONDS = 4  # the workers' SAFECAM_EXPORT_STALE_SECONDS: how soon a killed render is resumed


def _stored_names(pipe: RecordingPipeline, export: Export) -> set[str]:
    folder = pipe.storage_dir / "exports" / str(export.public_id)
    return {f"exports/{export.public_id}/{p.name}" for p in folder.iterdir()} if folder.is_dir() else set()


def _work_folders(pipe: RecordingPipeline, export: Export) -> list[Path]:
    return sorted((pipe.data_dir / "exports-work").glob(f"{export.public_id}-*"))


def test_an_export_whose_worker_is_killed_is_finished_by_another_and_nothing_partial_is_offered(
        pipeline: RecordingPipeline, dpo: Any, settings: Any, tmp_path: Path, api_client_for: Any,
        client_for: Any) -> None:
    pipeline.extra_env.update({"SAFECAM_EXPORT_STALE_SECONDS": str(STALE_SECONDS), "SAFECAM_RESUME_SECONDS": "1"})
    settings.DATA_DIR = pipeline.data_dir
    camera = CameraFactory(name="Turgaus aikštė")
    Camera.objects.filter(pk=camera.pk).update(enabled=False)  # no recorder: only the export runs
    media = segments_make(tmp_path / "media", seconds=60, segment_seconds=10, size="640x360", rate=25,
                          bitrate="600k")
    segments = media_index(camera, timezone.now() - timedelta(hours=2), media, end_run=True)

    request = request_make(by=dpo, camera=camera, start=segments[0].start, minutes=5)
    services.request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="id_document")
    services.request_move(request=request, to=RequestState.SEARCHING, by=dpo)
    found = services.footage_attach(request=request, camera=camera, start=segments[0].start, end=segments[-1].end,
                                    by=dpo)
    services.request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=dpo)
    alpha = pipeline.start_worker("alpha", queues="celery")
    with broker_for_this_process(pipeline.broker_url, pipeline.data_dir):
        export = services.export_create(found=found, by=dpo, redaction={"mode": "regions", "regions": [
            {"effect": "blur", "keyframes": [{"t": 0, "x": 0.1, "y": 0.1, "w": 0.5, "h": 0.5}]}]})

    pipeline.wait_until(lambda: Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING, stage="redact",
                                                      progress__gte=0.35).exists(), 60.0,
                        "the export is redacting")
    ffmpegs = [pid for pid in pipeline.ffmpeg_of(alpha)]
    pipeline.kill(alpha)
    for pid in ffmpegs:  # the redaction's ffmpeg dies with its worker (PR_SET_PDEATHSIG)
        pipeline.wait_until(lambda: not alive(pid), 10.0, f"the killed worker's ffmpeg {pid} exited")

    # The outage: the row says "running" and names no file; nothing can be downloaded or sent.
    export.refresh_from_db()
    assert export.status == ExportStatus.RUNNING
    assert (export.master_name, export.redacted_name, export.package_name) == ("", "", "")
    shown = api_client_for(dpo).get(f"/api/v1/exports/{export.public_id}/").json()
    assert shown["status"] == ExportStatus.RUNNING
    assert (shown["master_sha256"], shown["redacted_sha256"], shown["package_sha256"]) == ("", "", "")
    assert "exports/" not in str(shown)
    preview = client_for(dpo).get(reverse("export-redacted", kwargs={"public_id": export.public_id}))
    assert preview.status_code == 404
    with pytest.raises(ValidationError):
        services.delivery_create(export=export, by=dpo, recipient="Jonas Jonaitis")
    assert _work_folders(pipeline, export), "the killed render left no work folder (was it killed mid-way?)"

    pipeline.start_worker("bravo", queues="celery")
    pipeline.start_beat()  # resume-exports every second: the row's heartbeat goes stale after 4 s
    pipeline.wait_until(lambda: Export.objects.filter(pk=export.pk, status=ExportStatus.READY).exists(), 90.0,
                        "the export is ready")
    export.refresh_from_db()
    assert export.attempts == 2, pipeline.report(f"attempts: {export.attempts}, error: {export.error}")
    assert [s["sha256"] for s in export.segments] == [s.sha256 for s in segments]
    assert _stored_names(pipeline, export) == {export.master_name, export.redacted_name}
    assert sha256_of(pipeline.storage_dir / export.master_name) == export.master_sha256
    assert sha256_of(pipeline.storage_dir / export.redacted_name) == export.redacted_sha256
    assert not _work_folders(pipeline, export), "the killed attempt's work folder is still on disk"
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT_READY, target_id=str(export.public_id)).count() == 1

    with broker_for_this_process(pipeline.broker_url, pipeline.data_dir):
        services.export_approve(export=export, by=dpo)
    pipeline.wait_until(lambda: Export.objects.filter(pk=export.pk, status=ExportStatus.DONE).exists(), 60.0,
                        "the export is packaged")
    export.refresh_from_db()
    assert _stored_names(pipeline, export) == {export.master_name, export.redacted_name, export.package_name}
    package = tmp_path / "package.zip"
    with footage_storage().open(export.package_name, "rb") as handle:
        package.write_bytes(handle.read())
    out = io.StringIO()
    call_command("verify_export", str(package), stdout=out, stderr=io.StringIO())
    assert f"{len(segments)} recorded segments match" in out.getvalue()
