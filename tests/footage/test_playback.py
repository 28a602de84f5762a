"""Playback: who may watch what, signed links, HLS playlists from the index, ranged delivery, and the
aggregated audit of viewing."""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cameras.models import Camera
from footage import playback
from footage.models import Segment, ViewingSession
from safecam.models import AuditEvent
from tests.conftest import PERSONAS
from tests.factories import footage_index

pytestmark = pytest.mark.django_db

# Who may play recorded footage / watch near-live on each eldership (specialists on their own,
# Public Order everywhere; the DPO only through a request, the coordinator never).
WATCH_SITES: dict[str, set[str]] = {
    "anonymous": set(), "spec_vabalninkas": {"vabalninkas"}, "spec_pabirze": {"pabirze"},
    "public_order": {"vabalninkas", "pabirze"}, "dpo": set(), "coordinator": set(),
}
PAYLOAD = bytes(range(256)) * 40  # 10 240 bytes: ranges can be checked byte for byte


def _user(persona: Any, name: str) -> Any:
    return None if name == "anonymous" else persona(name)


@pytest.fixture
def recorded(registry: dict[str, list[Camera]]) -> dict[str, list[Segment]]:
    """An hour ago, 6 segments of 10 s on the first camera of each eldership."""
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    return {slug: footage_index(cameras[0], start, count=6, payload=PAYLOAD) for slug, cameras in registry.items()}


def _open(client: Any, camera: Camera, mode: str = "recorded") -> Any:
    return client.post(f"/api/v1/cameras/{camera.public_id}/playback/", {"mode": mode}, format="json")


def _window(segments: list[Segment]) -> str:
    start = segments[0].start - timedelta(minutes=1)
    end = segments[-1].end + timedelta(minutes=1)
    return f"start={start.isoformat().replace('+', '%2B')}&end={end.isoformat().replace('+', '%2B')}"


def _segment_urls(playlist_url: str, text: str) -> list[str]:
    base = playlist_url.rsplit("/", 1)[0]
    return [f"{base}/{line}" for line in text.splitlines() if line and not line.startswith("#")]


# --- the persona matrix -------------------------------------------------------------------------

@pytest.mark.door("api:camera-playback", "play-playlist", "play-segment", "play-live")
@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_opens_sessions_and_fetches_footage_only_where_allowed(
    name: str, persona: Any, registry: dict[str, list[Camera]], recorded: dict[str, list[Segment]],
    api_client_for: Any,
) -> None:
    client = api_client_for(_user(persona, name))
    for slug, segments in recorded.items():
        camera = segments[0].camera
        for mode in ("recorded", "live"):
            response = _open(client, camera, mode)
            if name == "anonymous":
                assert response.status_code in (401, 403)
                continue
            allowed = slug in WATCH_SITES[name]
            assert response.status_code == (201 if allowed else 404), (slug, mode, response.content)
            if not allowed:
                continue
            links = response.json()
            if mode == "recorded":
                playlist = client.get(f"{links['playlist']}?{_window(segments)}")
                assert playlist.status_code == 200
                assert playlist["Content-Type"] == "application/vnd.apple.mpegurl"
                urls = _segment_urls(links["playlist"], playlist.content.decode())
                assert len(urls) == 6
                body = client.get(urls[0])
                assert body.status_code == 200 and b"".join(body.streaming_content) == PAYLOAD
            else:
                assert client.get(links["live_playlist"]).status_code == 200


@pytest.mark.door("camera-detail", "site-playback")
@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_sees_the_player_and_the_site_grid_only_where_allowed(
    name: str, persona: Any, recorded: dict[str, list[Segment]], client_for: Any,
) -> None:
    client = client_for(_user(persona, name))
    for slug, segments in recorded.items():
        camera = segments[0].camera
        page = client.get(f"/cameras/{camera.public_id}/")
        grid = client.get(f"/sites/{slug}/playback/")
        if name == "anonymous":
            assert page.status_code == grid.status_code == 302
            continue
        allowed = slug in WATCH_SITES[name]
        assert grid.status_code == (200 if allowed else 404)
        if page.status_code == 200:
            assert (b'id="sc-player-config"' in page.content) == allowed
        else:
            assert page.status_code == 404 and not allowed


