"""Load: 50 people browsing and watching footage while 24 cameras record, on loopback, in one run.

Usage: .venv/bin/python bench/load.py [--users 50] [--spawn-rate 10] [--seconds 60] [--cameras 24]
           [--database-url postgres://postgres@127.0.0.1:5432/safecam_bench_load] [--broker-url redis://…]
           [--web-workers 2] [--web-threads 4] [--settle 30] [--keep]

Needs PostgreSQL (the bench database, whose name must contain "bench", is dropped and created afresh
and dropped at the end unless --keep). What runs, each in a process of its own, as in production:

* the GStreamer camera simulator (``manage.py simulate_cameras``, 320x180, 5 fps, as Procfile.dev);
* a recording worker (``-Q recording -P threads -c 40 -n recorder@…``), a default worker
  (supervisor, thumbnails, statistics) and beat, at the production cadence (10-s segments);
* the portal under gunicorn, ``--workers 2 --threads 4`` by default: on 2 cores two processes keep
  both busy while each thread mostly waits on PostgreSQL or the storage (files here); keep-alive
  75 s as nginx gives browsers (the load talks to gunicorn directly);
* the Biržai registry (``seed_birzai --demo-users``), its 24 cameras pointed at the simulator.

Sessions are built server-side (a confirmed TOTP device when django-otp is installed, and a session
with ``otp_device_id``), so the load needs no login form. Then, after recording settled:

1. floor, recording: an idle window of ``--seconds``: recorder seconds lost with nobody browsing;
2. floor, latency: each endpoint requested 20 times by one client, one request at a time;
3. load: ``locust -f bench/locustfile.py --headless -u 50 -r 10 -t <seconds>`` (specialists of
   several elderships, public order, DPO, coordinator; viewers play segments at playback rate);
   recorder seconds lost during that window.

Seconds lost in a window = cameras × window − the seconds of indexed segments inside it (waited for
until ingest caught up), with the gaps that opened in it. Goals (issue 7): p95 under 150 ms for pages
and API, zero errors, zero seconds lost.
"""

from __future__ import annotations

import argparse
import io
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from bench import _common as common  # noqa: E402

VENV_BIN = Path(sys.executable).parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/safecam_bench_load"
GOAL_MS = 150.0
PERSONAS = {"specialist": 30, "public_order": 10, "dpo": 5, "coordinator": 5}  # as the locustfile's weights


# --- set-up ---------------------------------------------------------------------------------------------


