"""Redacted clips for GDPR subject-access requests: the ffmpeg side (no models, no storage).

A request is answered with a clip of CCTV footage in which everybody but the requester is hidden.
This module turns a *master file* (the recorded H.264 MPEG-TS segments of one camera, byte for byte
concatenated: ``master_concat``) plus a time window and a *redaction spec* into an MP4, and into
single JPEG previews that show exactly what the MP4 will show.

The spec (``redaction_validate`` checks it and returns it normalised)::

    {"mode": "regions" | "all_except",
     "regions": [{"effect": "blur" | "black",
                  "keyframes": [{"t": 0.0, "x": 0.1, "y": 0.2, "w": 0.15, "h": 0.25}, ...]}]}

Coordinates are fractions of the frame; ``t`` is seconds from the start of the exported clip.

* **When a region is active.** From its first keyframe's ``t`` to its last keyframe's ``t``. Between
  two keyframes the box moves linearly (x and y are interpolated); its size in that interval is the
  larger of the two keyframes' sizes, so a person who walks towards the camera stays covered. After
  the last keyframe a region with several keyframes *ends*: the person left the picture, or the DPO
  tracks them with another region. A region with a single keyframe stays, unmoving, from its ``t``
  to the end of the clip (a parked car's number plate, a window).
* **Modes.** ``regions``: each region is blurred (a box blur whose radius is half the box, applied
  twice: nothing inside stays recognisable) or filled black. ``all_except``: the whole frame is
  blurred strongly and the regions (the requester) stay sharp; ``effect`` has no meaning there.
* **The filter graph** (``filter_graph``, one function used by the render and by the preview, so
  the preview cannot drift from what is released). The decoded frame is split; each *piece* crops
  its box from a copy (crop's x/y are expressions of ``t``, its width/height constant, sizes even,
  positions even and clamped inside the frame), blurs it or paints it black, and is overlaid back
  on the base at the same expressions, with ``enable`` set to its keyframe intervals
  (``between(t,a,b)``; ``gte(t,a)*lt(t,b)`` for all but a region's last interval, so exactly one
  interval is on at a boundary) so it costs next to nothing while off. A piece is one keyframe
  interval, except that the intervals of a region that share a box size share a piece (its x/y are
  then piecewise expressions): a DPO who keeps the box size gets one piece per region however many
  keyframes they set. Every piece is visited on every frame, on or off (a graph of 950 pieces ran
  at half real time at 720p), so with too many pieces anyway (sizes changed at every keyframe of
  many regions) the sizes are rounded *up* to a coarser grid until the graph fits (``_pieces``). In ``all_except``
  the base is the whole frame blurred (small: averaged down, blurred, scaled back up) and the
  pieces are sharp crops. The watermark (case number and release time) is drawn last, bottom left,
  in DejaVu Sans on a half-transparent box, its size proportional to the frame height.
* **Escaping.** The watermark text goes to drawtext with ``expansion=none``, so ``%`` and ``\\`` are
  literal for drawtext; ffmpeg-python then escapes the value for the option parser (``\\ ' = :``)
  and for the graph parser (``\\ ' [ ] , ;``). No shell is ever involved. A graph too long for one
  command-line argument (Linux caps one at 128 KiB; 50 regions of 200 keyframes are hundreds of KB) is
  handed over as ``-filter_complex_script``.
* **Time.** ffmpeg seeks in MPEG-TS by timestamp without looking for a keyframe (mpegts marks
  every packet it indexes as one), so an input-side ``-ss`` lands just after the wanted moment and
  the decoder drops everything up to the *next* keyframe: a clip starting 0.05 s after a keyframe
  lost its first second. Both the render and the preview therefore seek (input side, fast) to one
  GOP plus a margin *before* the moment (the GOP is measured once per master from its first packets:
  ``_preroll``), decode from there, and cut exactly with ``trim`` on the frames' own timestamps;
  ``setpts`` then puts 0 at the start of the clip, so the filters' ``t`` is clip time in both.
* **Audio.** SafeCam records no sound (the recorder keeps only the video stream, and sound is not
  redacted by anything here), so only the video is mapped: a stray audio track in a master is
  dropped rather than released with voices in it.
* **Files.** Every output is written under a temporary name in the destination folder and renamed
  only when complete, so a crash or a failed ffmpeg never leaves a partial file under the final name.
"""

