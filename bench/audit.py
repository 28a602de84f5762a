"""The DPO's audit trail on a large trail: the chain check ("Verify now"), the page with its filters,
and the streamed download, each next to the bare tool's floor measured in the same run.

Usage: .venv/bin/python bench/audit.py [--database-url postgres://postgres@127.0.0.1:5432/safecam_bench_audit]
           [--events 100000] [--requests 9] [--keep]

1. migrate; seed the Biržai registry with its demo users (``seed_birzai --demo-users``: 24 cameras);
   append ``--events`` events to the real chain (hashes computed with ``safecam.audit.event_hash``,
   written with bulk_create; a year of a plausible mix: footage viewed 60 %, logins 15 %, holds with
   the camera in their details 10 %, still frames 5 %, the rest other actions; one camera rare);
   VACUUM ANALYZE;
2. the chain check: ``audit_chain_verify`` (what ``manage.py verify_audit``, the beat job and
   "Verify now" run), three times, and the "Verify now" job end to end (queue, claim, check, the
   verdict event). Floors: reading the same rows through psycopg alone (a server-side cursor), and
   SHA-256 over their canonical JSON alone;
3. the page ``GET /audit/`` as the DPO (Django's test client, a server-side session as django-otp
   will need): newest, a page deep in the trail, each filter (a busy camera, a rare camera, a rare
   actor, a rare action, one local day, target text); the median and the slowest of ``--requests``.
   The plans of the rare camera's and the rare action's queries are printed (which index). Floor:
   ``/healthz`` through the same client;
4. the download: ``GET /audit/export.csv`` of every event, streamed, its time and the growth of the
   process's peak RSS. Floor: PostgreSQL's ``COPY (SELECT … ORDER BY seq) TO STDOUT CSV``.

Needs PostgreSQL. The bench database (its name must contain "bench") is dropped and created afresh,
and dropped at the end unless --keep. Prints figures; asserts no times.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/statistics.py would shadow the standard library's statistics for a script run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse  # noqa: E402
import hashlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import timedelta  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/safecam_bench_audit"


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _trail_append(count: int, rng: random.Random) -> dict[str, Any]:
    """``count`` events on the real chain, a year's worth ending now, oldest first."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from cameras.models import Camera
    from safecam.audit import AuditAction, _normalise, event_hash
    from safecam.models import AuditChainHead, AuditEvent

    users = list(get_user_model().objects.exclude(username="admin"))
    cameras = list(Camera.objects.select_related("site").order_by("pk"))
    rare, busy = cameras[-1], cameras[:-1]
    head = AuditChainHead.objects.get(pk=1)
    seq, prev = head.seq, head.hash
    now = timezone.now()
    step = timedelta(days=365) / count
    at = now - timedelta(days=365)
    rows: list[AuditEvent] = []
    for n in range(count):
        seq, at = seq + 1, at + step
        roll = rng.random()
        camera = rare if n % 5000 == 17 else rng.choice(busy)
        user = rng.choice(users)
        target = ("cameras.camera", str(camera.public_id), camera.name)
        if roll < 0.60:
            action, details = AuditAction.FOOTAGE_VIEWED, {
                "camera": str(camera.public_id), "camera_name": camera.name, "site": camera.site.slug,
                "mode": "playback", "watched_seconds": round(rng.uniform(5, 600), 1), "segments": rng.randint(1, 60)}
        elif roll < 0.75:
            action, details, target = AuditAction.LOGIN, {}, ("auth.user", str(user.pk), user.username)
        elif roll < 0.85:
            action, details = AuditAction.HOLD_PLACED, {"camera": str(camera.public_id), "reason": "Eismo įvykis"}
            target = ("footage.hold", f"{rng.getrandbits(64):016x}", f"Hold on {camera.name}")
        elif roll < 0.90:
            action, details = AuditAction.STILL_EXPORTED, {"camera": str(camera.public_id), "camera_name": camera.name}
        else:
            action, details = rng.choice([AuditAction.REQUEST_MOVED, AuditAction.CAMERA_CHANGED,
                                          AuditAction.EXPORT_REQUESTED]), {"n": n}
        details = _normalise(details)
        ip = f"10.0.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        digest = event_hash(seq=seq, at=at, actor_id=user.pk, actor_username=user.username, action=str(action),
                            target_type=target[0], target_id=target[1], target_repr=target[2], ip=ip,
                            details=details, prev_hash=prev)
        rows.append(AuditEvent(seq=seq, at=at, actor=user, actor_username=user.username, action=str(action),
                               target_type=target[0], target_id=target[1], target_repr=target[2], ip=ip,
                               details=details, prev_hash=prev, hash=digest))
        prev = digest
    with transaction.atomic():
        AuditEvent.objects.bulk_create(rows, batch_size=5000)
        AuditChainHead.objects.filter(pk=1).update(seq=seq, hash=prev)
    return {"rare": rare, "busy": busy[0], "users": users}


