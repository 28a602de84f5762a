"""Playback latency in real Chromium: SafeCam's player next to hls.js on static files, in one run.

Usage: .venv/bin/python bench/playback_browser.py [--trials 20] [--minutes 10]
           [--database-url postgres://postgres@127.0.0.1:5432/safecam_bench_playback_browser] [--keep]

1. Encodes ``--minutes`` of real H.264 footage (320x180, 5 fps, a keyframe a second, 10 s MPEG-TS
   segments: tests/media.py) and indexes it for one camera of a throw-away SafeCam: SQLite in a
   temporary data dir, or a bench PostgreSQL database it creates and drops (``--database-url``,
   ``SAFECAM_BENCH_DATABASE_URL``, or, when ``DATABASE_URL`` is set, a database beside that one
   named ``<name>_bench_playback_browser``). Static files are collected and the portal runs under gunicorn
   as ``make run`` starts it (2 workers × 4 threads), so every request is the production path:
   login session, viewing session, signed playlist built from the index, segments streamed from
   storage and counted.
2. The floor: the same segment files as a static HLS playlist, played by a bare hls.js page (the
   same hls.js, started at the same place with the same buffer settings) from ``python -m
   http.server``. Nothing is generated, authorised or counted there.
3. In Chromium (/usr/bin/chromium through Playwright), trial by trial, SafeCam and the floor in turn:
   - open: navigation start → the first frame on screen (page, scripts, session, playlist, segment);
   - play: a click on play, the player paused on that frame → the first new frame (video "playing"
     and the frame's media time advancing, seen by requestVideoFrameCallback);
   - seek: while playing, a seek as a click on the timeline makes it (the floor: setting
     currentTime) to a random moment of the footage → the first frame of that moment, playing
     again. The same offsets on both sides; every fourth SafeCam seek goes to a second copy of the
     footage three hours back, beyond the hour its player loads first, so the figures are split
     into seeks inside the loaded playlist window and seeks that load a new one (the floor's one
     playlist always holds everything).
4. Prints p50, p95 and max per measure and SafeCam's p50 and p95 against the floor's.
   Goals: first frame < 1 s, seek < 0.5 s, SafeCam within 1.3× of the floor. Nothing asserts.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common as common  # noqa: E402

VENV_BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]
USERNAME, PASSWORD = "bench-specialist", "Bench-playback-2026"
HLS_JS = common.ROOT / "static" / "vendor" / "hls" / "hls.min.js"

# Both pages: remember when the first video frame reached the screen (ms since navigation start).
FIRST_FRAME_SCRIPT = """
window.__firstFrame = null;
document.addEventListener("DOMContentLoaded", () => {
  const video = document.querySelector("video");
  if (video && video.requestVideoFrameCallback)
    video.requestVideoFrameCallback(() => {
      if (window.__firstFrame == null) window.__firstFrame = performance.now();
    });
});
"""

# Press play on a player paused on a frame; resolves with ms from the click to the first new frame.
PLAY_SCRIPT = """
async ([videoSel, buttonSel]) => {
  const v = document.querySelector(videoSel), button = document.querySelector(buttonSel);
  const settled = () => v.readyState >= 2 && v.paused && !v.seeking;
  for (let i = 0; i < 500 && !settled(); i++) await new Promise(r => setTimeout(r, 20));
  await new Promise(r => setTimeout(r, 250));
  return await new Promise(resolve => {
    const from = v.currentTime;
    let t0 = 0;
    const onFrame = (now, meta) => {
      if (!v.paused && meta.mediaTime > from + 0.01) resolve(performance.now() - t0);
      else v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
    t0 = performance.now();
    button.click();
  });
}
"""

# Arm a watcher for the first frame, playing, within 1.5 s of the wanted moment; resolves with ms
# from the seek (t0, set by whoever starts the seek) to that frame. ``at`` maps a media time to the
# moment it shows (wall clock for SafeCam, media time for the floor).
SEEK_WATCH_SCRIPT = """
([videoSel, target, kind]) => {
  const v = document.querySelector(videoSel);
  const at = kind === "safecam"
    ? (t) => SafeCam.instances.player.source.currentWall(t)
    : (t) => t * 1000;
  window.__seekDone = new Promise(resolve => {
    const hit = (mediaTime) => {
      const shown = at(mediaTime);
      return window.__seekT0 != null && !v.paused && !v.seeking && shown != null && Math.abs(shown - target) < 1500;
    };
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(performance.now() - window.__seekT0); } };
    const onFrame = (now, meta) => {
      if (done) return;
      if (hit(meta.mediaTime)) finish(); else v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
    // A new playlist window gives the element a new source; keep watching across it.
    const poll = setInterval(() => {
      if (done) { clearInterval(poll); return; }
      v.requestVideoFrameCallback(onFrame);
    }, 50);
  });
  window.__seekT0 = null;
}
"""

# SafeCam: what a click on the timeline or a time in the picker does (player.seek, play from there);
# t0 at the call. Returns whether the moment was in the loaded playlist window.
SAFECAM_SEEK_SCRIPT = """
(target) => {
  const player = SafeCam.instances.player;
  const inWindow = player.source.canSeekTo(target);
  window.__seekT0 = performance.now();
  player.seek(target, true);
  return inWindow;
}
"""

# Where the time to the first frame goes: when each step's response ended (ms since navigation start).
STEPS_SCRIPT = """
() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const out = {"page (HTML) received": nav.responseEnd, "DOM ready": nav.domContentLoadedEventEnd};
  const first = (test) => performance.getEntriesByType("resource").find(e => test(e.name));
  const steps = [["hls.js received", n => n.includes("hls.min.")],
                 ["timeline received", n => n.includes("/timeline/")],
                 ["session opened", n => n.endsWith("/playback/")],
                 ["playlist received", n => n.includes(".m3u8")],
                 ["first segment received", n => n.endsWith(".ts")]];
  for (const [label, test] of steps) {
    const e = first(test);
    if (!e) continue;
    out[label.replace("received", "asked").replace("opened", "asked") + " "] = e.startTime;
    out[label] = e.responseEnd;
  }
  out["first frame on screen"] = window.__firstFrame;
  return out;
}
"""

FLOOR_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>floor: hls.js on static files</title></head>
<body style="background:#111">
<video muted playsinline preload="auto" style="width:640px;height:360px;background:#000"></video>
<button id="play">play</button>
<script src="hls.min.js"></script>
<script>
  const video = document.querySelector("video");
  const start = parseFloat(new URLSearchParams(location.search).get("start") || "0");
  const hls = new Hls({startPosition: start, maxBufferLength: 12, maxMaxBufferLength: 30, backBufferLength: 90,
                       maxBufferHole: 0.5, testBandwidth: false, startFragPrefetch: true, enableWorker: true});
  hls.loadSource("index.m3u8");
  hls.attachMedia(video);
  document.getElementById("play").addEventListener("click", () => video.play());
  window.seekTo = (t) => { window.__seekT0 = performance.now(); video.currentTime = t; };
</script>
</body></html>
"""


