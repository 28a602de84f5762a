"""Speed of the subject-access export (master file, redacted render, preview) next to bare ffmpeg, in one run.

Usage: .venv/bin/python bench/redaction.py [--seconds 60] [--trials 3] [--preset veryfast] [--tuning]
           [--workdir /var/tmp] [--keep]

1. Encodes ``--seconds`` of 1280x720, 25 fps, ~2 Mbit/s H.264 test footage (a keyframe a second) in
   10-s MPEG-TS segments, as the recorder leaves them (tests.media.segments_make); not measured.
2. Master file: ``master_concat`` (byte concatenation) against the floor, ``ffmpeg -f concat -c copy``
   of the same segments into one .ts.
3. Render of the whole clip: ``redacted_render`` with two people walking across the picture (two
   blurred boxes, a keyframe every 5 s) and the watermark; the same in ``all_except`` mode (the
   requester walks, everything else blurred); the floor is a bare ``ffmpeg -i master -c:v libx264
   -preset <preset> -crf 23`` re-encode with no filters. Speed is clip seconds / wall seconds.
4. Preview: ``redacted_frame`` (one JPEG) in the middle of the clip, the DPO's wait per picture.

Every figure is the best of ``--trials`` runs, SafeCam and floor taking turns, so a neighbour's
burst of CPU on a shared machine hurts both sides alike; CPU seconds (user+sys of the ffmpeg
children) are printed beside the wall time. ``--tuning`` adds the variants tried for the goal.

Goal (issue): a redacted 720p export at 4x real time or better on 2 cores.

Measured on the 2-core development machine (60 s, best of 3, veryfast): floor 7.8 s (7.7x, 14.8 CPU-s);
two moving blurs + watermark 10.2 s (5.9x, 18.4 CPU-s); all_except 10.2 s (5.9x); watermark only 8.3 s;
two black boxes 9.3 s; with superfast 8.5 s (7.1x) against a 5.9 s floor. master_concat 21 ms for
15.8 MB against 103 ms for ffmpeg's concat demuxer. A preview JPEG takes about 0.2 s. Tried on the way:
the whole-frame blur of all_except as a full-size boxblur (one core, ~8 ms a frame) ran at 2.9x, so it
is now done on a picture averaged down about 9x and scaled back up; the same trick for the boxes made
the regions export slower (scale has no ``enable``: every box paid for two scalings on every frame).
On a shared machine the wall times swing widely (a neighbour's tests took the floor to 2x); the CPU
seconds stay put.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common  # noqa: E402

GOAL = 4.0
WATERMARK = "SC-2026-0007 · released 2026-11-26 14:03 EET"
QUIET = ["-nostdin", "-hide_banner", "-loglevel", "error"]


def walker(*, x0: float, x1: float, y: float, seconds: float, effect: str = "blur") -> dict:
    """A person-sized box crossing the picture, a keyframe every 5 s (as a DPO would place them)."""
    steps = max(1, round(seconds / 5))
    return {"effect": effect, "keyframes": [
        {"t": round(seconds * k / steps, 3), "x": round(x0 + (x1 - x0) * k / steps, 4), "y": y, "w": 0.12, "h": 0.35}
        for k in range(steps + 1)]}


def measure(action: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the children reaped meanwhile) of one call."""
    cpu = common.children_cpu()
    started = time.perf_counter()
    action()
    return time.perf_counter() - started, common.children_cpu() - cpu


