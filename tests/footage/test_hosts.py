"""Two recording hosts sharing the database, the broker and the storage server (footage.hosts).

Each host is a ``celery worker -Q recording -n recorder@<name>`` with a spool folder of its own,
standing for a machine with its own disk; a third worker consumes the default queue (supervisor,
health) as the application host does, and beat runs once. 24 simulated cameras (160x90, 5 fps)
record in 2-s segments under 6-s leases with a 1-s supervise interval, so a failover takes seconds.

The story: the cameras spread over both hosts; host B is stopped cleanly (its cameras move to A,
nothing waits in B's spool), comes back and takes its share again; host A then dies (SIGKILL): its
cameras move to B within the lease time, each with a "recorder lost" gap, while the segments in A's
spool wait on A's disk, which B cannot read; when A comes back they are stored, each dead run is
complete and its gap ends where the next run begins.
"""

from __future__ import annotations

import os
import time
from collections import Counter

import pytest

from cameras.models import Camera
from footage.models import EndReason, Gap, RecorderHost, RecorderLease, Run, Segment
from tests.factories import SiteFactory
from tests.footage.recording_harness import (  # noqa: F401  (pipeline is a fixture)
    LEASE_SECONDS,
    RecordingHost,
    RecordingPipeline,
    alive,
    pipeline,
)
from tests.footage.test_recording_pipeline import contiguity_problems, stored_copy_problems

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # Hosts share a database server and a broker server: SQLite and kombu's filesystem transport are
    # one machine's (the latter also garbles messages under four busy consumers: JSONDecodeError).
    pytest.mark.skipif(not os.environ.get("CELERY_BROKER_URL", "").startswith(("redis://", "rediss://"))
                       or not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="several recording hosts need PostgreSQL and Redis (as production has)"),
]

CAMERAS = 24
SUPERVISE_SECONDS = 1
# Generous limits for a loaded CI machine (24 ffmpeg processes and an RTSP server on two cores).
START = 120.0
# Failover: the lease lapses, the next supervise pass queues the camera, ffmpeg connects and its
# first 2-s segment closes; the margin absorbs a busy machine.
FAILOVER = LEASE_SECONDS + SUPERVISE_SECONDS + 40.0
SETTLE = 60.0


def holders(cameras: list[Camera]) -> Counter:
    now = time_now()
    return Counter(RecorderLease.objects.filter(camera__in=cameras, expires_at__gt=now)
                   .exclude(holder="").values_list("holder", flat=True))


def time_now():
    from django.utils import timezone

    return timezone.now()


def recording_on(cameras: list[Camera], host: RecordingHost, since: dict[int, int]) -> bool:
    """Every camera has a run by ``host`` with a stored segment, newer than run ``since[camera]``."""
    return all(Run.objects.filter(camera=c, recorder=host.nodename, pk__gt=since.get(c.pk, 0),
                                  segments__isnull=False).exists() for c in cameras)


def spread_evenly(pipe: RecordingPipeline, cameras: list[Camera], names: list[str]) -> bool:
    load = holders(cameras)
    counts = [load.get(pipe.hosts[name].nodename, 0) for name in names]
    return sum(counts) == len(cameras) and max(counts) - min(counts) <= 1


def settled(pipe: RecordingPipeline, cameras: list[Camera]) -> bool:
    """Every camera has one open run by the host holding its lease, with 2 stored segments."""
    leases = {lease.camera_id: lease for lease in RecorderLease.objects.filter(camera__in=cameras)}
    runs = {run.camera_id: run for run in Run.objects.filter(camera__in=cameras, ended_at__isnull=True)}
    return (spread_evenly(pipe, cameras, list(pipe.hosts))
            and all(not lease.handover_to for lease in leases.values())
            and all(c.pk in runs and runs[c.pk].recorder == leases[c.pk].holder
                    and runs[c.pk].segments.count() >= 2 for c in cameras))


def latest_run_ids(cameras: list[Camera]) -> dict[int, int]:
    return {c.pk: Run.objects.filter(camera=c).order_by("-pk").values_list("pk", flat=True).first() or 0
            for c in cameras}


