"""Real storage servers on loopback for tests: Debian's OpenSSH (SFTP) and moto's S3 endpoint.

Each fixture yields a handle with the storage URL and the environment variables SafeCam reads,
and builds the ``STORAGES`` entry through ``safecam.config.storage_url``, so a test exercises the
same configuration path as production. Ports are picked by the kernel, so ``pytest -n N`` workers
never collide. Use the fixtures from a test module with ``from tests.servers import sftp_server``
(pytest finds a fixture that a test module imports) or re-export them from a ``conftest.py``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import Storage
from django.utils.module_loading import import_string

from safecam.config import storage_url

SSHD = Path("/usr/sbin/sshd")
STORAGE_VARIABLE = "SAFECAM_STORAGE_URL"
# storage_url only takes the default when the variable is unset; the fixtures always set it.
UNUSED_DEFAULT = Path("/unused")


def storage_from_config(entry: dict[str, Any]) -> Storage:
    """An instantiated Django storage from a ``STORAGES`` entry (``BACKEND`` and ``OPTIONS``)."""
    backend = import_string(entry["BACKEND"])
    return backend(**entry.get("OPTIONS", {}))


def free_port() -> int:
    """A loopback port nobody listens on right now (the kernel's pick, so xdist workers differ)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _greets_as_ssh(port: int) -> bool:
    """Whether an SSH server answers on the port (a mere accept could be another process's listener)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as connection:
            return connection.recv(64).startswith(b"SSH-")
    except OSError:
        return False


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``: sshd forks one session per connection, each in its own session id."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # it exited while we looked
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses, so split after the last ")".
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


def _run(*command: str) -> None:
    subprocess.run(command, check=True, capture_output=True)


@dataclass
class SFTPServer:
    """A throw-away OpenSSH server on 127.0.0.1 whose SFTP subsystem serves ``root``."""

    home: Path
    port: int
    root: Path = field(init=False)
    key_file: Path = field(init=False)
    known_hosts: Path = field(init=False)
    user: str = field(init=False)
    config_file: Path = field(init=False)
    log_file: Path = field(init=False)
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self.root = self.home / "storage"
        self.root.mkdir()
        self.key_file = self.home / "client_key"
        self.known_hosts = self.home / "known_hosts"
        # sshd authenticates against the passwd entry of the user it runs as (root here).
        self.user = pwd.getpwuid(os.getuid()).pw_name
        host_key = self.home / "host_key"
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "safecam-test-host", "-f", str(host_key))
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "safecam-test-client", "-f", str(self.key_file))
        authorized_keys = self.home / "authorized_keys"
        shutil.copy(self.key_file.with_suffix(".pub"), authorized_keys)
        key_type, key_body = (self.home / "host_key.pub").read_text().split()[:2]
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {key_type} {key_body}\n")
        self.log_file = self.home / "sshd.log"
        self.config_file = self.home / "sshd_config"
        self.config_file.write_text(
            f"ListenAddress 127.0.0.1\n"
            f"Port {self.port}\n"
            f"HostKey {host_key}\n"
            f"PidFile {self.home / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {authorized_keys}\n"
            "PubkeyAuthentication yes\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            "UsePAM no\n"
            "StrictModes no\n"
            "UseDNS no\n"
            "PrintMotd no\n"
            "Subsystem sftp internal-sftp\n"
        )

    @property
    def url(self) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{self.root}"

    @property
    def env(self) -> dict[str, str]:
        return {STORAGE_VARIABLE: self.url, "SAFECAM_SFTP_KEY_FILE": str(self.key_file),
                "SAFECAM_SFTP_KNOWN_HOSTS": str(self.known_hosts)}

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def storage_config(self) -> dict[str, Any]:
        return storage_url(STORAGE_VARIABLE, UNUSED_DEFAULT, environ=self.env)

    def start(self, timeout: float = 5.0) -> None:
        """Start sshd on the same port (again); returns once it greets clients on that port."""
        if self.running:
            return
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege-separation directory
        # -D keeps the listener in the foreground so we own it; -e sends its log to stderr (the log file).
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [str(SSHD), "-D", "-e", "-f", str(self.config_file)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            )
        deadline = time.monotonic() + timeout
        while not (_greets_as_ssh(self.port) and self._process.poll() is None):
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"sshd exited on start (port {self.port}):\n{self.log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"sshd did not listen on port {self.port} within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.01)

    def stop(self) -> None:
        """Kill the listener and every open session, as a crashed or rebooted server would.

        New connections are refused at once; clients holding a connection see it closed.
        """
        if self._process is None:
            return
        sessions = _descendants(self._process.pid)  # before they are orphaned and re-parented
        self._process.kill()  # SIGKILL also ends a frozen (SIGSTOPped) listener
        self._process.wait(timeout=5)
        self._process = None
        for pid in sessions:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def freeze(self) -> None:
        """Stop the listener and its sessions with SIGSTOP: a hung server whose kernel still accepts TCP."""
        self._signal_all(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal_all(signal.SIGCONT)

    def _signal_all(self, signum: int) -> None:
        if self._process is None:
            return
        for pid in [self._process.pid, *_descendants(self._process.pid)]:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no sshd log)"


@pytest.fixture
def sftp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SFTPServer]:
    """A running OpenSSH SFTP server on a free loopback port, killed after the test."""
    if not SSHD.exists():
        pytest.skip(f"{SSHD} is absent: install Debian's openssh-server to test SFTP storage")
    home = tmp_path_factory.mktemp("sftp")
    # Another xdist worker may take the kernel's pick before sshd binds it: try a fresh port.
    for attempt in range(3):
        attempt_home = home / f"attempt-{attempt}"
        attempt_home.mkdir()
        server = SFTPServer(home=attempt_home, port=free_port())
        try:
            server.start()
            break
        except RuntimeError:
            if attempt == 2:
                raise
    try:
        yield server
    finally:
        server.stop()


@dataclass
class S3Server:
    """A bucket on moto's S3-compatible HTTP endpoint."""

    endpoint_url: str
    bucket: str
    prefix: str
    region: str = "eu-central-1"
    access_key: str = "safecam-test"
    secret_key: str = "safecam-test-secret"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def env(self) -> dict[str, str]:
        return {STORAGE_VARIABLE: self.url, "AWS_S3_ENDPOINT_URL": self.endpoint_url,
                "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_S3_REGION_NAME": self.region}

    def storage_config(self) -> dict[str, Any]:
        return storage_url(STORAGE_VARIABLE, UNUSED_DEFAULT, environ=self.env)

    def client(self) -> Any:
        """A boto3 S3 client for looking behind the storage's back."""
        import boto3

        return boto3.client("s3", endpoint_url=self.endpoint_url, region_name=self.region,
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 endpoint on a kernel-picked loopback port, one per test process (xdist worker)."""
    pytest.importorskip("moto", reason="moto[server] is not installed: pip install 'moto[server]'")
    from moto.server import ThreadedMotoServer

    # In a thread of this process: port 0 lets the kernel pick, with no race between workers.
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_server(moto_endpoint: str) -> S3Server:
    """A fresh, empty bucket on the moto endpoint for this test."""
    server = S3Server(endpoint_url=moto_endpoint, bucket=f"safecam-{uuid.uuid4().hex[:12]}", prefix="footage")
    server.client().create_bucket(Bucket=server.bucket,
                                  CreateBucketConfiguration={"LocationConstraint": server.region})
    return server