from __future__ import annotations

import collections
import json
import math
import os
import secrets
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

import ffmpeg
from django.utils.translation import gettext as _

MODES = ("regions", "all_except")
EFFECTS = ("blur", "black")
MAX_REGIONS = 50
MAX_KEYFRAMES = 200
EDGE_SLACK = 1.0001  # x+w and y+h may overshoot 1 by rounding in the editor; the graph clamps
END_SLACK = 0.5  # seconds a window may reach past the probed end of the master (probe rounding)

QUIET = ("-nostdin", "-hide_banner", "-loglevel", "error")
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")  # Debian fonts-dejavu-core
GRAPH_ARG_LIMIT = 64 * 1024  # longer graphs go through a script file (MAX_ARG_STRLEN is 128 KiB)
PIECES_BUDGET = 100  # crop+overlay pairs in one graph (see _pieces)
SIZE_STEPS: tuple[float | str | None, ...] = (None, 1 / 64, 1 / 32, 1 / 16, 1 / 8, 1 / 4, "region")
PROGRESS_EVERY = 0.25  # seconds between progress callbacks
STDERR_LINES = 12
CHUNK = 1 << 20
PREVIEW_QUALITY = 3  # mjpeg -q:v, 2 (best) to 31
PREROLL_PROBE_SECONDS = 30  # how much of the master's start is read to measure its GOP
PREROLL_MARGIN = 1.0  # seconds of pre-roll beyond one GOP (where the seek lands is not exact)

# Whole-frame blur of ``all_except``: radius as a fraction of the frame height (36 px at 720p),
# two passes (close to a Gaussian). A face a tenth of the frame high is a smooth blob.
FRAME_BLUR_FRACTION = 1 / 20
BLUR_POWER = 2
BLUR_SMALL_RADIUS = 4  # blur radius, in pixels of the scaled-down picture (see _strong_blur)


class RedactionError(ValueError):
    """A spec, a window or a render that cannot be used; the message is for the DPO to read."""


# --- the spec -----------------------------------------------------------------------------------------


