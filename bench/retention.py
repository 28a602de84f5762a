"""One day's retention of 24 cameras on a 30-day index, next to a bare DELETE + unlink, in one run.

Usage: .venv/bin/python bench/retention.py [--database-url postgres://postgres@127.0.0.1:5432/safecam_bench_retention]
           [--cameras 24] [--days 30] [--keep] [--explain]

Needs PostgreSQL. The bench database (its name must contain "bench") is dropped and created afresh,
and dropped at the end unless --keep. Steps:

1. migrate; register the cameras with a retention of (days − 1) × 24 hours (justified, as > 72 h
   must be), so exactly the oldest day expires;
2. index days × cameras of 10-s segments (one run per camera and day) with PostgreSQL COPY, then
   VACUUM ANALYZE, as autovacuum would have done on a table that grew over a month;
3. create a small real file (one 188-byte TS packet) in a FileSystemStorage folder for each
   segment of the expiring day only;
4. time ``footage.retention.retention_apply(now=…)``, with the time its SQL took by kind;
5. verify: expired rows and files gone, the rest intact, one RetentionRecord per camera that
   says what was removed, counters recomputed, the pass audited;
6. floor: re-index and re-create an equivalent day, then time a bare ``DELETE … WHERE id = ANY(…)``
   of the same rows in batches of the same size (and in one statement) plus ``os.unlink`` of the
   same files.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/safecam_bench_retention"
SEGMENT_SECONDS = 10
SEGMENT_SIZE = 375_000  # what the index says: 10 s at 300 kbit/s
FILE_BYTES = b"\x47" + b"\xff" * 187  # the file on disk: one MPEG-TS packet
SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
GOAL_SECONDS = 60.0


def per_day() -> int:
    return 24 * 3600 // SEGMENT_SECONDS


# --- set-up ------------------------------------------------------------------------------------------


def environment(work: Path, database_url: str) -> Path:
    for name in ("SAFECAM_SPOOL_DIR", "CELERY_BROKER_URL", "SAFECAM_SECRET_KEY"):
        os.environ.pop(name, None)
    storage = work / "storage"
    storage.mkdir()
    os.environ.update({"SAFECAM_DATA_DIR": str(work / "data"), "DATABASE_URL": database_url,
                       "SAFECAM_STORAGE_URL": f"file://{storage}", "SAFECAM_LOG_LEVEL": "WARNING",
                       "DJANGO_SETTINGS_MODULE": "safecam.settings"})
    return storage


def cameras_register(count: int, retention_hours: int) -> list:
    from cameras.models import CameraHealth, Site
    from cameras.services import camera_create, site_save

    site = site_save(site=Site(name="Bench", slug="bench"), by=None)
    cameras = []
    for index in range(count):
        camera = camera_create(site=site, name=f"Bench camera {index:02d}", by=None,
                               stream_url=f"rtsp://127.0.0.1:8554/cam{index}", purpose="Benchmark",
                               legal_basis="Benchmark", retention_hours=retention_hours,
                               retention_justification="Benchmark: a month of footage, the oldest day expires.")
        CameraHealth.objects.get_or_create(camera_id=camera.pk)
        cameras.append(camera)
    return cameras


def runs_create(cameras: list, first_day: datetime, days: int) -> dict[tuple[int, int], object]:
    """One run per camera and day: {(camera pk, day index): Run}."""
    from footage.models import EndReason, Run

    runs = [Run(camera=camera, started_at=first_day + timedelta(days=day),
                ended_at=first_day + timedelta(days=day + 1), end_reason=EndReason.RECORDER_STOPPED,
                recorder="bench", video_codec="h264", width=320, height=180)
            for camera in cameras for day in range(days)]
    Run.objects.bulk_create(runs, batch_size=1000)
    return {(run.camera_id, (run.started_at - first_day).days): run for run in runs}


class DayText:
    """The timestamp strings of one day's segments, shared by every camera."""

    def __init__(self, day_start: datetime) -> None:
        n = per_day()
        times = [day_start + timedelta(seconds=SEGMENT_SECONDS * i) for i in range(n + 1)]
        self.ts = [t.strftime("%Y-%m-%d %H:%M:%S+00") for t in times]
        self.folder = [t.strftime("%Y/%m/%d/%H") for t in times[:n]]
        self.stamp = [t.strftime("%Y%m%dT%H%M%S") for t in times[:n]]

    def storage_name(self, camera, run, i: int) -> str:
        # footage.services.storage_name_for, without a datetime per row
        return f"{camera.public_id}/{self.folder[i]}/{self.stamp[i]}Z-{run.public_id.hex[:8]}-{i:06d}.ts"

    def copy_text(self, cameras: list, runs: list, first: int, last: int) -> str:
        """COPY lines for segments ``first``..``last - 1`` of the day, cameras interleaved as ingest
        writes them (every camera's segment i before any camera's segment i + 1)."""
        lines = []
        ts = self.ts
        for i in range(first, last):
            for camera, run in zip(cameras, runs):
                lines.append(f"{camera.pk}\t{run.pk}\t{i}\t{ts[i]}\t{ts[i + 1]}\t{SEGMENT_SECONDS}\t{SEGMENT_SIZE}\t"
                             f"{SHA256}\t{self.storage_name(camera, run, i)}\tstored\t\\N\t{ts[i + 1]}\n")
        return "".join(lines)