def test_the_coordinator_gets_404_for_every_footage_url_even_with_a_working_link(
    recorded: dict[str, list[Segment]], spec_vabalninkas: Any, coordinator: Any, api_client_for: Any,
) -> None:
    segments = recorded["vabalninkas"]
    owner = api_client_for(spec_vabalninkas)
    links = _open(owner, segments[0].camera).json()
    seg_url = _segment_urls(links["playlist"], owner.get(f"{links['playlist']}?{_window(segments)}").content.decode())[0]
    client = api_client_for(coordinator)
    camera = segments[0].camera
    for url in (f"/cameras/{camera.public_id}/", f"/api/v1/cameras/{camera.public_id}/timeline/?{_window(segments)}",
                f"{links['playlist']}?{_window(segments)}", seg_url, f"/cameras/{camera.public_id}/still.jpg?at=x",
                "/sites/vabalninkas/playback/"):
        assert client.get(url).status_code == 404, url
    assert client.post(links["beat"], {}, format="json").status_code == 404
    assert _open(client, camera).status_code == 404


def test_a_link_copied_from_another_users_session_is_not_found(
    recorded: dict[str, list[Segment]], spec_vabalninkas: Any, spec_pabirze: Any, api_client_for: Any,
) -> None:
    segments = recorded["pabirze"]
    pabirze = api_client_for(spec_pabirze)
    links = _open(pabirze, segments[0].camera).json()
    live = _open(pabirze, segments[0].camera, "live").json()
    urls = _segment_urls(links["playlist"], pabirze.get(f"{links['playlist']}?{_window(segments)}").content.decode())
    vabalninkas = api_client_for(spec_vabalninkas)
    for url in (f"{links['playlist']}?{_window(segments)}", urls[0], urls[-1], live["live_playlist"],
                links["thumbnail"].replace("{segment}", str(segments[0].pk))):
        assert vabalninkas.get(url).status_code == 404, url
    assert vabalninkas.post(links["beat"], {"watched": []}, format="json").status_code == 404
    # The Pabiržė camera's page and timeline are not found for the Vabalninkas specialist either.
    camera = segments[0].camera
    assert vabalninkas.get(f"/cameras/{camera.public_id}/").status_code == 404
    assert vabalninkas.get(f"/api/v1/cameras/{camera.public_id}/timeline/?{_window(segments)}").status_code == 404


def test_a_session_cannot_reach_another_cameras_segments_or_any_path(
    recorded: dict[str, list[Segment]], public_order: Any, api_client_for: Any,
) -> None:
    client = api_client_for(public_order)
    mine, other = recorded["vabalninkas"], recorded["pabirze"]
    links = _open(client, mine[0].camera).json()
    base = links["playlist"].rsplit("/", 1)[0]
    assert client.get(f"{base}/seg/{mine[0].pk}.ts").status_code == 200
    assert client.get(f"{base}/seg/{other[0].pk}.ts").status_code == 404  # a segment of another camera
    for attempt in ("seg/../../../etc/passwd", "seg/%2e%2e%2f%2e%2e%2fetc%2fpasswd.ts", "seg/..%2F1.ts",
                    f"seg/{mine[0].storage_name}", "seg/1.ts/../../settings.py", "seg/-1.ts",
                    "seg/99999999999999999999999.ts"):
        response = client.get(f"{base}/{attempt}")
        assert response.status_code == 404, attempt
        assert b"root:" not in response.content


def test_a_tampered_or_made_up_token_is_not_found(recorded: dict[str, list[Segment]], public_order: Any,
                                                  api_client_for: Any) -> None:
    client = api_client_for(public_order)
    links = _open(client, recorded["vabalninkas"][0].camera).json()
    token = links["playlist"].split("/")[2]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert client.get(f"/play/{forged}/index.m3u8?{_window(recorded['vabalninkas'])}").status_code == 404
    assert client.get("/play/not-a-token/live.m3u8").status_code == 404


def test_an_expired_session_refuses_its_links_with_410_and_a_revoked_right_with_404(
    recorded: dict[str, list[Segment]], spec_vabalninkas: Any, api_client_for: Any, settings: Any,
) -> None:
    from cameras.services import site_access_revoke

    segments = recorded["vabalninkas"]
    client = api_client_for(spec_vabalninkas)
    links = _open(client, segments[0].camera).json()
    url = f"{links['playlist']}?{_window(segments)}"
    assert client.get(url).status_code == 200
    ViewingSession.objects.update(last_seen_at=timezone.now() - timedelta(seconds=settings.SAFECAM_PLAYBACK_IDLE_SECONDS + 1))
    expired = client.get(url)
    assert expired.status_code == 410 and expired.content
    fresh = _open(client, segments[0].camera).json()
    assert client.get(f"{fresh['playlist']}?{_window(segments)}").status_code == 200
    site_access_revoke(user=spec_vabalninkas, site=segments[0].camera.site, actions=("playback",), by=None)
    assert client.get(f"{fresh['playlist']}?{_window(segments)}").status_code == 404


