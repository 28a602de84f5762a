"""CPU, memory and completeness of recording N cameras, next to N bare ffmpeg recorders, in one run.

Usage: .venv/bin/python bench/recording.py [--cameras 24] [--seconds 120] [--warmup 20]
           [--database-url postgres://postgres@127.0.0.1:5432/safecam_bench] [--broker-url redis://…] [--keep]

1. Starts the GStreamer camera simulator (N mounts, 320x180, 5 fps, 300 kbit/s), not measured.
2. Sets up a throw-away data dir (SQLite there, or the bench PostgreSQL database it creates and
   drops), migrates, and registers N cameras pointing at the simulator's mounts.
3. SafeCam: a real Celery worker (``-Q celery,recording -P threads -c N+8``) and beat, for the given
   seconds; then SIGTERM, so runs end "recorder stopped". CPU of the worker and every ffmpeg/ffprobe
   it started: exact over the whole run (``wait4``), and over the steady window after the warm-up
   (snapshots). Memory: RSS and PSS of the worker and its children, sampled every 2 s.
4. Floor: N bare ``ffmpeg -c copy -f segment`` processes on the same mounts for the same seconds,
   measured the same way.
5. Prints CPU-seconds per camera-hour (SafeCam, floor, ratio), memory per camera, and recorded
   against expected seconds (gaps, holes in sequences, segments left in the spool).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psutil  # noqa: E402

from bench import _common as common  # noqa: E402

VENV_BIN = Path(sys.executable).parent
SIMULATOR_PYTHON = "/usr/bin/python3"  # python3-gi lives in Debian's Python, not in the venv


@dataclass
class Phase:
    """What one side (SafeCam or the floor) cost over the run."""

    name: str
    cameras: int
    seconds: float  # nominal recording seconds (the denominator of "per camera-hour")
    steady_seconds: float = 0.0
    cpu_total: float = 0.0  # exact: start to exit, every descendant included
    cpu_steady: float = 0.0  # snapshots at the end of the warm-up and just before stopping
    parts_steady: dict[str, float] = field(default_factory=dict)
    memory: dict[str, float] = field(default_factory=dict)
    db_cpu: float | None = None
    beat_cpu: float | None = None
    simulator_cpu: float = 0.0
    stop_seconds: float = 0.0

    def per_camera_hour(self, cpu: float, seconds: float) -> float:
        return cpu / (self.cameras * seconds / 3600) if seconds > 0 else float("nan")


# --- set-up ------------------------------------------------------------------------------------------


def choose_database(option: str | None) -> str | None:
    """The bench database URL, or None for SQLite in the data dir. Never a database that is not a bench's."""
    url = option or os.environ.get("SAFECAM_BENCH_DATABASE_URL")
    inherited = os.environ.pop("DATABASE_URL", None)
    if url is None and inherited:
        name = common.database_name(inherited)
        if "bench" in name and not name.startswith("test"):
            url = inherited
        else:
            print(f"note: DATABASE_URL names {name!r}, not a bench database; using SQLite in a temporary folder")
    if url is not None:
        common.check_bench_database(url)
    return url


