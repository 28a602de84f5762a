"""Redacted clips for subject-access requests, rendered by real ffmpeg from real H.264 footage.

The footage is a moving test pattern (colour bars, a diagonal rainbow band, a frame counter); a
frame of the render is compared with the master's frame at the same moment, area by area, as gray
bytes: a blurred box differs strongly from the original and has lost its sharp edges, everything
else matches up to what re-encoding costs. The master is decoded with an output-side seek (exact,
from the start), never with the same seek the code under test uses.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import ffmpeg
import pytest
from django.utils import translation

from access_requests import redaction
from access_requests.redaction import (
    RedactionError,
    master_concat,
    media_probe,
    redacted_frame,
    redacted_render,
    redaction_validate,
)
from tests.media import MediaSegment, segments_make

W, H = 640, 360
RATE = 10  # frames at k/10 s: the moments below (x.x5) sit between frames, never on one
OFFSET = 4.35  # not on a keyframe (one a second), which is where a naive seek loses footage
WATERMARK = "SC-2026-0007 · released 2026-11-26 14:03 EET"
Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in pixels, x1/y1 exclusive


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are matched in English (the site's default language is Lithuanian)."""
    with translation.override("en"):
        yield


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[MediaSegment], Path]:
    """20 s of 640x360 H.264 in 5 s segments, and the master made of them."""
    folder = tmp_path_factory.mktemp("footage")
    segments = segments_make(folder / "segments", seconds=20, segment_seconds=5, size=f"{W}x{H}", rate=RATE,
                             bitrate="1M")
    master = folder / "master.ts"
    master_concat(segments=[segment.path for segment in segments], out=master)
    return segments, master


@pytest.fixture(scope="module")
def master(footage: tuple[list[MediaSegment], Path]) -> Path:
    return footage[1]