# --- playlists ----------------------------------------------------------------------------------

def test_a_playlist_marks_gaps_and_new_runs_as_discontinuities_with_wall_clock_times(
    vabalninkas_camera: Camera, public_order: Any, api_client_for: Any,
) -> None:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=2)
    first = footage_index(vabalninkas_camera, start, count=3)
    second = footage_index(vabalninkas_camera, start + timedelta(seconds=30), count=2)  # new run, no gap
    third = footage_index(vabalninkas_camera, start + timedelta(seconds=120), count=2)  # after a 70 s gap
    client = api_client_for(public_order)
    links = _open(client, vabalninkas_camera).json()
    text = client.get(f"{links['playlist']}?{_window(first + third)}").content.decode()
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U" and lines[-1] == "#EXT-X-ENDLIST" and "#EXT-X-PLAYLIST-TYPE:VOD" in lines
    assert lines.count("#EXT-X-DISCONTINUITY") == 2
    names = [line for line in lines if line.startswith("seg/")]
    assert names == [f"seg/{s.pk}.ts" for s in first + second + third]
    times = [line.split(":", 1)[1] for line in lines if line.startswith("#EXT-X-PROGRAM-DATE-TIME")]
    assert times[0] == start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert times[3] == (start + timedelta(seconds=30)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    # The discontinuities sit right before the first segment of the second and third runs.
    assert lines[lines.index(f"seg/{second[0].pk}.ts") - 3] == "#EXT-X-DISCONTINUITY"
    assert lines[lines.index(f"seg/{third[0].pk}.ts") - 3] == "#EXT-X-DISCONTINUITY"


def test_a_playlist_range_that_is_reversed_malformed_or_too_long_gets_a_clear_400(
    recorded: dict[str, list[Segment]], public_order: Any, api_client_for: Any,
) -> None:
    client = api_client_for(public_order)
    links = _open(client, recorded["vabalninkas"][0].camera).json()
    # In Lithuanian, the users' language.
    for query, words in (("start=2026-11-25T10:00:00Z&end=2026-11-25T09:00:00Z", "Pabaiga turi būti vėliau"),
                         ("start=yesterday&end=2026-11-25T09:00:00Z", "ISO 8601"),
                         ("start=2026-11-25T00:00:00Z&end=2026-11-26T00:00:00Z", "ne daugiau kaip 6 valandas"),
                         ("", "pradžią")):
        response = client.get(f"{links['playlist']}?{query}")
        assert response.status_code == 400
        assert words in response.content.decode(), response.content


def test_the_live_playlist_slides_and_numbers_each_segment_the_same_way_on_every_reload(
    vabalninkas_camera: Camera, spec_vabalninkas: Any, api_client_for: Any, settings: Any,
) -> None:
    settings.SAFECAM_LIVE_PLAYLIST_SEGMENTS = 3
    now = timezone.now().replace(microsecond=0)
    older = footage_index(vabalninkas_camera, now - timedelta(minutes=30), count=2)
    newest = footage_index(vabalninkas_camera, now - timedelta(seconds=50), count=4)
    client = api_client_for(spec_vabalninkas)
    links = _open(client, vabalninkas_camera, "live").json()

    def numbered() -> dict[str, int]:
        lines = client.get(links["live_playlist"]).content.decode().splitlines()
        assert "#EXT-X-ENDLIST" not in lines
        sequence = int(next(line for line in lines if line.startswith("#EXT-X-MEDIA-SEQUENCE:")).split(":")[1])
        names = [line for line in lines if line.startswith("seg/")]
        return {name: sequence + i for i, name in enumerate(names)}

    before = numbered()
    assert list(before) == [f"seg/{s.pk}.ts" for s in newest[-3:]]
    later = footage_index(vabalninkas_camera, newest[-1].end + timedelta(seconds=20), count=2)  # after a gap
    after = numbered()
    assert list(after) == [f"seg/{s.pk}.ts" for s in newest[-1:] + later]
    for name in set(before) & set(after):
        assert before[name] == after[name]
    # A live session serves the newest footage, but not last half hour's without the playback right.
    base = links["live_playlist"].rsplit("/", 1)[0]
    assert client.get(f"{base}/seg/{later[-1].pk}.ts").status_code == 200
    from cameras.services import site_access_revoke
    site_access_revoke(user=spec_vabalninkas, site=vabalninkas_camera.site, actions=("playback",), by=None)
    assert client.get(f"{base}/seg/{later[-1].pk}.ts").status_code == 200
    assert client.get(f"{base}/seg/{older[0].pk}.ts").status_code == 404


def test_playlists_and_the_timeline_issue_the_same_number_of_queries_for_an_hour_or_a_day(
    vabalninkas_camera: Camera, public_order: Any, api_client_for: Any,
) -> None:
    now = timezone.now().replace(microsecond=0)
    footage_index(vabalninkas_camera, now - timedelta(hours=5), count=300, with_files=False)
    footage_index(vabalninkas_camera, now - timedelta(hours=3), count=20, with_files=False)
    Segment.objects.filter(camera=vabalninkas_camera).update(thumbnail=True)
    client = api_client_for(public_order)
    links = _open(client, vabalninkas_camera).json()
    counts = {}
    for label, hours in (("warm-up", 1), ("short", 1), ("long", 6)):
        start, end = (now - timedelta(hours=hours)).isoformat(), now.isoformat()
        q = f"start={start.replace('+', '%2B')}&end={end.replace('+', '%2B')}"
        with CaptureQueriesContext(connection) as playlist:
            assert client.get(f"{links['playlist']}?{q}").status_code == 200
        with CaptureQueriesContext(connection) as timeline:
            assert client.get(f"/api/v1/cameras/{vabalninkas_camera.public_id}/timeline/?{q}").status_code == 200
        counts[label] = (len(playlist), len(timeline))
    assert counts["short"] == counts["long"]
    assert counts["long"][0] <= 12 and counts["long"][1] <= 16, counts


# --- delivery -----------------------------------------------------------------------------------

def test_segments_answer_http_range_requests_byte_for_byte(
    recorded: dict[str, list[Segment]], public_order: Any, api_client_for: Any,
) -> None:
    client = api_client_for(public_order)
    links = _open(client, recorded["vabalninkas"][0].camera).json()
    url = links["playlist"].rsplit("/", 1)[0] + f"/seg/{recorded['vabalninkas'][0].pk}.ts"
    whole = client.get(url)
    assert whole["Accept-Ranges"] == "bytes" and whole["Content-Length"] == str(len(PAYLOAD))
    assert "no-store" in whole["Cache-Control"]
    part = client.get(url, HTTP_RANGE="bytes=100-299")
    assert part.status_code == 206 and part["Content-Range"] == f"bytes 100-299/{len(PAYLOAD)}"
    assert b"".join(part.streaming_content) == PAYLOAD[100:300]
    tail = client.get(url, HTTP_RANGE="bytes=-50")
    assert tail.status_code == 206 and b"".join(tail.streaming_content) == PAYLOAD[-50:]
    open_end = client.get(url, HTTP_RANGE="bytes=10000-")
    assert b"".join(open_end.streaming_content) == PAYLOAD[10000:]
    beyond = client.get(url, HTTP_RANGE=f"bytes={len(PAYLOAD)}-")
    assert beyond.status_code == 416 and beyond["Content-Range"] == f"bytes */{len(PAYLOAD)}"
    assert client.get(url, HTTP_RANGE="bytes=oops").status_code == 200  # ignored, whole file


@pytest.mark.parametrize("header,expected", [
    (None, None), ("bytes=0-0", (0, 0)), ("bytes=5-", (5, 99)), ("bytes=-10", (90, 99)), ("bytes=90-500", (90, 99)),
    ("bytes=1-2,4-5", None), ("items=0-1", None), ("bytes=-", None),
])
def test_byte_ranges_are_read_as_rfc_9110_says(header: str | None, expected: Any) -> None:
    assert playback.byte_range(header, 100) == expected


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=50-40", "bytes=-0"])
def test_unsatisfiable_byte_ranges_are_refused(header: str) -> None:
    with pytest.raises(playback.RangeNotSatisfiable):
        playback.byte_range(header, 100)


# --- audit of viewing ---------------------------------------------------------------------------

def _viewed() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="footage.viewed").order_by("seq"))


