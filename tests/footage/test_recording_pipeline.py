"""The recording pipeline end to end, with nothing mocked.

A GStreamer RTSP simulator plays the cameras; ``celery beat`` and ``celery worker`` processes run
the real supervisor, recorder (ffmpeg, stream copy) and ingest into the spool, the storage server
(a folder, or OpenSSH's SFTP) and the test database. The tests only start and break things the
way the world does (a camera loses power, the storage server goes away, a worker host dies) and
then read the index, the spool and the stored files. See ``recording_harness.py``.
"""

from __future__ import annotations

import pytest

from cameras.models import Camera, CameraHealth, CameraStatus
from cameras.selectors import camera_status
from footage import spool
from footage.models import EndReason, Gap, RecorderLease, Run, Segment, StorageStatus
from tests.footage.recording_harness import (  # noqa: F401  (pipeline is a fixture)
    CAMERA_PASSWORD,
    RecordingPipeline,
    alive,
    pipeline,
    sha256_of,
)
from tests.servers import SFTPServer, sftp_server  # noqa: F401  (a fixture)

# The worker processes must see the test's rows: they are committed, and flushed after the test.
pytestmark = pytest.mark.django_db(transaction=True)

# Generous limits for a loaded CI machine; the tests take a fraction of them.
START = 60.0  # from the first process start to the first stored segment
SETTLE = 30.0


def segments_of(run: Run) -> list[Segment]:
    return list(Segment.objects.filter(run=run).order_by("sequence"))


def contiguity_problems(run: Run) -> list[str]:
    """Holes or overlaps inside a run: sequences 0..N-1, each segment starting where the last ended."""
    segments = segments_of(run)
    problems = []
    sequences = [s.sequence for s in segments]
    if sequences != list(range(len(segments))):
        problems.append(f"run {run.pk} has sequences {sequences}")
    for before, after in zip(segments, segments[1:]):
        if before.end != after.start:
            problems.append(f"run {run.pk}: segment {before.sequence} ends {before.end.isoformat()} but "
                            f"{after.sequence} starts {after.start.isoformat()}")
    return problems


def run_folder_names(run: Run) -> set[str]:
    """Names of the spool folders that hold ``run`` (a run folder says which run it is in run.json)."""
    return {folder.name for folder in spool.run_folders() if spool.meta_read(folder).get("run_id") == run.pk}


def stored_copy_problems(pipe: RecordingPipeline, segments: list[Segment]) -> list[str]:
    problems = []
    for segment in segments:
        path = pipe.stored_path(segment.storage_name)
        if not path.is_file():
            problems.append(f"{segment.storage_name} is missing from storage")
        elif path.stat().st_size != segment.size or sha256_of(path) != segment.sha256:
            problems.append(f"{segment.storage_name} differs from its index row")
    return problems


def test_it_records_two_cameras_into_contiguous_verified_segments(
    pipeline: RecordingPipeline,  # noqa: F811  (the fixture)
) -> None:
    pipeline.start_simulator(count=2)
    cameras = [pipeline.camera(0), pipeline.camera(1)]
    pipeline.start_worker("alpha")
    pipeline.start_beat()

    pipeline.wait_until(lambda: all(Segment.objects.filter(camera=c).count() >= 5 for c in cameras),
                        START, "both cameras have 5 stored segments")
    for camera in cameras:
        health = CameraHealth.objects.get(camera=camera)
        assert health.recorder_state == "recording", pipeline.report(f"{camera} health: {health.recorder_state}")
        assert health.stored_segments >= 5
        assert camera_status(Camera.objects.get(pk=camera.pk)) == CameraStatus.RECORDING

    # Switching the cameras off closes each open segment cleanly: the index then stops moving.
    Camera.objects.filter(pk__in=[c.pk for c in cameras]).update(enabled=False)
    pipeline.wait_until(lambda: not Run.objects.filter(camera__in=cameras, ended_at__isnull=True).exists()
                        and not pipeline.spool_files(), SETTLE, "both runs ended and the spool is empty")

    for camera in cameras:
        runs = list(Run.objects.filter(camera=camera))
        assert len(runs) == 1, pipeline.report(f"{camera} was recorded in {len(runs)} runs, not one")
        run = runs[0]
        assert (run.video_codec, run.width, run.height) == ("h264", 160, 90)
        assert run.end_reason == EndReason.CAMERA_DISABLED
        segments = segments_of(run)
        assert len(segments) >= 5
        assert contiguity_problems(run) == []
        assert segments[0].start == run.started_at
        assert segments[-1].end == run.ended_at
        assert stored_copy_problems(pipeline, segments) == []
        assert not Gap.objects.filter(camera=camera, reason=EndReason.SEGMENT_LOST).exists()