def environment(data_dir: Path, database_url: str | None, broker_url: str | None, supervise: int) -> dict[str, str]:
    # Nothing of the caller's SafeCam configuration may leak in: storage, spool, broker are the bench's own.
    for name in ("SAFECAM_STORAGE_URL", "SAFECAM_SPOOL_DIR", "CELERY_BROKER_URL", "SAFECAM_SECRET_KEY"):
        os.environ.pop(name, None)
    env = {"SAFECAM_DATA_DIR": str(data_dir), "SAFECAM_SUPERVISE_SECONDS": str(supervise),
           "SAFECAM_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "safecam.settings", "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    if broker_url:
        env["CELERY_BROKER_URL"] = broker_url
    os.environ.update(env)
    return dict(os.environ)


def simulator_start(count: int, port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [SIMULATOR_PYTHON, str(common.ROOT / "cameras" / "simulator.py"), "--count", str(count), "--port", str(port),
         "--control-port", str(port + 1)],
        stdin=subprocess.DEVNULL, stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=common.ROOT)
    common.wait_for_port(port)
    return process


def cameras_register(count: int, port: int) -> list[int]:
    from cameras.models import Site
    from cameras.services import camera_create, site_save

    site = site_save(site=Site(name="Bench", slug="bench"), by=None)
    ids = []
    for index in range(count):
        camera = camera_create(site=site, name=f"Bench camera {index:02d}", by=None,
                               stream_url=f"rtsp://127.0.0.1:{port}/cam{index}", purpose="Benchmark",
                               legal_basis="Benchmark")
        ids.append(camera.pk)
    return ids


# --- the two phases ----------------------------------------------------------------------------------


def _sleep_until(deadline: float) -> None:
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, 1.0))


def phase_safecam(args: argparse.Namespace, env: dict[str, str], work: Path, simulator: psutil.Process,
                  database: str | None) -> tuple[Phase, dict[str, object]]:
    phase = Phase("SafeCam (worker + ffmpeg)", args.cameras, args.seconds)
    celery = str(VENV_BIN / "celery")
    worker_log = work / "worker.log"
    worker = subprocess.Popen(
        [celery, "-A", "safecam", "worker", "-Q", "celery,recording", "-P", "threads", "-c", str(args.cameras + 8),
         "--loglevel", "WARNING", "-n", f"bench{os.getpid()}@%h", "--without-mingle", "--without-gossip"],
        env=env, cwd=common.ROOT, stdin=subprocess.DEVNULL, stdout=worker_log.open("w"), stderr=subprocess.STDOUT)
    started_wall = datetime.now().astimezone()
    started = time.monotonic()
    beat = subprocess.Popen(
        [celery, "-A", "safecam", "beat", "--loglevel", "WARNING", "-s", str(work / "beat-schedule")],
        env=env, cwd=common.ROOT, stdin=subprocess.DEVNULL, stdout=(work / "beat.log").open("w"),
        stderr=subprocess.STDOUT)
    worker_ps, beat_ps = psutil.Process(worker.pid), psutil.Process(beat.pid)
    # The server's CPU, backends included (each task opens a connection, so most backends live
    # for one task): the postmaster's reaped children plus its live ones, like the worker's tree.
    server = common.postmaster() if database else None
    sim_before = common.tree_cpu([simulator])
    try:
        _sleep_until(started + args.warmup)
        memory = common.MemorySampler([worker_ps])
        memory.start()
        window_start = time.monotonic()
        cpu_a, parts_a = common.tree_cpu([worker_ps]), common.tree_parts(worker_ps)
        db_a = common.tree_cpu([server]) if server else 0.0
        sessions_a = pg_sessions(database) if database else 0
        window_wall_a = datetime.now().astimezone()
        beat_a = common.tree_cpu([beat_ps])
        _sleep_until(started + args.seconds)
        cpu_b, parts_b = common.tree_cpu([worker_ps]), common.tree_parts(worker_ps)
        db_b = common.tree_cpu([server]) if server else 0.0
        sessions_b = pg_sessions(database) if database else 0
        window_wall_b = datetime.now().astimezone()
        beat_b = common.tree_cpu([beat_ps])
        window_end = time.monotonic()
        memory.finish()
    finally:
        stopping_wall = datetime.now().astimezone()
        stopping = time.monotonic()
        phase.cpu_total = common.stop(worker, signal.SIGTERM, timeout=90)
        phase.stop_seconds = time.monotonic() - stopping
        common.stop(beat, signal.SIGTERM, timeout=30)
    phase.simulator_cpu = common.tree_cpu([simulator]) - sim_before
    phase.steady_seconds = window_end - window_start
    phase.cpu_steady = cpu_b - cpu_a
    phase.parts_steady = {key: parts_b[key] - parts_a[key] for key in parts_a}
    phase.memory = memory.summary()
    phase.beat_cpu = beat_b - beat_a
    if server:
        phase.db_cpu = db_b - db_a
    return phase, {"started_wall": started_wall, "stopping_wall": stopping_wall, "log": worker_log,
                   "window": (window_wall_a, window_wall_b),
                   "sessions": sessions_b - sessions_a - 1 if database else None}