def test_a_viewing_session_leaves_one_aggregated_audit_event_with_the_span_watched(
    recorded: dict[str, list[Segment]], spec_vabalninkas: Any, api_client_for: Any,
) -> None:
    segments = recorded["vabalninkas"]
    client = api_client_for(spec_vabalninkas)
    links = _open(client, segments[0].camera).json()
    urls = _segment_urls(links["playlist"], client.get(f"{links['playlist']}?{_window(segments)}").content.decode())
    for url in urls:
        assert client.get(url, REMOTE_ADDR="10.1.2.3").status_code == 200
    watched_from, watched_to = segments[1].start, segments[4].end
    for a, b in ((watched_from, segments[2].end), (segments[2].end, watched_to)):
        assert client.post(links["beat"], {"watched": [[a.isoformat(), b.isoformat()]]}, format="json").status_code == 204
    assert _viewed() == []  # nothing written per request
    client.post(links["beat"], {"watched": [], "closing": True}, format="json")
    [event] = _viewed()
    assert event.actor == spec_vabalninkas and event.target_id == str(segments[0].camera.public_id)
    details = event.details
    assert details["footage_from"] == playback._z(watched_from) and details["footage_to"] == playback._z(watched_to)
    assert details["watched"] == [[playback._z(watched_from), playback._z(watched_to)]]
    assert details["watched_seconds"] == 40.0
    assert details["segments"] == 6 and details["bytes"] == 6 * len(PAYLOAD)
    assert details["viewing_from"] <= details["viewing_to"]
    # Once closed, the links stop working and the beat task writes nothing more.
    assert client.get(urls[0]).status_code == 410
    assert playback.sessions_close_idle(now=timezone.now() + timedelta(hours=2)) == 0
    assert len(_viewed()) == 1