COPY_SQL = ('COPY footage_segment (camera_id, run_id, sequence, start, "end", duration, size, sha256, '
            "storage_name, state, retention_run_id, indexed_at) FROM STDIN")


def segments_copy(database_url: str, cameras: list, runs: dict, first_day: datetime, days: list[int]) -> int:
    """Index the given days of every camera with one COPY; returns the rows written."""
    import psycopg

    rows = 0
    with psycopg.connect(database_url) as conn, conn.cursor() as cursor:
        with cursor.copy(COPY_SQL) as copy:
            for day in days:
                text = DayText(first_day + timedelta(days=day))
                day_runs = [runs[(camera.pk, day)] for camera in cameras]
                for first in range(0, per_day(), 360):  # an hour at a time
                    last = min(first + 360, per_day())
                    copy.write(text.copy_text(cameras, day_runs, first, last))
                    rows += (last - first) * len(cameras)
        conn.commit()
    return rows


REDUNDANT_INDEXES = (
    # storage_name is only ever compared whole (its unique index enforces that): no LIKE queries
    "footage_segment_storage_name_%_like",
    # the foreign keys' own indexes, covered by (camera, start), (camera, end) and (run, sequence)
    "footage_segment_camera_id_%",
    "footage_segment_run_id_%",
)


def index_sizes(database_url: str) -> tuple[int, int]:
    """(table bytes, all its indexes' bytes) of footage_segment."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        return conn.execute("SELECT pg_relation_size('footage_segment'), pg_indexes_size('footage_segment')").fetchone()


def health_counters_set(cameras: list, segments: int, oldest: datetime) -> None:
    """The counters ingest would have kept (COPY bypasses it); retention subtracts from them."""
    from cameras.models import CameraHealth

    CameraHealth.objects.filter(camera__in=cameras).update(
        stored_segments=segments, stored_bytes=segments * SEGMENT_SIZE,
        stored_seconds=float(segments * SEGMENT_SECONDS), oldest_footage=oldest)


def vacuum_analyze(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) footage_segment")


def files_create(storage: Path, cameras: list, runs: dict, day_start: datetime, day: int) -> int:
    text = DayText(day_start)
    made = 0
    for camera in cameras:
        run = runs[(camera.pk, day)]
        folder_made = ""
        for i in range(per_day()):
            path = storage / text.storage_name(camera, run, i)
            if text.folder[i] != folder_made:
                path.parent.mkdir(parents=True, exist_ok=True)
                folder_made = text.folder[i]
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.write(fd, FILE_BYTES)
            os.close(fd)
            made += 1
    return made


def storage_count(storage: Path) -> tuple[int, int]:
    """(files, folders) under the storage root."""
    files = folders = 0
    for _dirpath, dirnames, filenames in os.walk(storage):
        files += len(filenames)
        folders += len(dirnames)
    return files, folders


# --- measuring retention -----------------------------------------------------------------------------


def sql_kind(sql: str) -> str:
    s = " ".join(sql.split())
    head = s[:60].upper()
    if "FOR UPDATE" in s.upper() and "footage_segment" in s and head.startswith("SELECT"):
        return "claim: SELECT … FOR UPDATE SKIP LOCKED"
    if head.startswith('UPDATE "FOOTAGE_SEGMENT" SET "STATE"'):
        return "claim: UPDATE state = deleting"
    if head.startswith('UPDATE "FOOTAGE_SEGMENT"'):
        return "take over abandoned claims: UPDATE"
    if head.startswith("SELECT") and '"footage_segment"."storage_name"' in s:
        return "claimed rows: SELECT"
    if head.startswith('DELETE FROM "FOOTAGE_SEGMENT"'):
        return "DELETE segments"
    if "SUM(" in s.upper() and "footage_segment" in s:
        return "recount: SUM/MIN over the camera"
    if head.startswith("SELECT COUNT(") and "footage_segment" in s and "EXISTS" in s.upper():
        return "held: COUNT with EXISTS(hold)"
    if head.startswith("SELECT COUNT(") and "footage_segment" in s:
        return "recount: COUNT over the camera"
    if "retentionrecord" in s.lower():
        return "RetentionRecord"
    if "cameras_camerahealth" in s.lower():
        return "CameraHealth"
    if "footage_retentionrun" in s.lower():
        return "RetentionRun"
    return "other"


class QueryTimer:
    """Time per kind of SQL statement (connection.execute_wrapper)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)
        self.slowest: dict[str, tuple[float, str, tuple]] = {}

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            took = time.perf_counter() - started
            kind = sql_kind(sql)
            self.seconds[kind] += took
            self.count[kind] += 1
            if took > self.slowest.get(kind, (0.0,))[0]:
                self.slowest[kind] = (took, sql, params)


