"""Helpers shared by the benches: throw-away databases, free ports, and measuring process trees.

CPU is counted exactly where the kernel allows it: a process reaped with ``os.wait4`` reports the
user+system time of itself *and of every descendant it reaped* (ffmpeg, ffprobe), so a run's total
needs no sampling. For a window inside a run (steady state, warm-up excluded), a snapshot adds a
live process's own time, the time of the children it already reaped (``children_user`` and
``children_system``) and the time of its live descendants. Memory is sampled: the sum of RSS and of
PSS (shared pages divided among the processes sharing them, so N ffmpeg processes are not charged N
times for the same libraries) over a process and its descendants.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil

ROOT = Path(__file__).resolve().parent.parent


def default_workdir() -> str | None:
    """A disk-backed temporary folder: on some machines /tmp creates files far more slowly."""
    return os.environ.get("TMPDIR") or ("/var/tmp" if os.path.isdir("/var/tmp") else None)


def free_port() -> int:
    """A loopback port nobody listens on right now (the kernel's pick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def free_port_pair() -> int:
    """A port P such that P and P + 1 are both free (the simulator's RTSP and control ports)."""
    for _ in range(50):
        port = free_port()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports found")


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


# --- bench databases ---------------------------------------------------------------------------------


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def check_bench_database(url: str) -> None:
    """Refuse any database that is not obviously a bench's own: a bench drops what it creates."""
    name = database_name(url)
    if not re.fullmatch(r"[a-z0-9_]+", name) or "bench" not in name or name.startswith("test"):
        raise SystemExit(f"refusing database {name!r}: a bench database's name must contain 'bench' "
                         "(it is created and dropped by the bench)")


def _maintenance_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, parts.fragment))


def database_recreate(url: str) -> None:
    """Drop (if present) and create the bench database, so every run starts empty."""
    import psycopg

    check_bench_database(url)
    name = database_name(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(url: str) -> None:
    import psycopg

    check_bench_database(url)
    with psycopg.connect(_maintenance_url(url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database_name(url)}" WITH (FORCE)')


# --- processes ---------------------------------------------------------------------------------------


def reap(process: subprocess.Popen, timeout: float | None = None) -> float:
    """Wait for a child and return the CPU-seconds (user+sys) of it and every descendant it reaped."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG if deadline is not None else 0)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            return usage.ru_utime + usage.ru_stime
        if deadline is not None and time.monotonic() > deadline:
            raise subprocess.TimeoutExpired(process.args, timeout or 0)
        time.sleep(0.05)


def signal_send(process: subprocess.Popen, sig: int) -> None:
    """Signal a child not yet reaped. (``Popen.send_signal`` polls first, and a poll that reaps
    the child throws away the CPU time ``reap`` wants from ``wait4``.)"""
    if process.returncode is None:
        try:
            os.kill(process.pid, sig)
        except ProcessLookupError:
            pass


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 60.0) -> float:
    """Signal a child, wait for it (killing it after ``timeout``), return its reaped CPU-seconds."""
    signal_send(process, sig)
    try:
        return reap(process, timeout=timeout)
    except subprocess.TimeoutExpired:
        signal_send(process, signal.SIGKILL)
        return reap(process)


def _own_times(proc: psutil.Process) -> tuple[float, float]:
    """(own user+sys, reaped children's user+sys) of one process."""
    times = proc.cpu_times()
    return times.user + times.system, times.children_user + times.children_system


def tree_cpu(roots: list[psutil.Process]) -> float:
    """CPU-seconds so far of ``roots``, the children they reaped, and their live descendants."""
    total = 0.0
    for root in roots:
        try:
            descendants = root.children(recursive=True)
        except psutil.Error:
            descendants = []
        for child in descendants:  # children first: one reaped in between counts at worst twice, briefly
            try:
                total += _own_times(child)[0]
            except psutil.Error:
                pass
        try:
            own, reaped = _own_times(root)
            total += own + reaped
        except psutil.Error:
            pass
    return total


def tree_parts(root: psutil.Process) -> dict[str, float]:
    """The CPU of a process tree split into its own (Python), its live children, and those it reaped."""
    parts = {"self": 0.0, "live children": 0.0, "reaped children": 0.0}
    try:
        for child in root.children(recursive=True):
            try:
                parts["live children"] += _own_times(child)[0]
            except psutil.Error:
                pass
        parts["self"], parts["reaped children"] = _own_times(root)
    except psutil.Error:
        pass
    return parts


def tree_memory(roots: list[psutil.Process]) -> tuple[int, int, int]:
    """(sum of RSS, sum of PSS, number of processes) over ``roots`` and their descendants."""
    rss = pss = count = 0
    seen: set[int] = set()
    for root in roots:
        try:
            procs = [root, *root.children(recursive=True)]
        except psutil.Error:
            continue
        for proc in procs:
            if proc.pid in seen:
                continue
            seen.add(proc.pid)
            try:
                info = proc.memory_full_info()
            except psutil.Error:
                continue
            rss += info.rss
            pss += getattr(info, "pss", info.rss)
            count += 1
    return rss, pss, count


@dataclass
class MemorySampler:
    """Samples a process tree's memory every ``every`` seconds in a thread, once started."""

    roots: list[psutil.Process]
    every: float = 2.0
    samples: list[tuple[int, int, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="memory-sampler")
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            self.samples.append(tree_memory(self.roots))

    def finish(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def summary(self) -> dict[str, float]:
        """Mean and peak of the summed RSS and PSS (MB), and the mean process count."""
        if not self.samples:
            return {"rss_mean": 0.0, "rss_max": 0.0, "pss_mean": 0.0, "pss_max": 0.0, "procs": 0.0}
        mb = 1024 * 1024
        rss = [s[0] / mb for s in self.samples]
        pss = [s[1] / mb for s in self.samples]
        return {"rss_mean": sum(rss) / len(rss), "rss_max": max(rss), "pss_mean": sum(pss) / len(pss),
                "pss_max": max(pss), "procs": sum(s[2] for s in self.samples) / len(self.samples)}


def postmaster() -> psutil.Process | None:
    """The local PostgreSQL server's parent process (its backends are its children), if one runs."""
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            cmdline = proc.info.get("cmdline") or []
            if proc.info.get("name") == "postgres" and "-D" in cmdline and proc.parent().name() != "postgres":
                return proc
        except psutil.Error:
            continue
    return None


def children_cpu() -> float:
    """CPU-seconds of every child this process has reaped (for sanity checks)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def table(rows: list[list[str]], header: list[str]) -> str:
    """A plain text table, first column left-aligned, the rest right-aligned."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    for index, row in enumerate([header, *rows]):
        cells = [str(c).ljust(widths[0]) if i == 0 else str(c).rjust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``values`` by nearest rank; NaN for none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def cleanup(work: Path, database: str | None, keep: bool) -> None:
    """Remove a bench's work folder and database, or say where they are with --keep."""
    import shutil

    if keep:
        print(f"kept: {work}" + (f" and database {database_name(database)}" if database else ""))
        return
    shutil.rmtree(work, ignore_errors=True)
    if database:
        database_drop(database)
