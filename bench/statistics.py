"""Statistics on a year of 24 cameras: one day's roll-up, the statistics page and the publicity PDF,
each next to the bare tool's floor measured in the same run.

Usage: .venv/bin/python bench/statistics.py [--database-url postgres://postgres@127.0.0.1:5432/safecam_bench_statistics]
           [--days 3] [--year 2026] [--requests 15] [--pdfs 5] [--keep] [--explain]

A year of 24 cameras is some 75 million segment rows, far too many to scan per page view, so the
statistics read daily roll-ups (``reports.models.CameraDay``) that a beat job keeps. This bench
times the three things that design promises (issue: goals 10 s, 1 s and 5 s):

1. migrate; seed the Biržai registry with its demo users (``manage.py seed_birzai --demo-users``:
   7 elderships, 24 cameras, the coordinator), every camera installed on 1 January;
2. the roll-up: index ``--days`` local days of 10-s segments ending yesterday with PostgreSQL COPY
   (as bench/retention.py does; 3 days: what the default 72-h retention keeps, 30 the most it may
   keep), VACUUM ANALYZE; a year of gaps and viewing sessions, and on the rolled-up day holds,
   incidents and still frames made at the time they would have been (time_machine). The segments
   run on through the gaps: the roll-up's work is the same either way. Time
   ``reports.rollup.day_rollup`` of the day before yesterday (with 3 days, the middle one), first
   writing new rows, then recomputing them (what the beat job does every quarter of an hour for
   yesterday and today), with its SQL time by table. Floor: the one GROUP BY over the day's stored
   segments (clipped seconds, count, bytes) through psycopg: the scan the roll-up cannot avoid;
3. the year: the other 364 × 24 CameraDay rows with plausible figures (bulk_create), 48 requests
   registered through ``request_register``, six activities with two photos each. Time
   ``GET /statistics/?start=YYYY-01&end=YYYY-12`` as the coordinator (Django's test client: the
   whole request; the goal judged on p95), split inside the same requests into the selector
   (``reports.statistics.statistics``), the charts (``reports.charts.statistics_charts``), the
   template and the rest (form, session, middleware). Floors: the bare SELECT of the same rows
   with their camera and site names through psycopg; as many bare matplotlib bar charts saved as
   SVG; ``/healthz`` through the same client;
4. the publicity PDF for the year: ``reports.documents.report_pdf`` (split by its progress stages)
   and the whole job ``reports.jobs.report_render`` (claim, render, store). Floors: WeasyPrint
   alone on a one-line page with a Lithuanian letter (the fonts loaded), on the report's own HTML
   without the charts, and on the report's own HTML with them.

Needs PostgreSQL. The bench database (its name must contain "bench") is dropped and created afresh,
and dropped at the end unless --keep. Prints figures; asserts no times.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on the path, and its name would hide the standard
# library's ``statistics`` from every module that imports it: put the project root there instead.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common  # noqa: E402
from bench import retention as month  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/safecam_bench_statistics"
GOAL_ROLLUP_S = 10.0
GOAL_PAGE_S = 1.0
GOAL_PDF_S = 5.0
REQUESTS_IN_YEAR = 48
ACTIVITIES = 6
PHOTOS_PER_ACTIVITY = 2

FLOOR_ROLLUP_SQL = (
    'SELECT camera_id, sum(least("end", %(d1)s) - greatest(start, %(d0)s)), count(*), sum(size) '
    "FROM footage_segment WHERE start < %(d1)s AND start > %(d0)s - interval '1 hour' AND \"end\" > %(d0)s "
    "AND state = 'stored' GROUP BY camera_id")


def median(values: list[float]) -> float:
    return common.percentile(values, 0.5)


def p95(values: list[float]) -> float:
    return common.percentile(values, 0.95)


def repeat(fn: Callable[[], Any], runs: int, warmup: int = 1) -> list[float]:
    """Seconds of each of ``runs`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 1 else f"{value * 1000:.0f} ms" if value >= 0.01 else f"{value * 1000:.1f} ms"


# --- set-up ------------------------------------------------------------------------------------------


def registry_seed(year: int) -> tuple[list, dict[str, Any]]:
    """The Biržai registry and its demo users; every camera installed on 1 January of ``year``."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from cameras.models import Camera, CameraHealth

    call_command("seed_birzai", "--demo-users", verbosity=0, stdout=io.StringIO())
    Camera.objects.update(installed_on=date(year, 1, 1))
    cameras = list(Camera.objects.select_related("site").order_by("pk"))
    for camera in cameras:
        CameraHealth.objects.get_or_create(camera_id=camera.pk)
    users = {user.username: user for user in get_user_model().objects.filter(
        username__in=["coordinator", "dpo", "public-order"])}
    return cameras, users


def history_add(cameras: list, first: date, last: date, viewer: Any, dpo: Any, rng: random.Random) -> tuple[int, int]:
    """Per camera and local day ``first`` … ``last``: a 1 400-s 'camera lost' gap at 03:00, a recorded
    session at 10:00 and a near-live one at 14:00; every sixth camera a DPO's search for a request.
    Returns (gaps, sessions)."""
    from footage.models import EndReason, Gap, ViewingMode, ViewingSession
    from safecam.timeranges import local_day

    gaps, sessions = [], []

    def session(camera: Any, user: Any, opened: datetime, mode: str, watched: int, purpose: str = "") -> None:
        start = opened - timedelta(hours=2)
        iso = [[start.astimezone(UTC).isoformat(), (start + timedelta(seconds=watched)).astimezone(UTC).isoformat()]]
        sessions.append(ViewingSession(user=user, camera=camera, mode=mode, opened_at=opened, last_seen_at=opened,
                                       closed_at=opened + timedelta(minutes=10), chunk_started_at=opened,
                                       segments_served=watched // 10 + 1, bytes_served=(watched // 10 + 1) * 375_000,
                                       watched=iso, purpose=purpose))

    day = first
    while day <= last:
        midnight = local_day(day).start
        for index, camera in enumerate(cameras):
            lost = midnight + timedelta(hours=3, seconds=rng.randrange(0, 600))
            gaps.append(Gap(camera=camera, start=lost, end=lost + timedelta(seconds=1400), reason=EndReason.CAMERA_LOST))
            session(camera, viewer, midnight + timedelta(hours=10), ViewingMode.RECORDED, rng.randrange(60, 900))
            session(camera, viewer, midnight + timedelta(hours=14), ViewingMode.LIVE, rng.randrange(30, 300))
            if index % 6 == day.toordinal() % 6:
                session(camera, dpo, midnight + timedelta(hours=16), ViewingMode.RECORDED, rng.randrange(60, 600),
                        purpose="access_request:bench")
        day += timedelta(days=1)
    Gap.objects.bulk_create(gaps, batch_size=5000)
    ViewingSession.objects.bulk_create(sessions, batch_size=5000)
    return len(gaps), len(sessions)


def day_marks_add(cameras: list, day: date, officer: Any) -> int:
    """On ``day``: a 2-min 'camera unreachable' gap per camera at 15:00, and on every fourth camera a
    hold, an incident and a still frame, each made at the time it would have been (the roll-up
    counts them by when they were made)."""
    import time_machine

    from footage.models import EndReason, Gap
    from footage.services import hold_place, incident_mark
    from safecam.audit import AuditAction, audit_record
    from safecam.timeranges import local_day

    midnight = local_day(day).start
    Gap.objects.bulk_create([Gap(camera=camera, start=midnight + timedelta(hours=15),
                                 end=midnight + timedelta(hours=15, minutes=2), reason=EndReason.CAMERA_UNREACHABLE)
                             for camera in cameras])
    marked = 0
    for camera in cameras[::4]:
        seen = midnight + timedelta(hours=12)
        with time_machine.travel(seen + timedelta(minutes=30), tick=False):
            hold = hold_place(camera=camera, start=seen, end=seen + timedelta(minutes=20), reason="Bench: vandalism",
                              by=officer, review_on=day + timedelta(days=30))
            incident_mark(camera=camera, start=hold.start, end=hold.start + timedelta(minutes=2),
                          note="Bench: a broken bench", by=officer)
            audit_record(action=AuditAction.STILL_EXPORTED, actor=officer, target=camera,
                         details={"camera": str(camera.public_id)})
        marked += 1
    return marked


def camera_days_build(cameras: list, year: int, skip: set[date], rng: random.Random) -> int:
    """Plausible roll-ups for every camera and day of ``year`` not in ``skip`` (those the bench rolls up)."""
    from reports.models import CameraDay
    from safecam.timeranges import local_day

    rows = []
    day = date(year, 1, 1)
    while day.year == year:
        if day not in skip:
            window = local_day(day)
            expected = (window.end - window.start).total_seconds()
            for camera in cameras:
                segments = 8600 + rng.randrange(-20, 20)
                rows.append(CameraDay(
                    camera=camera, day=day, expected_seconds=expected,
                    recorded_seconds=expected - 1400 - rng.randrange(0, 300), gap_seconds={"camera_lost": 1400.0},
                    outages=1, segments=segments, bytes_recorded=segments * month.SEGMENT_SIZE,
                    bytes_stored=3 * 8640 * month.SEGMENT_SIZE, playback_sessions=rng.randrange(0, 4),
                    live_sessions=rng.randrange(0, 3), request_sessions=int(rng.random() < 0.1),
                    seconds_viewed=float(rng.randrange(0, 1800)), stills=int(rng.random() < 0.05),
                    exports=int(rng.random() < 0.01), holds=int(rng.random() < 0.03),
                    incidents=int(rng.random() < 0.03), final=True))
        day += timedelta(days=1)
    CameraDay.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def requests_register(cameras: list, year: int, until: datetime, dpo: Any, rng: random.Random) -> int:
    """Requests spread over the year, registered as the DPO would; most of them answered."""
    from access_requests.models import AccessRequest, Channel, RecipientKind, RequestKind, RequestState
    from access_requests.services import request_register

    start = datetime(year, 1, 2, 9, tzinfo=UTC)
    step = (until - timedelta(days=2) - start) / REQUESTS_IN_YEAR
    for n in range(REQUESTS_IN_YEAR):
        received = start + step * n
        camera = rng.choice(cameras)
        fields: dict[str, Any] = {"channel": Channel.EMAIL, "requester_name": "Jonas Jonaitis",
                                  "requester_email": "jonas@example.lt",
                                  "description": "Ėjau pro seniūniją raudona striuke."}
        kind = RequestKind.ACCESS
        if n % 4 == 0:
            kind = RequestKind.DISCLOSURE
            fields.update(requester_name="Tyrėjas Petraitis", recipient_kind=RecipientKind.POLICE,
                          recipient_organisation="Biržų r. policijos komisariatas", channel=Channel.OFFICIAL,
                          legal_basis="BPK 97 str.")
        request = request_register(kind=kind, by=dpo, camera=camera, received_at=received,
                                   window_start=received - timedelta(days=1),
                                   window_end=received - timedelta(days=1) + timedelta(minutes=30), **fields)
        if n < REQUESTS_IN_YEAR - 3:
            state = RequestState.DISCLOSED if kind == RequestKind.DISCLOSURE else RequestState.FOOTAGE_NOT_FOUND
            AccessRequest.objects.filter(pk=request.pk).update(
                state=state, closed_at=received + timedelta(days=rng.randrange(2, 40)))
    return REQUESTS_IN_YEAR


def photo_jpeg(seed: int) -> bytes:
    """A photo-like 2 000 × 1 500 JPEG (smooth colours and grain; photo_add re-encodes it at 1 600 px)."""
    from PIL import Image

    size = (2000, 1500)
    grain = Image.effect_noise(size, 24)
    bands = [Image.blend(Image.linear_gradient("L").rotate(seed * 37 + k * 90).resize(size), grain, 0.3)
             for k in range(3)]
    out = io.BytesIO()
    Image.merge("RGB", bands).save(out, format="JPEG", quality=90)
    return out.getvalue()


def activities_add(year: int, until: date, coordinator: Any) -> tuple[int, int]:
    """Community meetings and exchanges through the audited service, two photos each."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from reports import project as records
    from reports.models import Activity, ActivityKind

    photos = 0
    for n in range(ACTIVITIES):
        day = min(until, date(year, 1 + n * 2, 15))
        activity = records.record_save(obj=Activity(
            date=day, place="Vabalninko seniūnija", kind=ActivityKind.EXCHANGE if n % 3 == 2 else ActivityKind.MEETING,
            title_lt=f"Bendruomenės susitikimas nr. {n + 1}: saugi kaimynystė", title_en=f"Community meeting {n + 1}",
            participants=20 + 7 * n, description_lt="Aptarėme vaizdo stebėjimo kamerų naudą ir privatumą. " * 6,
            created_by=coordinator), by=coordinator)
        for k in range(PHOTOS_PER_ACTIVITY):
            upload = SimpleUploadedFile(f"photo-{n}-{k}.jpg", photo_jpeg(n * 10 + k), content_type="image/jpeg")
            records.photo_add(activity=activity, upload=upload, caption=f"Susitikimas, nuotrauka {k + 1}",
                              by=coordinator)
            photos += 1
    return ACTIVITIES, photos


# --- measuring ---------------------------------------------------------------------------------------


def sql_kind(sql: str) -> str:
    s = sql.lower()
    for table, label in (("footage_segment", "segments (GROUP BY)"), ("footage_gap", "gaps"),
                         ("footage_viewingsession", "viewing sessions"), ("footage_hold", "holds"),
                         ("footage_incident", "incidents"), ("safecam_auditevent", "still frames (audit)"),
                         ("access_requests_export", "exports"), ("reports_cameraday", "CameraDay read/write"),
                         ("cameras_", "cameras")):
        if f'"{table}' in s or f" {table}" in s:
            return label
    return "other"


class QueryTimer:
    """Time per kind of SQL statement (connection.execute_wrapper)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.count: dict[str, int] = defaultdict(int)

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = sql_kind(sql)
            self.seconds[kind] += time.perf_counter() - started
            self.count[kind] += 1


def matplotlib_floor(charts: int) -> None:
    """``charts`` bare bar charts of 12 bars, saved as SVG: what drawing costs with nothing of ours."""
    from matplotlib.figure import Figure

    for _ in range(charts):
        fig = Figure(figsize=(7.0, 2.6))
        ax = fig.add_subplot()
        ax.bar(range(12), [float(v) for v in range(12)])
        fig.savefig(io.StringIO(), format="svg")


def page_get(client: Any, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, (response.status_code, response.content[:300])


class Split:
    """Times, inside each request, the three things the statistics view calls: the selector, the
    charts and the template (so the split is of the same requests as the page's time)."""

    def __init__(self) -> None:
        self.times: dict[str, list[float]] = defaultdict(list)
        self.last_charts: dict[str, str] = {}

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                result = fn(*args, **kwargs)
            finally:
                self.times[name].append(time.perf_counter() - started)
            if name == "charts":
                self.last_charts = result
            return result
        return timed

    @contextmanager
    def patched(self) -> Iterator[None]:
        from unittest import mock

        from reports import charts, views

        with (mock.patch.object(views, "statistics", self._timed("selector", views.statistics)),
              mock.patch.object(charts, "statistics_charts", self._timed("charts", charts.statistics_charts)),
              mock.patch.object(views, "render", self._timed("template", views.render))):
            yield
        # the warm-up request is not one of the timed ones
        for values in self.times.values():
            del values[0]


class Stages:
    """report_pdf's progress callback: seconds per stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._stage: str | None = None
        self._at = time.perf_counter()

    def __call__(self, _value: float, stage: str) -> None:
        self.close()
        self._stage = stage

    def close(self) -> None:
        now = time.perf_counter()
        if self._stage is not None:
            self.seconds[self._stage] += now - self._at
        self._at = now


# --- main --------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("SAFECAM_BENCH_STATISTICS_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--days", type=int, default=3, help="local days of segments indexed, ending yesterday "
                                                            "(3: what a 72-h retention keeps; at most 30)")
    parser.add_argument("--year", type=int, default=None, help="the year of the page and the PDF (default: this one)")
    parser.add_argument("--requests", type=int, default=15, help="timed statistics page requests (after a warm-up)")
    parser.add_argument("--pdfs", type=int, default=5, help="timed renderings of each PDF step")
    parser.add_argument("--workdir", default=common.default_workdir())
    parser.add_argument("--keep", action="store_true", help="keep the database and the storage folder")
    parser.add_argument("--explain", action="store_true", help="print the plan of the roll-up's segment scan")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the statistics bench needs PostgreSQL")
    if not 1 <= args.days <= 30:
        parser.error("--days must be 1 … 30")
    common.check_bench_database(args.database_url)

    work = Path(tempfile.mkdtemp(prefix="safecam-bench-statistics-", dir=args.workdir))
    month.environment(work, args.database_url)
    os.environ["SAFECAM_ALLOWED_HOSTS"] = "testserver"
    (work / "data" / "static").mkdir(parents=True)  # WhiteNoise's STATIC_ROOT (nothing collected: not needed)
    common.database_recreate(args.database_url)
    bench_started = time.perf_counter()

    import django

    django.setup()
    import logging

    # report_request queues the render job on the embedded file broker, which nobody consumes here
    # (the bench calls report_render itself); kombu's complaint about its host name is noise.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    import matplotlib
    import psycopg
    import weasyprint
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections
    from django.template.loader import render_to_string
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings
    from django.utils import timezone, translation

    from reports import charts as charts_module
    from reports import documents, jobs
    from reports.models import CameraDay, Report
    from reports.rollup import day_rollup
    from safecam.timeranges import local_day, local_today, local_zone

    # The manifest storage needs `collectstatic`; the page only needs URLs (as tests/conftest.py does).
    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
    rng = random.Random(2026)
    try:
        call_command("migrate", verbosity=0)
        now = timezone.now()
        today = local_today(now)
        year = args.year or today.year
        if year > today.year:
            parser.error("--year must not be in the future")
        year_end = min(now, datetime(year + 1, 1, 1, tzinfo=local_zone()))
        cameras, users = registry_seed(year)
        coordinator, dpo, officer = users["coordinator"], users["dpo"], users["public-order"]
        first_day = today - timedelta(days=args.days)
        rolled = today - timedelta(days=2) if args.days >= 2 else today - timedelta(days=1)
        first_utc = local_day(first_day).start.astimezone(UTC)
        runs = month.runs_create(cameras, first_utc, args.days)
        connections.close_all()

        # --- 2. the roll-up's index
        total_rows = len(cameras) * args.days * month.per_day()
        print(f"indexing {args.days} days × {len(cameras)} cameras of {month.SEGMENT_SECONDS}-s segments "
              f"({total_rows:,} rows) with COPY …", flush=True)
        started = time.perf_counter()
        rows = month.segments_copy(args.database_url, cameras, runs, first_utc, list(range(args.days)))
        index_seconds = time.perf_counter() - started
        month.health_counters_set(cameras, args.days * month.per_day(), first_utc)
        month.vacuum_analyze(args.database_url)
        history_first = max(date(year, 1, 1), today - timedelta(days=365))
        gaps, sessions = history_add(cameras, history_first, today - timedelta(days=1), officer, dpo, rng)
        marked = day_marks_add(cameras, rolled, officer)
        print(f"indexed {rows:,} rows in {index_seconds:.1f} s; {gaps:,} gaps and {sessions:,} viewing sessions "
              f"since {history_first}; holds, incidents and still frames on {marked} cameras on {rolled}", flush=True)

        # --- 3. the year's roll-ups, requests, activities (the roll-up below meets a full table)
        print(f"building the year {year}: camera days, {REQUESTS_IN_YEAR} requests, {ACTIVITIES} activities …",
              flush=True)
        started = time.perf_counter()
        camera_days = camera_days_build(cameras, year, {rolled}, rng)
        requests_register(cameras, year, year_end, dpo, rng)
        activities, photos = activities_add(year, min(today - timedelta(days=1), date(year, 12, 31)), coordinator)
        with psycopg.connect(args.database_url, autocommit=True) as conn:
            for table in ("reports_cameraday", "footage_gap", "footage_viewingsession", "safecam_auditevent"):
                conn.execute(f"VACUUM (ANALYZE) {table}")
        print(f"built {camera_days:,} camera days, {photos} photos in {time.perf_counter() - started:.1f} s", flush=True)

        # --- the roll-up of one day
        print(f"timing day_rollup({rolled}) …", flush=True)
        day_rollup(rolled, now=now)  # warm-up (imports, plans), then measured from empty
        insert_times, update_times = [], []
        insert_timer, update_timer = QueryTimer(), QueryTimer()
        for _ in range(3):
            CameraDay.objects.filter(day=rolled).delete()
            with connection.execute_wrapper(insert_timer):
                started = time.perf_counter()
                written = day_rollup(rolled, now=now)
                insert_times.append(time.perf_counter() - started)
        for _ in range(5):
            with connection.execute_wrapper(update_timer):
                started = time.perf_counter()
                day_rollup(rolled, now=now, force=True)
                update_times.append(time.perf_counter() - started)
        check = CameraDay.objects.filter(day=rolled).order_by("camera_id").first()
        window = local_day(rolled)
        with psycopg.connect(args.database_url) as conn:
            def floor_scan() -> None:
                conn.execute(FLOOR_ROLLUP_SQL, {"d0": window.start, "d1": window.end}).fetchall()

            floor_rollup = repeat(floor_scan, 5)
            floor_result = conn.execute(FLOOR_ROLLUP_SQL, {"d0": window.start, "d1": window.end}).fetchall()
            plan = "\n".join(row[0] for row in conn.execute(
                "EXPLAIN (ANALYZE, BUFFERS) " + FLOOR_ROLLUP_SQL, {"d0": window.start, "d1": window.end}).fetchall())
            server_version = conn.execute("SHOW server_version").fetchone()[0]

        # --- the statistics page for the year
        first, last = date(year, 1, 1), date(year, 12, 31)
        url = f"/statistics/?start={year}-01&end={year}-12"
        print(f"timing GET {url} ({args.requests} requests after a warm-up) …", flush=True)
        client = Client()
        client.force_login(coordinator)
        response = client.get(url)
        assert response.status_code == 200, (response.status_code, response.content[:300])
        page_bytes = len(response.content)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        page_queries = len(captured)

        split = Split()
        with split.patched():
            page_times = repeat(lambda: page_get(client, url), args.requests)

        def first_view() -> Any:
            # The charts are drawn once per process for the same figures (reports.charts): time the page
            # as its first viewer after a roll-up sees it, with every chart drawn afresh.
            charts_module._drawn.clear()
            return page_get(client, url)

        first_view_times = repeat(first_view, args.requests)
        healthz_times = repeat(lambda: client.get("/healthz"), args.requests)
        drawn = split.last_charts
        floor_charts = repeat(lambda: matplotlib_floor(len(drawn)), args.requests)
        day_table, camera_table, site_table = (CameraDay._meta.db_table, cameras[0]._meta.db_table,
                                               cameras[0].site._meta.db_table)
        fields = ", ".join(f"d.{name}" for name in (
            "camera_id", "day", "expected_seconds", "recorded_seconds", "gap_seconds", "outages", "segments",
            "bytes_recorded", "bytes_stored", "playback_sessions", "live_sessions", "request_sessions",
            "seconds_viewed", "stills", "exports", "holds", "incidents", "computed_at"))
        floor_page_sql = (f"SELECT {fields}, c.name, c.public_id, s.name, s.slug FROM {day_table} d "
                          f"JOIN {camera_table} c ON c.id = d.camera_id JOIN {site_table} s ON s.id = c.site_id "
                          "WHERE d.day BETWEEN %s AND %s ORDER BY d.day")
        with psycopg.connect(args.database_url) as conn:
            fetched = len(conn.execute(floor_page_sql, (first, last)).fetchall())
            floor_page = repeat(lambda: conn.execute(floor_page_sql, (first, last)).fetchall(), args.requests)

        # --- the publicity PDF for the year
        print(f"timing the publicity PDF for {year} ({args.pdfs} renderings of each step) …", flush=True)
        reports = [jobs.report_request(kind="publicity", language="lt", period_start=first, period_end=last,
                                       by=coordinator) for _ in range(args.pdfs + 1)]
        report = reports[0]
        stage_runs: list[Stages] = []
        pdf_times: list[float] = []
        pdf, pages = documents.report_pdf(report)  # warm-up: fonts, templates
        for _ in range(args.pdfs):
            stages = Stages()
            charts_module._drawn.clear()  # a report draws its charts afresh (the page may not have been seen)
            started = time.perf_counter()
            pdf, pages = documents.report_pdf(report, progress=stages)
            pdf_times.append(time.perf_counter() - started)
            stages.close()
            stage_runs.append(stages)
        render_times = []
        for queued in reports[1:]:
            charts_module._drawn.clear()
            started = time.perf_counter()
            outcome = jobs.report_render(queued.pk)
            render_times.append(time.perf_counter() - started)
            assert outcome == "done", (outcome, Report.objects.get(pk=queued.pk).error)
        with translation.override(report.language), timezone.override(local_zone()):
            context = documents.report_context(report)
            html = render_to_string(documents.TEMPLATES[report.kind], context)
            html_bare = render_to_string(documents.TEMPLATES[report.kind], {**context, "charts": {}})

        def weasy(text: str, fetcher: Any = None) -> Callable[[], bytes]:
            return lambda: weasyprint.HTML(string=text, url_fetcher=fetcher).write_pdf()

        fetcher = documents._only_data_urls()  # the report's own: data URIs only
        floor_pdf_one = repeat(weasy("<p>ą</p>"), args.pdfs)
        floor_pdf_bare = repeat(weasy(html_bare, fetcher), args.pdfs)
        floor_pdf_full = repeat(weasy(html, fetcher), args.pdfs)
        bare_pages = len(weasyprint.HTML(string=html_bare, url_fetcher=fetcher).render().pages)
        connections.close_all()

        # --- report
        total_seconds = time.perf_counter() - bench_started
        print()
        print(f"SafeCam statistics bench: PostgreSQL {server_version}, {os.cpu_count()} cores, "
              f"WeasyPrint {weasyprint.__version__}, matplotlib {matplotlib.__version__}")
        print(f"index: {rows:,} segments ({args.days} days × {len(cameras)} cameras); roll-up of {rolled} "
              f"({written} rows; camera {check.camera_id}: {check.segments:,} segments, "
              f"{check.recorded_seconds:,.0f} of {check.expected_seconds:,.0f} s, gaps {check.gap_seconds}, "
              f"{check.playback_sessions + check.live_sessions + check.request_sessions} sessions); "
              f"floor scan returned {len(floor_result)} cameras")
        print(f"year {year}: {CameraDay.objects.count():,} camera days ({fetched:,} read by the page), "
              f"{REQUESTS_IN_YEAR} requests, {activities} activities with {photos} photos; page {page_bytes / 1024:.0f} KiB "
              f"in {page_queries} queries, {len(drawn)} charts; PDF {len(pdf) / 1024:.0f} KiB, {pages} pages "
              f"({bare_pages} without charts)")
        print()

        def met(value: float, goal: float) -> str:
            return "yes" if value < goal else "NO"

        stage_median = {name: median([run.seconds.get(name, 0.0) for run in stage_runs])
                        for name in stage_runs[0].seconds}
        selector_times, chart_times, template_times = (split.times["selector"], split.times["charts"],
                                                       split.times["template"])
        page_rest = [max(0.0, p - s - c - t) for p, s, c, t in zip(page_times, selector_times, chart_times,
                                                                   template_times)]
        out = [
            ["roll-up of one day, new rows", seconds(median(insert_times)), seconds(max(insert_times)),
             "bare GROUP BY of the day's segments", seconds(median(floor_rollup)),
             f"< {GOAL_ROLLUP_S:.0f} s", met(median(insert_times), GOAL_ROLLUP_S)],
            ["roll-up of one day, recomputed (beat job)", seconds(median(update_times)), seconds(max(update_times)),
             "", "", f"< {GOAL_ROLLUP_S:.0f} s", met(median(update_times), GOAL_ROLLUP_S)],
            [f"statistics page, {year} (whole request)", seconds(median(page_times)), seconds(p95(page_times)),
             "bare SELECT of the year's rows", seconds(median(floor_page)),
             f"< {GOAL_PAGE_S:.0f} s", met(p95(page_times), GOAL_PAGE_S)],
            [f"statistics page, {year}, charts drawn afresh", seconds(median(first_view_times)),
             seconds(p95(first_view_times)), "", "", f"< {GOAL_PAGE_S:.0f} s",
             met(p95(first_view_times), GOAL_PAGE_S)],
            ["  of which statistics() selector", seconds(median(selector_times)), seconds(p95(selector_times)),
             "", "", "", ""],
            [f"  of which charts ({len(drawn)})", seconds(median(chart_times)), seconds(p95(chart_times)),
             f"bare matplotlib, {len(drawn)} bar charts to SVG", seconds(median(floor_charts)), "", ""],
            ["  of which the template", seconds(median(template_times)), seconds(p95(template_times)), "", "", "",
             ""],
            ["  the rest: form, session, middleware", seconds(median(page_rest)), seconds(p95(page_rest)),
             "/healthz through the same client", seconds(median(healthz_times)), "", ""],
            [f"publicity PDF, {year} (report_pdf)", seconds(median(pdf_times)), seconds(max(pdf_times)),
             "WeasyPrint alone, the same HTML", seconds(median(floor_pdf_full)),
             f"< {GOAL_PDF_S:.0f} s", met(median(pdf_times), GOAL_PDF_S)],
        ]
        out += [[f"  stage '{name}'", seconds(value), "", "", "", "", ""] for name, value in stage_median.items()]
        out += [
            ["  floors", "", "", "WeasyPrint alone, the HTML without charts", seconds(median(floor_pdf_bare)), "", ""],
            ["", "", "", "WeasyPrint alone, one line '<p>ą</p>'", seconds(median(floor_pdf_one)), "", ""],
            ["publicity PDF, whole job (report_render)", seconds(median(render_times)), seconds(max(render_times)),
             "", "", f"< {GOAL_PDF_S:.0f} s", met(median(render_times), GOAL_PDF_S)],
        ]
        print(common.table(out, ["step", "median", "p95/max", "floor", "floor median", "goal", "met"]))
        print(f"(roll-up: median of 3 runs writing new rows and of 5 recomputing; page: {args.requests} requests, "
              f"the goal judged on p95; PDFs: median of {args.pdfs}, the goal judged on the median)")
        print()
        rows_out = []
        for label, timer, runs_count in (("new rows", insert_timer, len(insert_times)),
                                         ("recomputed", update_timer, len(update_times))):
            for kind in sorted(timer.seconds, key=timer.seconds.get, reverse=True):
                rows_out.append([f"{label}: {kind}", f"{timer.count[kind] / runs_count:.0f}",
                                 seconds(timer.seconds[kind] / runs_count)])
        print(common.table(rows_out, ["where day_rollup's time went (per run)", "queries", "time"]))
        if args.explain or median(insert_times) > 2 * median(floor_rollup) + 1.0:
            print()
            print("the floor's segment scan:")
            print(plan)
        print()
        print(f"bench took {total_seconds:.0f} s")
    finally:
        connections.close_all()
        common.cleanup(work, args.database_url, args.keep)


if __name__ == "__main__":
    main()