@pytest.fixture
def out(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "clips" / "SC-2026-0007.mp4"
    path.parent.mkdir()
    yield path


def gray_at(path: Path | bytes, at: float) -> bytes:
    """The frame shown at ``at`` seconds (first frame at or after it) as W*H gray bytes."""
    source = ffmpeg.input("pipe:" if isinstance(path, bytes) else str(path))
    output = source.output("pipe:", ss=f"{at:.3f}", format="rawvideo", pix_fmt="gray", vframes=1)
    data, _err = output.global_args("-nostdin", "-loglevel", "error").run(
        input=path if isinstance(path, bytes) else None, capture_stdout=True, capture_stderr=True)
    assert len(data) == W * H, f"no frame at {at} s"
    return data


def pixels(frame: bytes, box: Box) -> list[int]:
    x0, y0, x1, y1 = box
    return [value for row in range(y0, y1) for value in frame[row * W + x0:row * W + x1]]


def difference(a: bytes, b: bytes, box: Box) -> float:
    """Mean absolute difference of two frames inside ``box``."""
    left, right = pixels(a, box), pixels(b, box)
    return sum(abs(p - q) for p, q in zip(left, right)) / len(left)


def difference_outside(a: bytes, b: bytes, boxes: list[Box]) -> float:
    """Mean absolute difference outside ``boxes`` (grown by a few pixels; they must not overlap) and
    above the watermark band."""
    limit = H - redaction.watermark_band(H)

    def total(box: Box) -> tuple[int, int]:
        x0, y0, x1, y1 = max(0, box[0]), max(0, box[1]), min(W, box[2]), min(limit, box[3])
        if x1 <= x0 or y1 <= y0:
            return 0, 0
        return (sum(abs(p - q) for row in range(y0, y1) for p, q in zip(a[row * W + x0:row * W + x1],
                                                                        b[row * W + x0:row * W + x1])),
                (x1 - x0) * (y1 - y0))

    whole, count = total((0, 0, W, limit))
    for x0, y0, x1, y1 in boxes:
        inside, pixels_inside = total((x0 - 4, y0 - 4, x1 + 4, y1 + 4))
        whole, count = whole - inside, count - pixels_inside
    return whole / count


def edges(frame: bytes, box: Box) -> float:
    """Mean squared difference between horizontal neighbours: how sharp the area is (a blur keeps the
    sum of absolute steps across an edge, but spreads it over many small ones)."""
    x0, y0, x1, y1 = box
    total = sum((frame[row * W + x] - frame[row * W + x + 1]) ** 2 for row in range(y0, y1) for x in range(x0, x1 - 1))
    return total / ((y1 - y0) * (x1 - x0 - 1))


def mean(frame: bytes, box: Box) -> float:
    values = pixels(frame, box)
    return sum(values) / len(values)


def box_of(x: float, y: float, w: float, h: float, *, inset: int = 0) -> Box:
    return (round(x * W) + inset, round(y * H) + inset, round((x + w) * W) - inset, round((y + h) * H) - inset)


def still(x: float, y: float, w: float, h: float, effect: str = "blur", t: float = 0.0) -> dict[str, Any]:
    return {"effect": effect, "keyframes": [{"t": t, "x": x, "y": y, "w": w, "h": h}]}


# --- what the render hides and what it keeps ---------------------------------------------------------------

# Across three colour bars and the rainbow band: plenty of edges for a blur to wipe out.
BOX = (0.15, 0.2, 0.4, 0.35)


def test_it_blurs_a_region_and_leaves_the_rest_of_the_frame_alone(master: Path, out: Path) -> None:
    spec = {"mode": "regions", "regions": [still(*BOX)]}
    redacted_render(master=master, out=out, offset=OFFSET, duration=5, spec=spec, watermark=WATERMARK)
    for at in (0.55, 3.05):
        clip, original = gray_at(out, at), gray_at(master, OFFSET + at)
        inside = box_of(*BOX, inset=2)
        assert difference(clip, original, inside) > 15
        assert edges(clip, inside) < edges(original, inside) / 10
        assert difference_outside(clip, original, [box_of(*BOX)]) < 2


def test_it_fills_a_black_region_with_black(master: Path, out: Path) -> None:
    box = (0.55, 0.1, 0.2, 0.3)
    spec = {"mode": "regions", "regions": [still(*box, effect="black")]}
    redacted_render(master=master, out=out, offset=OFFSET, duration=3, spec=spec, watermark="")
    clip, original = gray_at(out, 1.05), gray_at(master, OFFSET + 1.05)
    assert mean(clip, box_of(*box, inset=2)) < 8
    assert mean(original, box_of(*box, inset=2)) > 60
    assert difference_outside(clip, original, [box_of(*box)]) < 2


def test_it_keeps_only_the_requester_sharp_in_all_except_mode(master: Path, out: Path) -> None:
    box = (0.5, 0.45, 0.3, 0.4)  # the checkerboard and two bar edges
    spec = {"mode": "all_except", "regions": [still(*box)]}
    redacted_render(master=master, out=out, offset=OFFSET, duration=3, spec=spec, watermark=WATERMARK)
    clip, original = gray_at(out, 1.05), gray_at(master, OFFSET + 1.05)
    assert difference(clip, original, box_of(*box, inset=2)) < 2
    elsewhere = (60, 40, 300, 180)  # bars and the rainbow band, far from the requester
    assert difference(clip, original, elsewhere) > 5
    assert edges(clip, elsewhere) < edges(original, elsewhere) / 10


def test_it_moves_a_box_between_keyframes_and_ends_it_after_the_last(master: Path, out: Path) -> None:
    spec = {"mode": "regions", "regions": [{"effect": "blur", "keyframes": [
        {"t": 0, "x": 0.05, "y": 0.2, "w": 0.25, "h": 0.4}, {"t": 4, "x": 0.65, "y": 0.2, "w": 0.25, "h": 0.4}]}]}
    redacted_render(master=master, out=out, offset=OFFSET, duration=5, spec=spec, watermark="")
    at = 2.05  # the frame at 2.1 s: x = 0.05 + 0.6 * 2.1 / 4 = 0.365
    clip, original = gray_at(out, at), gray_at(master, OFFSET + at)
    middle, start = box_of(0.365, 0.2, 0.25, 0.4, inset=4), box_of(0.05, 0.2, 0.25, 0.4, inset=4)
    assert difference(clip, original, middle) > 15
    assert edges(clip, middle) < edges(original, middle) / 10
    assert difference(clip, original, start) < 2
    # After its last keyframe the region is over: the frame at 4.6 s is untouched.
    clip, original = gray_at(out, 4.55), gray_at(master, OFFSET + 4.55)
    assert difference_outside(clip, original, []) < 2


def test_it_draws_the_watermark_bottom_left(master: Path, out: Path) -> None:
    redacted_render(master=master, out=out, offset=OFFSET, duration=2, spec={"mode": "regions", "regions": []},
                    watermark=WATERMARK)
    clip, original = gray_at(out, 1.05), gray_at(master, OFFSET + 1.05)
    band = (0, H - redaction.watermark_band(H), W // 2, H)
    assert difference(clip, original, band) > 10
    assert difference_outside(clip, original, []) < 2


NASTY = "it's: 100% \\ \"q\" ; [x], {y} =%{pts} 'a:b' \\: ,,; ą č ę ė į š ų ū ž"


def test_it_escapes_the_watermark_text_for_the_filter_graph(master: Path, tmp_path: Path) -> None:
    """The graph's text renders exactly like the same text read from a file, where nothing is escaped."""
    textfile = tmp_path / "text.txt"
    textfile.write_text(NASTY, encoding="utf-8")

    def frame(video: Any) -> bytes:
        output = video.output("pipe:", format="rawvideo", pix_fmt="gray", vframes=1)
        return output.global_args("-nostdin", "-loglevel", "error").run(capture_stdout=True, capture_stderr=True)[0]

    spec = redaction_validate({"mode": "regions", "regions": []})
    drawn = frame(redaction.filter_graph(ffmpeg.input(str(master)).video, spec=spec, width=W, height=H,
                                         watermark=NASTY))
    reference = frame(ffmpeg.input(str(master)).video.filter(
        "drawtext", textfile=str(textfile), expansion="none", **redaction.watermark_style(H)))
    other = frame(redaction.filter_graph(ffmpeg.input(str(master)).video, spec=spec, width=W, height=H,
                                         watermark=NASTY.replace("%{pts}", "%{ptz}")))
    assert drawn == reference
    assert other != reference  # the comparison does see the text


def test_it_drops_audio(tmp_path: Path, out: Path) -> None:
    master = tmp_path / "with-audio.ts"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=5",
                    "-f", "lavfi", "-i", "sine", "-t", "4", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                    "-f", "mpegts", str(master)], check=True)
    assert media_probe(master)["audio"]
    redacted_render(master=master, out=out, offset=0.5, duration=2, spec={"mode": "regions", "regions": []},
                    watermark="")
    assert not media_probe(out)["audio"]


