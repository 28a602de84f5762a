"""The whole recording pipeline as separate processes, for end-to-end tests.

A ``RecordingPipeline`` starts, in processes of their own, exactly what production runs:

* the GStreamer RTSP camera simulator (``cameras/simulator.py``, Debian's Python with GI);
* ``celery beat``, which queues ``footage.tasks.recording_supervise`` every second;
* one or more ``celery worker -P threads`` consuming ``celery`` and ``recording``, whose recorder
  threads drive real ffmpeg processes into the spool and whose ingest jobs move segments to storage.

The processes share the test's database (committed data: tests use ``transactional_db``), a broker
of their own (a Redis database per xdist worker when ``CELERY_BROKER_URL`` names Redis, otherwise
the filesystem broker under the test's own ``SAFECAM_DATA_DIR``), and the test's spool and storage
folders, which the test process sees through the same settings, so it can check files itself.

Every process is started in a session of its own and stopped (SIGTERM, then SIGKILL of its group)
before ``transactional_db`` empties the database. ``RecordingPipeline.wait_until`` polls the
database and, when a condition never comes true, fails with the tail of every process's log.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import pytest
from django.db import connection

from cameras.models import Camera
from footage import spool
from tests.factories import CameraFactory
from tests.servers import SFTPServer, free_port

REPO = Path(__file__).resolve().parents[2]
SIMULATOR = REPO / "cameras" / "simulator.py"
SYSTEM_PYTHON = Path("/usr/bin/python3")  # Debian's, with python3-gi and GStreamer's RTSP server
CELERY = Path(sys.executable).with_name("celery")

# Fast cadence: 2-s segments, a lease that lapses 6 s after its holder's last beat.
SEGMENT_SECONDS = 2
LEASE_SECONDS = 6
CADENCE = {
    "SAFECAM_SEGMENT_SECONDS": str(SEGMENT_SECONDS),
    "SAFECAM_RECORDER_LEASE_SECONDS": str(LEASE_SECONDS),
    "SAFECAM_SUPERVISE_SECONDS": "1",
    "SAFECAM_RECONNECT_MAX_SECONDS": "2",
}
CAMERA_USER = "safecam"
CAMERA_PASSWORD = "Kamera-slaptazodis-7"  # digest auth on the simulator: credentials travel encrypted

# Variables of the test process that must not leak into the pipeline's processes.
PRIVATE_VARIABLES = ("DATABASE_URL", "CELERY_BROKER_URL", "SAFECAM_DATA_DIR", "SAFECAM_SPOOL_DIR",
                     "SAFECAM_STORAGE_URL", "SAFECAM_SFTP_KEY_FILE", "SAFECAM_SFTP_KNOWN_HOSTS",
                     "SAFECAM_SECRET_KEY", "SAFECAM_SECRET_KEY_FALLBACKS", "AWS_S3_ENDPOINT_URL",
                     "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_S3_REGION_NAME")

POLL_SECONDS = 0.2
STOP_SECONDS = 15.0


def wait_until(predicate: Callable[[], Any], timeout: float, message: str | Callable[[], str]) -> Any:
    """Poll ``predicate`` until it returns something truthy (returned); fail with ``message`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(POLL_SECONDS)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (the ffmpeg processes of a worker)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting for its reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _process_name(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


# --- what the subprocesses connect to ----------------------------------------------------------------


def workers_database_url() -> str:
    """A DATABASE_URL naming the database this test process uses (the test database, not the real one).

    It carries this process's connection options (for SQLite: WAL and IMMEDIATE transactions, which
    several writing processes need) in its query string, where dj-database-url reads them.
    """
    params = connection.settings_dict
    options = urlencode({key: value for key, value in (params.get("OPTIONS") or {}).items() if isinstance(value, str)})
    query = f"?{options}" if options else ""
    if params["ENGINE"].endswith("sqlite3"):
        name = str(params["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            raise RuntimeError("the recording tests need a file-based SQLite test database")
        return f"sqlite:///{Path(name).resolve()}{query}"  # sqlite:////abs/path
    if "postgresql" not in params["ENGINE"]:
        raise RuntimeError(f"no DATABASE_URL for {params['ENGINE']}")
    credentials = quote(params.get("USER") or "", safe="")
    if params.get("PASSWORD"):
        credentials += ":" + quote(params["PASSWORD"], safe="")
    host = params.get("HOST") or "127.0.0.1"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{credentials}{'@' if credentials else ''}{host}{port}/{quote(params['NAME'], safe='')}{query}"


def redis_broker_url() -> str | None:
    """This test process's own Redis database, when the suite runs on Redis; None for the file broker.

    xdist workers run in parallel against one Redis server: gw0 gets database 11, gw1 12, …,
    a run without xdist 10, so no worker consumes another's tasks.
    """
    url = os.environ.get("CELERY_BROKER_URL", "")
    if not url.startswith(("redis://", "rediss://")):
        return None
    if os.environ.get("SAFECAM_PIPELINE_BROKER_URL"):  # a Redis database of one's own, on a shared server
        return os.environ["SAFECAM_PIPELINE_BROKER_URL"]
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    number = 10 + (int(worker.removeprefix("gw")) + 1 if worker.startswith("gw") else 0)
    parts = urlsplit(url)
    if number > 14 or parts.path.strip("/") == str(number):
        raise RuntimeError(f"no spare Redis database for xdist worker {worker!r} (use at most -n 4)")
    return urlunsplit(parts._replace(path=f"/{number}"))


def redis_flush(url: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()


# --- the processes -------------------------------------------------------------------------------------


@dataclass
class Service:
    """One process of the pipeline and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    killed: bool = False  # on purpose, by the test

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(text[-lines:])

    def stop(self) -> None:
        """Ask for a clean shutdown (SIGTERM); ``reap`` then makes sure of it."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass

    def reap(self, deadline: float) -> None:
        """Wait for the process until ``deadline``, then SIGKILL its group: nothing it started survives."""
        try:
            self.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # ffmpeg children share the group
        except (ProcessLookupError, PermissionError):
            pass
        if self.process.poll() is None:
            self.process.wait(timeout=5)


@dataclass
class Simulator:
    service: Service
    port: int
    control_port: int
    count: int

    def url(self, index: int, *, credentials: bool = True) -> str:
        auth = f"{CAMERA_USER}:{CAMERA_PASSWORD}@" if credentials else ""
        return f"rtsp://{auth}127.0.0.1:{self.port}/cam{index}"

    def mount(self, index: int, state: str) -> None:
        """Take a mount ``down`` (clients cut off, new ones refused) or bring it ``up``."""
        request = urllib.request.Request(f"http://127.0.0.1:{self.control_port}/cam{index}/{state}", method="POST",
                                         data=b"")
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200, f"simulator control answered {response.status}"


@dataclass
class RecordingHost:
    """A recording worker standing for a machine of its own: node name ``recorder@<name>``, own spool."""

    name: str
    spool_dir: Path
    service: Service | None = None
    starts: int = 0

    @property
    def nodename(self) -> str:
        return f"recorder@{self.name}"

    def run_folders(self) -> list[Path]:
        return sorted(p for p in self.spool_dir.glob("*/*") if p.is_dir())

    def spool_files(self) -> list[Path]:
        """Segment files in this host's spool (closed ones waiting and the ones ffmpeg is writing)."""
        return sorted(self.spool_dir.rglob("*.ts"))

    def spool_waiting(self) -> list[tuple[Path, spool.ClosedSegment]]:
        """Closed segments (listed by ffmpeg) still in this host's spool, not yet stored."""
        return [(folder, closed) for folder in self.run_folders() for closed in spool.closed_segments(folder)
                if (folder / closed.filename).exists()]


@dataclass
class RecordingPipeline:
    """The simulator, beat and workers of one test, sharing its database, broker, spool and storage."""

    root: Path
    settings: Any
    database_url: str
    broker_url: str | None
    services: dict[str, Service] = field(default_factory=dict)
    hosts: dict[str, RecordingHost] = field(default_factory=dict)
    simulator: Simulator | None = None
    storage_env: dict[str, str] = field(default_factory=dict)
    # More environment for every Celery process (settings a test needs, e.g. a short export stale time).
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = self.root / "data"
        self.spool_dir = self.root / "spool"
        self.storage_dir = self.root / "storage"
        self.log_dir = self.root / "logs"
        for folder in (self.data_dir, self.spool_dir, self.storage_dir, self.log_dir):
            folder.mkdir(parents=True, exist_ok=True)
        self.storage_env = {"SAFECAM_STORAGE_URL": f"file://{self.storage_dir}"}
        self._configure_test_process({"BACKEND": "django.core.files.storage.FileSystemStorage",
                                      "OPTIONS": {"location": str(self.storage_dir)}})

    def _configure_test_process(self, storage: dict[str, Any]) -> None:
        """The test process sees the spool and storage the workers use, at the same cadence."""
        self.settings.SPOOL_DIR = self.spool_dir
        self.settings.STORAGES = {**self.settings.STORAGES, "footage": storage}
        self.settings.SAFECAM_SEGMENT_SECONDS = SEGMENT_SECONDS
        self.settings.SAFECAM_RECORDER_LEASE_SECONDS = LEASE_SECONDS
        self.settings.SAFECAM_SUPERVISE_SECONDS = 1
        self.settings.SAFECAM_RECONNECT_MAX_SECONDS = 2

    def use_sftp(self, server: SFTPServer) -> None:
        """Store footage on ``server`` (call before starting workers)."""
        assert not self.services, "choose the storage before starting processes"
        self.storage_env = dict(server.env)
        self._configure_test_process(server.storage_config())

    @property
    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items()
               if key not in PRIVATE_VARIABLES and not key.startswith("PYTEST_")}
        env.update(CADENCE)
        env.update(self.storage_env)
        env.update({
            "DJANGO_SETTINGS_MODULE": "safecam.settings",
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": self.database_url,
            "SAFECAM_DATA_DIR": str(self.data_dir),  # the filesystem broker's folders live here
            "SAFECAM_SPOOL_DIR": str(self.spool_dir),
            # Camera credentials are encrypted with a key derived from it.
            "SAFECAM_SECRET_KEY": self.settings.SECRET_KEY,
        })
        if self.broker_url:
            env["CELERY_BROKER_URL"] = self.broker_url
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, command: list[str], *, env: dict[str, str] | None = None) -> Service:
        assert name not in self.services, f"{name} already started"
        log_path = self.log_dir / f"{name}.log"
        with log_path.open("ab") as log:
            process = subprocess.Popen(command, cwd=REPO, env=env if env is not None else self.env,
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)
        service = Service(name, process, log_path)
        self.services[name] = service
        return service

    # -- cameras --------------------------------------------------------------------------------------

    def start_simulator(self, count: int, *, width: int = 160, height: int = 90, fps: int = 5,
                        bitrate: int | None = None) -> Simulator:
        """``count`` simulated cameras (``/cam0`` …) with digest authentication, 160x90 at 5 fps unless
        told otherwise (``bitrate`` in kbit/s: the simulator's default unless given)."""
        for attempt in range(3):  # another process may take the kernel's pick of port first
            port, control_port = free_port(), free_port()
            name = "simulator" if attempt == 0 else f"simulator-{attempt}"
            service = self._spawn(name, [
                str(SYSTEM_PYTHON), str(SIMULATOR), "--count", str(count), "--port", str(port),
                "--control-port", str(control_port), "--width", str(width), "--height", str(height),
                "--fps", str(fps), *(["--bitrate", str(bitrate)] if bitrate else []),
                "--username", CAMERA_USER, "--password", CAMERA_PASSWORD,
            ], env={key: value for key, value in os.environ.items() if key not in PRIVATE_VARIABLES})
            deadline = time.monotonic() + 15
            while service.process.poll() is None and time.monotonic() < deadline:
                if _accepts(port) and _accepts(control_port):
                    self.simulator = Simulator(service, port, control_port, count)
                    return self.simulator
                time.sleep(0.05)
            service.stop()
            service.reap(time.monotonic() + 5)
            service.killed = True
        raise AssertionError(self.report("the camera simulator did not start"))

    def camera(self, index: int, **fields: Any) -> Camera:
        """A registry camera pointing at simulator mount ``index`` (its credentials stored encrypted)."""
        assert self.simulator is not None, "start the simulator first"
        return CameraFactory(stream_url=self.simulator.url(index), name=f"Simuliuota kamera {index}", **fields)

    def mount_down(self, index: int) -> None:
        assert self.simulator is not None
        self.simulator.mount(index, "down")

    def mount_up(self, index: int) -> None:
        assert self.simulator is not None
        self.simulator.mount(index, "up")

    # -- Celery -----------------------------------------------------------------------------------------

    def start_beat(self) -> Service:
        return self._spawn("beat", [str(CELERY), "-A", "safecam", "beat", "-s", str(self.data_dir / "beat-schedule"),
                                    "--loglevel", "INFO"])

    def start_worker(self, name: str, *, queues: str = "celery,recording", concurrency: int = 8,
                     nodename: str = "", env: dict[str, str] | None = None) -> Service:
        """A worker named ``name@<host>`` (its recorder lease holder name) on the celery and recording queues."""
        # Without mingle and gossip a worker is ready a second sooner; neither plays a part in recording.
        return self._spawn(name, [str(CELERY), "-A", "safecam", "worker", "-Q", queues, "-P", "threads",
                                  "-c", str(concurrency), "-n", nodename or f"{name}@%h", "--without-mingle",
                                  "--without-gossip", "--loglevel", "INFO"], env=env)

    def start_host(self, name: str, *, concurrency: int = 40) -> RecordingHost:
        """A recording host as production runs one: ``celery worker -Q recording -n recorder@<name>``
        with a spool folder of its own (its "local disk"), sharing the database, broker and storage.

        Starting a host of the same name again (after ``kill`` or ``stop_host``) reuses its spool, as
        a machine coming back after a crash finds its disk as it was.
        """
        host = self.hosts.get(name) or RecordingHost(name=name, spool_dir=self.root / "hosts" / name / "spool")
        host.spool_dir.mkdir(parents=True, exist_ok=True)
        self.hosts[name] = host
        host.starts += 1
        service_name = name if host.starts == 1 else f"{name}-{host.starts}"
        env = {**self.env, "SAFECAM_SPOOL_DIR": str(host.spool_dir)}
        host.service = self.start_worker(service_name, queues="recording", concurrency=concurrency,
                                         nodename=host.nodename, env=env)
        return host

    def host_of(self, holder: str) -> RecordingHost:
        """The recording host whose node name is ``holder`` (a lease holder or a run's recorder)."""
        return next(host for host in self.hosts.values() if host.nodename == holder)

    def stop_host(self, host: RecordingHost) -> None:
        """A clean shutdown (SIGTERM, as systemd stops a unit), waited for."""
        assert host.service is not None
        host.service.killed = True
        host.service.stop()
        host.service.reap(time.monotonic() + STOP_SECONDS)

    def worker_named(self, holder: str) -> Service:
        """The worker service whose node name is ``holder`` (``alpha@host`` → ``alpha``)."""
        return self.services[holder.split("@", 1)[0]]

    def ffmpeg_of(self, service: Service) -> list[int]:
        return [pid for pid in _children(service.pid) if _process_name(pid) == "ffmpeg"]

    def kill(self, service: Service) -> None:
        """SIGKILL the process alone (not its group), as the OOM killer or a power cut would."""
        service.killed = True
        service.process.kill()
        service.process.wait(timeout=5)

    def stop_all(self) -> None:
        """Beat first (nothing new is queued), then the workers (their recorders end runs cleanly while
        the cameras still answer), then the simulator."""
        waves = [[s for s in self.services.values() if s.name == "beat"],
                 [s for s in self.services.values() if s.name not in ("beat",) and not s.name.startswith("simulator")],
                 [s for s in self.services.values() if s.name.startswith("simulator")]]
        for wave in waves:
            for service in wave:
                service.stop()
            deadline = time.monotonic() + STOP_SECONDS
            for service in wave:
                service.reap(deadline)

    # -- looking on ---------------------------------------------------------------------------------------

    def report(self, message: str, lines: int = 40) -> str:
        """``message`` followed by the tail of every process's log: what an assertion should say."""
        parts = [message]
        for service in self.services.values():
            state = "running" if service.process.poll() is None else f"exited {service.process.returncode}"
            parts.append(f"\n----- {service.name} ({state}), last {lines} lines of {service.log_path} -----\n"
                         f"{service.log_tail(lines)}")
        return "\n".join(parts)

    def wait_until(self, predicate: Callable[[], Any], timeout: float, message: str) -> Any:
        """Poll until ``predicate`` holds; on timeout fail with ``message`` and the processes' logs."""
        def explain() -> str:
            return self.report(f"Timed out after {timeout} s waiting until {message}")

        def checked() -> Any:
            for service in self.services.values():
                if not service.killed and service.process.poll() is not None:
                    raise AssertionError(self.report(f"{service.name} exited while waiting until {message}"))
            return predicate()

        return wait_until(checked, timeout, explain)

    def spool_files(self) -> list[Path]:
        """Segment files in the spool: closed ones waiting for ingest and the ones ffmpeg is writing."""
        return sorted(self.spool_dir.rglob("*.ts"))

    def spool_waiting(self) -> list[tuple[Path, spool.ClosedSegment]]:
        """Closed segments (listed by ffmpeg) whose file is still in the spool, not yet stored."""
        waiting = []
        for folder in spool.run_folders():
            for closed in spool.closed_segments(folder):
                if (folder / closed.filename).exists():
                    waiting.append((folder, closed))
        return waiting

    def stored_path(self, storage_name: str) -> Path:
        """Where a stored segment lies on disk (the file storage, or the SFTP server's root)."""
        root = self.storage_env.get("SAFECAM_STORAGE_URL", "")
        if root.startswith("sftp://"):
            return Path(urlsplit(root).path) / storage_name
        return self.storage_dir / storage_name


def require_tools() -> None:
    missing = [str(p) for p in (SYSTEM_PYTHON, CELERY) if not p.exists()]
    missing += [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"the recording pipeline needs {', '.join(missing)}")


@pytest.fixture
def pipeline(transactional_db: None, settings: Any, tmp_path: Path) -> Iterator[RecordingPipeline]:
    """A recording pipeline whose processes are all stopped before the database is emptied.

    Requesting ``transactional_db`` here makes this fixture's teardown run first: no worker is left
    writing while the test database is flushed (or dropped at the end of the session).
    """
    require_tools()
    broker = redis_broker_url()
    if broker:
        redis_flush(broker)
    pipe = RecordingPipeline(root=tmp_path / "pipeline", settings=settings, database_url=workers_database_url(),
                             broker_url=broker)
    try:
        yield pipe
    finally:
        pipe.stop_all()
        if broker:
            redis_flush(broker)
