"""Preview pictures for the timeline strip: the first frame of about one segment per
``SAFECAM_THUMBNAIL_SECONDS`` of each camera's footage, made in the background.

* **Which segments** (``thumbnails_due``): per camera, walking its stored segments in time order, a
  segment is due when it starts at least ``SAFECAM_THUMBNAIL_SECONDS`` after the previous segment
  that has a picture (or was chosen in the same pass, or yielded none: see below). Only the last
  ``WINDOW`` of footage is considered, so a new install or a worker that was down for a week does
  not try to catch up on months; each pass makes at most ``limit`` pictures, shared round-robin
  between cameras, and stops starting new ones after ``BUDGET_SECONDS`` so it ends before beat
  starts the next one. Walking every segment of the window (not only those after the newest
  picture) lets segments ingested late, after a storage outage, still get their pictures.
* **One picture** (``thumbnail_make``): the segment is streamed from the storage server (which may
  be SFTP or S3) into ffmpeg's stdin, ffmpeg decodes the first frame and writes a JPEG 160 px wide to
  its stdout; the picture is stored beside the segment (``thumbnail_name``), then the segment is
  flagged by a conditional UPDATE that only matches while it is still ``stored``.
* **Retention** deletes a flagged segment's picture with its file. The flag is set only after the
  picture exists and only while the segment is stored, so retention, which reads the flag after
  claiming, always knows about a picture it must delete; when retention claimed the segment while
  the picture was being made, the UPDATE matches nothing and the picture is deleted here instead.
  A process killed between storing the picture and flagging the segment leaves an unflagged picture:
  the segment is still due, so the next pass, a minute later, replaces it and flags it (retention
  could take the segment first only on a camera whose retention is as short as an hour or two).
* **Damaged or missing segments** are logged and remembered (in the cache, for the window's length)
  as done without a picture: the spacing counts from them like from a picture, so no pass tries
  them again and a camera whose every segment is broken costs one ffmpeg run per
  ``SAFECAM_THUMBNAIL_SECONDS``, like a healthy one. The strip just has no picture there; the flag
  keeps meaning "a picture of this footage exists", which is what the player and retention rely
  on. With the default per-process cache a segment may be tried once per worker process. A storage
  server that fails outright stops the pass without remembering anything: the next pass retries.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
import threading
import time
from datetime import datetime, timedelta
from itertools import chain, zip_longest
from typing import IO, Any

import ffmpeg
from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone

from cameras.models import Camera
from footage.models import Segment, SegmentState
from footage.services import footage_storage, storage_accepting

log = logging.getLogger(__name__)

# Only recent footage gets pictures: the strip matters most for the last hours, and a pass must
# not spend its time on footage from before the install (or before a long outage).
WINDOW = timedelta(hours=6)
# Pictures per pass (one pass a minute): 24 cameras need 24 a minute at the default spacing, so
# a backlog clears at about four times the rate footage arrives.
THUMBNAILS_PER_PASS = 100
BUDGET_SECONDS = 40
WIDTH = 160
JPEG_QUALITY = 5  # ffmpeg's -q:v, 2 (best) to 31: a few KB for a 160 px picture
FFMPEG_SECONDS = 30
CHUNK = 1 << 16


class ThumbnailUnusable(Exception):
    """The segment yields no picture (damaged, not H.264 video, or missing): do not try it again."""


def thumbnail_name(storage_name: str) -> str:
    """Where a segment's preview picture is stored: beside it, ``.ts`` replaced by ``.jpg``."""
    stem = storage_name[:-3] if storage_name.endswith(".ts") else storage_name
    return f"{stem}.jpg"


def thumbnails_due(*, now: datetime | None = None, limit: int = THUMBNAILS_PER_PASS) -> list[Segment]:
    """Stored segments of the last ``WINDOW`` that should get a picture, oldest first per camera,
    cameras taking turns, at most ``limit``."""
    now = now or timezone.now()
    every = timedelta(seconds=settings.SAFECAM_THUMBNAIL_SECONDS)
    per_camera = [_camera_due(camera_id, since=now - WINDOW, until=now, every=every, limit=limit)
                  for camera_id in Camera.objects.order_by("pk").values_list("pk", flat=True)]
    chosen = [pk for pk in chain.from_iterable(zip_longest(*per_camera)) if pk is not None][:limit]
    segments = Segment.objects.in_bulk(chosen)
    return [segments[pk] for pk in chosen if pk in segments]


def _camera_due(camera_id: int, *, since: datetime, until: datetime, every: timedelta, limit: int) -> list[int]:
    # The last picture before the window keeps the spacing across its edge (the partial index answers).
    previous = (Segment.objects.filter(camera_id=camera_id, thumbnail=True, start__lt=since)
                .order_by("-start").values_list("start", flat=True).first())
    failed = _failures(camera_id)
    rows = (Segment.objects.filter(camera_id=camera_id, state=SegmentState.STORED, start__gte=since,
                                   start__lte=until)
            .order_by("start").values_list("pk", "start", "thumbnail"))
    due: list[int] = []
    for pk, start, has_picture in rows.iterator(chunk_size=2000):
        if has_picture or pk in failed:
            previous = start
        elif previous is None or start - previous >= every:
            due.append(pk)
            previous = start
            if len(due) >= limit:
                break
    return due