# --- the file it makes, progress, failures -----------------------------------------------------------


def test_it_writes_an_h264_mp4_reporting_progress(master: Path, out: Path) -> None:
    seen: list[float] = []
    spec = {"mode": "regions", "regions": [still(0.1, 0.1, 0.2, 0.2), still(0.5, 0.5, 0.2, 0.3, effect="black")]}
    result = redacted_render(master=master, out=out, offset=OFFSET, duration=12, spec=spec, watermark=WATERMARK,
                             progress=seen.append)
    assert seen and seen[-1] == 1.0
    assert all(a < b for a, b in pairwise(seen))
    assert all(0 <= value <= 1 for value in seen)
    info = ffmpeg.probe(str(out))
    (stream,) = info["streams"]
    assert stream["codec_name"] == "h264" and stream["pix_fmt"] == "yuv420p"
    assert (stream["width"], stream["height"]) == (W, H)
    assert "mp4" in info["format"]["format_name"]
    assert abs(float(info["format"]["duration"]) - 12) <= 0.5
    data = out.read_bytes()
    assert data.index(b"moov") < data.index(b"mdat")  # +faststart: playable while downloading
    assert result["width"] == W and result["height"] == H and abs(result["duration"] - 12) <= 0.5
    assert result["frames"] == pytest.approx(12 * RATE, abs=2) and result["seconds"] > 0
    assert sorted(path.name for path in out.parent.iterdir()) == [out.name]  # no temporary file left