def _number(value: Any, where: str, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise RedactionError(_("%(where)s: %(name)s must be a number.") % {"where": where, "name": name})
    number = float(value)
    if not math.isfinite(number):
        raise RedactionError(_("%(where)s: %(name)s must be a finite number.") % {"where": where, "name": name})
    return number


def _keys(value: Any, *, where: str, required: set[str], allowed: set[str]) -> None:
    if not isinstance(value, dict):
        raise RedactionError(_("%(where)s must be an object.") % {"where": where})
    unknown = sorted(str(key) for key in value if key not in allowed)
    if unknown:
        raise RedactionError(_("%(where)s has unknown keys: %(keys)s.") % {"where": where, "keys": ", ".join(unknown)})
    missing = sorted(required - set(value))
    if missing:
        raise RedactionError(_("%(where)s lacks: %(keys)s.") % {"where": where, "keys": ", ".join(missing)})


def _keyframe(value: Any, where: str) -> dict[str, float]:
    _keys(value, where=where, required={"t", "x", "y", "w", "h"}, allowed={"t", "x", "y", "w", "h"})
    frame = {name: _number(value[name], where, name) for name in ("t", "x", "y", "w", "h")}
    if frame["t"] < 0:
        raise RedactionError(_("%(where)s: t must not be negative.") % {"where": where})
    for name in ("x", "y"):
        if not 0 <= frame[name] < 1:
            raise RedactionError(_("%(where)s: %(name)s must be at least 0 and below 1.")
                                 % {"where": where, "name": name})
    for name in ("w", "h"):
        if not 0 < frame[name] <= 1:
            raise RedactionError(_("%(where)s: %(name)s must be above 0 and at most 1.")
                                 % {"where": where, "name": name})
    if frame["x"] + frame["w"] > EDGE_SLACK or frame["y"] + frame["h"] > EDGE_SLACK:
        raise RedactionError(_("%(where)s: the box reaches outside the frame.") % {"where": where})
    return frame


def redaction_validate(spec: Any) -> dict:
    """The spec normalised (floats, keyframes sorted by t, ``effect`` filled in), or RedactionError
    saying what is wrong. Accepts the dict or its JSON text."""
    if isinstance(spec, (str, bytes)):
        try:
            spec = json.loads(spec)
        except ValueError:
            raise RedactionError(_("The redaction is not valid JSON.")) from None
    _keys(spec, where=_("The redaction"), required={"mode", "regions"}, allowed={"mode", "regions"})
    mode = spec["mode"]
    if mode not in MODES:
        raise RedactionError(_("The redaction mode must be one of: %(modes)s.") % {"modes": ", ".join(MODES)})
    regions = spec["regions"]
    if not isinstance(regions, list):
        raise RedactionError(_("The regions must be a list."))
    if len(regions) > MAX_REGIONS:
        raise RedactionError(_("At most %(count)d regions can be redacted in one clip.") % {"count": MAX_REGIONS})
    normalised = []
    for number, region in enumerate(regions, start=1):
        where = _("Region %(number)d") % {"number": number}
        _keys(region, where=where, required={"keyframes"}, allowed={"effect", "keyframes"})
        effect = region.get("effect", "blur")
        if effect not in EFFECTS:
            raise RedactionError(_("%(where)s: the effect must be one of: %(effects)s.")
                                 % {"where": where, "effects": ", ".join(EFFECTS)})
        if mode == "all_except" and effect != "blur":
            raise RedactionError(_("%(where)s: in the mode that blurs everything except the regions, the regions "
                                   "stay sharp; they take no effect.") % {"where": where})
        keyframes = region["keyframes"]
        if not isinstance(keyframes, list) or not keyframes:
            raise RedactionError(_("%(where)s needs at least one keyframe.") % {"where": where})
        if len(keyframes) > MAX_KEYFRAMES:
            raise RedactionError(_("%(where)s has more than %(count)d keyframes.")
                                 % {"where": where, "count": MAX_KEYFRAMES})
        frames = sorted((_keyframe(frame, _("%(where)s, keyframe %(number)d") % {"where": where, "number": index})
                         for index, frame in enumerate(keyframes, start=1)), key=lambda frame: frame["t"])
        for before, after in pairwise(frames):
            if after["t"] == before["t"]:
                raise RedactionError(_("%(where)s has two keyframes at %(t)s s.") % {"where": where, "t": before["t"]})
        normalised.append({"effect": effect, "keyframes": frames})
    return {"mode": mode, "regions": normalised}


# --- the filter graph ---------------------------------------------------------------------------------


def _even_up(value: float, limit: int) -> int:
    """An even pixel count covering ``value`` (and the pixel lost to rounding the position down)."""
    return max(2, min(limit, 2 * math.ceil((value + 1) / 2)))


def _num(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def _linear(start: float, end: float, t0: float, t1: float | None, frame: int) -> str:
    """Expression of ``t``: an edge in pixels moving linearly from ``start`` to ``end`` (fractions)."""
    if t1 is None or end == start:
        return _num(start * frame)
    return f"{_num(start * frame)}+{_num((end - start) * frame / (t1 - t0))}*(t-{_num(t0)})"


def _intervals(region: dict) -> list[dict[str, Any]]:
    """A region's keyframe intervals: when each is on, where its box starts and ends, its size (the
    larger of the two keyframes'), in fractions. The region's last interval includes its end, the
    others are half-open, so exactly one interval is on at any moment of the region's life."""
    frames = region["keyframes"]
    if len(frames) == 1:
        (only,) = frames
        return [{"gate": f"gte(t,{_num(only['t'])})", "t0": only["t"], "t1": None, "a": only, "b": only,
                 "w": only["w"], "h": only["h"]}]
    intervals = []
    for index, (a, b) in enumerate(pairwise(frames)):
        last = index == len(frames) - 2
        gate = (f"between(t,{_num(a['t'])},{_num(b['t'])})" if last
                else f"gte(t,{_num(a['t'])})*lt(t,{_num(b['t'])})")
        intervals.append({"gate": gate, "t0": a["t"], "t1": b["t"], "a": a, "b": b,
                          "w": max(a["w"], b["w"]), "h": max(a["h"], b["h"])})
    return intervals


def _sum(terms: list[str]) -> str:
    """``a+b+...`` as a balanced tree: ffmpeg's expression parser gives up on a flat sum of ~100
    terms (it walks the left-leaning tree with a bounded depth), a balanced one of 400 is fine."""
    if len(terms) == 1:
        return terms[0]
    middle = len(terms) // 2
    return f"({_sum(terms[:middle])})+({_sum(terms[middle:])})"


def _size(fraction: float, frame: int, step: float | None) -> int:
    if step is not None:
        fraction = math.ceil(fraction / step - 1e-9) * step
    return _even_up(fraction * frame, frame)


def _pieces(spec: dict, width: int, height: int) -> list[dict[str, Any]]:
    """The boxes the graph crops and overlays: per region, one per box size, on during the region's
    intervals of that size, following each interval's linear path.

    Every piece costs a crop, a (disabled) effect and an overlay on every frame, whether on or not
    (about 80 us each at 720p in a graph of 950), and ffmpeg-python's recursive graph walk stops near a thousand chained
    overlays. A DPO who resizes the box at every keyframe of 50 regions would ask for ~10,000, so
    sizes are rounded *up* to a coarser grid (1/64 of the frame, then 1/32 ... 1/4) until the graph
    has at most PIECES_BUDGET pieces, and as the last resort each region keeps the largest size it
    ever has. A box only ever grows: nobody is uncovered to save time (in ``all_except`` a grown box
    shows a little more around the requester, which the DPO sees in the preview)."""
    regions = [(region["effect"], _intervals(region)) for region in spec["regions"]]
    for step in SIZE_STEPS:
        pieces = []
        for effect, intervals in regions:
            if step == "region":
                sizes = {(_size(max(i["w"] for i in intervals), width, None),
                          _size(max(i["h"] for i in intervals), height, None)): intervals}
            else:
                sizes = {}
                for interval in intervals:
                    key = (_size(interval["w"], width, step), _size(interval["h"], height, step))
                    sizes.setdefault(key, []).append(interval)
            for (w, h), group in sizes.items():
                pieces.append({"effect": effect, "w": w, "h": h, "enable": _sum([i["gate"] for i in group]),
                               "x": _path(group, "x", width, w), "y": _path(group, "y", height, h)})
        if len(pieces) <= PIECES_BUDGET or step == "region":
            return pieces
    raise AssertionError("unreachable: the last step always returns")


def _path(group: list[dict[str, Any]], axis: str, frame: int, size: int) -> str:
    """The box edge of a piece as an expression of ``t``: each interval's line while its gate is on,
    rounded down to even (yuv420p chroma) and clamped so the box stays inside the frame."""
    lines = [_linear(i["a"][axis], i["b"][axis], i["t0"], i["t1"], frame) for i in group]
    inner = lines[0] if len(group) == 1 else _sum([f"{i['gate']}*({line})" for i, line in zip(group, lines)])
    return f"clip(2*floor(({inner})/2),0,{frame - size})"


def _strong_blur(stream: Any, *, w: int, h: int, radius: int | None = None, enable: str | None = None,
                 small: bool = False) -> Any:
    """A box blur of ``radius`` pixels (by default half the smaller side, boxblur's limit: nothing
    inside stays recognisable), two passes, on a ``w`` x ``h`` picture.

    ``small``: blur a copy averaged down (``area``) by about radius / BLUR_SMALL_RADIUS and scale it
    back up smoothly: the same strength for a fraction of the cost on a whole frame (boxblur runs on
    one core; at full size the all-except blur made that export about twice as slow as the other).
    Not for the pieces: scale has no ``enable``, so a piece would pay for two scalings on every frame
    of the clip even while off, whereas a disabled boxblur costs nothing."""
    radius = min(w, h) // 2 if radius is None else min(radius, min(w, h) // 2)
    factor = max(1, radius // BLUR_SMALL_RADIUS) if small else 1
    small_w, small_h = max(2, 2 * round(w / factor / 2)), max(2, 2 * round(h / factor / 2))
    if factor > 1:
        stream = stream.filter("scale", w=small_w, h=small_h, flags="area")
    luma = max(1, min(radius // factor, min(small_w, small_h) // 2))
    chroma = min(luma, min(small_w // 2, small_h // 2) // 2)
    options: dict[str, Any] = {"luma_radius": luma, "luma_power": BLUR_POWER,
                               "chroma_radius": chroma, "chroma_power": BLUR_POWER}
    if enable:
        options["enable"] = enable
    stream = stream.filter("boxblur", **options)
    if factor > 1:
        stream = stream.filter("scale", w=w, h=h, flags="bilinear")
    return stream


@lru_cache(maxsize=1)
def font_file() -> str:
    """DejaVu Sans (Debian fonts-dejavu-core), or whatever fontconfig calls "sans"."""
    if FONT_FILE.is_file():
        return str(FONT_FILE)
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", "sans"], capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        found = ""
    if not found or not Path(found).is_file():
        raise RedactionError(_("No font for the watermark: install fonts-dejavu-core."))
    return found


def watermark_style(height: int) -> dict[str, Any]:
    """drawtext's options for the watermark, bar the text: a line of about 1/28 of the frame height,
    bottom left, white on a half-transparent black box."""
    size = max(10, round(height / 28))
    margin = max(4, size // 2)
    border = max(2, size // 4)
    return {"fontfile": font_file(), "fontsize": size, "fontcolor": "white@0.9", "box": 1,
            "boxcolor": "black@0.55", "boxborderw": border, "x": margin + border,
            "y": f"h-text_h-{margin + border}"}


def watermark_band(height: int) -> int:
    """How many rows at the bottom of the frame the watermark may cover (for whoever checks it)."""
    style = watermark_style(height)
    return int(style["fontsize"] * 1.6) + 2 * style["boxborderw"] + style["x"]


def _watermark_text(text: str) -> str:
    # One line: drawtext would start a new line at a newline; other control characters have no glyph.
    return "".join(" " if char in "\r\n\t" else char for char in text if char >= " " or char in "\r\n\t").strip()


def filter_graph(stream: Any, *, spec: dict, width: int, height: int, watermark: str) -> Any:
    """The redaction and the watermark applied to ``stream`` (frames whose ``t`` is seconds from the
    start of the clip), as an ffmpeg-python stream. ``spec`` must be normalised."""
    pieces = _pieces(spec, width, height)
    copies = stream.split() if pieces else None
    base = copies[0] if copies is not None else stream
    if spec["mode"] == "all_except":
        base = _strong_blur(base, w=width, h=height, radius=max(2, round(height * FRAME_BLUR_FRACTION)), small=True)
    for index, piece in enumerate(pieces, start=1):
        patch = copies[index].filter("crop", w=piece["w"], h=piece["h"], x=piece["x"], y=piece["y"])
        if spec["mode"] == "regions":
            if piece["effect"] == "black":
                patch = patch.filter("drawbox", x=0, y=0, w="iw", h="ih", color="black", t="fill",
                                     enable=piece["enable"])
            else:
                patch = _strong_blur(patch, w=piece["w"], h=piece["h"], enable=piece["enable"])
        base = ffmpeg.filter([base, patch], "overlay", x=piece["x"], y=piece["y"], enable=piece["enable"],
                             eval="frame", eof_action="pass")
    text = _watermark_text(watermark)
    if text:
        base = base.filter("drawtext", text=text, expansion="none", **watermark_style(height))
    return base


@contextmanager
def _command(output: Any, *, folder: Path) -> Iterator[list[str]]:
    """ffmpeg's argument list for ``output``. A graph longer than one argument may be is handed over
    in a script file in ``folder``, removed afterwards."""
    args = ffmpeg.compile(output.global_args(*QUIET), cmd="ffmpeg", overwrite_output=True)
    script: Path | None = None
    try:
        if "-filter_complex" in args:
            index = args.index("-filter_complex")
            if len(args[index + 1].encode()) > GRAPH_ARG_LIMIT:
                handle, name = tempfile.mkstemp(prefix=".graph-", suffix=".txt", dir=folder)
                script = Path(name)
                with os.fdopen(handle, "w", encoding="utf-8") as file:
                    file.write(args[index + 1])
                args[index:index + 2] = ["-filter_complex_script", name]
        yield args
    finally:
        if script is not None:
            script.unlink(missing_ok=True)


# --- reading a window of the master ----------------------------------------------------------------


@lru_cache(maxsize=64)
def _preroll_cached(path: str, size: int, mtime_ns: int) -> float:
    try:
        info = ffmpeg.probe(path, cmd="ffprobe", select_streams="v:0", show_entries="packet=pts_time,flags",
                            read_intervals=f"%+{PREROLL_PROBE_SECONDS}")
    except ffmpeg.Error:
        return PREROLL_PROBE_SECONDS + PREROLL_MARGIN
    keys = sorted(float(packet["pts_time"]) for packet in info.get("packets", [])
                  if "K" in packet.get("flags", "") and packet.get("pts_time") not in (None, "N/A"))
    gaps = [after - before for before, after in pairwise(keys)]
    return (max(gaps) if gaps else PREROLL_PROBE_SECONDS) + PREROLL_MARGIN


def _preroll(path: Path) -> float:
    """Seconds to seek before a moment so that a keyframe lies between the landing point and the
    moment: the longest keyframe interval among the master's first packets, plus a margin."""
    stat = path.stat()
    return _preroll_cached(str(path), stat.st_size, stat.st_mtime_ns)


def _window(master: Path, *, start: float, end: float | None, zero: float) -> Any:
    """The decoded frames of ``master`` from ``start`` (seconds from its beginning, exact) up to
    ``end``, their ``t`` counted from ``zero``: the head of both the render's and the preview's graph."""
    seek = max(0.0, start - _preroll(master))
    options: dict[str, Any] = {}
    if seek > 0:
        options["ss"] = _num(seek)
    if end is not None:
        # A generous read limit: ffmpeg counts -t from the first decodable frame, which may come up
        # to a GOP after the landing point. trim's end below is the exact one.
        options["t"] = _num(end - seek + _preroll(master))
    video = ffmpeg.input(str(master), **options).video
    trim = {"start": _num(start - seek)}
    if end is not None:
        trim["end"] = _num(end - seek)
    return video.filter("trim", **trim).filter("setpts", f"PTS-({_num(zero - seek)})/TB")


# --- probing, rendering, previews -----------------------------------------------------------------------


def _temp_file(out: Path, *, suffix: str) -> Path:
    """A new, empty, hidden file beside ``out`` (same file system, so the final rename is atomic),
    with the permissions the umask gives any new file (mkstemp's would be 0600)."""
    for _attempt in range(100):
        temp = out.parent / f".{out.stem}-{secrets.token_hex(6)}{suffix}"
        try:
            os.close(os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return temp
    raise FileExistsError(out.parent)


def _stderr_tail(text: str) -> str:
    """ffmpeg's last words, each line cut short (a failing filter repeats its whole argument string)."""
    lines = [line if len(line) <= 300 else line[:300] + " …" for line in text.splitlines() if line.strip()]
    return "\n".join(lines[-STDERR_LINES:]) or _("(ffmpeg said nothing)")


def media_probe(path: Path) -> dict:
    """Size, duration, start time (first PTS, seconds) and codec of a file's first video stream."""
    if not Path(path).is_file():
        raise RedactionError(_("The file %(path)s does not exist.") % {"path": path})
    try:
        info = ffmpeg.probe(str(path), cmd="ffprobe")
    except ffmpeg.Error as exc:
        raise RedactionError(_("The file %(path)s cannot be read as video: %(error)s")
                             % {"path": path, "error": _stderr_tail(exc.stderr.decode(errors="replace"))}) from None
    video = next((s for s in info.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise RedactionError(_("The file %(path)s holds no video.") % {"path": path})
    fmt = info.get("format", {})
    duration = fmt.get("duration") or video.get("duration")
    return {"width": int(video["width"]), "height": int(video["height"]),
            "duration": float(duration) if duration is not None else 0.0,
            "start_time": float(fmt.get("start_time") or video.get("start_time") or 0.0),
            "codec": video.get("codec_name", ""),
            "frames": int(video["nb_frames"]) if str(video.get("nb_frames", "")).isdigit() else None,
            "audio": any(s.get("codec_type") == "audio" for s in info.get("streams", []))}


def _window_check(*, offset: float, duration: float, length: float) -> None:
    if not (math.isfinite(offset) and math.isfinite(duration)) or offset < 0 or duration <= 0:
        raise RedactionError(_("The clip must start at or after the beginning of the recording and last "
                               "longer than zero seconds."))
    if offset + duration > length + END_SLACK:
        raise RedactionError(_("The clip (%(start).1f s to %(end).1f s) reaches past the end of the recording "
                               "(%(length).1f s).") % {"start": offset, "end": offset + duration, "length": length})


def _drain(pipe: Any, tail: collections.deque) -> None:
    for line in iter(pipe.readline, ""):
        tail.append(line.rstrip("\n"))


def redacted_render(*, master: Path, out: Path, offset: float, duration: float, spec: dict, watermark: str,
                    progress: Callable[[float], None] | None = None, preset: str = "veryfast",
                    crf: int = 23) -> dict:
    """Render ``duration`` seconds of ``master`` from ``offset`` with ``spec`` and the watermark into
    the MP4 ``out`` (H.264, yuv420p, moov first, no audio). ``progress`` gets 0..1, at most about
    four times a second, ending with 1.0. Returns width, height, duration and frames of the result and
    the wall seconds it took."""
    started = time.monotonic()
    spec = redaction_validate(spec)
    master, out = Path(master), Path(out)
    info = media_probe(master)
    _window_check(offset=offset, duration=duration, length=info["duration"])
    width, height = info["width"], info["height"]

    video = _window(master, start=offset, end=offset + duration, zero=offset)
    video = filter_graph(video, spec=spec, width=width, height=height, watermark=watermark)
    tail: collections.deque = collections.deque(maxlen=STDERR_LINES * 4)
    frames = 0
    process: subprocess.Popen | None = None
    temp = _temp_file(out, suffix=".partial.mp4")
    try:
        output = ffmpeg.output(video, str(temp), f="mp4", vcodec="libx264", preset=preset, crf=crf,
                               pix_fmt="yuv420p", movflags="+faststart", an=None, sn=None, dn=None,
                               map_metadata=-1).global_args("-progress", "pipe:1", "-nostats",
                                                           "-stats_period", _num(PROGRESS_EVERY))
        with _command(output, folder=out.parent) as args:
            # If the worker is killed, its ffmpeg goes too (the resumed export starts it afresh).
            from footage.recorder import _die_with_parent

            process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, encoding="utf-8", errors="replace",
                                       preexec_fn=_die_with_parent)
            reader = threading.Thread(target=_drain, args=(process.stderr, tail), daemon=True)
            reader.start()
            reported, last_call = 0.0, 0.0
            for line in process.stdout:
                key, _sep, value = line.strip().partition("=")
                if key == "frame" and value.isdigit():
                    frames = int(value)
                elif key == "out_time_us" and value.lstrip("-").isdigit() and progress is not None:
                    done = min(1.0, max(0.0, int(value) / 1e6 / duration))
                    now = time.monotonic()
                    if done > reported and now - last_call >= PROGRESS_EVERY:
                        reported, last_call = done, now
                        progress(done)
            code = process.wait()
            reader.join(timeout=5)
        if code != 0:
            raise RedactionError(_("ffmpeg could not render the clip: %(error)s")
                                 % {"error": _stderr_tail("\n".join(tail))})
        result = media_probe(temp)
        if not result["frames"] and not frames:
            raise RedactionError(_("The clip holds no pictures: %(error)s") % {"error": _stderr_tail("\n".join(tail))})
        with temp.open("rb") as file:
            os.fsync(file.fileno())
        os.replace(temp, out)
    except BaseException:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        temp.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(1.0)
    return {"width": result["width"], "height": result["height"], "duration": result["duration"],
            "frames": result["frames"] or frames, "seconds": time.monotonic() - started}


def redacted_frame(*, master: Path, at: float, spec: dict, clip_offset: float, watermark: str = "") -> bytes:
    """The frame ``at`` seconds into ``master`` as a JPEG, redacted by the very graph the render uses
    for a clip starting at ``clip_offset`` (the spec's ``t`` is ``at - clip_offset``)."""
    spec = redaction_validate(spec)
    master = Path(master)
    if not math.isfinite(at) or not math.isfinite(clip_offset) or at < 0 or at < clip_offset:
        raise RedactionError(_("The preview moment must lie inside the clip."))
    info = media_probe(master)
    video = _window(master, start=at, end=None, zero=clip_offset)
    video = filter_graph(video, spec=spec, width=info["width"], height=info["height"], watermark=watermark)
    output = ffmpeg.output(video, "pipe:1", f="image2", vcodec="mjpeg", vframes=1, an=None, **{"q:v": PREVIEW_QUALITY})
    with (tempfile.TemporaryDirectory(prefix="safecam-preview-") as folder,
          _command(output, folder=Path(folder)) as args):
        try:
            done = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=False)
        except subprocess.TimeoutExpired:
            raise RedactionError(_("ffmpeg took too long to make the preview.")) from None
    if done.returncode != 0:
        raise RedactionError(_("ffmpeg could not make the preview: %(error)s")
                             % {"error": _stderr_tail(done.stderr.decode(errors="replace"))})
    if not done.stdout:
        raise RedactionError(_("There is no picture at that moment in the recording."))
    return done.stdout


def master_concat(*, segments: list[Path], out: Path) -> int:
    """Concatenate the segment files byte for byte into ``out`` (MPEG-TS may be concatenated; the
    master keeps exactly the recorded bytes) and return its size."""
    if not segments:
        raise RedactionError(_("There are no recorded segments to put together."))
    out = Path(out)
    temp = _temp_file(out, suffix=".partial.ts")
    total = 0
    try:
        with temp.open("wb") as target:
            for segment in segments:
                with open(segment, "rb") as source:
                    while chunk := source.read(CHUNK):
                        target.write(chunk)
                        total += len(chunk)
            target.flush()
            os.fsync(target.fileno())
        os.replace(temp, out)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return total