def environment(work: Path, database_url: str, broker_url: str | None) -> dict[str, str]:
    for name in ("SAFECAM_STORAGE_URL", "SAFECAM_SPOOL_DIR", "CELERY_BROKER_URL", "SAFECAM_SECRET_KEY",
                 "SAFECAM_SEGMENT_SECONDS", "SAFECAM_RECORDER_LEASE_SECONDS", "SAFECAM_SUPERVISE_SECONDS"):
        os.environ.pop(name, None)
    env = {"SAFECAM_DATA_DIR": str(work / "data"), "DATABASE_URL": database_url, "SAFECAM_LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "safecam.settings", "PYTHONUNBUFFERED": "1", "SAFECAM_DEBUG": "false"}
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    os.environ.update(env)
    return dict(os.environ)


def static_files(data_dir: Path) -> None:
    """collectstatic once into the data dir (~25 s), or reuse the checkout's collected copy."""
    from django.core.management import call_command

    collected = common.ROOT / "var" / "static"
    if (collected / "staticfiles.json").exists():
        (data_dir / "static").symlink_to(collected, target_is_directory=True)
    else:
        call_command("collectstatic", interactive=False, verbosity=0)


def registry(cameras: int, rtsp_port: int) -> list[int]:
    """The Biržai registry and its people; the first ``cameras`` cameras point at the simulator."""
    from django.core.management import call_command

    from cameras.models import Camera

    call_command("seed_birzai", "--demo-users", verbosity=0, stdout=io.StringIO())
    ids = list(Camera.objects.order_by("pk").values_list("pk", flat=True))
    recording = ids[:cameras]
    for index, pk in enumerate(recording):
        Camera.objects.filter(pk=pk).update(stream_url=f"rtsp://127.0.0.1:{rtsp_port}/cam{index}", enabled=True)
    Camera.objects.exclude(pk__in=recording).update(enabled=False)
    return recording


def sessions_build(users: int, path: Path) -> dict[str, list[dict]]:
    """Signed-in sessions per persona, built server-side (second factor verified), written to ``path``."""
    from django.apps import apps
    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from django.middleware.csrf import _get_new_csrf_string

    from cameras.models import Camera, Site

    people: dict[str, list[dict]] = {}
    User = get_user_model()
    sites = list(Site.objects.order_by("slug"))
    enabled = Camera.objects.filter(enabled=True)
    by_persona = {
        "specialist": [(User.objects.get(username=f"spec-{site.slug}"), [site]) for site in sites
                       if enabled.filter(site=site).exists()],
        "public_order": [(User.objects.get(username="public-order"), sites)],
        "dpo": [(User.objects.get(username="dpo"), [])],
        "coordinator": [(User.objects.get(username="coordinator"), [])],
    }
    for persona, weight in PERSONAS.items():
        count = max(1, -(-users * weight // sum(PERSONAS.values())))
        people[persona] = []
        for index in range(count):
            user, user_sites = by_persona[persona][index % len(by_persona[persona])]
            session = SessionStore()
            session["_auth_user_id"] = str(user.pk)
            session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
            session["_auth_user_hash"] = user.get_session_auth_hash()
            if apps.is_installed("django_otp.plugins.otp_totp"):
                from django_otp.plugins.otp_totp.models import TOTPDevice

                device, _ = TOTPDevice.objects.get_or_create(user=user, name="bench", defaults={"confirmed": True})
                session["otp_device_id"] = device.persistent_id
            session.create()
            cameras = [str(u) for u in enabled.filter(site__in=user_sites).values_list("public_id", flat=True)]
            people[persona].append({"username": user.username, "sessionid": session.session_key,
                                    "csrftoken": _get_new_csrf_string(), "sites": [s.slug for s in user_sites],
                                    "cameras": cameras})
    path.write_text(json.dumps(people))
    return people


class Processes:
    """The SafeCam processes of the run, each logging to a file, stopped in order at the end."""

    def __init__(self, work: Path, env: dict[str, str]) -> None:
        self.work, self.env, self.started = work, env, []

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = (self.work / f"{name}.log").open("w")
        process = subprocess.Popen(command, cwd=common.ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        self.started.append((name, process))
        return process

    def stop_all(self) -> None:
        for name in ("beat", "web", "worker", "recorder", "cameras"):
            for started, process in self.started:
                if started == name and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        os.killpg(process.pid, signal.SIGKILL)
                        process.wait()


def wait_recording(camera_ids: list[int], segments: int, timeout: float) -> None:
    from django.db.models import Count

    from footage.models import Segment

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = dict(Segment.objects.filter(camera_id__in=camera_ids).values_list("camera").annotate(n=Count("id")))
        if all(counts.get(pk, 0) >= segments for pk in camera_ids):
            return
        time.sleep(1)
    raise SystemExit(f"recording did not start on every camera within {timeout:.0f} s: {counts}")


# --- recorder seconds lost ----------------------------------------------------------------------------------


def seconds_lost(camera_ids: list[int], start: datetime, end: datetime) -> dict[str, object]:
    """Expected minus indexed seconds in [start, end), once ingest has caught up past ``end``."""
    from django.db.models import Max, Q

    from footage.models import Gap, Segment

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # the segment open at ``end`` closes ≤ 10 s later, then is stored
        newest = dict(Segment.objects.filter(camera_id__in=camera_ids).values_list("camera").annotate(e=Max("end")))
        if all(newest.get(pk) and newest[pk] >= end for pk in camera_ids):
            break
        time.sleep(1)
    recorded = 0.0
    per_camera: dict[int, float] = {pk: 0.0 for pk in camera_ids}
    for camera_id, seg_start, seg_end in Segment.objects.filter(
            camera_id__in=camera_ids, start__lt=end, end__gt=start).values_list("camera_id", "start", "end"):
        overlap = (min(seg_end, end) - max(seg_start, start)).total_seconds()
        per_camera[camera_id] += overlap
        recorded += overlap
    window = (end - start).total_seconds()
    expected = window * len(camera_ids)
    gaps = list(Gap.objects.filter(camera_id__in=camera_ids, start__lt=end).filter(
        Q(end__isnull=True) | Q(end__gt=start)).values_list("camera_id", "reason", "start", "end"))
    worst = max(window - seconds for seconds in per_camera.values())
    return {"expected": expected, "recorded": recorded, "lost": max(0.0, expected - recorded), "worst": worst,
            "gaps": gaps, "window": window}


# --- latency -------------------------------------------------------------------------------------------------


def floor_latency(base: str, people: dict[str, list[dict]], repeat: int,
                  web: list | None = None) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Each endpoint of the locustfile, one client, one request at a time: the unloaded latency, and
    the CPU the portal's processes (``web``: psutil processes) spent per request of it."""
    import requests

    cpu: dict[str, float] = {}

    def cpu_now() -> float:
        return common.tree_cpu(web) if web else 0.0

    def client(persona: str) -> tuple[requests.Session, dict]:
        me = people[persona][0]
        session = requests.Session()
        session.cookies.set("sessionid", me["sessionid"])
        session.cookies.set("csrftoken", me["csrftoken"])
        return session, me

    now = datetime.now(UTC)
    stamp = "%Y-%m-%dT%H:%M:%SZ"
    spec, me = client("specialist")
    camera = me["cameras"][0]
    urls = {
        "dashboard": (spec, "/"), "site page": (spec, f"/sites/{me['sites'][0]}/"),
        "camera page": (spec, f"/cameras/{camera}/"), "API cameras": (spec, "/api/v1/cameras/"),
        "API timeline (24 h)": (spec, f"/api/v1/cameras/{camera}/timeline/?start="
                                      f"{(now - timedelta(hours=24)).strftime(stamp)}&end={now.strftime(stamp)}"),
    }
    po, _me = client("public_order")
    urls["holds page"] = (po, "/holds/")
    dpo, _me = client("dpo")
    for name, url in (("requests dashboard", "/requests/"), ("requests register", "/requests/register/"),
                      ("disclosure log", "/requests/disclosures/"), ("processing record", "/records/processing/"),
                      ("viewing log", "/viewing/")):
        urls[name] = (dpo, url)
    coordinator, _me = client("coordinator")
    for name, url in (("statistics page", "/statistics/"), ("project page", "/project/"), ("reports page", "/reports/")):
        urls[name] = (coordinator, url)
    times: dict[str, list[float]] = {}
    for name, (session, url) in urls.items():
        session.get(base + url)  # warm
        before = cpu_now()
        for _ in range(repeat):
            began = time.perf_counter()
            response = session.get(base + url, allow_redirects=False)
            times.setdefault(name, []).append((time.perf_counter() - began) * 1000)
            if response.status_code != 200:
                raise SystemExit(f"floor: {url} answered {response.status_code}")
        cpu[name] = (cpu_now() - before) * 1000 / repeat
    # The player's requests: a session, its playlist, a segment.
    headers = {"X-CSRFToken": me["csrftoken"], "Referer": base + "/"}
    before = cpu_now()
    for _ in range(repeat):
        began = time.perf_counter()
        links = spec.post(f"{base}/api/v1/cameras/{camera}/playback/", json={"mode": "recorded"}, headers=headers)
        times.setdefault("API playback session", []).append((time.perf_counter() - began) * 1000)
        assert links.status_code == 201, links.text
        links = links.json()
        began = time.perf_counter()
        playlist = spec.get(f"{base}{links['playlist']}?start={(now - timedelta(minutes=2)).strftime(stamp)}"
                            f"&end={datetime.now(UTC).strftime(stamp)}")
        times.setdefault("playlist (m3u8)", []).append((time.perf_counter() - began) * 1000)
        segment = [line for line in playlist.text.splitlines() if line and not line.startswith("#")][-1]
        began = time.perf_counter()
        body = spec.get(urljoin(playlist.url, segment))
        times.setdefault("segment (.ts)", []).append((time.perf_counter() - began) * 1000)
        assert body.status_code == 200 and body.content
        spec.post(base + links["beat"], json={"watched": [], "closing": True}, headers=headers)
    cpu["player (session + playlist + segment + beat)"] = (cpu_now() - before) * 1000 / repeat
    return times, cpu


def locust_run(args: argparse.Namespace, base: str, sessions: Path, work: Path) -> tuple[list[dict], list[dict]]:
    prefix = work / "locust"
    env = {**os.environ, "SAFECAM_LOAD_SESSIONS": str(sessions)}
    command = [str(VENV_BIN / "locust"), "-f", str(common.ROOT / "bench" / "locustfile.py"), "--headless",
               "-u", str(args.users), "-r", str(args.spawn_rate), "-t", f"{int(args.seconds)}s", "--host", base,
               "--csv", str(prefix), "--only-summary", "--stop-timeout", "15", "--loglevel", "WARNING"]
    with (work / "locust.log").open("w") as log:
        subprocess.run(command, cwd=common.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, check=False)
    with open(f"{prefix}_stats.csv") as handle:
        stats = list(csv.DictReader(handle))
    with open(f"{prefix}_failures.csv") as handle:
        failures = list(csv.DictReader(handle))
    return stats, failures


# --- report ---------------------------------------------------------------------------------------------------


def report(args: argparse.Namespace, floor: dict[str, list[float]], stats: list[dict], failures: list[dict],
           idle: dict[str, object], loaded: dict[str, object], load_seconds: float) -> None:
    print(f"\n{args.users} users (spawn {args.spawn_rate}/s) for {args.seconds:.0f} s; {args.cameras} cameras "
          f"recording; gunicorn --workers {args.web_workers} --threads {args.web_threads}; times in ms")
    rows = []
    total = None
    for row in stats:
        if row["Name"] == "Aggregated":
            total = row
            continue
        alone = floor.get(row["Name"], [])
        rows.append([row["Name"], row["Request Count"], row["Failure Count"], row["50%"], row["95%"], row["99%"],
                     f"{float(row['Max Response Time']):.0f}",
                     f"{common.percentile(alone, 0.5):.1f}" if alone else "-",
                     f"{common.percentile(alone, 0.95):.1f}" if alone else "-"])
    print(common.table(rows, ["endpoint", "count", "errors", "p50", "p95", "p99", "max", "alone p50", "alone p95"]))
    if total:
        print(f"total: {total['Request Count']} requests, {total['Failure Count']} errors, "
              f"{float(total['Requests/s']):.1f} requests/s, p50 {total['50%']} ms, p95 {total['95%']} ms")
    slow = [r[0] for r in rows if r[0] not in ("segment (.ts)",) and float(r[4]) >= GOAL_MS]
    print(f"goal p95 < {GOAL_MS:.0f} ms (pages and API): " + ("met" if not slow else f"NOT met by {', '.join(slow)}"))
    for failure in failures:
        print(f"  error: {failure['Method']} {failure['Name']}: {failure['Error']} ×{failure['Occurrences']}")
    for label, lost in (("without load (floor)", idle), ("during the load", loaded)):
        gaps = lost["gaps"]
        print(f"recorder seconds lost {label}: {lost['lost']:.1f} of {lost['expected']:.0f} expected "
              f"({args.cameras} cameras × {lost['window']:.0f} s; worst camera {lost['worst']:.1f} s); "
              f"gaps in the window: {len(gaps)}")
        for camera_id, reason, start, end in gaps[:10]:
            print(f"    camera {camera_id}: {reason} {start:%H:%M:%S}–{end:%H:%M:%S}" if end else
                  f"    camera {camera_id}: {reason} from {start:%H:%M:%S}, still open")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--spawn-rate", type=float, default=10)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--cameras", type=int, default=24)
    parser.add_argument("--settle", type=float, default=30, help="seconds of recording before measuring")
    parser.add_argument("--database-url", default=os.environ.get("SAFECAM_BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--broker-url", default=None, help="default: the embedded filesystem broker")
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=4)
    parser.add_argument("--floor-requests", type=int, default=20)
    parser.add_argument("--workdir", default=common.default_workdir())
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    common.check_bench_database(args.database_url)
    os.environ.pop("DATABASE_URL", None)
    work = Path(tempfile.mkdtemp(prefix="safecam-bench-load-", dir=args.workdir))
    (work / "data").mkdir()
    env = environment(work, args.database_url, args.broker_url)
    common.database_recreate(args.database_url)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    processes = Processes(work, env)
    try:
        print(f"set-up: {work}; migrating, seeding the Biržai registry …", flush=True)
        call_command("migrate", verbosity=0)
        call_command("createcachetable", verbosity=0)
        static_files(work / "data")
        rtsp = common.free_port_pair()
        camera_ids = registry(args.cameras, rtsp)
        people = sessions_build(args.users, work / "sessions.json")
        connections.close_all()
        python, celery = str(VENV_BIN / "python"), str(VENV_BIN / "celery")
        processes.start("cameras", [python, "manage.py", "simulate_cameras", "--count", str(args.cameras),
                                    "--port", str(rtsp), "--control-port", str(rtsp + 1), "--width", "320",
                                    "--height", "180", "--fps", "5"])
        common.wait_for_port(rtsp)
        processes.start("recorder", [celery, "-A", "safecam", "worker", "-Q", "recording", "-P", "threads",
                                     "-c", str(args.cameras + 16), "-n", "recorder@bench", "--loglevel", "WARNING"])
        processes.start("worker", [celery, "-A", "safecam", "worker", "-c", "2", "-n", "worker@bench",
                                   "--loglevel", "WARNING"])
        processes.start("beat", [celery, "-A", "safecam", "beat", "-s", str(work / "beat-schedule"),
                                 "--loglevel", "WARNING"])
        web_port = common.free_port()
        processes.start("web", [str(VENV_BIN / "gunicorn"), "safecam.wsgi", "--bind", f"127.0.0.1:{web_port}",
                                "--workers", str(args.web_workers), "--threads", str(args.web_threads),
                                # Clients talk to gunicorn directly here, not through nginx: keep their
                                # connections open as nginx would (gunicorn's 2 s default closes one as
                                # a client that thought for 3 s reuses it: "connection reset by peer").
                                "--keep-alive", "75", "--error-logfile", "-"])
        common.wait_for_port(web_port, timeout=60)
        base = f"http://127.0.0.1:{web_port}"
        print(f"recording {args.cameras} cameras; waiting for 2 segments each, then {args.settle:.0f} s …", flush=True)
        wait_recording(camera_ids, 2, timeout=180)
        time.sleep(args.settle)

        print(f"floor: {args.seconds:.0f} s of recording with nobody browsing …", flush=True)
        from django.utils import timezone

        idle_start = timezone.now()
        time.sleep(args.seconds)
        idle_end = timezone.now()
        print(f"floor: each endpoint {args.floor_requests} times, one request at a time …", flush=True)
        web = [psutil.Process(p.pid) for name, p in processes.started if name == "web"]
        floor, cpu = floor_latency(base, people, args.floor_requests, web)

        print(f"load: {args.users} users for {args.seconds:.0f} s …", flush=True)
        load_start = timezone.now()
        began = time.monotonic()
        parts = {name: [psutil.Process(p.pid)] for name, p in processes.started}
        postgres = common.postmaster()
        if postgres is not None:
            parts["PostgreSQL (whole server)"] = [postgres]
        cpu_before = {name: common.tree_cpu(roots) for name, roots in parts.items()}
        stats, failures = locust_run(args, base, work / "sessions.json", work)
        load_seconds = time.monotonic() - began
        load_cpu = {name: (common.tree_cpu(roots) - cpu_before[name]) / load_seconds for name, roots in parts.items()}
        load_end = timezone.now()
        idle = seconds_lost(camera_ids, idle_start, idle_end)
        loaded = seconds_lost(camera_ids, load_start, load_end)
        connections.close_all()
        report(args, floor, stats, failures, idle, loaded, load_seconds)
        print("portal CPU per request, one client (ms; gunicorn processes only, PostgreSQL not counted):")
        for name, value in cpu.items():
            print(f"  {name:<46} {value:8.1f}")
        print("CPU-seconds per second during the load (2 = both cores; 'cameras' is the simulator, which real "
              "cameras do not cost the server):")
        for name, value in load_cpu.items():
            print(f"  {name:<46} {value:8.2f}")
        print(f"machine load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        processes.stop_all()
        connections.close_all()
        common.cleanup(work, args.database_url, args.keep)


if __name__ == "__main__":
    main()
