"""The request flow on footage recorded from the simulated RTSP camera by the real recorder.

``test_flow.py`` drives every branch on footage encoded by the tests; this one proves the chain
end to end with nothing synthetic in the footage: the GStreamer camera, ffmpeg's stream copy,
ingest to storage, then request → hold → redacted export → package → ``verify_export``.
"""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from access_requests import exporting, services
from access_requests.models import Export, ExportStatus, RequestState
from cameras.models import Camera
from footage.models import Run, Segment
from footage.services import footage_storage
from tests.access_requests.conftest import request_make
from tests.footage.recording_harness import RecordingPipeline, pipeline  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_request_is_answered_from_footage_the_recorder_recorded(
        pipeline: RecordingPipeline, dpo: Any, settings: Any, tmp_path: Path) -> None:  # noqa: F811
    settings.DATA_DIR = tmp_path / "data"
    pipeline.start_simulator(count=1)
    camera = pipeline.camera(0)
    pipeline.start_worker("alpha")
    pipeline.start_beat()
    pipeline.wait_until(lambda: Segment.objects.filter(camera=camera).count() >= 6, 60.0, "6 stored segments")
    Camera.objects.filter(pk=camera.pk).update(enabled=False)
    pipeline.wait_until(lambda: not Run.objects.filter(camera=camera, ended_at__isnull=True).exists(), 30.0,
                        "the run ended")
    pipeline.stop_all()  # the export runs here, not in the pipeline's worker

    segments = list(Segment.objects.filter(camera=camera).order_by("start"))
    request = request_make(by=dpo, camera=camera, start=segments[0].start, minutes=5)
    services.request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="id_document")
    services.request_move(request=request, to=RequestState.SEARCHING, by=dpo)
    start = segments[1].start + timedelta(seconds=0.5)
    found = services.footage_attach(request=request, camera=camera, start=start, end=segments[4].end, by=dpo)
    assert found.hold.is_active()
    services.request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=dpo)
    export = services.export_create(found=found, by=dpo, redaction={"mode": "regions", "regions": [
        {"effect": "blur", "keyframes": [{"t": 0, "x": 0.2, "y": 0.2, "w": 0.5, "h": 0.5}]}]})
    assert exporting.export_render(export.pk) == "ready", Export.objects.get(pk=export.pk).error
    export.refresh_from_db()
    assert [s["sha256"] for s in export.segments] == [s.sha256 for s in segments[1:5]]
    services.export_approve(export=export, by=dpo)
    assert exporting.export_package(export.pk) == "done"
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE

    package = tmp_path / "package.zip"
    with footage_storage().open(export.package_name, "rb") as handle:
        package.write_bytes(handle.read())
    out = io.StringIO()
    call_command("verify_export", str(package), stdout=out, stderr=io.StringIO())
    assert "4 recorded segments match" in out.getvalue()
    with zipfile.ZipFile(package) as archive:
        assert {n.split("/", 1)[1].split("/")[0] for n in archive.namelist()} >= {"master", "redacted",
                                                                                  "manifest.json"}
    data = bytearray(package.read_bytes())
    data[len(data) // 3] ^= 0x01
    package.write_bytes(bytes(data))
    with pytest.raises(SystemExit) as failed:
        call_command("verify_export", str(package), stdout=io.StringIO(), stderr=io.StringIO())
    assert failed.value.code == 1
