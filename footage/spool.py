"""The local spool: where ffmpeg writes segments before they move to the storage server.

Layout, one folder per run (a run folder exists before the database knows the run)::

    SPOOL_DIR/<camera public id>/<run folder>/
        .lock          held (flock) by the recorder while ffmpeg writes here
        run.json       {"run_id": …, "camera_id": …}, written when the first segment closes
        segments.csv   ffmpeg's own list: "000003.ts,30.000000,40.000000" per *closed* segment
        000003.ts      a closed segment waiting for ingest (or the one ffmpeg is writing)
        000003.ts.queued   an ingest job for it was queued at this file's mtime

The spool is the source of truth until a segment is indexed: a lost Celery message, a crashed
worker or a storage outage leaves files here, and the sweep queues them again. Nothing is
deleted from the spool before the stored copy has been verified and indexed.

How full it may get (``fill()``): at most ``SAFECAM_SPOOL_LIMIT_MB``, and never so far that its disk
has less than ``SAFECAM_SPOOL_RESERVE_MB`` free (room for the segments ffmpeg has open to close).
At ``SAFECAM_SPOOL_ALERT_PERCENT`` of that the supervisor alerts; at 100 % the recorders stop
writing new footage (a gap "spool full", audited) rather than delete the oldest footage not yet
stored: that footage may be the evidence someone asks for, and a DPO would rather explain a gap
than a deletion nobody decided. They start again once the spool is back under the alert level.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

CSV_NAME = "segments.csv"
META_NAME = "run.json"
LOCK_NAME = ".lock"
QUEUED_SUFFIX = ".queued"


@dataclass(frozen=True)
class ClosedSegment:
    """One line of ffmpeg's segment list: the file and its start and end in stream seconds."""

    sequence: int
    filename: str
    start: float
    end: float


def spool_root() -> Path:
    return Path(settings.SPOOL_DIR)


def run_folder_new(camera_public_id: str, name: str) -> Path:
    folder = spool_root() / camera_public_id / name
    folder.mkdir(parents=True, exist_ok=False)
    return folder


def parse_segment_line(line: str) -> ClosedSegment | None:
    """A line of ffmpeg's CSV segment list, or None when it is not one (a partial write)."""
    parts = line.strip().split(",")
    if len(parts) != 3 or not parts[0].endswith(".ts"):
        return None
    try:
        sequence = int(parts[0].removesuffix(".ts"))
        return ClosedSegment(sequence, parts[0], float(parts[1]), float(parts[2]))
    except ValueError:
        return None


class SegmentListReader:
    """Follows ffmpeg's segment list as it grows, returning only complete new lines."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def new_segments(self) -> list[ClosedSegment]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        complete, _, _rest = data.rpartition(b"\n")
        if not complete and not data.endswith(b"\n"):
            return []
        self.offset += len(complete) + 1
        segments = []
        for line in complete.decode("utf-8", "replace").splitlines():
            segment = parse_segment_line(line)
            if segment is not None:
                segments.append(segment)
        return segments


def closed_segments(folder: Path) -> list[ClosedSegment]:
    return SegmentListReader(folder / CSV_NAME).new_segments()


def meta_write(folder: Path, **data: object) -> None:
    tmp = folder / (META_NAME + ".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, folder / META_NAME)


def meta_read(folder: Path) -> dict:
    try:
        return json.loads((folder / META_NAME).read_text())
    except (FileNotFoundError, ValueError):
        return {}


class RunLock:
    """An exclusive lock on a run folder; the kernel drops it when its holder dies."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.handle = None

    def acquire(self, *, blocking: bool = True) -> bool:
        self.handle = (self.folder / LOCK_NAME).open("a")
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
        except BlockingIOError:
            self.handle.close()
            self.handle = None
            return False
        return True

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


class SegmentBusy(Exception):
    """Another ingest job is storing this spool file right now."""


@contextmanager
def segment_claimed(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on a spool segment while one job stores it (``SegmentBusy`` if taken).

    Two jobs for one file happen (a sweep can list a segment the moment ffmpeg closes it, just before
    its recorder queues it); storing it twice at once would make each copy check fail against the
    other's write and take the storage server for down. A missing file is not locked: the caller
    decides what its absence means.
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        yield
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SegmentBusy(str(path)) from None
        yield
    finally:
        handle.close()


def mark_queued(path: Path) -> None:
    Path(str(path) + QUEUED_SUFFIX).touch()


def queued_clear(path: Path) -> None:
    """The file's ingest job ended without storing it (storage down): no job is queued for it now."""
    try:
        Path(str(path) + QUEUED_SUFFIX).unlink()
    except FileNotFoundError:
        pass


def queued_age(path: Path) -> float | None:
    """Seconds since an ingest job was last queued for ``path``; None if never."""
    try:
        return time.time() - Path(str(path) + QUEUED_SUFFIX).stat().st_mtime
    except FileNotFoundError:
        return None


def segment_discard(path: Path) -> None:
    """Remove a spool file and its marker once the segment is safely indexed."""
    for victim in (path, Path(str(path) + QUEUED_SUFFIX)):
        try:
            victim.unlink()
        except FileNotFoundError:
            pass


def run_folders() -> Iterator[Path]:
    root = spool_root()
    if not root.is_dir():
        return
    for camera_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        try:
            folders = sorted(p for p in camera_dir.iterdir() if p.is_dir())
        except FileNotFoundError:  # its last run folder was removed (and it with it) since the listing
            continue
        yield from folders


def run_folder_is_empty(folder: Path) -> bool:
    return not any(p.suffix == ".ts" for p in folder.iterdir())


def run_folder_remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    try:
        folder.parent.rmdir()  # the camera's folder, once its last run is gone
    except OSError:
        pass


def usage() -> tuple[int, int]:
    """Bytes and segment files waiting in the spool."""
    total = files = 0
    root = spool_root()
    if not root.is_dir():
        return 0, 0
    for dirpath, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith(".ts"):
                try:
                    total += os.stat(os.path.join(dirpath, name)).st_size
                    files += 1
                except FileNotFoundError:
                    pass
    return total, files


@dataclass(frozen=True)
class SpoolFill:
    """How full the spool is: bytes of segments, the most it may hold now, and its disk's free bytes."""

    used: int
    files: int
    capacity: int
    free: int

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.capacity if self.capacity > 0 else 100.0

    @property
    def full(self) -> bool:
        return self.used >= self.capacity

    @property
    def alerting(self) -> bool:
        return self.percent >= settings.SAFECAM_SPOOL_ALERT_PERCENT


_fill_lock = threading.Lock()
_fill_cache: tuple[float, Path, SpoolFill] | None = None
FILL_CACHE_SECONDS = 1.0


def fill(*, max_age: float = 0.0) -> SpoolFill:
    """Measure the spool against its limit and its disk's free space (``max_age``: reuse a measure
    this recent, so the recorder threads of a worker walk the spool once a second between them)."""
    global _fill_cache
    root = spool_root()
    with _fill_lock:
        cached = _fill_cache
        if max_age and cached and cached[1] == root and time.monotonic() - cached[0] < max_age:
            return cached[2]
        used, files = usage()
        root.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(root).free
        limit = settings.SAFECAM_SPOOL_LIMIT_MB * 1024 * 1024
        reserve = settings.SAFECAM_SPOOL_RESERVE_MB * 1024 * 1024
        measured = SpoolFill(used=used, files=files, capacity=max(0, min(limit, used + free - reserve)), free=free)
        _fill_cache = (time.monotonic(), root, measured)
        return measured
