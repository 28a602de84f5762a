"""The player a specialist lives in, in real Chromium: recorded footage, the timeline, near-live, the grid."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from footage.models import ViewingSession
from safecam.audit import AuditAction
from safecam.models import AuditEvent
from tests.media import media_index, media_segments

VILNIUS = ZoneInfo("Europe/Vilnius")


@pytest.fixture
def footage() -> list[Any]:
    return media_segments(seconds=180)


def recorded_run(camera: Any, footage: list[Any], *,
                 ago: timedelta = timedelta(minutes=20)) -> tuple[datetime, datetime]:
    """Three minutes of real footage for ``camera`` ending ``ago`` before now; returns (start, end)."""
    start = (timezone.now() - ago - timedelta(seconds=footage[-1].end_offset)).replace(microsecond=0)
    rows = media_index(camera, start, footage, end_run=True)
    return rows[0].start, rows[-1].end


def wait_for(page: Any, script: str, arg: Any = None, timeout: float = 15_000) -> Any:
    return page.wait_for_function(script, arg=arg, timeout=timeout).json_value()


def wait_until(probe: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while (value := probe()) is None or value is False:
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return value


def snapshot(page: Any, name: str) -> None:
    """A screenshot into $SAFECAM_SCREENSHOTS, when set (to look at the player after a run)."""
    folder = os.environ.get("SAFECAM_SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def instant(page: Any, testid: str) -> datetime:
    return datetime.fromisoformat(page.get_by_test_id(testid).get_attribute("data-time").replace("Z", "+00:00"))


def test_it_plays_recorded_footage_when_the_specialist_presses_play(
        page_for: Any, spec_vabalninkas: Any, vabalninkas_camera: Any, footage: list[Any]) -> None:
    start, end = recorded_run(vabalninkas_camera, footage)
    page = page_for(spec_vabalninkas)
    page.goto(f"/cameras/{vabalninkas_camera.public_id}/")
    video = page.get_by_test_id("player-video")
    # Opens paused a minute before the newest footage, with that frame on screen.
    wait_for(page, "v => v.readyState >= 2 && v.paused", video.element_handle())
    shown = instant(page, "player-clock")
    assert abs((shown - (end - timedelta(minutes=1))).total_seconds()) < 10
    before = video.evaluate("v => v.currentTime")
    page.get_by_test_id("player-play").click()
    wait_for(page, "([v, t]) => !v.paused && v.currentTime > t + 1.5", [video.element_handle(), before])
    snapshot(page, "recorded")
    assert page.errors == []
    # Leaving the page closes the viewing session with what was on screen (the audit trail's "watched").
    page.close(run_before_unload=True)
    wait_until(lambda: ViewingSession.objects.filter(closed_at__isnull=False).exists())
    event = AuditEvent.objects.get(action=AuditAction.FOOTAGE_VIEWED)
    assert event.actor == spec_vabalninkas and event.details["mode"] == "recorded"
    watched_from, watched_to = (datetime.fromisoformat(v.replace("Z", "+00:00")) for v in event.details["watched"][0])
    assert start <= watched_from < watched_to <= end
    assert (watched_to - watched_from).total_seconds() >= 1


def click_timeline_at(page: Any, testid: str, moment: datetime) -> None:
    """Click the timeline where it shows ``moment`` (its view is in data-view-start/-end)."""
    page.get_by_test_id(testid).scroll_into_view_if_needed()  # a mouse click needs it inside the viewport
    box = page.get_by_test_id(testid).evaluate("""(tl, at) => {
        const track = tl.querySelector("[data-testid=timeline-track]").getBoundingClientRect();
        const start = Date.parse(tl.dataset.viewStart), end = Date.parse(tl.dataset.viewEnd);
        return {x: track.left + (Date.parse(at) - start) / (end - start) * track.width, y: track.top + track.height / 2,
                inside: Date.parse(at) >= start && Date.parse(at) <= end};
    }""", moment.isoformat())
    assert box["inside"], f"{moment} is not in the timeline's view"
    page.mouse.click(box["x"], box["y"])


def test_it_seeks_where_the_timeline_is_clicked_and_shows_that_vilnius_time(
        page_for: Any, spec_vabalninkas: Any, vabalninkas_camera: Any, footage: list[Any]) -> None:
    from footage.models import Segment
    from footage.thumbnails import thumbnail_make

    start, end = recorded_run(vabalninkas_camera, footage)
    for segment in Segment.objects.order_by("start")[::3]:  # preview pictures, as the beat task makes them
        assert thumbnail_make(segment=segment)
    page = page_for(spec_vabalninkas)
    page.goto(f"/cameras/{vabalninkas_camera.public_id}/")
    video = page.get_by_test_id("player-video")
    wait_for(page, "v => v.readyState >= 2", video.element_handle())
    for _ in range(8):  # 24 h → about 6 minutes around the playhead
        page.locator("[data-sc=zoom-in]").click()
    target = start + timedelta(seconds=40)
    click_timeline_at(page, "player-timeline", target)
    wait_for(page, "([clock, at]) => Math.abs(Date.parse(clock.dataset.time) - Date.parse(at)) < 10000",
             [page.get_by_test_id("player-clock").element_handle(), target.isoformat()])
    # A click plays from there; the read-out is the frame's time in Vilnius, though this browser's
    # clock is in New York.
    wait_for(page, "v => !v.paused", video.element_handle())
    stamp, text = page.get_by_test_id("player-clock").evaluate("c => [c.dataset.time, c.textContent]")
    shown = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert abs((shown - target).total_seconds()) < 10
    assert text == shown.astimezone(VILNIUS).strftime("%Y-%m-%d %H:%M:%S")
    # Dragging the playhead while playing scrubs, and playback goes on from where it is dropped.
    handle = page.locator(".sc-tl-handle").bounding_box()
    later = start + timedelta(seconds=130)
    box = page.get_by_test_id("player-timeline").evaluate("""(tl, at) => {
        const track = tl.querySelector("[data-testid=timeline-track]").getBoundingClientRect();
        const start = Date.parse(tl.dataset.viewStart), end = Date.parse(tl.dataset.viewEnd);
        return {x: track.left + (Date.parse(at) - start) / (end - start) * track.width};
    }""", later.isoformat())
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(handle["x"] + (box["x"] - handle["x"]) * step / 10, handle["y"] + handle["height"] / 2)
        page.wait_for_timeout(30)
    page.mouse.up()
    wait_for(page, "([clock, at]) => Math.abs(Date.parse(clock.dataset.time) - Date.parse(at)) < 10000",
             [page.get_by_test_id("player-clock").element_handle(), later.isoformat()])
    wait_for(page, "v => !v.paused && !v.seeking", video.element_handle())
    # The preview strip along the zoomed timeline shows the pictures, loaded through the session.
    wait_for(page, "() => [...document.querySelectorAll('.sc-tl-thumb')].filter(i => i.naturalWidth > 0).length >= 2")
    snapshot(page, "timeline-click")
    assert page.errors == []


def test_it_plays_near_live_and_follows_new_footage(
        page_for: Any, spec_vabalninkas: Any, vabalninkas_camera: Any, footage: list[Any]) -> None:
    # Four segments, the newest closed 7 s ago; the next one closes 3 s from now, as a camera's would.
    run_start = timezone.now() - timedelta(seconds=footage[3].end_offset + 7)
    rows = media_index(vabalninkas_camera, run_start, footage[:4])
    run = rows[0].run
    page = page_for(spec_vabalninkas)
    page.goto(f"/cameras/{vabalninkas_camera.public_id}/?live=1")
    video = page.get_by_test_id("player-video")
    wait_for(page, "v => !v.paused && v.currentTime > 0 && v.readyState >= 3", video.element_handle())
    assert page.get_by_test_id("player-live").get_attribute("aria-pressed") == "true"
    started = video.evaluate("v => v.currentTime")
    # Within two segments of the newest footage.
    assert timezone.now() - instant(page, "player-clock") < timedelta(seconds=2 * 10 + 9)
    newest = rows[-1].end
    # The recorder closes the next segment; the live playlist slides on and the player follows.
    due = run.started_at + timedelta(seconds=footage[4].end_offset)
    while timezone.now() < due:
        page.wait_for_timeout(200)
    media_index(vabalninkas_camera, run_start, [footage[4]], run=run)
    wait_for(page, "([clock, at]) => Date.parse(clock.dataset.time) > Date.parse(at) + 1000",
             [page.get_by_test_id("player-clock").element_handle(), newest.isoformat()], timeout=30_000)
    assert video.evaluate("v => v.currentTime") > started + 5
    assert timezone.now() - instant(page, "player-clock") < timedelta(seconds=2 * 10 + 9)
    snapshot(page, "live")
    assert page.errors == []


def test_it_plays_every_camera_of_the_eldership_on_one_clock(
        page_for: Any, spec_vabalninkas: Any, vabalninkas_cameras: list[Any], footage: list[Any]) -> None:
    first, second = vabalninkas_cameras
    start, end = recorded_run(first, footage)
    media_index(second, start + timedelta(seconds=25), footage[:12], end_run=True)  # later, shorter
    page = page_for(spec_vabalninkas)
    # Open where only the first camera has footage: the second shows its first frame and waits.
    opening = start + timedelta(seconds=20)
    page.goto(f"/sites/vabalninkas/playback/?t={opening.isoformat().replace('+00:00', 'Z')}")
    videos = page.get_by_test_id("grid-video")
    assert videos.count() == 2
    wait_for(page, "() => [...document.querySelectorAll('[data-testid=grid-video]')].every(v => v.readyState >= 2)")
    wait_for(page, "([clock, at]) => Math.abs(Date.parse(clock.dataset.time) - Date.parse(at)) < 1500",
             [page.get_by_test_id("grid-clock").element_handle(), opening.isoformat()])
    before = videos.evaluate_all("vs => vs.map(v => v.currentTime)")
    page.get_by_test_id("grid-speed").select_option("2")
    page.get_by_test_id("grid-play").click()
    wait_for(page, """before => [...document.querySelectorAll('[data-testid=grid-video]')]
                        .filter((v, i) => !v.paused && v.currentTime > before[i] + 2).length >= 2""", before)
    page.wait_for_timeout(1000)  # a few rounds of the sync loop
    walls = page.evaluate("() => SafeCam.instances.grid.tiles.map(t => t.source.currentWall())")
    assert None not in walls and abs(walls[0] - walls[1]) < 600, walls
    assert datetime.fromtimestamp(min(walls) / 1000, UTC) > start + timedelta(seconds=25)
    snapshot(page, "grid")
    assert page.errors == []


def test_it_marks_an_incident_with_a_hold_from_the_player(
        page_for: Any, spec_vabalninkas: Any, vabalninkas_camera: Any, footage: list[Any]) -> None:
    from footage.models import Incident

    start, end = recorded_run(vabalninkas_camera, footage)
    page = page_for(spec_vabalninkas)
    page.goto(f"/cameras/{vabalninkas_camera.public_id}/")
    wait_for(page, "v => v.readyState >= 2", page.get_by_test_id("player-video").element_handle())
    on_screen = instant(page, "player-clock")
    page.get_by_test_id("player-incident").click()
    form = page.get_by_test_id("incident-form")
    form.locator("[name=note]").fill("Apgadintas suoliukas")
    form.locator("[name=place_hold]").check()
    form.locator("[type=submit]").click()
    page.locator(".sc-tl-incident").wait_for()
    assert form.is_hidden()
    incident = Incident.objects.get()
    assert incident.note == "Apgadintas suoliukas" and incident.hold is not None
    assert abs((incident.start - (on_screen - timedelta(seconds=30))).total_seconds()) <= 1
    assert abs((incident.end - (on_screen + timedelta(seconds=30))).total_seconds()) <= 1
    assert page.errors == []


def test_it_opens_a_new_session_and_keeps_playing_when_the_old_one_expires(
        page_for: Any, spec_vabalninkas: Any, vabalninkas_camera: Any, footage: list[Any]) -> None:
    start, end = recorded_run(vabalninkas_camera, footage)
    page = page_for(spec_vabalninkas)
    page.goto(f"/cameras/{vabalninkas_camera.public_id}/")
    video = page.get_by_test_id("player-video")
    wait_for(page, "v => v.readyState >= 2", video.element_handle())
    page.get_by_test_id("player-speed").select_option("8")
    # As the idle sweep would: the session ends, its links answer 410 Gone from now on.
    ViewingSession.objects.update(closed_at=timezone.now())
    shown = instant(page, "player-clock")
    page.get_by_test_id("player-play").click()
    wait_for(page, "([clock, at]) => Date.parse(clock.dataset.time) > Date.parse(at) + 20000",
             [page.get_by_test_id("player-clock").element_handle(), shown.isoformat()], timeout=20_000)
    assert ViewingSession.objects.filter(closed_at__isnull=True).count() == 1
    assert video.evaluate("v => v.playbackRate") == 8
    assert page.errors == []


def test_it_opens_at_the_newest_footage_even_when_the_camera_stopped_hours_ago(
        page_for: Any, spec_vabalninkas: Any, vabalninkas_camera: Any, footage: list[Any]) -> None:
    start, end = recorded_run(vabalninkas_camera, footage[:6], ago=timedelta(hours=3))
    page = page_for(spec_vabalninkas)
    page.goto(f"/cameras/{vabalninkas_camera.public_id}/")
    wait_for(page, "v => v.readyState >= 2", page.get_by_test_id("player-video").element_handle())
    assert abs((instant(page, "player-clock") - (end - timedelta(minutes=1))).total_seconds()) < 10
    assert page.get_by_test_id("player-state").is_hidden()
    assert page.errors == []


def vilnius_input(moment: datetime) -> str:
    return moment.astimezone(VILNIUS).strftime("%Y-%m-%dT%H:%M:%S")


def test_it_goes_to_a_vilnius_time_typed_in_the_picker_and_answers_the_keyboard(
        page_for: Any, spec_vabalninkas: Any, vabalninkas_camera: Any, footage: list[Any]) -> None:
    start, end = recorded_run(vabalninkas_camera, footage)
    page = page_for(spec_vabalninkas)
    page.goto(f"/cameras/{vabalninkas_camera.public_id}/")
    video = page.get_by_test_id("player-video")
    wait_for(page, "v => v.readyState >= 2", video.element_handle())
    clock = page.get_by_test_id("player-clock").element_handle()
    near = "([clock, at]) => Math.abs(Date.parse(clock.dataset.time) - Date.parse(at)) < 1500"

    target = start + timedelta(seconds=50)
    page.get_by_test_id("player-datetime").fill(vilnius_input(target))
    page.get_by_test_id("player-datetime").press("Enter")  # goes there and plays
    wait_for(page, near, [clock, target.isoformat()])
    wait_for(page, "v => !v.paused", video.element_handle())

    page.evaluate("document.activeElement.blur()")
    page.keyboard.press(" ")
    wait_for(page, "v => v.paused", video.element_handle())
    target = instant(page, "player-clock")
    page.keyboard.press("ArrowLeft")
    wait_for(page, near, [clock, (target - timedelta(seconds=10)).isoformat()])
    page.keyboard.press("Shift+ArrowRight")
    wait_for(page, near, [clock, (target + timedelta(seconds=50)).isoformat()])
    page.keyboard.press("]")
    assert page.get_by_test_id("player-speed").input_value() == "2"
    assert video.evaluate("v => v.playbackRate") == 2
    page.keyboard.press(" ")
    wait_for(page, "v => !v.paused", video.element_handle())
    page.keyboard.press(" ")
    wait_for(page, "v => v.paused", video.element_handle())
    view_span = "tl => Date.parse(tl.dataset.viewEnd) - Date.parse(tl.dataset.viewStart)"
    span = page.get_by_test_id("player-timeline").evaluate(view_span)
    page.keyboard.press("+")
    assert page.get_by_test_id("player-timeline").evaluate(view_span) == span / 2
    page.locator("[data-sc=help-toggle]").click()
    assert page.locator("[data-sc=help]").is_visible()

    # Local times across both clock changes, converted in the browser as Python's zoneinfo does.
    convert = "v => new Date(new SafeCam.ZoneClock('Europe/Vilnius', 'lt').parseInput(v)).toISOString()"
    for local in ("2026-03-29T02:30:00", "2026-03-29T03:30:00", "2026-03-29T04:30:00", "2026-10-25T03:30:00",
                  "2026-10-25T04:30:00", "2026-01-15T12:00:00", "2026-07-01T12:00:00"):
        browser_utc = page.evaluate(convert, local)
        expected = datetime.fromisoformat(local).replace(tzinfo=VILNIUS).astimezone(UTC)
        assert datetime.fromisoformat(browser_utc.replace("Z", "+00:00")) == expected, local
    assert page.errors == []


def test_it_downloads_the_frame_on_screen_for_an_officer_with_the_export_right(
        page_for: Any, public_order: Any, vabalninkas_camera: Any, footage: list[Any]) -> None:
    start, end = recorded_run(vabalninkas_camera, footage)
    page = page_for(public_order)
    page.goto(f"/cameras/{vabalninkas_camera.public_id}/")
    wait_for(page, "v => v.readyState >= 2", page.get_by_test_id("player-video").element_handle())
    shown = instant(page, "player-clock")
    with page.expect_download() as download:
        page.get_by_test_id("player-still").click()
    path = download.value.path()
    with open(path, "rb") as handle:
        assert handle.read(3) == b"\xff\xd8\xff"  # a JPEG
    assert shown.astimezone(VILNIUS).strftime("%Y%m%d-%H%M%S") in download.value.suggested_filename
    assert page.errors == []
