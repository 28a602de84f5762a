"""The recording pipeline end to end, with nothing mocked.

A GStreamer RTSP simulator plays the cameras; ``celery beat`` and ``celery worker`` processes run
the real supervisor, recorder (ffmpeg, stream copy) and ingest into the spool, the storage server
(a folder, or OpenSSH's SFTP) and the test database. The tests only start and break things the
way the world does (a camera loses power, the storage server goes away, a worker host dies) and
then read the index, the spool and the stored files. See ``recording_harness.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cameras.models import Camera, CameraHealth
from footage.models import EndReason, Gap, Run, Segment, StorageStatus
from tests.footage.recording_harness import RecordingPipeline, pipeline, sha256_of  # noqa: F401  (a fixture)
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


def stored_copy_problems(pipe: RecordingPipeline, segments: list[Segment]) -> list[str]:
    problems = []
    for segment in segments:
        path = pipe.stored_path(segment.storage_name)
        if not path.is_file():
            problems.append(f"{segment.storage_name} is missing from storage")
        elif path.stat().st_size != segment.size or sha256_of(path) != segment.sha256:
            problems.append(f"{segment.storage_name} differs from its index row")
    return problems


def test_it_records_two_cameras_into_contiguous_verified_segments(pipeline: RecordingPipeline) -> None:  # noqa: F811
    pipeline.start_simulator(count=2)
    cameras = [pipeline.camera(0), pipeline.camera(1)]
    pipeline.start_worker("alpha")
    pipeline.start_beat()

    pipeline.wait_until(lambda: all(Segment.objects.filter(camera=c).count() >= 6 for c in cameras),
                        START, "both cameras have 6 stored segments")
    for camera in cameras:
        health = CameraHealth.objects.get(camera=camera)
        assert health.recorder_state == "recording", pipeline.report(f"{camera} health: {health.recorder_state}")
        assert health.last_segment_end is not None and health.stored_segments >= 6

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
        assert len(segments) >= 6
        assert contiguity_problems(run) == []
        assert segments[0].start == run.started_at
        assert segments[-1].end == run.ended_at
        assert stored_copy_problems(pipeline, segments) == []
        assert not Gap.objects.filter(camera=camera, reason=EndReason.SEGMENT_LOST).exists()


def test_it_ends_the_run_when_a_camera_goes_dark_and_resumes_by_itself(pipeline: RecordingPipeline) -> None:  # noqa: F811
    pipeline.start_simulator(count=1)
    camera = pipeline.camera(0)
    pipeline.start_worker("alpha")
    pipeline.start_beat()
    pipeline.wait_until(lambda: Segment.objects.filter(camera=camera).count() >= 2, START, "2 stored segments")
    first = Run.objects.get(camera=camera)

    pipeline.mount_down(0)
    pipeline.wait_until(lambda: Run.objects.filter(pk=first.pk, ended_at__isnull=False).exists(), SETTLE,
                        "the first run ended")
    gap = Gap.objects.get(camera=camera, end__isnull=True)
    print("GAP", gap.reason, repr(gap.detail))
    pipeline.wait_until(lambda: "404" in Gap.objects.get(pk=gap.pk).detail, SETTLE, "a reconnect was refused")
    print("GAP2", repr(Gap.objects.get(pk=gap.pk).detail), CameraHealth.objects.get(camera=camera).__dict__)
    pipeline.mount_up(0)

    second = pipeline.wait_until(
        lambda: Run.objects.filter(camera=camera, segments__isnull=False).exclude(pk=first.pk).first(), SETTLE,
        "a second run recorded a segment")
    first.refresh_from_db()
    gap.refresh_from_db()
    print("RUN1", first.__dict__)
    print("GAP", gap.__dict__)
    print("RUN2", second.__dict__)
    assert first.end_reason == EndReason.CAMERA_LOST, pipeline.report(f"first run ended: {first.end_reason}")
    assert (gap.start, gap.end, gap.reason, gap.after_run_id) == (
        first.ended_at, second.started_at, EndReason.CAMERA_LOST, first.pk)
    assert contiguity_problems(first) == []


def test_it_keeps_segments_in_the_spool_while_storage_is_down_and_delivers_them_all(
    pipeline: RecordingPipeline, sftp_server: SFTPServer  # noqa: F811
) -> None:
    pipeline.use_sftp(sftp_server)
    pipeline.start_simulator(count=1)
    camera = pipeline.camera(0)
    pipeline.start_worker("alpha")
    pipeline.start_beat()
    pipeline.wait_until(lambda: Segment.objects.filter(camera=camera).count() >= 2, START, "2 stored segments")

    sftp_server.stop()
    pipeline.wait_until(lambda: not StorageStatus.get().reachable, SETTLE, "storage is marked unreachable")
    waiting = pipeline.wait_until(lambda: (w := pipeline.spool_waiting()) and len(w) >= 6 and w, SETTLE,
                                  "6 closed segments wait in the spool")
    print("WAITING", [(f.name, c) for f, c in waiting], StorageStatus.get().__dict__)
    sftp_server.start()
    import time
    t0 = time.monotonic()
    pipeline.wait_until(lambda: not any(f for f, c in pipeline.spool_waiting() if c.sequence <= waiting[-1][1].sequence), 120,
                        "everything delivered")
    print("DELIVERED after", time.monotonic() - t0, StorageStatus.get().__dict__)
    run = Run.objects.get(camera=camera)
    assert not Gap.objects.filter(camera=camera, reason=EndReason.SEGMENT_LOST).exists()
    last = waiting[-1][1].sequence
    segments = list(Segment.objects.filter(run=run, sequence__lte=last).order_by("sequence"))
    assert [s.sequence for s in segments] == list(range(last + 1))
    assert stored_copy_problems(pipeline, segments) == []


def test_it_moves_a_camera_to_another_worker_when_its_recorder_dies(pipeline: RecordingPipeline) -> None:  # noqa: F811
    from footage.models import RecorderLease
    import time
    pipeline.start_simulator(count=1)
    camera = pipeline.camera(0)
    pipeline.start_worker("alpha")
    pipeline.start_worker("bravo")
    pipeline.start_beat()
    pipeline.wait_until(lambda: Segment.objects.filter(camera=camera).count() >= 2, START, "2 stored segments")
    first = Run.objects.get(camera=camera)
    holder = RecorderLease.objects.get(camera=camera).holder
    victim = pipeline.worker_named(holder)
    ffmpegs = pipeline.ffmpeg_of(victim)
    print("HOLDER", holder, first.recorder, ffmpegs)
    pipeline.kill(victim)
    t0 = time.monotonic()
    second = pipeline.wait_until(
        lambda: Run.objects.filter(camera=camera, segments__isnull=False).exclude(pk=first.pk).first(), 60,
        "another worker recorded")
    print("TAKEOVER after", time.monotonic() - t0)
    first.refresh_from_db()
    print("RUN1", first.__dict__)
    print("RUN2", second.__dict__)
    print("GAPS", list(Gap.objects.filter(camera=camera).values()))
    print("FFMPEG alive", [p for p in ffmpegs if Path(f"/proc/{p}").exists()])
