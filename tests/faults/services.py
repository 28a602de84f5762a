"""Private servers and a small disk for fault tests: things a test may stop, restart and fill.

The shared PostgreSQL and Redis on 127.0.0.1 serve every engineer's tests and must never be
restarted, so a test that restarts one starts its own: ``PrivatePostgres`` (initdb + pg_ctl from
Debian's PostgreSQL, trust auth, on a kernel-picked port, as the ``postgres`` user when run as root)
and ``PrivateRedis`` (``redis-server`` keeping nothing on disk, as a Redis without persistence loses
its queues on a restart). ``small_filesystem`` mounts a tmpfs of a few megabytes, a disk that really
fills up. ``broker_for_this_process`` points this process's Celery app at a pipeline's broker, so what
the test asks for (an export) is queued where the pipeline's workers listen.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.servers import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REPO = Path(__file__).resolve().parents[2]


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait(predicate: Any, timeout: float, message: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(message)
        time.sleep(0.05)


# --- PostgreSQL ------------------------------------------------------------------------------------------


@dataclass
class PrivatePostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1 (trust auth), durable settings off for speed."""

    home: Path
    port: int = field(default_factory=free_port)

    def __post_init__(self) -> None:
        self.data = self.home / "data"
        self.log_file = self.home / "postgres.log"
        self.socket_dir = self.home / "socket"
        self.socket_dir.mkdir(exist_ok=True)
        if os.getuid() == 0:
            # initdb refuses to run as root: the cluster belongs to the postgres user.
            postgres = pwd.getpwnam("postgres")
            for path in (self.home, self.socket_dir):
                os.chown(path, postgres.pw_uid, postgres.pw_gid)
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
                  "--no-sync", "--locale=C")

    @staticmethod
    def _as_owner(command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self._as_owner(list(command)), check=check, capture_output=True, text=True,
                              timeout=60, cwd=self.home)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.socket_dir} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_file), "-o", options, "-w",
                  "-t", "30", "start")
        _wait(lambda: _accepts(self.port), 30, f"PostgreSQL did not listen on {self.port}")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: clients are disconnected and the server shuts down, as in a restart for an upgrade."""
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "30", "stop", check=False)

    @property
    def running(self) -> bool:
        return self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "status", check=False).returncode == 0

    def create_database(self, name: str) -> None:
        self._run(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private cluster, stopped and removed afterwards (its folder outside the test's
    tmp_path, which the postgres user may not enter)."""
    if not (PG_BIN / "initdb").exists():
        import pytest

        pytest.skip(f"{PG_BIN} has no initdb: install Debian's postgresql-15")
    home = Path(tempfile.mkdtemp(prefix="safecam-pg-"))
    try:
        server = PrivatePostgres(home=home)
        server.start()
        try:
            yield server
        finally:
            server.stop("immediate")
    finally:
        shutil.rmtree(home, ignore_errors=True)


# --- Redis -------------------------------------------------------------------------------------------------


@dataclass
class PrivateRedis:
    """``redis-server`` on a free port that keeps nothing on disk: a restart empties its queues."""

    home: Path
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        with (self.home / "redis.log").open("ab") as log:
            self._process = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                 "--dir", str(self.home)], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        _wait(lambda: _accepts(self.port) or self._process.poll() is not None, 10, "redis-server did not start")
        if self._process.poll() is not None:
            raise RuntimeError(f"redis-server exited: {(self.home / 'redis.log').read_text()[-2000:]}")

    def stop(self) -> None:
        """SIGKILL: the server goes at once, with every queued message (it saves nothing anyway)."""
        if self._process is not None and self._process.poll() is None:
            self._process.send_signal(signal.SIGKILL)
            self._process.wait(timeout=10)
        self._process = None
        _wait(lambda: not _accepts(self.port), 10, f"port {self.port} still answers")


@contextmanager
def private_redis(home: Path) -> Iterator[PrivateRedis]:
    if not Path(REDIS_SERVER).exists():
        import pytest

        pytest.skip("redis-server is not installed")
    server = PrivateRedis(home=home)
    server.start()
    try:
        yield server
    finally:
        server.stop()


# --- a small disk ------------------------------------------------------------------------------------------


@contextmanager
def small_filesystem(folder: Path, megabytes: int) -> Iterator[bool]:
    """Mount a tmpfs of ``megabytes`` on ``folder`` (it must exist and be empty); yields False, leaving
    the folder as it is, when this sandbox does not allow mounting (the caller then limits by setting)."""
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m,mode=0755", "tmpfs", str(folder)],
                             capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


# --- this process's Celery producer ------------------------------------------------------------------------


@contextmanager
def broker_for_this_process(url: str | None, data_dir: Path) -> Iterator[None]:
    """Queue this process's tasks on the broker a pipeline's workers consume (``url``; None: the file
    broker under the pipeline's ``data_dir``, as ``safecam.settings`` lays it out)."""
    from safecam.celery import app

    saved = (app.conf.broker_url, app.conf.broker_transport_options, app.conf.broker_write_url,
             app.conf.broker_read_url)

    def use(broker_url: str, options: dict[str, Any], write_url: str | None = None,
            read_url: str | None = None) -> None:
        # (kombu keeps its pools in a registry keyed by the connection: closing one would poison it.)
        app.conf.broker_url = broker_url
        # Celery copies the URL into these when it reads the settings; the producer uses the write one.
        app.conf.broker_write_url = write_url or broker_url
        app.conf.broker_read_url = read_url or broker_url
        app.conf.broker_transport_options = options
        app._pool = None
        app.amqp._producer_pool = None

    if url is None:
        queue = data_dir / "broker" / "queue"
        control = data_dir / "broker" / "control"
        for folder in (queue, control):
            folder.mkdir(parents=True, exist_ok=True)
        use("filesystem://", {"data_folder_in": str(queue), "data_folder_out": str(queue),
                              "control_folder": str(control), "store_processed": False})
    else:
        use(url, {"visibility_timeout": 3600})
    try:
        yield
    finally:
        use(*saved)
