"""Fault: PostgreSQL restarts while a camera records. The footage of the outage is not lost: ffmpeg
keeps writing into the spool, segments closed meanwhile wait there and are indexed once the
database answers, and the camera's recording has no hole the camera did not cause.

The shared PostgreSQL must never be restarted, so the pipeline (simulator, beat, worker, ffmpeg)
runs against a private cluster of its own (``tests.faults.services.PrivatePostgres``), migrated for
the test; the test reads it over its own psycopg connection, not through Django's test database.
"""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.faults.services import REPO, private_postgres
from tests.footage.recording_harness import (RecordingPipeline, alive, redis_broker_url, redis_flush,
                                             require_tools)

pytestmark = pytest.mark.faults

OUTAGE_SECONDS = 10


class Index:
    """Reads the private cluster's footage index (autocommit: every query sees the latest rows)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection: psycopg.Connection | None = None

    def rows(self, sql: str, *params: Any) -> list[tuple]:
        try:
            if self.connection is None or self.connection.closed:
                self.connection = psycopg.connect(self.url, autocommit=True, connect_timeout=3)
            with self.connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall()
        except psycopg.OperationalError:
            self.connection = None
            return []

    def segments(self, camera_id: int) -> list[tuple[int, int, datetime, datetime]]:
        return self.rows("SELECT run_id, sequence, start, \"end\" FROM footage_segment WHERE camera_id = %s "
                         "ORDER BY start", camera_id)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _manage(pipe: RecordingPipeline, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=pipe.env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_recording_goes_on_through_a_postgresql_restart_and_the_outage_is_indexed_after(
        settings: Any, tmp_path: Path) -> None:
    require_tools()
    broker = redis_broker_url()
    with private_postgres() as postgres:
        postgres.create_database("safecam")
        index = Index(postgres.url("safecam"))
        pipe = RecordingPipeline(root=tmp_path / "pipeline", settings=settings,
                                 database_url=postgres.url("safecam"), broker_url=broker)
        if broker:
            redis_flush(broker)
        try:
            _manage(pipe, "migrate", "--noinput")
            pipe.start_simulator(count=1)
            camera_id = int(_manage(pipe, "shell", "-c", (
                "from tests.factories import CameraFactory; "
                f"print(CameraFactory(stream_url={pipe.simulator.url(0)!r}, name='Simuliuota kamera 0').pk)"
            )).strip().splitlines()[-1])
            worker = pipe.start_worker("alpha")
            pipe.start_beat()
            pipe.wait_until(lambda: len(index.segments(camera_id)) >= 3, 60.0, "3 stored segments")
            (ffmpeg,) = pipe.ffmpeg_of(worker)

            postgres.stop("fast")
            down_at = datetime.now().astimezone()
            time.sleep(OUTAGE_SECONDS)
            waiting = pipe.spool_waiting()
            assert len(waiting) >= OUTAGE_SECONDS // 2 - 2, pipe.report(
                f"only {len(waiting)} closed segments wait in the spool after a {OUTAGE_SECONDS}-s outage")
            assert alive(ffmpeg), pipe.report("ffmpeg stopped while the database was down")
            postgres.start()
            up_at = datetime.now().astimezone()

            last = max(closed.sequence for _folder, closed in waiting)
            pipe.wait_until(lambda: not [c for _f, c in pipe.spool_waiting() if c.sequence <= last]
                            and len([s for s in index.segments(camera_id) if s[1] <= last]) == last + 1
                            and any(s[2] > up_at + timedelta(seconds=4) for s in index.segments(camera_id)),
                            60.0, f"segments 0..{last} are indexed and recording goes on")
            assert pipe.ffmpeg_of(worker) == [ffmpeg], pipe.report("the recording was restarted")

            index.rows("UPDATE cameras_camera SET enabled = false WHERE id = %s RETURNING id", camera_id)
            pipe.wait_until(lambda: not index.rows("SELECT id FROM footage_run WHERE camera_id = %s AND ended_at "
                                                   "IS NULL", camera_id) and not pipe.spool_files(), 30.0,
                            "the run ended and the spool is empty")
            segments = index.segments(camera_id)
            runs = {run_id for run_id, *_rest in segments}
            assert len(runs) == 1, pipe.report(f"recorded in {len(runs)} runs: the recording was interrupted")
            assert [s[1] for s in segments] == list(range(len(segments)))
            holes = [(a[3], b[2]) for a, b in zip(segments, segments[1:]) if a[3] != b[2]]
            assert holes == [], pipe.report(f"holes between segments: {holes}")
            # The outage lies inside the recording: every second of it is in a segment.
            assert segments[0][2] < down_at and segments[-1][3] > up_at
            covered = sum((min(end, up_at) - max(start, down_at) for _r, _s, start, end in segments
                           if end > down_at and start < up_at), timedelta(0))
            assert covered == up_at - down_at, f"{covered} of {up_at - down_at} recorded"
            gaps = index.rows("SELECT reason, start, \"end\", detail FROM footage_gap WHERE camera_id = %s AND "
                              "reason <> 'camera_disabled'", camera_id)
            assert gaps == [], pipe.report(f"gaps: {gaps}")
        finally:
            pipe.stop_all()
            index.close()
            if broker:
                redis_flush(broker)