def test_cameras_spread_over_two_hosts_and_move_when_one_stops_or_dies(
    pipeline: RecordingPipeline,  # noqa: F811  (the fixture)
) -> None:
    pipeline.start_simulator(count=CAMERAS)
    site = SiteFactory()
    cameras = [pipeline.camera(i, site=site) for i in range(CAMERAS)]
    pipeline.start_worker("app", queues="celery", concurrency=2)
    a, b = pipeline.start_host("a"), pipeline.start_host("b")
    pipeline.wait_until(lambda: RecorderHost.objects.count() == 2, START, "both recording hosts signed in")
    pipeline.start_beat()

    # Both hosts take cameras, within one of an even split, each into its own spool.
    pipeline.wait_until(lambda: all(Segment.objects.filter(camera=c).exists() for c in cameras)
                        and spread_evenly(pipeline, cameras, ["a", "b"]), START,
                        "every camera has a stored segment, spread evenly over both hosts")
    for host, other in ((a, b), (b, a)):
        mine = {str(c.public_id) for c in cameras if RecorderLease.objects.get(camera=c).holder == host.nodename}
        in_spool = {folder.parent.name for folder in host.run_folders()}
        assert mine & in_spool, pipeline.report(f"host {host.name} records {len(mine)} cameras but its spool "
                                                f"holds none of them")
        assert Run.objects.filter(camera__in=cameras, recorder=host.nodename, segments__isnull=False).exists()

    # --- host B stops cleanly (systemctl stop): A records everything, B's spool is left empty. ---------------
    on_b = [c for c in cameras if RecorderLease.objects.get(camera=c).holder == b.nodename]
    before = latest_run_ids(on_b)
    pipeline.stop_host(b)
    assert not b.spool_waiting(), f"closed segments left in B's spool after a clean stop: {b.spool_waiting()}"
    assert not RecorderHost.objects.filter(name=b.nodename).exists()
    pipeline.wait_until(lambda: recording_on(on_b, a, before), FAILOVER, "host A records B's cameras")
    for camera in on_b:
        old = Run.objects.get(pk=before[camera.pk])
        new = Run.objects.filter(camera=camera, recorder=a.nodename, pk__gt=old.pk).order_by("pk").first()
        assert old.end_reason == EndReason.RECORDER_STOPPED, pipeline.report(f"{camera}: {old.end_reason}")
        gap = Gap.objects.get(camera=camera, after_run=old)
        assert (gap.reason, gap.start, gap.end) == (EndReason.RECORDER_STOPPED, old.ended_at, new.started_at)
        assert contiguity_problems(old) == []
        assert Segment.objects.filter(run=old).order_by("-sequence").first().end == old.ended_at

    # --- B comes back and takes its share again (a handover per camera, a short "recorder stopped" gap). ----
    pipeline.start_host("b")
    pipeline.wait_until(lambda: spread_evenly(pipeline, cameras, ["a", "b"]), SETTLE * 2,
                        "the cameras spread over both hosts again")
    handed = Run.objects.filter(camera__in=cameras, end_detail__startswith="Handed over to recorder@b")
    assert handed.exists()

    # --- host A dies (SIGKILL: a power cut). --------------------------------------------------------------
    pipeline.wait_until(lambda: settled(pipeline, cameras), SETTLE,
                        "every camera is recorded by its lease holder with two stored segments, no handover due")
    on_a = [c for c in cameras if RecorderLease.objects.get(camera=c).holder == a.nodename]
    assert on_a
    dead_runs = {c.pk: Run.objects.get(camera=c, ended_at__isnull=True) for c in on_a}
    ffmpegs = pipeline.ffmpeg_of(a.service)
    killed_at = time.monotonic()
    pipeline.kill(a.service)
    pipeline.wait_until(lambda: not any(alive(pid) for pid in ffmpegs), SETTLE, "A's ffmpeg processes exited")
    left_in_a = a.spool_files()
    assert left_in_a, "a host that dies leaves the segment ffmpeg was writing in its spool"

    pipeline.wait_until(lambda: recording_on(on_a, b, {c.pk: dead_runs[c.pk].pk for c in on_a}), FAILOVER,
                        "host B records A's cameras")
    failover = time.monotonic() - killed_at
    gaps = []
    for camera in on_a:
        old = Run.objects.get(pk=dead_runs[camera.pk].pk)
        new = Run.objects.filter(camera=camera, recorder=b.nodename, pk__gt=old.pk).order_by("pk").first()
        assert old.end_reason == EndReason.RECORDER_LOST, pipeline.report(f"{camera}: {old.end_reason}")
        gap = Gap.objects.get(camera=camera, after_run=old)
        assert (gap.reason, gap.end) == (EndReason.RECORDER_LOST, new.started_at)
        gaps.append((new.started_at - gap.start).total_seconds())
    print(f"\nSIGKILL failover of {len(on_a)} cameras: all recorded by B {failover:.1f} s after the kill; "
          f"gaps {min(gaps):.1f}..{max(gaps):.1f} s (lease {LEASE_SECONDS} s + supervise {SUPERVISE_SECONDS} s)")
    # B cannot read A's disk: what A's spool held is still there, waiting for A.
    assert [p for p in left_in_a if p.exists()], "A's spool was emptied while A was down"

    # --- A comes back: its start-up sweep stores what its spool held; the dead runs are complete. -----------
    pipeline.start_host("a")
    pipeline.wait_until(lambda: not [p for p in left_in_a if p.exists()], SETTLE, "A's leftover spool is stored")
    for camera in on_a:
        old = Run.objects.get(pk=dead_runs[camera.pk].pk)
        segments = list(Segment.objects.filter(run=old).order_by("sequence"))
        assert contiguity_problems(old) == [], pipeline.report(str(contiguity_problems(old)))
        assert segments[-1].end == old.ended_at
        gap = Gap.objects.get(camera=camera, after_run=old)
        assert gap.start == old.ended_at
        assert stored_copy_problems(pipeline, segments) == []
    assert not Gap.objects.filter(camera__in=cameras, reason=EndReason.SEGMENT_LOST).exists()
    pipeline.wait_until(lambda: spread_evenly(pipeline, cameras, ["a", "b"]), SETTLE * 2,
                        "the cameras spread over both hosts after A's return")