def test_it_replaces_an_older_render_only_when_the_new_one_is_complete(master: Path, out: Path) -> None:
    out.write_bytes(b"the clip released last week")
    with pytest.raises(RedactionError):
        redacted_render(master=master, out=out, offset=OFFSET, duration=2, spec={"mode": "regions", "regions": []},
                        watermark="", preset="no-such-preset")
    assert out.read_bytes() == b"the clip released last week"


@pytest.mark.parametrize(("window", "words"), [
    ({"offset": 15, "duration": 10}, "past the end"),
    ({"offset": -1, "duration": 2}, "beginning"),
    ({"offset": 1, "duration": 0}, "longer than zero"),
    ({"offset": math.nan, "duration": 2}, "beginning"),
])
def test_it_refuses_a_window_outside_the_recording(master: Path, out: Path, window: dict, words: str) -> None:
    with pytest.raises(RedactionError, match=words):
        redacted_render(master=master, out=out, spec={"mode": "regions", "regions": []}, watermark="", **window)
    assert list(out.parent.iterdir()) == []


def test_it_says_when_the_master_is_missing_or_not_video(tmp_path: Path, out: Path) -> None:
    spec = {"mode": "regions", "regions": []}
    with pytest.raises(RedactionError, match="does not exist"):
        redacted_render(master=tmp_path / "nothing.ts", out=out, offset=0, duration=1, spec=spec, watermark="")
    text = tmp_path / "notes.ts"
    text.write_text("not a video")
    with pytest.raises(RedactionError, match="cannot be read as video"):
        redacted_render(master=text, out=out, offset=0, duration=1, spec=spec, watermark="")
    assert list(out.parent.iterdir()) == []


def test_it_reports_ffmpegs_own_words_when_the_render_fails(master: Path, out: Path) -> None:
    with pytest.raises(RedactionError) as failure:
        redacted_render(master=master, out=out, offset=0, duration=2, spec={"mode": "regions", "regions": []},
                        watermark="", preset="no-such-preset")
    assert "could not render" in str(failure.value) and "no-such-preset" in str(failure.value)
    assert list(out.parent.iterdir()) == []