def claim_explain(camera_id: int, cutoff: datetime, now: datetime) -> str:
    """EXPLAIN (ANALYZE, BUFFERS) of the claim query exactly as footage.retention._claim builds it."""
    from django.db import connection, transaction

    from footage import services
    from footage.models import Segment, SegmentState

    qs = (Segment.objects.filter(camera_id=camera_id, state=SegmentState.STORED, end__lte=cutoff)
          .exclude(services.segments_held(now)).order_by("start")
          .select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:1000])
    with transaction.atomic(), connection.cursor() as cursor:
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


# --- floor -------------------------------------------------------------------------------------------


def floor_run(database_url: str, storage: Path, cutoff: datetime, batch: int,
              one_statement: bool) -> tuple[float, int, float, float]:
    """Bare DELETE by id (in batches of ``batch``, each committed; or one statement) and os.unlink.

    Returns (seconds, rows, of which unlinking, of which deleting rows)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        rows = conn.execute('SELECT id, storage_name FROM footage_segment WHERE "end" <= %s ORDER BY camera_id, '
                            "start", (cutoff,)).fetchall()
        conn.commit()
        unlinking = deleting = 0.0
        chunks = [rows] if one_statement else [rows[i:i + batch] for i in range(0, len(rows), batch)]
        started = time.perf_counter()
        for chunk in chunks:
            t0 = time.perf_counter()
            for _pk, name in chunk:
                os.unlink(storage / name)
            t1 = time.perf_counter()
            conn.execute("DELETE FROM footage_segment WHERE id = ANY(%s)", ([pk for pk, _ in chunk],))
            conn.commit()
            unlinking += t1 - t0
            deleting += time.perf_counter() - t1
        return time.perf_counter() - started, len(rows), unlinking, deleting


# --- main --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("SAFECAM_BENCH_RETENTION_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--cameras", type=int, default=24)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--workdir", default=common.default_workdir(),
                        help="where the temporary folder goes (default: /var/tmp, disk-backed; /tmp can be slower)")
    parser.add_argument("--keep", action="store_true", help="keep the database and the storage folder")
    parser.add_argument("--explain", action="store_true", help="print the claim query's plan even when it is fast")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the retention bench needs PostgreSQL")
    common.check_bench_database(args.database_url)
    retention_hours = (args.days - 1) * 24

    work = Path(tempfile.mkdtemp(prefix="safecam-bench-retention-", dir=args.workdir))
    storage = environment(work, args.database_url)
    common.database_recreate(args.database_url)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    from cameras.models import CameraHealth
    from footage import retention
    from footage.models import JobStatus, RetentionRecord, Segment, SegmentState
    from django.db.models import Count, Min

    from safecam.audit import AuditAction
    from safecam.models import AuditEvent

    if retention_hours > settings.SAFECAM_RETENTION_MAX_HOURS:
        parser.error(f"--days {args.days} needs a retention above SAFECAM_RETENTION_MAX_HOURS")
    n = per_day()
    try:
        call_command("migrate", verbosity=0)
        now = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        first_day = now - timedelta(days=args.days)
        cutoff = now - timedelta(hours=retention_hours)
        cameras = cameras_register(args.cameras, retention_hours)
        runs = runs_create(cameras, first_day, args.days)
        connections.close_all()
        total_rows = args.cameras * args.days * n
        expiring = args.cameras * n
        print(f"indexing {args.days} days × {args.cameras} cameras of {SEGMENT_SECONDS}-s segments "
              f"({total_rows:,} rows) with COPY …", flush=True)
        started = time.perf_counter()
        rows = segments_copy(args.database_url, cameras, runs, first_day, list(range(args.days)))
        index_seconds = time.perf_counter() - started
        health_counters_set(cameras, args.days * n, first_day)
        started = time.perf_counter()
        vacuum_analyze(args.database_url)
        vacuum_seconds = time.perf_counter() - started
        started = time.perf_counter()
        made = files_create(storage, cameras, runs, first_day, 0)
        files_seconds = time.perf_counter() - started
        table_bytes, index_bytes = index_sizes(args.database_url)
        print(f"indexed {rows:,} rows in {index_seconds:.1f} s ({rows / index_seconds:,.0f} rows/s), VACUUM ANALYZE "
              f"{vacuum_seconds:.1f} s; {made:,} files of the expiring day created in {files_seconds:.1f} s",
              flush=True)

        plan_before = claim_explain(cameras[0].pk, cutoff, now)
        timer = QueryTimer()
        print(f"retention_apply: {expiring:,} segments expire (retention {retention_hours} h) …", flush=True)
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            run = retention.retention_apply(now=now)
            retention_seconds = time.perf_counter() - started
        plan_after = claim_explain(cameras[0].pk, cutoff, now)

        # --- verify
        checks: list[tuple[str, bool, str]] = []
        left = Segment.objects.count()
        checks.append(("rows left = all but the expired day", left == total_rows - expiring,
                       f"{left:,} of {total_rows - expiring:,}"))
        expired_left = Segment.objects.filter(end__lte=cutoff).count()
        checks.append(("no expired row left", expired_left == 0, f"{expired_left}"))
        deleting = Segment.objects.exclude(state=SegmentState.STORED).count()
        checks.append(("no row left in state 'deleting'", deleting == 0, f"{deleting}"))
        per_camera = dict(Segment.objects.values("camera").annotate(c=Count("pk"))
                          .values_list("camera", "c"))
        intact = all(per_camera.get(c.pk) == (args.days - 1) * n for c in cameras)
        checks.append(("each camera keeps (days − 1) × 8640 rows", intact, ""))
        oldest = Segment.objects.aggregate(m=Min("start"))["m"]
        checks.append(("oldest remaining segment starts at the cut-off", oldest == cutoff, f"{oldest:%Y-%m-%d %H:%M}"))
        files, folders = storage_count(storage)
        checks.append(("every expired file deleted", files == 0, f"{files} files left"))
        checks.append(("run done, counts right", run.status == JobStatus.DONE and run.segments_deleted == expiring
                       and run.bytes_deleted == expiring * SEGMENT_SIZE, f"{run.status}, {run.segments_deleted:,}"))
        records = list(RetentionRecord.objects.filter(run=run))
        good = [r for r in records if r.segments == n and r.bytes == n * SEGMENT_SIZE and r.removed_from == first_day
                and r.removed_until == cutoff and r.retention_hours == retention_hours]
        checks.append(("one right RetentionRecord per camera",
                       len(records) == args.cameras and len(good) == len(records),
                       f"{len(good)} of {len(records)} right"))
        health = CameraHealth.objects.filter(stored_segments=(args.days - 1) * n, oldest_footage=cutoff,
                                             stored_bytes=(args.days - 1) * n * SEGMENT_SIZE).count()
        checks.append(("camera counters recounted", health == args.cameras, f"{health} of {args.cameras}"))
        audited = AuditEvent.objects.filter(action=AuditAction.RETENTION_APPLIED, target_id=str(run.pk)).count()
        checks.append(("pass audited once", audited == 1, f"{audited}"))
        idle_timer = QueryTimer()
        with connection.execute_wrapper(idle_timer):
            started = time.perf_counter()
            retention.retention_apply(now=now + timedelta(minutes=settings.SAFECAM_RETENTION_EVERY_MINUTES))
            idle_seconds = time.perf_counter() - started
        connections.close_all()

        # --- floor: an equivalent day, re-indexed and re-created
        print("floor: re-indexing and re-creating an equivalent day …", flush=True)
        segments_copy(args.database_url, cameras, runs, first_day, [0])
        vacuum_analyze(args.database_url)
        files_create(storage, cameras, runs, first_day, 0)
        floor_seconds, floor_rows, floor_unlink, floor_delete = floor_run(
            args.database_url, storage, cutoff, retention.BATCH, one_statement=False)
        segments_copy(args.database_url, cameras, runs, first_day, [0])
        vacuum_analyze(args.database_url)
        files_create(storage, cameras, runs, first_day, 0)
        bulk_seconds, bulk_rows, bulk_unlink, bulk_delete = floor_run(
            args.database_url, storage, cutoff, retention.BATCH, one_statement=True)

        # --- report
        print()
        print(f"SafeCam retention bench: PostgreSQL {common.database_name(args.database_url)}, "
              f"{args.cameras} cameras × {args.days} days, {os.cpu_count()} cores")
        rate = expiring / retention_seconds
        rows_out = [
            ["rows indexed (COPY)", f"{rows:,}", f"{index_seconds:.1f}", f"{rows / index_seconds:,.0f}"],
            ["VACUUM ANALYZE after indexing", "", f"{vacuum_seconds:.1f}", ""],
            ["files created (expiring day)", f"{made:,}", f"{files_seconds:.1f}", f"{made / files_seconds:,.0f}"],
            ["retention_apply (one day expires)", f"{expiring:,}", f"{retention_seconds:.1f}", f"{rate:,.0f}"],
            [f"floor: DELETE by id in batches of {retention.BATCH} + unlink", f"{floor_rows:,}", f"{floor_seconds:.1f}",
             f"{floor_rows / floor_seconds:,.0f}"],
            ["  of which os.unlink / DELETE", "", f"{floor_unlink:.1f} / {floor_delete:.1f}", ""],
            ["floor: one DELETE by id + unlink", f"{bulk_rows:,}", f"{bulk_seconds:.1f}",
             f"{bulk_rows / bulk_seconds:,.0f}"],
            ["  of which os.unlink / DELETE", "", f"{bulk_unlink:.1f} / {bulk_delete:.1f}", ""],
            ["ratio retention / batched floor", "", f"{retention_seconds / floor_seconds:.2f}×", ""],
            [f"next pass, {settings.SAFECAM_RETENTION_EVERY_MINUTES} min later (nothing expires)", "0",
             f"{idle_seconds:.1f}", ""],
        ]
        print(common.table(rows_out, ["step", "segments", "seconds", "segments/s"]))
        print(f"footage_segment: table {table_bytes / 2**20:,.0f} MB, its indexes {index_bytes / 2**20:,.0f} MB"
              )
        print(f"goal: one day of {args.cameras} cameras expired in under {GOAL_SECONDS:.0f} s: "
              f"{'met' if retention_seconds < GOAL_SECONDS else 'NOT met'} ({retention_seconds:.1f} s)")
        print()
        sql_total = sum(timer.seconds.values())
        rows_out = [[kind, str(timer.count[kind]), f"{timer.seconds[kind]:.2f}",
                     f"{timer.seconds[kind] / retention_seconds * 100:.0f}%", f"{timer.slowest[kind][0] * 1000:.0f}"]
                    for kind in sorted(timer.seconds, key=timer.seconds.get, reverse=True)]
        rows_out.append(["all SQL", str(sum(timer.count.values())), f"{sql_total:.2f}",
                         f"{sql_total / retention_seconds * 100:.0f}%", ""])
        rows_out.append(["outside SQL (file deletes, Python)", "", f"{retention_seconds - sql_total:.2f}",
                         f"{(retention_seconds - sql_total) / retention_seconds * 100:.0f}%", ""])
        print(common.table(rows_out, ["where retention_apply's time went", "queries", "seconds", "share",
                                      "slowest ms"]))
        idle_top = sorted(idle_timer.seconds.items(), key=lambda item: -item[1])[:3]
        print("the pass with nothing to expire spent: " + ", ".join(
            f"{kind} {seconds:.1f} s ({idle_timer.count[kind]} queries)" for kind, seconds in idle_top))
        if args.explain:
            for kind, (took, sql, _params) in sorted(timer.slowest.items()):
                print(f"  slowest {kind}: {took * 1000:.0f} ms: {' '.join(sql.split())[:200]}")
        print()
        print(common.table([[name, "ok" if ok else "FAILED", detail] for name, ok, detail in checks],
                           ["verification", "result", "detail"]))
        print(f"storage folders left after the pass (empty hour folders are not removed): {folders}")
        claim_share = sum(timer.seconds[k] for k in timer.seconds if k.startswith("claim"))
        if args.explain or claim_share > 0.2 * retention_seconds:
            print()
            print("claim query, first batch of camera 1 (before the pass):")
            print(plan_before)
            print()
            print("claim query, camera 1 once its expired day is gone (the last, empty claim):")
            print(plan_after)
        failed = [name for name, ok, _ in checks if not ok]
        if failed:
            print(f"\nVERIFICATION FAILED: {', '.join(failed)}")
            sys.exit(1)
    finally:
        connections.close_all()
        if args.keep:
            print(f"kept: database {common.database_name(args.database_url)}, storage in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
            common.database_drop(args.database_url)


if __name__ == "__main__":
    main()