def best(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return min(samples, key=lambda sample: sample[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--tuning", action="store_true", help="also time the variants tried for the goal")
    parser.add_argument("--workdir", default=common.default_workdir())
    parser.add_argument("--keep", action="store_true", help="keep the footage and the renders")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="safecam-bench-redaction-", dir=args.workdir))
    os.environ.setdefault("SAFECAM_DATA_DIR", str(work / "data"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "safecam.settings")
    import django

    django.setup()  # only for the translated error messages
    from access_requests import redaction
    from tests.media import segments_make

    try:
        print(f"encoding {args.seconds} s of 1280x720 25 fps test footage in 10-s segments …", flush=True)
        started = time.perf_counter()
        segments = segments_make(work / "segments", seconds=args.seconds, segment_seconds=10, size="1280x720",
                                 rate=25, bitrate="2M")
        paths = [segment.path for segment in segments]
        size = sum(path.stat().st_size for path in paths)
        print(f"{len(paths)} segments, {size / 1e6:.1f} MB, in {time.perf_counter() - started:.1f} s\n", flush=True)

        # --- master file -----------------------------------------------------------------------------
        master = work / "master.ts"
        listing = work / "concat.txt"
        listing.write_text("".join(f"file '{path}'\n" for path in paths))
        floor_ts = work / "floor.ts"
        ours, floor = [], []
        for _trial in range(args.trials):
            ours.append(measure(lambda: redaction.master_concat(segments=paths, out=master)))
            floor.append(measure(lambda: subprocess.run(
                ["ffmpeg", *QUIET, "-y", "-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", "-f", "mpegts",
                 str(floor_ts)], check=True)))
        concat_ours, concat_floor = best(ours)[0], best(floor)[0]
        assert master.stat().st_size == size
        print(common.table([
            ["master_concat (bytes)", f"{concat_ours * 1000:.0f} ms", f"{size / concat_ours / 1e6:.0f} MB/s", "1.00"],
            ["ffmpeg -f concat -c copy (floor)", f"{concat_floor * 1000:.0f} ms",
             f"{size / concat_floor / 1e6:.0f} MB/s", f"{concat_floor / concat_ours:.2f}"],
        ], ["master file", "best wall", "throughput", "time / ours"]))
        print()

        # --- renders ---------------------------------------------------------------------------------
        info = redaction.media_probe(master)
        clip = min(float(args.seconds), info["duration"])
        people = {"mode": "regions", "regions": [walker(x0=0.05, x1=0.8, y=0.3, seconds=clip),
                                                 walker(x0=0.8, x1=0.1, y=0.4, seconds=clip)]}
        requester = {"mode": "all_except", "regions": [walker(x0=0.1, x1=0.7, y=0.35, seconds=clip)]}
        out = work / "clip.mp4"

        def render(spec: dict, **options: object) -> Callable[[], object]:
            return lambda: redaction.redacted_render(master=master, out=out, offset=0, duration=clip, spec=spec,
                                                     watermark=WATERMARK, **options)

        def bare(preset: str, *extra: str) -> Callable[[], object]:
            return lambda: subprocess.run(
                ["ffmpeg", *QUIET, "-y", "-i", str(master), "-map", "0:v", "-c:v", "libx264", "-preset", preset,
                 "-crf", "23", "-pix_fmt", "yuv420p", *extra, str(work / "floor.mp4")], check=True)

        cases: list[tuple[str, Callable[[], object]]] = [
            (f"bare re-encode, {args.preset} (floor)", bare(args.preset)),
            ("SafeCam: 2 moving blurs + watermark", render(people, preset=args.preset)),
            ("SafeCam: all_except + watermark", render(requester, preset=args.preset)),
        ]
        if args.tuning:
            blacks = {"mode": "regions", "regions": [walker(x0=0.05, x1=0.8, y=0.3, seconds=clip, effect="black"),
                                                     walker(x0=0.8, x1=0.1, y=0.4, seconds=clip, effect="black")]}
            none = {"mode": "regions", "regions": []}
            cases += [
                ("SafeCam: watermark only", render(none, preset=args.preset)),
                ("SafeCam: 2 moving black boxes + watermark", render(blacks, preset=args.preset)),
                ("bare re-encode, superfast", bare("superfast")),
                ("SafeCam: 2 moving blurs, superfast", render(people, preset="superfast")),
                ("SafeCam: all_except, superfast", render(requester, preset="superfast")),
            ]
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name, _ in cases}
        for trial in range(args.trials):
            for name, action in cases:
                samples[name].append(measure(action))
            print(f"  trial {trial + 1}/{args.trials} done", flush=True)
        floor_wall = best(samples[cases[0][0]])[0]
        rows = []
        for name, _ in cases:
            wall, cpu = best(samples[name])
            spread = statistics.pstdev([s[0] for s in samples[name]]) if len(samples[name]) > 1 else 0.0
            rows.append([name, f"{wall:.2f} s", f"±{spread:.2f}", f"{clip / wall:.2f}x", f"{cpu:.1f} s",
                         f"{wall / floor_wall:.2f}"])
        print()
        print(common.table(rows, [f"render of {clip:.0f} s at 720p", "best wall", "sd", "speed", "CPU",
                                  "wall / floor"]))
        result = redaction.media_probe(out)
        print(f"\nlast output: {result['width']}x{result['height']} {result['codec']}, {result['duration']:.2f} s, "
              f"{out.stat().st_size / 1e6:.1f} MB")

        # --- preview ---------------------------------------------------------------------------------
        waits = []
        for _trial in range(max(5, args.trials)):
            waits.append(measure(lambda: redaction.redacted_frame(master=master, at=clip / 2 + 0.37, spec=people,
                                                                   clip_offset=0, watermark=WATERMARK))[0])
        print(f"preview (one redacted JPEG mid-clip): median {statistics.median(waits) * 1000:.0f} ms, "
              f"max {max(waits) * 1000:.0f} ms")

        verdicts = [f"{name}: {clip / best(samples[name])[0]:.1f}x" for name, _ in cases[1:3]]
        met = all(clip / best(samples[name])[0] >= GOAL for name, _ in cases[1:3])
        print(f"\ngoal ≥ {GOAL:.0f}x real time: {'met' if met else 'NOT met'} ({'; '.join(verdicts)})")
    finally:
        common.cleanup(work, None, args.keep)


if __name__ == "__main__":
    main()
