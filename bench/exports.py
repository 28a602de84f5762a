"""Evidential exports: the master copy against a bare ffmpeg concat, and the redacted copy's speed.

Usage: .venv/bin/python bench/exports.py [--minutes 10] [--trials 3] [--width 1280 --height 720 --fps 25]
                                          [--bitrate 2M] [--keep]

Runs Django on a throw-away SQLite database and file storage in a temporary folder (the export
path is the same for every storage backend; the database holds only a few rows). Steps:

1. encode ``--minutes`` of a moving test pattern at 720p/25 fps (~2 Mbit/s, a keyframe a second)
   and cut it into 10-s MPEG-TS segments as the recorder does; index them for a camera and put
   them on the footage storage;
2. **master export** (``access_requests.exporting.master_build`` + upload, as the export job runs
   it: each stored segment fetched and re-hashed against the index, concatenated byte for byte, the
   result uploaded), ``--trials`` times, against the **floor** in the same run: a bare
   ``ffmpeg -f concat -c copy`` of the same stored segment files into one MPEG-TS;
3. **redacted export**: the whole job (``export_render``: master, then the redacted H.264 MP4 of
   the range with two moving blur boxes and the watermark, upload), as a multiple of real time,
   against a bare ``ffmpeg -c:v libx264 -preset veryfast`` re-encode of the master with no filters;
4. approval and packaging (manifest, two cover letters, ZIP), and ``verify_export`` on the ZIP.

Goals (issue 5): master export within 1.2× the bare concat; redacted export at least 4× real time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common  # noqa: E402

SPEC = {"mode": "regions", "regions": [
    {"effect": "blur", "keyframes": [{"t": 0, "x": 0.05, "y": 0.3, "w": 0.15, "h": 0.35},
                                     {"t": 300, "x": 0.7, "y": 0.3, "w": 0.15, "h": 0.35},
                                     {"t": 600, "x": 0.1, "y": 0.35, "w": 0.15, "h": 0.35}]},
    {"effect": "blur", "keyframes": [{"t": 0, "x": 0.6, "y": 0.1, "w": 0.12, "h": 0.2},
                                     {"t": 600, "x": 0.2, "y": 0.15, "w": 0.12, "h": 0.2}]},
]}


def encode(folder: Path, *, seconds: int, width: int, height: int, fps: int, bitrate: str) -> list:
    from tests.media import CSV_NAME, segments_read

    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
         "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate={fps}:duration={seconds}",
         "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-b:v", bitrate, "-maxrate", bitrate,
         "-bufsize", bitrate, "-g", str(fps), "-keyint_min", str(fps), "-sc_threshold", "0",
         "-f", "segment", "-segment_time", "10", "-reset_timestamps", "0", "-segment_format", "mpegts",
         "-segment_list", str(folder / CSV_NAME), "-segment_list_type", "csv", str(folder / "%06d.ts")],
        check=True)
    return segments_read(folder)


def django_setup(work: Path) -> None:
    os.environ["SAFECAM_DATA_DIR"] = str(work / "data")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safecam.settings")
    import django
    from django.conf import settings

    django.setup()
    settings.STORAGES = {**settings.STORAGES, "footage": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(work / "storage")}}}
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--fps", type=int, default=25)
    parser.add_argument("--bitrate", default="2M")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="safecam-bench-exports-", dir=common.default_workdir()))
    try:
        run(work, args)
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def run(work: Path, args: argparse.Namespace) -> None:
    seconds = args.minutes * 60
    print(f"Encoding {args.minutes} min of {args.width}x{args.height} at {args.fps} fps, {args.bitrate}bit/s …")
    segments = encode(work / "camera", seconds=seconds, width=args.width, height=args.height, fps=args.fps,
                      bitrate=args.bitrate)
    django_setup(work)

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from access_requests import exporting, services
    from access_requests.models import Export, RequestState
    from access_requests.packages import package_verify, sha256_file
    from cameras.models import Camera, Site
    from footage.services import footage_storage
    from safecam.roles import roles_sync
    from tests.access_requests.conftest import request_make
    from tests.media import media_index

    roles_sync()
    dpo = get_user_model().objects.create_superuser("bench-dpo", "dpo@example.lt", "x")
    site = Site.objects.create(name="Vabalninkas", slug="vabalninkas")
    camera = Camera.objects.create(site=site, name="Bench camera", stream_url="rtsp://127.0.0.1/bench",
                                   purpose="Public order", legal_basis="GDPR 6(1)(e)")
    start = (timezone.now() - timedelta(hours=1, seconds=seconds)).replace(microsecond=0)
    rows = media_index(camera, start, segments)
    total_bytes = sum(r.size for r in rows)
    print(f"{len(rows)} segments, {total_bytes / 1e6:.1f} MB indexed and stored\n")

    request = request_make(by=dpo, camera=camera, start=start, minutes=args.minutes)
    services.request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="id_document")
    services.request_move(request=request, to=RequestState.SEARCHING, by=dpo)
    found = services.footage_attach(request=request, camera=camera, by=dpo, start=rows[0].start, end=rows[-1].end)

    # 2. master export vs bare ffmpeg concat, alternating, same stored files.
    storage_root = Path(footage_storage().location)
    concat_list = work / "concat.txt"
    concat_list.write_text("".join(f"file '{storage_root / r.storage_name}'\n" for r in rows))
    probe = Export(request=request, footage=found, camera=camera, start=found.start, end=found.end, created_by=dpo)
    ours, floor = [], []
    for trial in range(args.trials):
        folder = work / f"master-{trial}"
        folder.mkdir()
        began = time.perf_counter()
        master, _listed, digest, size = exporting.master_build(probe, exporting._segments(probe), folder)
        exporting._upload(master, f"bench/{trial}/{master.name}")
        ours.append(time.perf_counter() - began)
        assert size == total_bytes
        began = time.perf_counter()
        subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-f", "concat",
                        "-safe", "0", "-i", str(concat_list), "-c", "copy", "-f", "mpegts",
                        str(folder / "floor.ts")], check=True)
        floor.append(time.perf_counter() - began)
        shutil.rmtree(folder)
    ratio = statistics.median(ours) / statistics.median(floor)
    print(f"Master export of {args.minutes} min ({total_bytes / 1e6:.0f} MB), {args.trials} trials:")
    print(f"  SafeCam (fetch + re-hash every segment + byte concat + upload)  median {statistics.median(ours):6.2f} s"
          f"   all {', '.join(f'{t:.2f}' for t in ours)}")
    print(f"  bare ffmpeg -f concat -c copy                                     median {statistics.median(floor):6.2f} s"
          f"   all {', '.join(f'{t:.2f}' for t in floor)}")
    print(f"  ratio {ratio:.2f}× (goal ≤ 1.2×)\n")

    # 3. the whole export job with redaction, vs a bare re-encode of the same master.
    export = services.export_create(found=found, by=dpo, redaction=SPEC)
    began = time.perf_counter()
    assert exporting.export_render(export.pk) == "ready", Export.objects.get(pk=export.pk).error
    job = time.perf_counter() - began
    export.refresh_from_db()
    clip = export.timings["clip_seconds"]
    redact = export.timings["redact"]
    with footage_storage().open(export.master_name, "rb") as source, open(work / "master.ts", "wb") as target:
        shutil.copyfileobj(source, target, 1 << 20)
    began = time.perf_counter()
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", str(work / "master.ts"),
                    "-map", "0:v", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
                    "-movflags", "+faststart", str(work / "floor.mp4")], check=True)
    bare = time.perf_counter() - began
    print(f"Redacted export of {clip:.0f} s at {args.width}x{args.height}, 2 moving blur boxes + watermark:")
    print(f"  whole job (master, redact, hash, upload)  {job:7.2f} s  = {clip / job:5.2f}× real time")
    print(f"  of which the redacted render              {redact:7.2f} s  = {clip / redact:5.2f}× real time (goal ≥ 4×)")
    print(f"  bare ffmpeg re-encode, no filters (floor) {bare:7.2f} s  = {clip / bare:5.2f}× real time")
    print("  timings: " + ", ".join(f"{k} {v:.2f}" for k, v in export.timings.items()) + "\n")

    # 4. packaging and the check.
    services.export_approve(export=export, by=dpo)
    began = time.perf_counter()
    assert exporting.export_package(export.pk) == "done"
    packaged = time.perf_counter() - began
    export.refresh_from_db()
    local = work / "package.zip"
    with footage_storage().open(export.package_name, "rb") as source, open(local, "wb") as target:
        shutil.copyfileobj(source, target, 1 << 20)
    began = time.perf_counter()
    report = package_verify(local, expected_sha256=export.package_sha256)
    verified = time.perf_counter() - began
    assert report.ok, report.problems
    began = time.perf_counter()
    sha256_file(local)
    hash_floor = time.perf_counter() - began
    print(f"Package ({export.package_size / 1e6:.0f} MB): built in {packaged:.2f} s; verify_export {verified:.2f} s "
          f"(bare SHA-256 of the ZIP: {hash_floor:.2f} s)")


if __name__ == "__main__":
    main()