def test_it_ends_the_run_when_a_camera_goes_dark_and_resumes_by_itself(
    pipeline: RecordingPipeline,  # noqa: F811  (the fixture)
) -> None:
    pipeline.start_simulator(count=1)
    camera = pipeline.camera(0)
    pipeline.start_worker("alpha")
    pipeline.start_beat()
    pipeline.wait_until(lambda: Segment.objects.filter(camera=camera).count() >= 2, START, "2 stored segments")
    first = Run.objects.get(camera=camera)

    pipeline.mount_down(0)
    pipeline.wait_until(lambda: Run.objects.filter(pk=first.pk, ended_at__isnull=False).exists(), SETTLE,
                        "the first run ended")
    # The recorder keeps knocking; the camera refuses (404), and that neither opens a run nor another gap.
    pipeline.wait_until(lambda: "404" in Gap.objects.get(camera=camera, end__isnull=True).detail, SETTLE,
                        "a reconnect was refused")
    assert Run.objects.filter(camera=camera).count() == 1
    assert Gap.objects.filter(camera=camera, start__gte=first.started_at).count() == 1
    pipeline.mount_up(0)

    second = pipeline.wait_until(
        lambda: Run.objects.filter(camera=camera, segments__isnull=False).exclude(pk=first.pk).first(), SETTLE,
        "a second run recorded a segment")
    first.refresh_from_db()
    gap = Gap.objects.get(camera=camera, start__gte=first.started_at)
    assert first.end_reason == EndReason.CAMERA_LOST, pipeline.report(f"the first run ended: {first.end_reason}")
    assert (gap.start, gap.end, gap.reason, gap.after_run_id) == (
        first.ended_at, second.started_at, EndReason.CAMERA_LOST, first.pk), pipeline.report(f"gap {gap.__dict__}")
    assert first.ended_at < second.started_at
    assert contiguity_problems(first) == []
    assert segments_of(first)[-1].end == first.ended_at
    # ffmpeg quotes the URL it was given; what the recorder keeps and shows never has the password.
    texts = [first.end_detail, gap.detail, CameraHealth.objects.get(camera=camera).last_error]
    assert not [text for text in texts if CAMERA_PASSWORD in text]


