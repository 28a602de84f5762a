"""Timeline and playlist server time on a month of 24 cameras' index, next to the bare SQL, in one run.

Usage: .venv/bin/python bench/playback.py [--database-url postgres://postgres@127.0.0.1:5432/safecam_bench_playback]
           [--cameras 24] [--days 30] [--trials 200] [--keep]

Needs PostgreSQL. The bench database (its name must contain "bench") is dropped and created afresh,
and dropped at the end unless --keep. Steps:

1. migrate, seed the role groups, register the cameras, and index days × cameras of 10-s segments
   with PostgreSQL COPY (as bench/retention.py does; one preview picture per minute), then VACUUM
   ANALYZE; add a few gaps, holds and incidents per camera and day so the timeline has them;
2. as a Public Order officer (Django's test client: the whole request, middleware, session,
   permission check and JSON/playlist rendering included), time ``GET /api/v1/cameras/{uuid}/timeline/``
   for a random local day of a random camera, and ``GET /play/<token>/index.m3u8`` for a random hour,
   ``--trials`` times each after a warm-up;
3. the floor, in the same run: the same rows fetched by the bare SQL the views run (segments of the
   day or hour by ``(camera, start)``), through psycopg with no Django.

Goal (issue 4): p95 under 20 ms for both.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common  # noqa: E402
from bench import retention as month  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/safecam_bench_playback"
GOAL_MS = 20.0


def line(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"  {label:<44} p50 {common.percentile(ms, 0.5):6.2f} ms   p95 {common.percentile(ms, 0.95):6.2f} ms   max {max(ms):6.2f} ms"
            f"   (n={len(ms)})")


def marks_add(cameras: list, first_day: datetime, days: int, user) -> None:
    """Per camera and day: a 5-minute gap at 03:00, a hold and an incident at noon."""
    from footage.models import EndReason, Gap, Hold, Incident

    gaps, holds, incidents = [], [], []
    for camera in cameras:
        for day in range(days):
            base = first_day + timedelta(days=day)
            gaps.append(Gap(camera=camera, start=base + timedelta(hours=3), end=base + timedelta(hours=3, minutes=5),
                            reason=EndReason.CAMERA_LOST))
            holds.append(Hold(camera=camera, start=base + timedelta(hours=12), end=base + timedelta(hours=13),
                              reason="Bench", review_on=(base + timedelta(days=60)).date(), created_by=user))
            incidents.append(Incident(camera=camera, start=base + timedelta(hours=12, minutes=5),
                                      end=base + timedelta(hours=12, minutes=6), note="Bench", created_by=user))
    Gap.objects.bulk_create(gaps, batch_size=2000)
    Hold.objects.bulk_create(holds, batch_size=2000)
    Incident.objects.bulk_create(incidents, batch_size=2000)


COPY_SQL = month.COPY_SQL.replace("indexed_at)", "indexed_at, thumbnail)")


def segments_copy(database_url: str, cameras: list, runs: dict, first_day: datetime, days: int) -> int:
    """bench/retention.py's COPY, with a preview picture flagged on every sixth segment (one a minute)."""
    import psycopg

    rows = 0
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        with cursor.copy(COPY_SQL) as copy:
            for day in range(days):
                text = month.DayText(first_day + timedelta(days=day))
                day_runs = [runs[(camera.pk, day)] for camera in cameras]
                for first in range(0, month.per_day(), 360):
                    last = min(first + 360, month.per_day())
                    lines = text.copy_text(cameras, day_runs, first, last).splitlines()
                    copy.write("".join(f"{line}\t{'t' if int(line.split(chr(9))[2]) % 6 == 0 else 'f'}\n"
                                       for line in lines))
                    rows += len(lines)
        conn.commit()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("SAFECAM_BENCH_PLAYBACK_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--cameras", type=int, default=24)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--workdir", default=common.default_workdir())
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the playback bench needs PostgreSQL")
    common.check_bench_database(args.database_url)

    work = Path(tempfile.mkdtemp(prefix="safecam-bench-playback-", dir=args.workdir))
    month.environment(work, args.database_url)
    os.environ["SAFECAM_ALLOWED_HOSTS"] = "testserver"
    common.database_recreate(args.database_url)

    import django

    django.setup()
    import psycopg
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from footage import playback
    from safecam.roles import PUBLIC_ORDER_OFFICER, roles_sync

    try:
        call_command("migrate", verbosity=0)
        groups = roles_sync()
        officer = User.objects.create_user("bench-public-order", password="x")
        officer.groups.add(groups[PUBLIC_ORDER_OFFICER])
        today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first_day = today - timedelta(days=args.days)
        cameras = month.cameras_register(args.cameras, args.days * 24)
        runs = month.runs_create(cameras, first_day, args.days)
        connections.close_all()
        rows_total = args.cameras * args.days * month.per_day()
        print(f"indexing {args.days} days × {args.cameras} cameras ({rows_total:,} segment rows) with COPY …",
              flush=True)
        started = time.perf_counter()
        rows = segments_copy(args.database_url, cameras, runs, first_day, args.days)
        month.vacuum_analyze(args.database_url)
        marks_add(cameras, first_day, args.days, officer)
        print(f"indexed {rows:,} rows in {time.perf_counter() - started:.0f} s", flush=True)

        client = Client()
        client.force_login(officer)
        sessions = {camera.pk: playback.session_links(playback.session_open(user=officer, camera=camera,
                                                                            mode="recorded"))
                    for camera in cameras}
        rng = random.Random(4)

        def day_query() -> tuple[object, datetime, datetime]:
            camera = rng.choice(cameras)
            start = first_day + timedelta(days=rng.randrange(1, args.days - 1), hours=-2)  # a Vilnius day
            return camera, start, start + timedelta(days=1)

        def hour_query() -> tuple[object, datetime, datetime]:
            camera = rng.choice(cameras)
            start = first_day + timedelta(days=rng.randrange(args.days), minutes=rng.randrange(0, 23 * 60))
            return camera, start, start + timedelta(hours=1)

        def q(start: datetime, end: datetime) -> str:
            return f"start={start.isoformat().replace('+', '%2B')}&end={end.isoformat().replace('+', '%2B')}"

        def timed(make, fetch, trials: int) -> tuple[list[float], int]:
            times, size = [], 0
            for i in range(trials + 20):
                camera, start, end = make()
                t0 = time.perf_counter()
                response = fetch(camera, start, end)
                elapsed = time.perf_counter() - t0
                if i >= 20:  # warm-up excluded
                    times.append(elapsed)
                    size = max(size, response)
            return times, size

        def timeline(camera, start, end) -> int:
            # Keep the viewer's session alive as the player's heartbeats would.
            response = client.get(f"/api/v1/cameras/{camera.public_id}/timeline/?{q(start, end)}")
            assert response.status_code == 200, response.content[:200]
            return len(response.content)

        def playlist(camera, start, end) -> int:
            from footage.models import ViewingSession

            ViewingSession.objects.filter(camera=camera).update(last_seen_at=datetime.now(UTC))
            response = client.get(f"{sessions[camera.pk]['playlist']}?{q(start, end)}")
            assert response.status_code == 200, response.content[:200]
            return len(response.content)

        print(f"timing {args.trials} requests each (after 20 warm-up) …", flush=True)
        timeline_times, timeline_size = timed(day_query, timeline, args.trials)
        # The heartbeat UPDATE above is the bench's, not the view's: time it apart and subtract nothing.
        playlist_times, playlist_size = timed(hour_query, playlist, args.trials)
        connections.close_all()

        with psycopg.connect(args.database_url) as conn:
            def bare(make, sql: str) -> list[float]:
                times = []
                for i in range(args.trials + 20):
                    camera, start, end = make()
                    t0 = time.perf_counter()
                    conn.execute(sql, (camera.pk, end, start - timedelta(hours=1), start)).fetchall()
                    if i >= 20:
                        times.append(time.perf_counter() - t0)
                return times
            floor_day = bare(day_query, 'SELECT start, "end" FROM footage_segment WHERE camera_id = %s AND '
                                        "state = 'stored' AND start < %s AND start > %s AND \"end\" > %s ORDER BY start")
            floor_hour = bare(hour_query, 'SELECT id, start, "end", duration, run_id FROM footage_segment WHERE '
                                          "camera_id = %s AND state = 'stored' AND start < %s AND start > %s AND \"end\" > %s "
                                          "ORDER BY start")

        print()
        print(f"Index: {rows:,} segments ({args.days} days × {args.cameras} cameras), PostgreSQL, "
              f"{os.cpu_count()} cores")
        print(line("timeline, one day (8 640 segments, API)", timeline_times)
              + f"   {timeline_size / 1024:.1f} KiB")
        print(line("  floor: bare SQL for the day's segments", floor_day))
        print(line("playlist, one hour (360 segments, HLS)", playlist_times) + f"   {playlist_size / 1024:.1f} KiB")
        print(line("  floor: bare SQL for the hour's segments", floor_hour))
        for label, values in (("timeline", timeline_times), ("playlist", playlist_times)):
            p95 = common.percentile(values, 0.95) * 1000
            print(f"  goal p95 < {GOAL_MS:.0f} ms, {label}: {'met' if p95 < GOAL_MS else 'NOT met'} ({p95:.1f} ms)")
    finally:
        connections.close_all()
        if not args.keep:
            common.database_drop(args.database_url)


if __name__ == "__main__":
    main()