def thumbnail_make(*, segment: Segment) -> bool:
    """Make and store the segment's preview picture; True when it now has one.

    False when the segment yields no picture (logged, and remembered so passes move on) or when
    retention claimed it meanwhile. A storage server that fails outright raises.
    """
    if segment.state != SegmentState.STORED:
        return False
    storage = footage_storage()
    name = thumbnail_name(segment.storage_name)
    try:
        picture = _first_frame(storage, segment.storage_name)
    except ThumbnailUnusable as exc:
        return _unusable(segment, str(exc))
    except Exception as exc:
        if _missing(storage, segment.storage_name):
            return _unusable(segment, f"the file is missing ({type(exc).__name__}: {exc})")
        raise
    _delete(storage, name)  # an unflagged picture left by a killed pass
    saved = storage.save(name, ContentFile(picture))
    if saved != name:
        # Another pass stored the same picture between our delete and save (the storage picked a
        # free name for ours): theirs stands, a second copy would be a file nothing deletes.
        _delete(storage, saved)
    if Segment.objects.filter(pk=segment.pk, state=SegmentState.STORED).update(thumbnail=True):
        return True
    # Retention claimed the segment while the picture was made and did not know about the picture.
    _delete(storage, name)
    return False


def thumbnails_make_pass(*, now: datetime | None = None, limit: int = THUMBNAILS_PER_PASS) -> int:
    """One pass (every minute, beat): pictures for the segments due; how many were made."""
    if not storage_accepting(now):
        log.info("Storage server unreachable: no preview pictures this pass")
        return 0
    deadline = time.monotonic() + BUDGET_SECONDS
    made = 0
    for segment in thumbnails_due(now=now, limit=limit):
        if time.monotonic() > deadline:
            break  # the next pass goes on from here
        try:
            if thumbnail_make(segment=segment):
                made += 1
        except Exception:
            log.warning("Preview pictures stopped at %s: the storage server failed; the next pass retries",
                        segment.storage_name, exc_info=True)
            break
    return made


def thumbnail_command() -> list[str]:
    """ffmpeg: an MPEG-TS segment on stdin, its first video frame as a JPEG ``WIDTH`` px wide on
    stdout (aspect kept, even height)."""
    # One decoding thread: a single frame, and the worker also ingests and serves.
    stream = ffmpeg.input("pipe:", f="mpegts", threads=1)
    output = ffmpeg.output(stream.video.filter("scale", WIDTH, -2), "pipe:", vframes=1, f="image2",
                           vcodec="mjpeg", **{"q:v": JPEG_QUALITY})
    return ffmpeg.compile(output.global_args("-hide_banner", "-loglevel", "error"), cmd="ffmpeg")


def _first_frame(storage: Any, storage_name: str) -> bytes:
    """Stream the segment into ffmpeg (no shell, no local copy) and return its JPEG."""
    with storage.open(storage_name, "rb") as handle, tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(thumbnail_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=errors)
        output: list[bytes] = []
        reader = threading.Thread(target=lambda: output.append(process.stdout.read()), daemon=True)
        reader.start()
        watchdog = threading.Timer(FFMPEG_SECONDS, process.kill)
        watchdog.start()
        try:
            _feed(handle, process.stdin)
            process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:  # the storage failed while feeding
                process.kill()
                process.wait()
            reader.join()
            process.stdout.close()
        errors.seek(0)
        detail = errors.read()[-1000:].decode(errors="replace").strip()
    picture = output[0] if output else b""
    if process.returncode != 0 or not picture.startswith(b"\xff\xd8"):
        if process.returncode == -9:
            detail = f"ffmpeg took longer than {FFMPEG_SECONDS} s"
        raise ThumbnailUnusable(detail or f"ffmpeg exited with code {process.returncode} and no picture")
    return picture


def _feed(handle: IO[bytes], pipe: IO[bytes]) -> None:
    try:
        while chunk := handle.read(CHUNK):
            pipe.write(chunk)
    except BrokenPipeError:
        pass  # ffmpeg has its frame and exited: the rest of the segment is not needed
    finally:
        try:
            pipe.close()
        except BrokenPipeError:
            pass


def _unusable(segment: Segment, reason: str) -> bool:
    log.warning("No preview picture for %s: %s", segment.storage_name, reason)
    # Segment pk -> start; entries that left the window are dropped. Read-modify-write: two passes
    # at once may lose an entry, which costs one more attempt.
    oldest = (timezone.now() - WINDOW).timestamp()
    failed = {pk: start for pk, start in _failures(segment.camera_id).items() if start >= oldest}
    failed[segment.pk] = segment.start.timestamp()
    cache.set(_failures_key(segment.camera_id), failed, timeout=int(WINDOW.total_seconds()))
    return False


def _failures(camera_id: int) -> dict[int, float]:
    return cache.get(_failures_key(camera_id)) or {}


def _failures_key(camera_id: int) -> str:
    return f"footage:thumbnails:unusable:{camera_id}"


def _missing(storage: Any, name: str) -> bool:
    try:
        return not storage.exists(name)
    except Exception:  # noqa: BLE001  the server is down: not a verdict on the file
        return False


def _delete(storage: Any, name: str) -> None:
    """Delete a picture; one already gone counts as deleted (SFTP and S3 differ on absent files)."""
    try:
        storage.delete(name)
    except Exception:
        if storage.exists(name):
            raise