def test_an_abandoned_session_is_closed_by_the_beat_task_with_the_footage_it_was_served(
    recorded: dict[str, list[Segment]], public_order: Any, api_client_for: Any, settings: Any,
) -> None:
    segments = recorded["pabirze"]
    client = api_client_for(public_order)
    links = _open(client, segments[0].camera).json()
    for url in _segment_urls(links["playlist"], client.get(f"{links['playlist']}?{_window(segments)}").content.decode())[:3]:
        client.get(url)
    assert playback.sessions_close_idle() == 0  # still active
    later = timezone.now() + timedelta(seconds=settings.SAFECAM_PLAYBACK_IDLE_SECONDS + 5)
    assert playback.sessions_close_idle(now=later) == 1
    [event] = _viewed()
    assert event.details["footage_from"] == playback._z(segments[0].start)
    assert event.details["footage_to"] == playback._z(segments[2].end)
    assert event.details["segments"] == 3 and event.details["watched"] == []


def test_an_hour_of_viewing_is_one_event_per_stretch_not_one_per_request(
    recorded: dict[str, list[Segment]], public_order: Any, api_client_for: Any, settings: Any,
) -> None:
    settings.SAFECAM_VIEWING_EVENT_MINUTES = 60
    segments = recorded["vabalninkas"]
    client = api_client_for(public_order)
    links = _open(client, segments[0].camera).json()
    session = ViewingSession.objects.get()
    urls = _segment_urls(links["playlist"], client.get(f"{links['playlist']}?{_window(segments)}").content.decode())
    for minute in range(0, 90, 5):  # 90 minutes of a player fetching and beating
        now = session.opened_at + timedelta(minutes=minute)
        playback.session_touch(session, now=now, segment=segments[minute % 6], nbytes=10)
        playback.session_beat(session=session, now=now, watched=[(segments[0].start, segments[0].end)])
    client.get(urls[0])
    assert len(_viewed()) == 1  # the first hour
    playback.session_beat(session=session, watched=[], closing=True, now=session.opened_at + timedelta(minutes=91))
    assert len(_viewed()) == 2