def _session_client(user: Any) -> Any:
    """A client with a session built server-side, OTP-verified when django-otp is installed."""
    from django.conf import settings
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import Client

    session = SessionStore()
    session["_auth_user_id"] = str(user.pk)
    session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
    session["_auth_user_hash"] = user.get_session_auth_hash()
    if "django_otp.plugins.otp_totp" in settings.INSTALLED_APPS:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
        session["otp_device_id"] = device.persistent_id
    session.save()
    client = Client()
    client.cookies["sessionid"] = session.session_key
    return client


def _requests(client: Any, url: str, count: int) -> tuple[float, float, float, int]:
    """Median and slowest wall time of ``count`` requests, and the median time spent in SQL."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm-up
    times, sql = [], []
    status = 0
    for _ in range(count):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - started)
        sql.append(sum(float(query["time"]) for query in queries.captured_queries))
        status = response.status_code
    return statistics.median(times), max(times), statistics.median(sql), status


def _scan(plan: str) -> str:
    """The plan's scan lines (which index), in one line."""
    return " | ".join(line.strip().lstrip("-> ") for line in plan.splitlines() if "Scan" in line or "Index Cond" in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("SAFECAM_BENCH_AUDIT_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=9)
    parser.add_argument("--workdir", default=common.default_workdir())
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("the audit bench needs PostgreSQL")
    common.check_bench_database(args.database_url)

    work = Path(tempfile.mkdtemp(prefix="safecam-bench-audit-", dir=args.workdir))
    for name in ("SAFECAM_STORAGE_URL", "SAFECAM_SPOOL_DIR", "CELERY_BROKER_URL", "SAFECAM_SECRET_KEY", "SAFECAM_DEBUG"):
        os.environ.pop(name, None)
    os.environ.update({"SAFECAM_DATA_DIR": str(work / "data"), "SAFECAM_LOG_LEVEL": "WARNING",
                       "DJANGO_SETTINGS_MODULE": "safecam.settings", "DATABASE_URL": args.database_url,
                       "SAFECAM_ALLOWED_HOSTS": "testserver"})
    (work / "data" / "static").mkdir(parents=True)
    common.database_recreate(args.database_url)

    import django

    django.setup()
    import logging

    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    logging.getLogger("django.request").setLevel(logging.ERROR)
    import psycopg
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings
    from django.utils import timezone

    from safecam import verification
    from safecam.audit import audit_chain_verify
    from safecam.models import AuditEvent, audit_camera_key
    from safecam.timeranges import local_today

    override_settings(STORAGES={**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}).enable()
    dsn = args.database_url
    try:
        call_command("migrate", verbosity=0)
        call_command("seed_birzai", "--demo-users", verbosity=0)
        seconds, made = _timed(lambda: _trail_append(args.events, random.Random(2026)))
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE safecam_auditevent")
        total = AuditEvent.objects.count()
        print(f"trail: {total} events ({args.events} appended in {seconds:.1f} s with bulk_create); "
              f"PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f} (the machine is shared: compare each figure with its floor)")

        # --- 2. the chain check ---------------------------------------------------------------------
        runs = []
        for _ in range(3):
            seconds, report = _timed(audit_chain_verify)
            assert report.intact, report.broken
            runs.append(seconds)
        check = statistics.median(runs)
        print(f"\nchain check (audit_chain_verify, {report.checked} events): median {check:.2f} s of "
              f"{', '.join(f'{s:.2f}' for s in runs)}; {report.checked / check:,.0f} events/s "
              f"-> {1_000_000 / (report.checked / check):.0f} s per million")

        def read_only() -> int:
            with psycopg.connect(dsn.replace("postgres://", "postgresql://")) as conn, conn.cursor(name="floor") as cur:
                cur.itersize = 2000
                cur.execute("SELECT seq, at, actor_id, actor_username, action, target_type, target_id, target_repr, "
                            "host(ip), details, prev_hash, hash FROM safecam_auditevent ORDER BY seq")
                return sum(1 for _ in cur)

        seconds_read, _ = _timed(read_only)
        seconds_orm, _ = _timed(lambda: sum(1 for _ in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000)))
        canonical = [json.dumps([e.seq, e.at.isoformat(), e.actor_id, e.actor_username, e.action, e.target_type,
                                 e.target_id, e.target_repr, e.ip, e.details, e.prev_hash],
                                sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                     for e in AuditEvent.objects.order_by("seq").iterator(chunk_size=5000)]
        seconds_json, _ = _timed(lambda: [json.dumps(json.loads(c), sort_keys=True, separators=(",", ":"),
                                                      ensure_ascii=False) for c in canonical])
        seconds_sha, _ = _timed(lambda: [hashlib.sha256(c.encode()).hexdigest() for c in canonical])
        print(f"  floor: psycopg reading the same rows alone {seconds_read:.2f} s; canonical JSON alone "
              f"{seconds_json:.2f} s; SHA-256 alone {seconds_sha:.2f} s "
              f"(sum {seconds_read + seconds_json + seconds_sha:.2f} s); the ORM's iterator alone (model "
              f"instances, as the check reads them) {seconds_orm:.2f} s")
        del canonical

        dpo = get_user_model().objects.get(username="dpo")

        def job() -> str:
            queued: list[int] = []
            original = verification._enqueue
            verification._enqueue = queued.append  # type: ignore[assignment]
            try:
                from django.db import transaction
                with transaction.atomic():
                    verification.audit_verification_request(by=dpo)
                # on_commit ran: the worker's part, here in this process
                return verification.audit_verification_run(queued[0])
            finally:
                verification._enqueue = original  # type: ignore[assignment]

        seconds, outcome = _timed(job)
        print(f"  'Verify now' job end to end (queue, claim, check with progress, verdict event): {seconds:.2f} s ({outcome})")

        # --- 3. the page ----------------------------------------------------------------------------
        client = _session_client(dpo)
        rare_user = made["users"][0].username
        deep = total // 2
        day = local_today(timezone.now() - timedelta(days=100))
        urls = [
            ("newest", "/audit/"),
            (f"deep (older than #{deep})", f"/audit/?before={deep}"),
            ("busy camera", f"/audit/?camera={made['busy'].public_id}"),
            ("rare camera", f"/audit/?camera={made['rare'].public_id}"),
            ("rare camera, deep", f"/audit/?camera={made['rare'].public_id}&before={deep}"),
            (f"actor {rare_user}", f"/audit/?actor={rare_user}"),
            ("rare action (token issued)", "/audit/?action=auth.token_issued"),
            (f"one local day ({day})", f"/audit/?start={day}&end={day}"),
            ("target text", "/audit/?q=Hold+on"),
            ("one event", f"/audit/{deep}/"),
        ]
        print(f"\npage GET as the DPO, {args.requests} requests each (median / slowest; median of it in SQL):")
        for label, url in urls:
            median, slowest, sql, status = _requests(client, url, args.requests)
            print(f"  {label:<32} {median * 1000:7.1f} ms / {slowest * 1000:7.1f} ms; SQL {sql * 1000:6.1f} ms  "
                  f"(HTTP {status})")
        median, slowest, sql, _ = _requests(client, "/healthz", args.requests)
        print(f"  floor: /healthz                  {median * 1000:7.1f} ms / {slowest * 1000:7.1f} ms")
        rare_plan = (AuditEvent.objects.alias(camera_key=audit_camera_key())
                     .filter(camera_key=str(made["rare"].public_id)).order_by("-seq")[:51].explain())
        action_plan = AuditEvent.objects.filter(action="auth.token_issued").order_by("-seq")[:51].explain()
        print(f"  plan, rare camera: {_scan(rare_plan)}")
        print(f"  plan, rare action: {_scan(action_plan)}")

        # --- 4. the download ------------------------------------------------------------------------
        rss_before = _rss_mb()
        started = time.perf_counter()
        response = client.get("/audit/export.csv")
        size = lines = 0
        for chunk in response.streaming_content:
            size += len(chunk)
            lines += chunk.count(b"\r\n")  # the csv module ends each row so; JSON details hold no raw CR LF
        seconds = time.perf_counter() - started
        print(f"\ndownload /audit/export.csv of every event: {lines - 1} rows, {size / 1e6:.1f} MB in {seconds:.2f} s "
              f"({(lines - 1) / seconds:,.0f} rows/s); peak RSS {rss_before:.0f} -> {_rss_mb():.0f} MB")

        def copy_floor() -> int:
            copied = 0
            with psycopg.connect(dsn.replace("postgres://", "postgresql://")) as conn, conn.cursor() as cur:
                with cur.copy("COPY (SELECT seq, at, actor_username, action, target_type, target_id, target_repr, ip, "
                              "details, prev_hash, hash FROM safecam_auditevent ORDER BY seq) TO STDOUT WITH CSV") as copy:
                    for data in copy:
                        copied += len(data)
            return copied

        seconds_copy, copied = _timed(copy_floor)
        print(f"  floor: COPY … TO STDOUT CSV of the same rows: {copied / 1e6:.1f} MB in {seconds_copy:.2f} s")
    finally:
        connection.close()
        if not args.keep:
            common.database_drop(args.database_url)


if __name__ == "__main__":
    main()
