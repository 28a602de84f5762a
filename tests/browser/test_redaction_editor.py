"""The DPO's redaction editor in real Chromium: real footage, boxes drawn with the mouse, keyframes,
the server's preview, and the export row the editor asks for."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from access_requests.models import Export, RequestFootage
from access_requests.services import footage_attach
from tests.access_requests.conftest import request_make
from tests.browser.test_player import snapshot, wait_for
from tests.media import media_index, media_segments

DRAWN = {"x": 0.2, "y": 0.3, "w": 0.3, "h": 0.4}           # the first box, drawn at t1
MOVED = {"x": 0.4, "y": 0.2, "w": 0.35, "h": 0.45}         # moved by (+0.2, -0.1), then grown by 0.05 at t2


@pytest.fixture
def found(dpo: Any, vabalninkas_camera: Any) -> RequestFootage:
    """A minute of real footage attached to a request, 25 s into three minutes of recording two hours ago."""
    footage = media_segments(seconds=180)
    start = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    rows = media_index(vabalninkas_camera, start, footage, end_run=True)
    item = request_make(by=dpo, camera=vabalninkas_camera, start=rows[0].start - timedelta(minutes=10))
    begin = rows[0].start + timedelta(seconds=25)
    return footage_attach(request=item, camera=vabalninkas_camera, start=begin, end=begin + timedelta(seconds=60),
                          by=dpo, note="The requester crosses the square.")


def editor_url(found: RequestFootage) -> str:
    return f"/requests/{found.request.public_id}/footage/{found.public_id}/redact/"


def layer_point(page: Any, x: float, y: float) -> tuple[float, float]:
    """Page coordinates of the point (x, y), in fractions of the picture, on the drawing layer."""
    box = page.get_by_test_id("rx-layer").bounding_box()
    return box["x"] + x * box["width"], box["y"] + y * box["height"]


def drag(page: Any, start: tuple[float, float], end: tuple[float, float], steps: int = 8) -> None:
    page.mouse.move(*layer_point(page, *start))
    page.mouse.down()
    for step in range(1, steps + 1):
        page.mouse.move(*layer_point(page, start[0] + (end[0] - start[0]) * step / steps,
                                     start[1] + (end[1] - start[1]) * step / steps))
    page.mouse.up()


def clip_time(page: Any) -> float:
    return float(page.get_by_test_id("rx-clock").get_attribute("data-t"))


def settled(page: Any) -> None:
    wait_for(page, "v => !v.seeking && v.readyState >= 2", page.get_by_test_id("rx-video").element_handle())


def near(frame: dict, expected: dict, tolerance: float = 0.02) -> bool:
    return all(abs(frame[key] - value) <= tolerance for key, value in expected.items())


def test_it_draws_keys_previews_and_exports_a_region(page_for: Any, dpo: Any, found: RequestFootage) -> None:
    page = page_for(dpo)
    page.goto(editor_url(found))
    video = page.get_by_test_id("rx-video")
    wait_for(page, "v => v.readyState >= 2", video.element_handle())
    # It opens at the start of the attached range, not at the start of the first segment.
    assert clip_time(page) < 0.3
    page.get_by_test_id("rx-play").click()
    wait_for(page, "c => parseFloat(c.dataset.t) > 2", page.get_by_test_id("rx-clock").element_handle())
    page.keyboard.press("Space")
    wait_for(page, "v => v.paused", video.element_handle())
    settled(page)
    t1 = clip_time(page)
    assert 1.5 < t1 < 10
    # Paused on a frame, not inside one: the test footage has a frame every 0.2 s from the range's start.
    assert abs(t1 * 5 - round(t1 * 5)) < 0.02

    # A box dragged on the picture is a region with a keyframe at the moment on screen.
    drag(page, (DRAWN["x"], DRAWN["y"]), (DRAWN["x"] + DRAWN["w"], DRAWN["y"] + DRAWN["h"]))
    regions = page.get_by_test_id("rx-region")
    assert regions.count() == 1
    assert regions.first.get_attribute("data-keyframes") == "1"
    keyframes = page.get_by_test_id("rx-keyframe")
    assert keyframes.count() == 1
    assert abs(float(keyframes.first.get_attribute("data-t")) - t1) < 0.05
    assert "sc-rx-here" in keyframes.first.get_attribute("class")

    # Three seconds later the one-keyframe region is still there; moving and resizing its box keys it there.
    for _ in range(3):
        page.keyboard.press("Shift+ArrowRight")
    settled(page)
    t2 = clip_time(page)
    assert abs(t2 - (t1 + 3)) < 0.3
    drag(page, (DRAWN["x"] + 0.15, DRAWN["y"] + 0.2), (DRAWN["x"] + 0.35, DRAWN["y"] + 0.1))
    drag(page, (MOVED["x"] + 0.3, MOVED["y"] + 0.4), (MOVED["x"] + MOVED["w"], MOVED["y"] + MOVED["h"]))
    assert regions.first.get_attribute("data-keyframes") == "2"
    assert keyframes.count() == 2
    snapshot(page, "redaction-editor")

    # Between the keyframes the box is interpolated as the server does it (x/y linear, the larger size).
    page.keyboard.press("[")
    settled(page)
    assert abs(clip_time(page) - t1) < 0.05
    for _ in range(5):  # 1 s on, a third of the way
        page.keyboard.press("ArrowRight")
    box = page.get_by_test_id("rx-box").first
    assert "sc-rx-between" in box.get_attribute("class")
    style = box.evaluate("b => [b.style.left, b.style.width].map(parseFloat)")
    assert abs(style[0] - 100 * (DRAWN["x"] + (MOVED["x"] - DRAWN["x"]) / 3)) < 2.5
    assert abs(style[1] - 100 * MOVED["w"]) < 2.5

    # The server draws the frame with the export's own graph.
    page.get_by_test_id("rx-preview").click()
    wait_for(page, "i => i.complete && i.naturalWidth > 0", page.get_by_test_id("rx-preview-image").element_handle(),
             timeout=60_000)
    assert page.get_by_test_id("rx-error").is_hidden()
    snapshot(page, "redaction-preview")
    page.keyboard.press("Escape")
    wait_for(page, "m => !m.classList.contains('show')", page.locator("[data-sc=preview-modal]").element_handle())

    # Export: the row holds the spec drawn here; the browser goes to the request, where the job shows.
    page.get_by_test_id("rx-export").click()
    page.wait_for_url(f"**/requests/{found.request.public_id}/")
    export = Export.objects.get(footage=found)
    assert export.created_by == dpo and export.start == found.start and export.end == found.end
    spec = export.redaction
    assert spec["mode"] == "regions"
    assert len(spec["regions"]) == 1 and spec["regions"][0]["effect"] == "blur"
    first, second = spec["regions"][0]["keyframes"]
    assert abs(first["t"] - t1) < 0.05 and near(first, DRAWN)
    assert abs(second["t"] - t2) < 0.05 and near(second, MOVED)
    assert page.errors == []


def test_it_shows_the_servers_refusal_and_exports_the_mode_and_a_part(
        page_for: Any, dpo: Any, found: RequestFootage) -> None:
    page = page_for(dpo)
    page.goto(editor_url(found))
    wait_for(page, "v => v.readyState >= 2", page.get_by_test_id("rx-video").element_handle())
    # A preview the server refuses comes back as its message, in the editor (a box half outside the
    # frame, which the editor itself never makes).
    page.evaluate("""() => SafeCam.Redaction.editor.model.regions.push(
        {id: 99, n: 99, effect: "blur", colour: "#ffffff", keyframes: [{t: 0, x: 0.9, y: 0.9, w: 0.5, h: 0.5}]})""")
    page.keyboard.press("p")
    error = page.get_by_test_id("rx-error")
    error.wait_for(state="visible")
    assert "HTTP" not in error.inner_text() and len(error.inner_text()) > 30
    page.evaluate("() => SafeCam.Redaction.editor.model.regions.pop()")

    # "Blur everything except": the box drawn is who stays sharp; the part from 10 s to 40 s is exported.
    page.get_by_test_id("rx-mode-all-except").check()
    page.get_by_test_id("rx-scrubber").fill("5")
    settled(page)
    drag(page, (0.1, 0.1), (0.3, 0.5))
    page.get_by_test_id("rx-part").check()
    page.get_by_test_id("rx-scrubber").fill("10")
    settled(page)
    page.locator("[data-sc=part-set-from]").click()
    page.get_by_test_id("rx-scrubber").fill("40")
    settled(page)
    page.locator("[data-sc=part-set-to]").click()
    page.get_by_test_id("rx-export").click()
    page.wait_for_url(f"**/requests/{found.request.public_id}/")
    export = Export.objects.get(footage=found)
    assert abs((export.start - found.start).total_seconds() - 10) < 0.3
    assert abs((export.end - found.start).total_seconds() - 40) < 0.3
    assert export.redaction["mode"] == "all_except"
    (region,) = export.redaction["regions"]
    # Drawn at 5 s with one keyframe: in the part, it is on from the part's first frame.
    assert region["keyframes"] == [{"t": 0.0, "x": pytest.approx(0.1, abs=0.02), "y": pytest.approx(0.1, abs=0.02),
                                    "w": pytest.approx(0.2, abs=0.02), "h": pytest.approx(0.4, abs=0.02)}]
    assert page.errors == []


def test_it_keys_by_keyboard_warns_before_leaving_and_keeps_the_regions_in_the_tab(
        page_for: Any, dpo: Any, found: RequestFootage) -> None:
    page = page_for(dpo)
    page.goto(editor_url(found))
    wait_for(page, "v => v.readyState >= 2", page.get_by_test_id("rx-video").element_handle())
    page.get_by_test_id("rx-scrubber").fill("10")
    settled(page)
    drag(page, (0.5, 0.5), (0.6, 0.7))
    region = page.get_by_test_id("rx-region")
    assert region.count() == 1
    # K keys the box where it is, two seconds on; Alt+arrows move it there; Delete takes the keyframe
    # off again and Ctrl+Z brings it back.
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    settled(page)
    page.keyboard.press("k")
    assert region.get_attribute("data-keyframes") == "2"
    for _ in range(5):
        page.keyboard.press("Alt+ArrowRight")
    page.keyboard.press("Delete")
    assert region.get_attribute("data-keyframes") == "1"
    page.keyboard.press("Control+z")
    assert region.get_attribute("data-keyframes") == "2"
    spec = page.evaluate("() => SafeCam.Redaction.specOf(SafeCam.Redaction.editor.model)")
    second = spec["regions"][0]["keyframes"][1]
    assert abs(second["t"] - 12) < 0.3 and abs(second["x"] - 0.55) < 0.005 and abs(second["y"] - 0.5) < 0.005

    # Leaving with regions not exported asks first; back on the page, they are restored from this tab.
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.type), dialog.accept()))
    page.reload()
    assert dialogs == ["beforeunload"]
    wait_for(page, "v => v.readyState >= 2", page.get_by_test_id("rx-video").element_handle())
    assert page.get_by_test_id("rx-region").get_attribute("data-keyframes") == "2"
    assert page.locator("[data-sc=notice]").is_visible()
    assert page.errors == []


def test_watching_in_the_editor_is_audited_for_the_request(page_for: Any, dpo: Any, found: RequestFootage) -> None:
    from footage.models import ViewingSession
    from safecam.models import AuditEvent
    from tests.browser.test_player import wait_until

    page = page_for(dpo)
    page.goto(editor_url(found))
    video = page.get_by_test_id("rx-video")
    wait_for(page, "v => v.readyState >= 2", video.element_handle())
    page.get_by_test_id("rx-play").click()
    wait_for(page, "v => !v.paused && v.currentTime > 1.5", video.element_handle())
    page.wait_for_timeout(1500)
    page.close(run_before_unload=True)
    wait_until(lambda: ViewingSession.objects.filter(closed_at__isnull=False).exists())
    event = AuditEvent.objects.get(action="footage.viewed")
    assert event.actor == dpo and event.details["purpose"] == f"access_request:{found.request.public_id}"
    assert event.details["watched"], event.details
    from datetime import datetime

    watched_from = datetime.fromisoformat(event.details["watched"][0][0].replace("Z", "+00:00"))
    assert found.start - timedelta(seconds=1) <= watched_from < found.end