def test_a_malformed_heartbeat_gets_a_clear_400_and_changes_nothing(
    recorded: dict[str, list[Segment]], public_order: Any, api_client_for: Any,
) -> None:
    client = api_client_for(public_order)
    links = _open(client, recorded["vabalninkas"][0].camera).json()
    for body in ({"watched": "all"}, {"watched": [["2026-11-25T10:00:00Z"]]},
                 {"watched": [["2026-11-25T10:00:00Z", "2026-11-25T09:00:00Z"]]},
                 {"watched": [["2026-11-25T10:00:00", "2026-11-25T11:00:00"]]},
                 {"watched": [["2026-11-20T10:00:00Z", "2026-11-25T11:00:00Z"]]}):
        response = client.post(links["beat"], body, format="json")
        assert response.status_code == 400 and "watched" in response.json(), body
    assert client.post(links["beat"], "[1, 2]", content_type="application/json").status_code == 400
    assert client.post(links["beat"], "{not json", content_type="application/json").status_code == 400
    assert ViewingSession.objects.get().watched == []


def test_watched_ranges_merge_and_stay_bounded() -> None:
    base = timezone.now().replace(microsecond=0)
    ranges = [(base + timedelta(seconds=10 * i), base + timedelta(seconds=10 * i + 5)) for i in range(120)]
    merged = playback.watched_merge([], ranges)
    assert len(merged) == playback.WATCHED_MAX
    assert merged[0][0] == playback._z(base) and merged[-1][1] == playback._z(ranges[-1][1])
    touching = playback.watched_merge([[playback._z(base), playback._z(base + timedelta(seconds=5))]],
                                      [(base + timedelta(seconds=5.5), base + timedelta(seconds=9))])
    assert touching == [[playback._z(base), playback._z(base + timedelta(seconds=9))]]


# --- the DPO's viewing log ------------------------------------------------------------------------

@pytest.mark.door("viewing-log")
@pytest.mark.parametrize("name", PERSONAS)
def test_only_the_dpo_reads_the_viewing_log_with_who_watched_what(
    name: str, persona: Any, recorded: dict[str, list[Segment]], spec_vabalninkas: Any,
    api_client_for: Any, client_for: Any,
) -> None:
    segments = recorded["vabalninkas"]
    viewer = api_client_for(spec_vabalninkas)
    links = _open(viewer, segments[0].camera).json()
    watched = [[segments[0].start.isoformat(), segments[2].end.isoformat()]]
    viewer.post(links["beat"], {"watched": watched, "closing": True}, format="json")
    response = client_for(_user(persona, name)).get("/viewing/")
    if name == "anonymous":
        assert response.status_code == 302
        return
    if name != "dpo":
        assert response.status_code == 404
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert "spec_vabalninkas" in page and segments[0].camera.name in page
    assert "30 s" in page
    filtered = client_for(persona(name)).get("/viewing/", {"actor": "someone-else"})
    assert "spec_vabalninkas" not in filtered.content.decode()
    bad = client_for(persona(name)).get("/viewing/", {"camera": "../../etc", "day": "31/31/2026"})
    assert bad.status_code == 200 and "is-invalid" in bad.content.decode()


def test_the_camera_page_and_the_grid_come_with_a_working_session_of_their_own(
    recorded: dict[str, list[Segment]], spec_vabalninkas: Any, spec_pabirze: Any, client_for: Any,
) -> None:
    import json

    segments = recorded["vabalninkas"]
    client = client_for(spec_vabalninkas)
    page = client.get(f"/cameras/{segments[0].camera.public_id}/")
    config = json.loads(re.search(rb'id="sc-player-config" type="application/json">(.*?)</script>', page.content,
                                  re.S).group(1))
    playlist = f"{config['session']['playlist']}?{_window(segments)}"
    listed = client.get(playlist)
    assert listed.status_code == 200
    assert client.get(_segment_urls(config["session"]["playlist"], listed.content.decode())[0]).status_code == 200
    assert client_for(spec_pabirze).get(playlist).status_code == 404  # still the viewer's own
    grid = client.get("/sites/vabalninkas/playback/")
    grid_config = json.loads(re.search(rb'id="sc-grid-config" type="application/json">(.*?)</script>', grid.content,
                                       re.S).group(1))
    assert {c["session"]["mode"] for c in grid_config["cameras"]} == {"recorded"}
    assert ViewingSession.objects.filter(user=spec_vabalninkas).count() == 1 + len(grid_config["cameras"])
    # One event for the session that served footage; those that served nothing leave none.
    playback.sessions_close_idle(now=timezone.now() + timedelta(hours=1))
    assert AuditEvent.objects.filter(action="footage.viewed").count() == 1