def pg_sessions(database: str) -> int:
    """Sessions (connections) opened to the bench database so far (this query's own included)."""
    import psycopg

    with psycopg.connect(database) as conn:
        return conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def phase_floor(args: argparse.Namespace, port: int, work: Path, simulator: psutil.Process) -> tuple[Phase, Path]:
    phase = Phase("bare ffmpeg floor", args.cameras, args.seconds)
    out = work / "floor"
    processes = []
    sim_before = common.tree_cpu([simulator])
    started = time.monotonic()
    for index in range(args.cameras):
        folder = out / f"cam{index}"
        folder.mkdir(parents=True)
        command = ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp",
                   "-i", f"rtsp://127.0.0.1:{port}/cam{index}", "-map", "0:v", "-c", "copy", "-f", "segment",
                   "-segment_time", "10", "-segment_format", "mpegts", "-reset_timestamps", "1",
                   "-segment_list", str(folder / "segments.csv"), "-segment_list_type", "csv",
                   "-segment_list_flags", "live", str(folder / "%06d.ts")]
        processes.append(subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=(folder / "stderr.log").open("w")))
    handles = [psutil.Process(p.pid) for p in processes]
    try:
        _sleep_until(started + args.warmup)
        memory = common.MemorySampler(handles)
        memory.start()
        window_start = time.monotonic()
        cpu_a = common.tree_cpu(handles)
        _sleep_until(started + args.seconds)
        cpu_b = common.tree_cpu(handles)
        window_end = time.monotonic()
        memory.finish()
    finally:
        stopping = time.monotonic()
        for process in processes:
            common.signal_send(process, signal.SIGINT)  # closes the open segment and lists it
        phase.cpu_total = sum(common.stop(p, 0, timeout=15) for p in processes)
        phase.stop_seconds = time.monotonic() - stopping
    phase.simulator_cpu = common.tree_cpu([simulator]) - sim_before
    phase.steady_seconds = window_end - window_start
    phase.cpu_steady = cpu_b - cpu_a
    phase.memory = memory.summary()
    return phase, out


# --- what was recorded -------------------------------------------------------------------------------


@dataclass
class Coverage:
    """Recorded against expected seconds for one camera."""

    expected: float = 0.0  # first segment start → last segment end
    recorded: float = 0.0  # sum of durations
    gaps_lost: float = 0.0  # gaps (reason != recorder_stopped) inside the window
    holes: float = 0.0  # missing sequence numbers inside a run
    runs: int = 0
    segments: int = 0

    @property
    def unexplained(self) -> float:
        return self.expected - self.recorded - self.gaps_lost - self.holes