# --- set-up ------------------------------------------------------------------------------------------


def choose_database(option: str | None) -> str | None:
    """The bench PostgreSQL database, or None for SQLite. Never a database that is not a bench's own:
    with only ``DATABASE_URL`` set, a database of that name + ``_bench_playback_browser`` on the same server."""
    url = option or os.environ.get("SAFECAM_BENCH_DATABASE_URL")
    inherited = os.environ.pop("DATABASE_URL", None)
    if url is None and inherited and inherited.startswith(("postgres://", "postgresql://", "pgsql://")):
        name = common.database_name(inherited)
        url = inherited if "bench" in name and not name.startswith("test") else (
            inherited.rsplit("/", 1)[0] + f"/{name}_bench_playback_browser")
    if url is not None:
        common.check_bench_database(url)
    return url


def environment(data_dir: Path, database_url: str | None) -> dict[str, str]:
    for name in ("SAFECAM_STORAGE_URL", "SAFECAM_SPOOL_DIR", "CELERY_BROKER_URL", "SAFECAM_SECRET_KEY",
                 "SAFECAM_DEBUG"):
        os.environ.pop(name, None)
    env = {"SAFECAM_DATA_DIR": str(data_dir), "SAFECAM_LOG_LEVEL": "WARNING",
           "DJANGO_SETTINGS_MODULE": "safecam.settings", "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    os.environ.update(env)
    return dict(os.environ)


def footage_place(total_seconds: float) -> datetime:
    """Where the footage starts: ending two minutes ago, or before the last Vilnius midnight if it
    would straddle one (the player shows one day at a time)."""
    from django.utils import timezone

    end = timezone.now() - timedelta(minutes=2)
    start = end - timedelta(seconds=total_seconds)
    local_end, local_start = timezone.localtime(end), timezone.localtime(start)
    if local_start.date() != local_end.date():
        midnight = local_end.replace(hour=0, minute=0, second=0, microsecond=0)
        start = midnight - timedelta(seconds=total_seconds + 120)
    return start.replace(microsecond=0)


def registry_make(media: list[Any]) -> tuple[Any, datetime, datetime, datetime]:
    """A specialist of one eldership with one camera whose footage is the encoded run, twice: ending
    two minutes ago, and the same three hours earlier (beyond the hour the player loads first)."""
    from django.contrib.auth import get_user_model

    from cameras import services
    from cameras.models import Site
    from safecam import roles
    from tests.media import media_index

    groups = roles.roles_sync()
    site = services.site_save(site=Site(name="Bench", slug="bench"), by=None)
    camera = services.camera_create(site=site, name="Bench camera", stream_url="rtsp://127.0.0.1:1/bench", by=None,
                                    purpose="Benchmark", legal_basis="Benchmark")
    user = get_user_model().objects.create_user(username=USERNAME, password=PASSWORD)
    user.groups.add(groups[roles.ELDERSHIP_SPECIALIST])
    services.site_access_grant(user=user, site=site, actions=roles.SPECIALIST_SITE_ACTIONS, by=None)
    start = footage_place(media[-1].end_offset - media[0].start_offset)
    rows = media_index(camera, start, media, end_run=True)
    earlier = media_index(camera, start - timedelta(hours=3), media, end_run=True)
    return camera, rows[0].start, rows[-1].end, earlier[0].start


def static_files(data_dir: Path, caller_data_dir: str | None) -> str:
    """Collected static files for the bench's data dir: a link to the caller's collection when it is
    newer than every source file (``make static`` keeps one, with the same stamp), else collected
    here (about a minute and a half on two cores: every file is compressed twice)."""
    from django.core.management import call_command

    sources = [p for p in (common.ROOT / "static").rglob("*") if p.is_file()]
    newest = max(p.stat().st_mtime for p in sources)
    candidates = [Path(caller_data_dir or common.ROOT / "var") / "static", common.ROOT / "var" / "static"]
    for folder in dict.fromkeys(candidates):
        stamp = folder / ".collected"
        if stamp.exists() and stamp.stat().st_mtime >= newest and (folder / "staticfiles.json").exists():
            (data_dir / "static").symlink_to(folder, target_is_directory=True)
            return f"reused {folder}"
    call_command("collectstatic", interactive=False, verbosity=0)
    return "collected"


def gunicorn_start(env: dict[str, str], port: int, log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [str(VENV_BIN / "gunicorn"), "safecam.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--access-logfile", "-", "--error-logfile", "-"],
        env=env, cwd=common.ROOT, stdin=subprocess.DEVNULL, stdout=log.open("w"), stderr=subprocess.STDOUT)
    common.wait_for_port(port, timeout=30)
    return process


def floor_start(folder: Path, media: list[Any], port: int, log: Path) -> subprocess.Popen:
    from tests.media import hls_write

    hls_write(folder, media)
    shutil.copyfile(HLS_JS, folder / "hls.min.js")
    (folder / "index.html").write_text(FLOOR_PAGE)
    process = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                                "--directory", str(folder)],
                               stdin=subprocess.DEVNULL, stdout=log.open("w"), stderr=subprocess.STDOUT)
    common.wait_for_port(port)
    return process