def test_it_stops_ffmpeg_and_cleans_up_when_the_caller_gives_up(master: Path, out: Path) -> None:
    def cancel(done: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        redacted_render(master=master, out=out, offset=0, duration=15, spec={"mode": "regions", "regions": []},
                        watermark="", progress=cancel)
    assert list(out.parent.iterdir()) == []


def test_it_renders_the_largest_spec_it_accepts(master: Path, out: Path) -> None:
    """50 regions of 200 keyframes whose box grows at every keyframe: 9,950 intervals of 9,950 sizes.
    The sizes are coarsened until the graph holds at most 100 pieces, and the graph (about 2 MB) goes
    to ffmpeg in a file, since one command-line argument may hold 128 KiB."""
    regions = [{"effect": "black", "keyframes": [
        {"t": k * 0.02, "x": 0.01 * (n % 10), "y": 0.01 * (n // 10), "w": 0.05 + 0.002 * k, "h": 0.05}
        for k in range(200)]} for n in range(50)]
    spec = {"mode": "regions", "regions": regions}
    redacted_render(master=master, out=out, offset=OFFSET, duration=1, spec=spec, watermark="")
    clip = gray_at(out, 0.55)
    assert mean(clip, box_of(0.0, 0.0, 0.15, 0.05)) < 8  # the black boxes are there
    assert sorted(path.name for path in out.parent.iterdir()) == [out.name]


def test_it_coarsens_box_sizes_only_upwards() -> None:
    regions = [{"effect": "blur", "keyframes": [
        {"t": k, "x": 0.3, "y": 0.3, "w": 0.05 + 0.003 * ((k * 7 + n) % 50), "h": 0.1 + 0.002 * k}
        for k in range(60)]} for n in range(20)]
    spec = redaction_validate({"mode": "regions", "regions": regions})
    exact = redaction._pieces(redaction_validate({"mode": "regions", "regions": regions[:1]}), W, H)
    assert len(exact) > 30  # one region alone keeps its sizes (nearly one per interval)
    pieces = redaction._pieces(spec, W, H)
    assert len(pieces) <= redaction.PIECES_BUDGET
    for region in spec["regions"]:
        for a, b in pairwise(region["keyframes"]):
            # Whichever piece draws this interval is at least as large as the interval needs.
            gate = f"gte(t,{redaction._num(a['t'])})*lt(t,{redaction._num(b['t'])})"
            sizes = [(p["w"], p["h"]) for p in pieces if gate in p["enable"] or
                     f"between(t,{redaction._num(a['t'])},{redaction._num(b['t'])})" in p["enable"]]
            assert sizes
            assert any(w >= max(a["w"], b["w"]) * W and h >= max(a["h"], b["h"]) * H for w, h in sizes)


def test_one_piece_per_region_when_the_box_keeps_its_size() -> None:
    spec = redaction_validate({"mode": "regions", "regions": [
        {"keyframes": [{"t": k, "x": 0.02 * k, "y": 0.1, "w": 0.1, "h": 0.2} for k in range(30)]},
        {"keyframes": [{"t": k, "x": 0.5, "y": 0.01 * k, "w": 0.2, "h": 0.2} for k in range(30)]}]})
    assert len(redaction._pieces(spec, W, H)) == 2


# --- the DPO's preview --------------------------------------------------------------------------------------


def test_the_preview_shows_exactly_what_the_render_will(master: Path, out: Path) -> None:
    spec = {"mode": "regions", "regions": [
        {"effect": "blur", "keyframes": [{"t": 0, "x": 0.05, "y": 0.2, "w": 0.25, "h": 0.4},
                                         {"t": 4, "x": 0.65, "y": 0.3, "w": 0.3, "h": 0.4}]},
        still(0.7, 0.05, 0.2, 0.2, effect="black", t=1.0)]}
    redacted_render(master=master, out=out, offset=OFFSET, duration=5, spec=spec, watermark=WATERMARK)
    for at in (0.05, 2.05, 3.55):
        preview = redacted_frame(master=master, at=OFFSET + at, spec=spec, clip_offset=OFFSET, watermark=WATERMARK)
        assert preview[:2] == b"\xff\xd8"  # a JPEG
        shown, rendered = gray_at(preview, 0), gray_at(out, at)
        whole = (0, 0, W, H)
        assert difference(shown, rendered, whole) < 2
        assert difference(shown, gray_at(master, OFFSET + at), whole) > 2  # and it is redacted


def test_the_preview_refuses_a_moment_before_the_clip_or_after_the_recording(master: Path) -> None:
    spec = {"mode": "regions", "regions": []}
    with pytest.raises(RedactionError, match="inside the clip"):
        redacted_frame(master=master, at=3, spec=spec, clip_offset=4)
    with pytest.raises(RedactionError, match="no picture"):
        redacted_frame(master=master, at=40, spec=spec, clip_offset=4)


# --- the master -----------------------------------------------------------------------------------------


def test_the_master_is_the_segments_bytes_end_to_end(footage: tuple[list[MediaSegment], Path],
                                                      tmp_path: Path) -> None:
    segments, _ = footage
    out = tmp_path / "master.ts"
    size = master_concat(segments=[segment.path for segment in segments], out=out)
    expected = b"".join(segment.path.read_bytes() for segment in segments)
    assert out.read_bytes() == expected and size == len(expected)
    info = media_probe(out)
    assert (info["width"], info["height"], info["codec"]) == (W, H, "h264")
    assert info["duration"] == pytest.approx(sum(segment.duration for segment in segments), abs=0.5)
    assert info["start_time"] > 0  # MPEG-TS starts at the muxer's delay, not 0: offsets are from here
    assert [path.name for path in tmp_path.iterdir()] == ["master.ts"]


def test_the_master_is_not_left_half_written(tmp_path: Path, footage: tuple[list[MediaSegment], Path]) -> None:
    segments, _ = footage
    with pytest.raises(FileNotFoundError):
        master_concat(segments=[segments[0].path, tmp_path / "lost.ts"], out=tmp_path / "master.ts")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RedactionError):
        master_concat(segments=[], out=tmp_path / "master.ts")


# --- the spec ----------------------------------------------------------------------------------------------

KEY = {"t": 0, "x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2}


def region(**changes: Any) -> dict[str, Any]:
    return {"mode": "regions", "regions": [{"effect": "blur", "keyframes": [{**KEY, **changes}]}]}


@pytest.mark.parametrize(("spec", "words"), [
    ("{not json", "not valid JSON"),
    ([], "must be an object"),
    ({"regions": []}, "lacks: mode"),
    ({"mode": "regions"}, "lacks: regions"),
    ({"mode": "pixelate", "regions": []}, "mode must be one of"),
    ({"mode": "regions", "regions": [], "colour": "red"}, "unknown keys: colour"),
    ({"mode": "regions", "regions": {}}, "must be a list"),
    ({"mode": "regions", "regions": [{"effect": "blur", "keyframes": []}]}, "at least one keyframe"),
    ({"mode": "regions", "regions": [{"effect": "blur"}]}, "lacks: keyframes"),
    ({"mode": "regions", "regions": [{"effect": "swirl", "keyframes": [KEY]}]}, "effect must be one of"),
    ({"mode": "regions", "regions": [{"effect": "blur", "keyframes": [KEY], "speed": 2}]}, "unknown keys: speed"),
    ({"mode": "all_except", "regions": [{"effect": "black", "keyframes": [KEY]}]}, "stay sharp"),
    ({"mode": "regions", "regions": [{"keyframes": [KEY]}] * 51}, "At most 50 regions"),
    ({"mode": "regions", "regions": [{"keyframes": [{**KEY, "t": n} for n in range(201)]}]}, "more than 200"),
    ({"mode": "regions", "regions": [{"keyframes": [KEY, KEY]}]}, "two keyframes at 0"),
    (region(t=-1), "t must not be negative"),
    (region(x=1), "x must be at least 0 and below 1"),
    (region(y=-0.1), "y must be at least 0 and below 1"),
    (region(w=0), "w must be above 0"),
    (region(h=1.5), "h must be above 0 and at most 1"),
    (region(x=0.9, w=0.2), "outside the frame"),
    (region(y=0.5, h=0.6), "outside the frame"),
    (region(x="0.1"), "x must be a number"),
    (region(w=True), "w must be a number"),
    (region(t=math.inf), "t must be a finite number"),
    (region(x=math.nan), "x must be a finite number"),
    (region(z=1), "unknown keys: z"),
    ({"mode": "regions", "regions": [{"keyframes": [{"t": 0, "x": 0.1, "y": 0.1, "w": 0.2}]}]}, "lacks: h"),
])
def test_it_rejects_a_bad_spec_with_a_message(spec: Any, words: str) -> None:
    with pytest.raises(RedactionError, match=words):
        redaction_validate(spec)


def test_it_normalises_a_good_spec() -> None:
    spec = {"mode": "regions", "regions": [
        {"keyframes": [{"t": 5, "x": 0.4, "y": 0.5, "w": 0.1, "h": 0.2}, {"t": 1, "x": 0, "y": 0, "w": 1, "h": 1}]},
        {"effect": "black", "keyframes": [{"t": 0.5, "x": 0.8, "y": 0.8, "w": 0.2, "h": 0.20005}]}]}
    assert redaction_validate(spec) == {"mode": "regions", "regions": [
        {"effect": "blur", "keyframes": [{"t": 1.0, "x": 0.0, "y": 0.0, "w": 1.0, "h": 1.0},
                                         {"t": 5.0, "x": 0.4, "y": 0.5, "w": 0.1, "h": 0.2}]},
        {"effect": "black", "keyframes": [{"t": 0.5, "x": 0.8, "y": 0.8, "w": 0.2, "h": 0.20005}]}]}
    assert redaction_validate(redaction_validate(spec)) == redaction_validate(spec)
    assert redaction_validate('{"mode": "all_except", "regions": []}') == {"mode": "all_except", "regions": []}
    assert all(isinstance(value, float) for value in redaction_validate(spec)["regions"][0]["keyframes"][0].values())