def coverage_safecam(camera_ids: list[int]) -> tuple[dict[int, Coverage], dict[str, object]]:
    from footage.models import EndReason, Gap, Run, Segment

    result: dict[int, Coverage] = {}
    latencies: list[float] = []
    first_starts: dict[int, datetime] = {}
    last_ends: dict[int, datetime] = {}
    reasons: Counter[str] = Counter()
    for camera_id in camera_ids:
        cov = Coverage()
        rows = list(Segment.objects.filter(camera_id=camera_id).order_by("start")
                    .values_list("run_id", "sequence", "start", "end", "duration", "indexed_at"))
        cov.segments = len(rows)
        cov.runs = Run.objects.filter(camera_id=camera_id).count()
        for gap in Gap.objects.filter(camera_id=camera_id):
            reasons[gap.reason] += 1
        if not rows:
            result[camera_id] = cov
            continue
        first, last = rows[0][2], max(r[3] for r in rows)
        first_starts[camera_id], last_ends[camera_id] = first, last
        cov.expected = (last - first).total_seconds()
        cov.recorded = sum(r[4] for r in rows)
        latencies.extend((r[5] - r[3]).total_seconds() for r in rows)
        by_run: dict[int, list[tuple]] = {}
        for row in rows:
            by_run.setdefault(row[0], []).append(row)
        for run_rows in by_run.values():
            run_rows.sort(key=lambda r: r[1])
            for before, after in zip(run_rows, run_rows[1:]):
                if after[1] != before[1] + 1:
                    cov.holes += max(0.0, (after[2] - before[3]).total_seconds())
        for gap in Gap.objects.filter(camera_id=camera_id).exclude(reason=EndReason.RECORDER_STOPPED):
            start, end = max(gap.start, first), min(gap.end or last, last)
            if end > start:
                cov.gaps_lost += (end - start).total_seconds()
        result[camera_id] = cov
    latencies.sort()
    info: dict[str, object] = {"gap_reasons": dict(reasons), "first_starts": first_starts, "last_ends": last_ends}
    if latencies:
        info["ingest_latency"] = (statistics.median(latencies), latencies[int(len(latencies) * 0.95) - 1],
                                  latencies[-1])
    return result, info


def coverage_floor(out: Path) -> dict[str, Coverage]:
    result: dict[str, Coverage] = {}
    for folder in sorted(out.iterdir()):
        cov = Coverage(runs=1)
        lines = []
        csv = folder / "segments.csv"
        if csv.exists():
            for line in csv.read_text().splitlines():
                name, start, end = line.split(",")
                lines.append((int(name.removesuffix(".ts")), float(start), float(end)))
        cov.segments = len(lines)
        if lines:
            cov.expected = lines[-1][2] - lines[0][1]
            cov.recorded = sum(end - start for _, start, end in lines)
            for before, after in zip(lines, lines[1:]):
                if after[0] != before[0] + 1:
                    cov.holes += max(0.0, after[1] - before[2])
        result[folder.name] = cov
    return result


def spool_left(data_dir: Path) -> int:
    spool = data_dir / "spool"
    return sum(1 for _ in spool.rglob("*.ts")) if spool.exists() else 0


def log_summary(path: Path) -> tuple[Counter[str], list[str]]:
    levels: Counter[str] = Counter()
    messages: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        for level in ("CRITICAL", "ERROR", "WARNING", "Traceback"):
            if level in line:
                levels[level] += 1
                # Drop the timestamp so repeats of one message count together.
                text = re.sub(r"^\[[^]]*\]\s*|^\d{4}-\d\d-\d\d [\d:,]+\s*", "", line)
                messages[text[:160]] += 1
                break
    return levels, [f"{count:>5} × {text}" for text, count in messages.most_common(6)]


# --- report ------------------------------------------------------------------------------------------