# --- the trials --------------------------------------------------------------------------------------


class Side:
    """One player under test: how to open it, where its controls are, how to seek."""

    def __init__(self, name: str, context: Any, url: str, video: str, play: str) -> None:
        self.name, self.context, self.url, self.video, self.play = name, context, url, video, play
        self.page: Any = None
        self.open_ms: list[float] = []
        self.play_ms: list[float] = []
        self.seek_ms: list[float] = []
        self.seek_in_window: list[float] = []
        self.seek_new_window: list[float] = []
        self.steps: list[dict[str, float]] = []

    def open(self) -> float:
        if self.page is None:
            self.page = self.context.new_page()
            self.page.set_default_timeout(20_000)
        self.page.goto(self.url)
        self.page.wait_for_function("() => window.__firstFrame != null", timeout=20_000)
        self.steps.append(self.page.evaluate(STEPS_SCRIPT))
        return float(self.page.evaluate("() => window.__firstFrame"))

    def press_play(self) -> float:
        return float(self.page.evaluate(PLAY_SCRIPT, [self.video, self.play]))


def trial_open_play(sides: list[Side], trials: int) -> None:
    for index in range(trials):
        for side in sides:
            side.open_ms.append(side.open())
            side.play_ms.append(side.press_play())
        print(f"  open + play trial {index + 1}/{trials}", end="\r", flush=True)
    print()