def test_it_keeps_segments_in_the_spool_while_storage_is_down_and_delivers_them_all(
    sftp_server: SFTPServer, pipeline: RecordingPipeline  # noqa: F811  (the server outlives the workers)
) -> None:
    pipeline.use_sftp(sftp_server)
    pipeline.start_simulator(count=1)
    camera = pipeline.camera(0)
    pipeline.start_worker("alpha")
    pipeline.start_beat()
    pipeline.wait_until(lambda: Segment.objects.filter(camera=camera).count() >= 2, START, "2 stored segments")

    sftp_server.stop()
    pipeline.wait_until(lambda: not StorageStatus.get().reachable, SETTLE, "storage is marked unreachable")
    waiting = pipeline.wait_until(lambda: len(w := pipeline.spool_waiting()) >= 5 and w, SETTLE,
                                  "5 closed segments wait in the spool")
    run = Run.objects.get(camera=camera)
    last = max(closed.sequence for _folder, closed in waiting)
    assert not Segment.objects.filter(run=run, sequence__in=[c.sequence for _f, c in waiting]).exists()

    sftp_server.start()
    pipeline.wait_until(lambda: not [c for _f, c in pipeline.spool_waiting() if c.sequence <= last]
                        and Segment.objects.filter(run=run, sequence__lte=last).count() == last + 1, SETTLE * 2,
                        f"segments 0..{last} are stored and gone from the spool")

    assert StorageStatus.get().reachable
    # (A gap before the run, had the first connection failed, would end where the run starts.)
    gaps = Gap.objects.filter(camera=camera, start__gte=run.started_at)
    assert not gaps.exists(), pipeline.report(f"gaps while storage was down: {list(gaps.values('reason', 'detail'))}")
    segments = list(Segment.objects.filter(run=run, sequence__lte=last).order_by("sequence"))
    assert [s.sequence for s in segments] == list(range(last + 1))
    assert [(a.end, a.sequence) for a in segments[:-1]] == [(b.start, b.sequence - 1) for b in segments[1:]]
    assert all(pipeline.stored_path(s.storage_name).is_relative_to(sftp_server.root) for s in segments)
    assert stored_copy_problems(pipeline, segments) == []


def test_it_moves_a_camera_to_another_worker_when_its_recorder_dies(
    pipeline: RecordingPipeline,  # noqa: F811  (the fixture)
) -> None:
    pipeline.start_simulator(count=1)
    camera = pipeline.camera(0)
    pipeline.start_worker("alpha")
    pipeline.start_worker("bravo")
    pipeline.start_beat()
    pipeline.wait_until(lambda: Segment.objects.filter(camera=camera).count() >= 2, START, "2 stored segments")
    first = Run.objects.get(camera=camera)
    assert RecorderLease.objects.get(camera=camera).holder == first.recorder
    victim = pipeline.worker_named(first.recorder)
    ffmpegs = pipeline.ffmpeg_of(victim)
    assert len(ffmpegs) == 1, pipeline.report(f"{victim.name} runs ffmpeg processes {ffmpegs}")
    (folder,) = [f for f in spool.run_folders() if f.name in run_folder_names(first)]
    writing = max(int(p.stem) for p in folder.glob("*.ts"))  # the segment ffmpeg has open

    pipeline.kill(victim)
    pipeline.wait_until(lambda: not alive(ffmpegs[0]), SETTLE, "the dead worker's ffmpeg exited")
    second = pipeline.wait_until(
        lambda: Run.objects.filter(camera=camera, segments__isnull=False).exclude(pk=first.pk).first(),
        START, "another worker recorded the camera")
    # The survivor also stores what the dead recorder left in its spool, the segment ffmpeg had open included.
    pipeline.wait_until(lambda: not [p for p in pipeline.spool_files() if p.parent.name in run_folder_names(first)],
                        SETTLE, "the dead recorder's spool is stored")

    first.refresh_from_db()
    survivor = next(s for s in pipeline.services.values() if s.name in ("alpha", "bravo") and s is not victim)
    assert second.recorder.split("@")[0] == survivor.name
    assert first.end_reason == EndReason.RECORDER_LOST, pipeline.report(f"the first run ended: {first.end_reason}")
    gap = Gap.objects.get(camera=camera, start__gte=first.started_at)
    assert (gap.start, gap.end, gap.reason, gap.after_run_id) == (
        first.ended_at, second.started_at, EndReason.RECORDER_LOST, first.pk), pipeline.report(f"gap {gap.__dict__}")
    assert first.ended_at < second.started_at
    assert contiguity_problems(first) == []
    # The segment ffmpeg was writing when its worker died was recovered from the spool, not discarded.
    assert segments_of(first)[-1].sequence >= writing, pipeline.report(
        f"segment {writing} of the dead recorder was not stored: {[s.sequence for s in segments_of(first)]}")
    assert segments_of(first)[-1].end == first.ended_at