def report(args: argparse.Namespace, safecam: Phase, floor: Phase, cov_s: dict[int, Coverage], info: dict,
           cov_f: dict[str, Coverage], spool: int, stopping: dict, database: str | None) -> None:
    n = args.cameras
    print()
    print(f"SafeCam recording bench: {n} cameras × {args.seconds:.0f} s (steady window after {args.warmup:.0f} s "
          f"warm-up), database {'PostgreSQL ' + common.database_name(database) if database else 'SQLite'}, "
          f"broker {args.broker_url or 'filesystem (embedded)'}, {os.cpu_count()} cores")
    print()
    s_steady = safecam.per_camera_hour(safecam.cpu_steady, safecam.steady_seconds)
    f_steady = floor.per_camera_hour(floor.cpu_steady, floor.steady_seconds)
    s_whole = safecam.per_camera_hour(safecam.cpu_total, safecam.seconds)
    f_whole = floor.per_camera_hour(floor.cpu_total, floor.seconds)
    rows = [
        ["SafeCam worker + its ffmpeg/ffprobe", f"{s_steady:.1f}", f"{s_whole:.1f}",
         f"{safecam.memory['pss_mean'] / n:.1f}", f"{safecam.memory['pss_max'] / n:.1f}",
         f"{safecam.memory['rss_mean'] / n:.1f}"],
    ]
    for key, label in (("self", "  of which worker (Python)"), ("live children", "  of which ffmpeg (live)"),
                       ("reaped children", "  of which reaped (ffprobe, ended ffmpeg)")):
        part = safecam.per_camera_hour(safecam.parts_steady.get(key, 0.0), safecam.steady_seconds)
        rows.append([label, f"{part:.1f}", "", "", "", ""])
    if safecam.db_cpu is not None:
        db = safecam.per_camera_hour(safecam.db_cpu, safecam.steady_seconds)
        rows.append(["  + PostgreSQL server (all its databases)", f"{db:.1f}", "", "", "", ""])
    rows.append(["bare ffmpeg -c copy (floor)", f"{f_steady:.1f}", f"{f_whole:.1f}",
                 f"{floor.memory['pss_mean'] / n:.1f}", f"{floor.memory['pss_max'] / n:.1f}",
                 f"{floor.memory['rss_mean'] / n:.1f}"])
    rows.append(["ratio SafeCam / floor", f"{s_steady / f_steady:.2f}×", f"{s_whole / f_whole:.2f}×",
                 f"{safecam.memory['pss_mean'] / floor.memory['pss_mean']:.2f}×", "",
                 f"{safecam.memory['rss_mean'] / floor.memory['rss_mean']:.2f}×"])
    if safecam.db_cpu is not None:
        with_db = safecam.per_camera_hour(safecam.cpu_steady + safecam.db_cpu, safecam.steady_seconds)
        rows.append(["ratio incl. PostgreSQL / floor", f"{with_db / f_steady:.2f}×", "", "", "", ""])
    print(common.table(rows, ["CPU and memory", "CPU-s/cam-h steady", "CPU-s/cam-h whole run",
                              "PSS MB/cam", "PSS peak", "RSS MB/cam"]))
    print(f"(goal: SafeCam within 1.5× of the floor. Whole run = start-up to exit, every descendant reaped, "
          f"over {n} × {args.seconds:.0f} s; steady = {safecam.steady_seconds:.0f} s window.)")
    print(f"beat: {safecam.per_camera_hour(safecam.beat_cpu or 0.0, safecam.steady_seconds):.1f} CPU-s/cam-h "
          f"(steady, not included above); simulator (not measured): {safecam.simulator_cpu:.1f} CPU-s during SafeCam, "
          f"{floor.simulator_cpu:.1f} during the floor; worker shutdown took {safecam.stop_seconds:.1f} s, "
          f"floor {floor.stop_seconds:.1f} s")
    print()

    def totals(covs: list[Coverage]) -> list[str]:
        return [f"{sum(c.expected for c in covs):.1f}", f"{sum(c.recorded for c in covs):.1f}",
                f"{sum(c.gaps_lost for c in covs):.1f}", f"{sum(c.holes for c in covs):.1f}",
                f"{sum(c.unexplained for c in covs):.1f}", str(sum(c.segments for c in covs)),
                str(sum(c.runs for c in covs))]

    safecam_covs = list(cov_s.values())
    worst = min(safecam_covs, key=lambda c: (c.recorded / c.expected) if c.expected else -1)
    rows = [["SafeCam, all cameras", *totals(safecam_covs)],
            ["SafeCam, worst camera", *totals([worst])],
            ["floor, all cameras", *totals(list(cov_f.values()))]]
    print(common.table(rows, ["Recorded vs expected", "expected s", "recorded s", "lost (gaps) s", "holes s",
                              "unexplained s", "segments", "runs"]))
    cameras_without = sum(1 for c in safecam_covs if not c.segments)
    first = info.get("first_starts", {})
    start_delays = sorted((t - stopping["started_wall"]).total_seconds() for t in first.values())
    tail = sorted((stopping["stopping_wall"] - t).total_seconds() for t in info.get("last_ends", {}).values())
    print(f"SafeCam: {cameras_without} cameras without any indexed segment; segments still in the spool at the end: "
          f"{spool}; gaps by reason: {info.get('gap_reasons') or 'none'}")
    if start_delays:
        print(f"first footage after worker start: median {statistics.median(start_delays):.1f} s, "
              f"last camera {start_delays[-1]:.1f} s; indexed footage ends before SIGTERM by median "
              f"{statistics.median(tail):.1f} s (the tail waits in the spool for the next worker)")
    if "ingest_latency" in info:
        p50, p95, worst_latency = info["ingest_latency"]
        print(f"ingest latency (segment end → indexed): p50 {p50:.2f} s, p95 {p95:.2f} s, max {worst_latency:.2f} s")
    if stopping.get("sessions") is not None:
        from footage.models import Segment

        indexed = Segment.objects.filter(indexed_at__range=stopping["window"]).count()
        print(f"PostgreSQL: {stopping['sessions']} connections opened to the bench database in the steady window, "
              f"for {indexed} segments indexed ({stopping['sessions'] / max(indexed, 1):.2f} per segment); the "
              "server row above counts every database on the server, other clients' work included")
    levels, messages = log_summary(stopping["log"])
    print(f"worker log: {dict(levels) or 'no warnings or errors'}")
    for line in messages:
        print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=24)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds excluded from the steady window (default: 30, or a quarter of --seconds)")
    parser.add_argument("--database-url", default=None,
                        help="a bench PostgreSQL database to create and drop "
                             "(default: SQLite in the temporary data dir)")
    parser.add_argument("--broker-url", default=None, help="default: the embedded filesystem broker")
    parser.add_argument("--supervise-seconds", type=int, default=5)
    parser.add_argument("--workdir", default=common.default_workdir(),
                        help="where the temporary folder goes (default: /var/tmp, disk-backed; /tmp can be slower)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and the database")
    args = parser.parse_args()
    if args.warmup is None:
        args.warmup = min(30.0, args.seconds / 4)
    if args.seconds <= args.warmup:
        parser.error("--seconds must be longer than --warmup")

    database = choose_database(args.database_url)
    work = Path(tempfile.mkdtemp(prefix="safecam-bench-recording-", dir=args.workdir))
    data_dir = work / "data"
    data_dir.mkdir()
    env = environment(data_dir, database, args.broker_url, args.supervise_seconds)
    if database:
        common.database_recreate(database)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    simulator = None
    try:
        print(f"set-up: data in {work}; migrating …", flush=True)
        call_command("migrate", verbosity=0)
        port = common.free_port_pair()
        simulator = simulator_start(args.cameras, port, work / "simulator.log")
        camera_ids = cameras_register(args.cameras, port)
        connections.close_all()
        sim_ps = psutil.Process(simulator.pid)
        print(f"SafeCam: worker + beat recording {args.cameras} cameras for {args.seconds:.0f} s …", flush=True)
        safecam, stopping = phase_safecam(args, env, work, sim_ps, database)
        cov_s, info = coverage_safecam(camera_ids)
        spool = spool_left(data_dir)
        connections.close_all()
        print(f"floor: {args.cameras} bare ffmpeg recorders for {args.seconds:.0f} s …", flush=True)
        floor, out = phase_floor(args, port, work, sim_ps)
        cov_f = coverage_floor(out)
        report(args, safecam, floor, cov_s, info, cov_f, spool, stopping, database)
    finally:
        if simulator is not None:
            common.stop(simulator, signal.SIGTERM, timeout=10)
        connections.close_all()
        common.cleanup(work, database, args.keep)


if __name__ == "__main__":
    main()
