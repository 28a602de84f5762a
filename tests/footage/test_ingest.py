"""Ingest and the spool sweep, on real MPEG-TS segments made by ffmpeg (no camera needed)."""

from __future__ import annotations

import hashlib
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from cameras.models import Camera, CameraHealth
from footage import services, spool, supervise
from footage.models import EndReason, Gap, Run, Segment, StorageStatus
from safecam.models import AuditEvent
from tests.factories import footage_index

pytestmark = pytest.mark.django_db


def make_segments(folder: Path, *, seconds: int = 6, segment: int = 2, list_last: bool = True) -> list[spool.ClosedSegment]:
    """Real H.264 TS segments and ffmpeg's own CSV list, as the recorder leaves them."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", f"testsrc=size=160x90:rate=5:duration={seconds}",
         "-c:v", "libx264", "-g", "5", "-f", "segment", "-segment_time", str(segment), "-segment_format", "mpegts",
         "-reset_timestamps", "1", "-segment_list", str(folder / spool.CSV_NAME), "-segment_list_type", "csv",
         str(folder / "%06d.ts")], check=True, timeout=60)
    listed = spool.closed_segments(folder)
    if not list_last:  # as if the recorder died while writing the last segment
        lines = (folder / spool.CSV_NAME).read_text().splitlines()[:-1]
        (folder / spool.CSV_NAME).write_text("".join(line + "\n" for line in lines))
    return listed


@pytest.fixture
def run(vabalninkas_camera: Camera) -> Run:
    return services.run_open(camera_id=vabalninkas_camera.pk, started_at=timezone.now() - timedelta(minutes=1),
                             recorder="test")


def _ingest(run: Run, folder: Path, closed: spool.ClosedSegment) -> services.IngestResult:
    return services.segment_ingest(run_id=run.pk, sequence=closed.sequence, path=folder / closed.filename,
                                   start_offset=closed.start, end_offset=closed.end)


def test_it_stores_verifies_indexes_and_then_removes_the_spool_file(run: Run, settings: Any, footage_dir: Path) -> None:
    folder = Path(settings.SPOOL_DIR) / str(run.camera.public_id) / "r1"
    closed = make_segments(folder)
    digests = [hashlib.sha256((folder / c.filename).read_bytes()).hexdigest() for c in closed]

    results = [_ingest(run, folder, c) for c in closed]

    assert [r.outcome for r in results] == ["stored"] * len(closed)
    segments = list(Segment.objects.filter(run=run).order_by("sequence"))
    assert [s.sha256 for s in segments] == digests
    for segment in segments:
        assert hashlib.sha256((footage_dir / segment.storage_name).read_bytes()).hexdigest() == segment.sha256
    # Contiguous: each segment starts where the previous one ended (same stream clock).
    assert all(a.end == b.start for a, b in zip(segments, segments[1:], strict=False))
    assert not list(folder.glob("*.ts"))
    health = CameraHealth.objects.get(camera=run.camera)
    assert health.stored_segments == len(closed) and health.stored_bytes == sum(s.size for s in segments)


def test_ingesting_twice_stores_once(run: Run, settings: Any, footage_dir: Path) -> None:
    folder = Path(settings.SPOOL_DIR) / "cam" / "r1"
    first = make_segments(folder)[0]
    assert _ingest(run, folder, first).outcome == "stored"
    assert _ingest(run, folder, first).outcome == "duplicate"
    assert Segment.objects.count() == 1
    assert len(list(footage_dir.rglob("*.ts"))) == 1


def test_an_orphan_from_a_crashed_attempt_is_replaced_not_duplicated(run: Run, settings: Any, footage_dir: Path) -> None:
    folder = Path(settings.SPOOL_DIR) / "cam" / "r1"
    first = make_segments(folder)[0]
    name = services.storage_name_for(run.camera, run, first.sequence, run.started_at + timedelta(seconds=first.start))
    (footage_dir / name).parent.mkdir(parents=True)
    (footage_dir / name).write_bytes(b"half a file")

    assert _ingest(run, folder, first).outcome == "stored"
    segment = Segment.objects.get()
    assert segment.storage_name == name
    assert hashlib.sha256((footage_dir / name).read_bytes()).hexdigest() == segment.sha256


def test_an_unwritable_storage_keeps_segments_in_the_spool_until_it_is_back(
    run: Run, settings: Any, tmp_path: Path
) -> None:
    folder = Path(settings.SPOOL_DIR) / str(run.camera.public_id) / "r1"
    closed = make_segments(folder)
    spool.meta_write(folder, run_id=run.pk, camera_id=run.camera_id)
    blocked = tmp_path / "readonly"
    blocked.write_text("a file where the storage folder should be: nothing can be written under it")
    settings.STORAGES = {**settings.STORAGES, "footage": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(blocked)}}}

    assert _ingest(run, folder, closed[0]).outcome == "waiting"
    status = StorageStatus.get()
    assert not status.reachable and status.error and status.next_attempt_at
    # While the backoff runs, no further attempt is made; the files stay.
    assert _ingest(run, folder, closed[1]).outcome == "waiting"
    assert len(list(folder.glob("*.ts"))) == len(closed)
    assert Segment.objects.count() == 0

    good = tmp_path / "storage-back"
    settings.STORAGES = {**settings.STORAGES, "footage": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(good)}}}
    StorageStatus.objects.update(next_attempt_at=timezone.now())
    queued: list[tuple] = []
    supervise.storage_check(enqueue=lambda *args: queued.append(args))
    assert StorageStatus.get().reachable
    for run_id, sequence, path, start, end in queued:
        services.segment_ingest(run_id=run_id, sequence=sequence, path=Path(path), start_offset=start, end_offset=end)

    assert Segment.objects.count() == len(closed)
    assert not list(folder.glob("*.ts"))


def test_a_segment_missing_from_the_spool_becomes_an_explained_gap(run: Run, settings: Any) -> None:
    folder = Path(settings.SPOOL_DIR) / "cam" / "r1"
    closed = make_segments(folder)
    (folder / closed[1].filename).unlink()

    assert _ingest(run, folder, closed[1]).outcome == "lost"
    gap = Gap.objects.get(reason=EndReason.SEGMENT_LOST)
    assert gap.start == run.started_at + timedelta(seconds=closed[1].start)
    assert gap.end == run.started_at + timedelta(seconds=closed[1].end)


def test_the_sweep_recovers_the_spool_of_a_recorder_that_died(vabalninkas_camera: Camera, settings: Any) -> None:
    run = services.run_open(camera_id=vabalninkas_camera.pk, started_at=timezone.now() - timedelta(minutes=1),
                            recorder="dead-worker")
    folder = Path(settings.SPOOL_DIR) / str(vabalninkas_camera.public_id) / "r1"
    closed = make_segments(folder, list_last=False)
    spool.meta_write(folder, run_id=run.pk, camera_id=vabalninkas_camera.pk)
    queued: list[tuple] = []

    report = supervise.spool_sweep(enqueue=lambda *args: queued.append(args))

    # Every file is queued, the unlisted last one too, with its duration probed once.
    assert sorted(q[1] for q in queued) == [c.sequence for c in closed]
    assert report.recovered_runs == 1
    for run_id, sequence, path, start, end in queued:
        services.segment_ingest(run_id=run_id, sequence=sequence, path=Path(path), start_offset=start, end_offset=end)
    segments = list(Segment.objects.filter(run=run).order_by("sequence"))
    assert len(segments) == len(closed)
    assert abs(segments[-1].duration - (closed[-1].end - closed[-1].start)) < 0.5
    run.refresh_from_db()
    assert run.end_reason == EndReason.RECORDER_LOST
    assert run.ended_at == segments[-1].end
    gap = Gap.objects.get(after_run=run)
    assert gap.start == segments[-1].end and gap.end is None
    supervise.spool_sweep(enqueue=lambda *args: None)
    assert not folder.exists()


def test_the_sweep_leaves_a_live_recorders_folder_alone(run: Run, settings: Any) -> None:
    folder = Path(settings.SPOOL_DIR) / str(run.camera.public_id) / "r1"
    make_segments(folder)
    spool.meta_write(folder, run_id=run.pk, camera_id=run.camera_id)
    for path in folder.glob("*.ts"):
        spool.mark_queued(path)  # the recorder queued them a moment ago
    lock = spool.RunLock(folder)
    lock.acquire()
    try:
        queued: list[tuple] = []
        supervise.spool_sweep(enqueue=lambda *args: queued.append(args))
    finally:
        lock.release()
    assert queued == []
    run.refresh_from_db()
    assert run.ended_at is None


# --- verify_footage --------------------------------------------------------------------------------


def test_verify_footage_passes_intact_footage_and_records_the_verdict(
    vabalninkas_camera: Camera, capsys: Any
) -> None:
    footage_index(vabalninkas_camera, timezone.now() - timedelta(hours=1), count=3)
    call_command("verify_footage")
    assert "Footage intact. 3 segments checked" in capsys.readouterr().out
    assert AuditEvent.objects.get(action="footage.verified").details["intact"] is True


def test_verify_footage_exits_1_naming_altered_and_missing_files(
    vabalninkas_camera: Camera, footage_dir: Path, capsys: Any
) -> None:
    segments = footage_index(vabalninkas_camera, timezone.now() - timedelta(hours=1), count=3)
    (footage_dir / segments[0].storage_name).write_bytes(b"tampered")
    (footage_dir / segments[1].storage_name).unlink()

    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_footage", "--camera", str(vabalninkas_camera.public_id))

    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert f"altered: {segments[0].storage_name}" in err
    assert f"missing: {segments[1].storage_name}" in err
    assert AuditEvent.objects.get(action="footage.verified").details["intact"] is False


def test_verify_footage_names_an_unknown_camera(db: None) -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No camera"):
        call_command("verify_footage", "--camera", "00000000-0000-0000-0000-000000000000")