def trial_seeks(safecam: Side, floor: Side, targets: list[float], footage_start: datetime,
                earlier_start: datetime) -> None:
    """Every fourth seek goes to the copy of the footage three hours back (SafeCam loads a new
    window for it, and again for the next seek back); the floor seeks to the same offset in its
    one copy, which its playlist always holds."""
    safecam.open()
    safecam.press_play()
    floor.open()
    floor.press_play()
    for index, offset in enumerate(targets):
        base = earlier_start if index % 4 == 3 else footage_start
        target = base.timestamp() * 1000 + offset * 1000
        safecam.page.evaluate(SEEK_WATCH_SCRIPT, [safecam.video, target, "safecam"])
        in_window = safecam.page.evaluate(SAFECAM_SEEK_SCRIPT, target)
        ms = float(safecam.page.evaluate("() => window.__seekDone"))
        safecam.seek_ms.append(ms)
        (safecam.seek_in_window if in_window else safecam.seek_new_window).append(ms)
        safecam.page.wait_for_timeout(300)
        floor.page.evaluate(SEEK_WATCH_SCRIPT, [floor.video, offset * 1000, "floor"])
        floor.page.evaluate("(t) => window.seekTo(t)", offset)
        floor.seek_ms.append(float(floor.page.evaluate("() => window.__seekDone")))
        floor.page.wait_for_timeout(300)
        print(f"  seek trial {index + 1}/{len(targets)}", end="\r", flush=True)
    print()


# --- report ------------------------------------------------------------------------------------------


def stats(values: list[float]) -> list[str]:
    if not values:
        return ["—", "—", "—", "0"]
    return [f"{common.percentile(values, 0.5):.0f}", f"{common.percentile(values, 0.95):.0f}", f"{max(values):.0f}",
            str(len(values))]


