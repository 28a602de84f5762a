"""Real footage for playback tests and benches: H.264 MPEG-TS segments cut by ffmpeg, as the recorder
leaves them (one run, continuous timestamps, ffmpeg's own CSV list), indexed for a camera.

``media_segments()`` encodes once per process and caches the files in a temporary folder;
``media_index()`` stores copies on the footage storage and writes the Run and Segment rows with the
times ingest would give them; ``hls_write()`` lays the same files out as a static HLS folder (the
floor a bench compares the player against).
"""

from __future__ import annotations

import atexit
import csv
import hashlib
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

CSV_NAME = "segments.csv"


@dataclass(frozen=True)
class MediaSegment:
    """One closed segment of the encoded run: its file and its place on the run's stream clock."""

    sequence: int
    path: Path
    start_offset: float
    end_offset: float

    @property
    def duration(self) -> float:
        return self.end_offset - self.start_offset


def ffmpeg_available() -> bool:
    return shutil.which("ffmpeg") is not None


def segments_make(folder: Path, *, seconds: int = 180, segment_seconds: int = 10, size: str = "320x180",
                  rate: int = 5, bitrate: str = "150k") -> list[MediaSegment]:
    """Encode ``seconds`` of a moving test pattern (a keyframe every second) and cut it into
    ``segment_seconds`` segments with continuous timestamps, like the recorder's stream copy."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}:duration={seconds}",
         "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-b:v", bitrate,
         "-g", str(rate), "-keyint_min", str(rate), "-sc_threshold", "0",
         "-f", "segment", "-segment_time", str(segment_seconds), "-reset_timestamps", "0",
         "-segment_format", "mpegts", "-segment_list", str(folder / CSV_NAME), "-segment_list_type", "csv",
         str(folder / "%06d.ts")],
        check=True, timeout=120)
    return segments_read(folder)


def segments_read(folder: Path) -> list[MediaSegment]:
    """The segments of ``folder`` in order, with the offsets ffmpeg listed for them."""
    with (folder / CSV_NAME).open(newline="") as handle:
        rows = [row for row in csv.reader(handle) if row]
    return [MediaSegment(sequence=int(Path(name).stem), path=folder / name, start_offset=float(start),
                         end_offset=float(end)) for name, start, end in rows]


_cache: dict[tuple[int, int], list[MediaSegment]] = {}
_cache_lock = threading.Lock()
_cache_root: Path | None = None


def media_segments(*, seconds: int = 180, segment_seconds: int = 10) -> list[MediaSegment]:
    """Encoded once per process (about a second of ffmpeg), then shared by every test that asks."""
    global _cache_root
    with _cache_lock:
        key = (seconds, segment_seconds)
        if key not in _cache:
            if _cache_root is None:
                _cache_root = Path(tempfile.mkdtemp(prefix="safecam-media-"))
                atexit.register(shutil.rmtree, _cache_root, True)
            _cache[key] = segments_make(_cache_root / f"{seconds}s-{segment_seconds}s", seconds=seconds,
                                        segment_seconds=segment_seconds)
        return _cache[key]


def media_index(camera: Any, start: datetime, segments: list[MediaSegment], *, run: Any = None,
                end_run: bool = False) -> list[Any]:
    """Index ``segments`` for ``camera`` as ingest would: one Run (started so that the first segment
    begins at ``start``, or the given ``run`` to append to), a Segment row per file with its
    start/end from the run's clock, and the file on the footage storage with its real hash and size.
    """
    from django.core.files.base import ContentFile

    from cameras.services import health_count_stored
    from footage.models import Run, Segment
    from footage.services import footage_storage, storage_name_for

    storage = footage_storage()
    if run is None:
        run = Run.objects.create(camera=camera, started_at=start - timedelta(seconds=segments[0].start_offset),
                                 recorder="tests.media", video_codec="h264", width=320, height=180)
    rows = []
    for segment in segments:
        data = segment.path.read_bytes()
        seg_start = run.started_at + timedelta(seconds=segment.start_offset)
        seg_end = run.started_at + timedelta(seconds=segment.end_offset)
        name = storage_name_for(camera, run, segment.sequence, seg_start)
        if storage.exists(name):
            storage.delete(name)
        storage.save(name, ContentFile(data))
        rows.append(Segment(camera=camera, run=run, sequence=segment.sequence, start=seg_start, end=seg_end,
                            duration=segment.duration, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            storage_name=name))
        health_count_stored(camera_id=camera.pk, size=len(data), seconds=segment.duration, start=seg_start)
    created = Segment.objects.bulk_create(rows)
    if end_run and rows:
        Run.objects.filter(pk=run.pk).update(ended_at=rows[-1].end)
    return created


def hls_write(folder: Path, segments: list[MediaSegment], *, start: datetime | None = None) -> Path:
    """A static VOD HLS of ``segments`` in ``folder`` (``index.m3u8`` beside copies of the files),
    with program dates from ``start`` when given; returns the playlist's path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = max(1, round(max(s.duration for s in segments) + 0.499))
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", f"#EXT-X-TARGETDURATION:{target}", "#EXT-X-MEDIA-SEQUENCE:0",
             "#EXT-X-PLAYLIST-TYPE:VOD"]
    for segment in segments:
        shutil.copyfile(segment.path, folder / segment.path.name)
        if start is not None:
            moment = start + timedelta(seconds=segment.start_offset - segments[0].start_offset)
            lines.append("#EXT-X-PROGRAM-DATE-TIME:" + moment.isoformat(timespec="milliseconds"))
        lines += [f"#EXTINF:{segment.duration:.6f},", segment.path.name]
    lines.append("#EXT-X-ENDLIST")
    playlist = folder / "index.m3u8"
    playlist.write_text("\n".join(lines) + "\n")
    return playlist