def report(args: argparse.Namespace, safecam: Side, floor: Side, database: str | None, footage: str) -> None:
    print()
    print(f"SafeCam playback in Chromium: {args.trials} trials, {footage}, database "
          f"{'PostgreSQL ' + common.database_name(database) if database else 'SQLite'}, gunicorn 2×4 threads, "
          f"{os.cpu_count()} cores; times in ms")
    print()
    rows = []
    measures = [("open: navigation → first frame", "open_ms", 1000), ("play: click → first new frame", "play_ms", 1000),
                ("seek: asked → playing at the moment", "seek_ms", 500)]
    for label, attr, goal in measures:
        ours, base = getattr(safecam, attr), getattr(floor, attr)
        ratio50 = common.percentile(ours, 0.5) / common.percentile(base, 0.5) if base else float("nan")
        ratio95 = common.percentile(ours, 0.95) / common.percentile(base, 0.95) if base else float("nan")
        rows.append([label, *stats(ours)[:3], *stats(base)[:3], f"{ratio50:.2f}×", f"{ratio95:.2f}×",
                     f"< {goal}"])
    rows.append(["  SafeCam seeks inside the loaded window", *stats(safecam.seek_in_window)[:3], "", "", "", "", "",
                 f"n={len(safecam.seek_in_window)}"])
    rows.append(["  SafeCam seeks loading a new window", *stats(safecam.seek_new_window)[:3], "", "", "", "", "",
                 f"n={len(safecam.seek_new_window)}"])
    print(common.table(rows, ["measure", "SafeCam p50", "p95", "max", "floor p50", "p95", "max",
                              "ratio p50", "ratio p95", "goal"]))
    print()
    labels = list(dict.fromkeys(k for side in (safecam, floor) for step in side.steps for k in step))
    rows = []
    for label in labels:
        cells = []
        for side in (safecam, floor):
            values = [step[label] for step in side.steps if step.get(label) is not None]
            cells.append(statistics.median(values) if values else None)
        rows.append([label, *cells])
    rows.sort(key=lambda row: row[1] if row[1] is not None else row[2])
    rows = [[label, *("—" if v is None else f"{v:.0f}" for v in cells)] for label, *cells in rows]
    print(common.table(rows, ["open, step by step (median ms since navigation start)", "SafeCam", "floor"]))
    print("(goals: first frame < 1 s, seek < 0.5 s, SafeCam within 1.3× of the floor; the floor is hls.js "
          "on a static playlist from python -m http.server, same segments, same start and buffer settings; "
          "at 5 fps the next frame is due 200 ms after the one on screen, which bounds \"play\" on both sides)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--minutes", type=int, default=10, help="footage to index and seek in")
    parser.add_argument("--database-url", default=None,
                        help="a bench PostgreSQL database to create and drop (default: SQLite in the temporary "
                             "data dir, or <DATABASE_URL's name>_bench_playback_browser when DATABASE_URL is set)")
    parser.add_argument("--workdir", default=common.default_workdir())
    parser.add_argument("--seed", type=int, default=2026, help="random seek moments")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and the database")
    parser.add_argument("--headed", action="store_true", help="show the browser (needs a display)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        raise SystemExit(f"{CHROMIUM} is missing (apt-get install chromium)")
    if not HLS_JS.exists():
        raise SystemExit(f"{HLS_JS} is missing: run `make assets`")

    database = choose_database(args.database_url)
    caller_data_dir = os.environ.get("SAFECAM_DATA_DIR")
    work = Path(tempfile.mkdtemp(prefix="safecam-bench-playback-browser-", dir=args.workdir))
    data_dir = work / "data"
    data_dir.mkdir()
    env = environment(data_dir, database)
    if database:
        common.database_recreate(database)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from playwright.sync_api import sync_playwright

    from tests.media import segments_make

    server = floor = None
    try:
        print(f"set-up: data in {work}; encoding {args.minutes} min of footage, migrating, static files …",
              flush=True)
        began = time.monotonic()
        media = segments_make(work / "media", seconds=args.minutes * 60)
        encoded = time.monotonic()
        call_command("migrate", verbosity=0)
        migrated = time.monotonic()
        how = static_files(data_dir, caller_data_dir)
        collected = time.monotonic()
        camera, footage_start, footage_end, earlier_start = registry_make(media)
        print(f"set-up: encoding {encoded - began:.1f} s, migrating {migrated - encoded:.1f} s, static files "
              f"{collected - migrated:.1f} s ({how}), indexing {time.monotonic() - collected:.1f} s", flush=True)
        connections.close_all()
        port, floor_port = common.free_port(), common.free_port()
        server = gunicorn_start(env, port, work / "gunicorn.log")
        floor = floor_start(work / "floor", media, floor_port, work / "floor.log")
        total = (footage_end - footage_start).total_seconds()
        rng = random.Random(args.seed)
        targets = [round(rng.uniform(20, total - 20), 1) for _ in range(args.trials)]
        footage = f"{total / 60:.0f} min of 320x180 5 fps H.264 in {len(media)} segments"
        os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # only reads of the index after this
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                                 headless=not args.headed)
            viewport = {"width": 1280, "height": 900}
            ours = browser.new_context(base_url=f"http://127.0.0.1:{port}", viewport=viewport, locale="lt-LT")
            ours.add_init_script(FIRST_FRAME_SCRIPT)
            login = ours.new_page()
            login.goto("/accounts/login/")
            login.fill("[name=username]", USERNAME)
            login.fill("[name=password]", PASSWORD)
            login.locator("[name=password]").press("Enter")
            login.wait_for_url(lambda url: "/accounts/login/" not in url)
            login.close()
            theirs = browser.new_context(base_url=f"http://127.0.0.1:{floor_port}", viewport=viewport)
            theirs.add_init_script(FIRST_FRAME_SCRIPT)
            start_at = total - 60  # SafeCam opens a minute before the newest footage; so does the floor
            safecam = Side("SafeCam", ours, f"/cameras/{camera.public_id}/", "[data-testid=player-video]",
                           "[data-testid=player-play]")
            bare = Side("floor", theirs, f"/index.html?start={start_at}", "video", "#play")
            print(f"Chromium: open + play, {args.trials} trials each, SafeCam and floor in turn …", flush=True)
            safecam.open()  # warm-up: caches, worker imports, first connections (not counted)
            bare.open()
            trial_open_play([safecam, bare], args.trials)
            print(f"Chromium: {args.trials} seeks each while playing …", flush=True)
            trial_seeks(safecam, bare, targets, footage_start, earlier_start)
            browser.close()
        report(args, safecam, bare, database, footage)
        errors = [line for line in (work / "gunicorn.log").read_text().splitlines()
                  if '" 5' in line or "Traceback" in line or "[ERROR]" in line]
        print(f"server: {len(errors)} errors in the gunicorn log" + (f"; first: {errors[0][:200]}" if errors else ""))
    finally:
        for process in (server, floor):
            if process is not None:
                common.stop(process, signal.SIGTERM, timeout=15)
        connections.close_all()
        common.cleanup(work, database, args.keep)


if __name__ == "__main__":
    main()
