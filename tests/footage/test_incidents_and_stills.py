"""Incidents marked on the timeline, the timeline's marks, still frames (real ffmpeg), and segments
handed out as short-lived signed URLs by S3 storage."""

from __future__ import annotations

import subprocess
import urllib.request
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cameras.models import Camera
from footage.models import Hold, Incident, Segment
from safecam.models import AuditEvent
from tests.conftest import PERSONAS
from tests.factories import footage_index
from tests.servers import S3Server, moto_endpoint, s3_server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

PLAY_SITES: dict[str, set[str]] = {
    "anonymous": set(), "spec_vabalninkas": {"vabalninkas"}, "spec_pabirze": {"pabirze"},
    "public_order": {"vabalninkas", "pabirze"}, "dpo": set(), "coordinator": set(),
}
# Specialists and Public Order may hold footage they play; still frames need the export right.
EXPORT_SITES: dict[str, set[str]] = {**{name: set() for name in PLAY_SITES}, "public_order": {"vabalninkas", "pabirze"}}
VIEW_SITES: dict[str, set[str]] = {**PLAY_SITES, "dpo": {"vabalninkas", "pabirze"}}


def _user(persona: Any, name: str) -> Any:
    return None if name == "anonymous" else persona(name)


def _body(camera: Camera, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    return {"camera": str(camera.public_id), "start": (now - timedelta(minutes=20)).isoformat(),
            "end": (now - timedelta(minutes=19)).isoformat(), "note": "Apgadintas suolelis prie bažnyčios", **extra}


@pytest.mark.door("api:incident-list")
@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_marks_and_lists_incidents_only_where_they_may_play(
    name: str, persona: Any, registry: dict[str, list[Camera]], api_client_for: Any,
) -> None:
    client = api_client_for(_user(persona, name))
    for slug, cameras in registry.items():
        response = client.post("/api/v1/incidents/", _body(cameras[0]), format="json")
        if name == "anonymous":
            assert response.status_code in (401, 403)
            continue
        if name == "coordinator":  # sees no camera: to them the footage collections do not exist
            assert response.status_code == 404
            continue
        allowed = slug in PLAY_SITES[name]
        assert response.status_code == (201 if allowed else 400), response.content
        if not allowed:
            assert "camera" in response.json()["errors"]  # "not found" among the cameras it may play
    if name == "coordinator":
        assert client.get("/api/v1/incidents/").status_code == 404
    elif name != "anonymous":
        listed = {item["camera"] for item in client.get("/api/v1/incidents/").json()["results"]}
        assert listed == {str(cameras[0].public_id) for slug, cameras in registry.items() if slug in PLAY_SITES[name]}
    assert Incident.objects.count() == len(PLAY_SITES[name])


def test_an_incident_with_a_hold_keeps_the_footage_and_both_are_audited(
    vabalninkas_camera: Camera, spec_vabalninkas: Any, api_client_for: Any,
) -> None:
    response = api_client_for(spec_vabalninkas).post("/api/v1/incidents/", _body(vabalninkas_camera, place_hold=True),
                                                     format="json")
    assert response.status_code == 201
    incident = Incident.objects.get()
    hold = Hold.objects.get()
    assert incident.hold == hold and response.json()["hold"] == str(hold.public_id)
    assert (hold.start, hold.end, hold.camera) == (incident.start, incident.end, vabalninkas_camera)
    assert hold.cause == incident and hold.is_active() and hold.review_on is not None
    actions = list(AuditEvent.objects.filter(action__in=["hold.placed", "incident.marked"]).values_list("action", flat=True))
    assert sorted(actions) == ["hold.placed", "incident.marked"]


def test_an_incident_without_the_hold_right_or_with_bad_times_is_refused_with_reasons(
    vabalninkas_camera: Camera, spec_vabalninkas: Any, api_client_for: Any,
) -> None:
    from cameras.services import site_access_revoke

    client = api_client_for(spec_vabalninkas)
    now = timezone.now()
    reversed_ = client.post("/api/v1/incidents/", _body(vabalninkas_camera, start=now.isoformat(),
                                                        end=(now - timedelta(hours=1)).isoformat()), format="json")
    assert reversed_.status_code == 400 and "end" in reversed_.json()["errors"]
    too_long = client.post("/api/v1/incidents/", _body(vabalninkas_camera, start=(now - timedelta(days=3)).isoformat(),
                                                       end=now.isoformat()), format="json")
    assert too_long.status_code == 400 and "end" in too_long.json()["errors"]
    blank = client.post("/api/v1/incidents/", _body(vabalninkas_camera, note="   "), format="json")
    assert blank.status_code == 400 and "note" in blank.json()["errors"]
    site_access_revoke(user=spec_vabalninkas, site=vabalninkas_camera.site, actions=("hold",), by=None)
    no_hold = client.post("/api/v1/incidents/", _body(vabalninkas_camera, place_hold=True), format="json")
    assert no_hold.status_code == 400 and "place_hold" in no_hold.json()["errors"]
    assert Incident.objects.count() == 0 and Hold.objects.count() == 0


@pytest.mark.door("api:camera-timeline")
@pytest.mark.parametrize("name", PERSONAS)
def test_the_timeline_shows_holds_to_viewers_and_incidents_and_pictures_only_to_those_who_may_play(
    name: str, persona: Any, vabalninkas_camera: Camera, superuser: Any, api_client_for: Any,
) -> None:
    from footage import services

    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    segments = footage_index(vabalninkas_camera, start, count=12)
    Segment.objects.filter(pk__in=[segments[0].pk, segments[6].pk]).update(thumbnail=True)
    services.incident_mark(camera=vabalninkas_camera, start=start + timedelta(seconds=15),
                           end=start + timedelta(seconds=45), note="Muštynės", by=superuser, place_hold=True)
    q = f"start={(start - timedelta(minutes=5)).isoformat()}&end={(start + timedelta(minutes=5)).isoformat()}"
    response = api_client_for(_user(persona, name)).get(
        f"/api/v1/cameras/{vabalninkas_camera.public_id}/timeline/?{q.replace('+', '%2B')}")
    if name == "anonymous":
        assert response.status_code in (401, 403)
        return
    if "vabalninkas" not in VIEW_SITES[name]:
        assert response.status_code == 404
        return
    data = response.json()
    assert [span["kind"] for span in data["spans"]] == ["unknown", "recorded", "unknown"]
    assert len(data["holds"]) == 1 and data["holds"][0]["active"] is True
    plays = "vabalninkas" in PLAY_SITES[name]
    assert [i["note"] for i in data["incidents"]] == (["Muštynės"] if plays else [])
    assert [t["segment"] for t in data["thumbnails"]] == ([segments[0].pk, segments[6].pk] if plays else [])


# --- still frames ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_segment(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Four seconds of real H.264 in MPEG-TS: a white first half, a black second half."""
    out = tmp_path_factory.mktemp("media") / "seg.ts"
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=white:s=160x90:r=5:d=2",
                    "-f", "lavfi", "-i", "color=black:s=160x90:r=5:d=2", "-filter_complex", "[0][1]concat=n=2:v=1",
                    "-c:v", "libx264", "-g", "5", "-pix_fmt", "yuv420p", "-f", "mpegts", str(out)], check=True)
    return out.read_bytes()


def _brightness(jpeg: bytes) -> int:
    gray = subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-i", "pipe:0", "-vf", "scale=1:1",
                           "-f", "rawvideo", "-pix_fmt", "gray", "pipe:1"], input=jpeg, capture_output=True, check=True)
    return gray.stdout[0]


@pytest.mark.door("still-frame")
@pytest.mark.parametrize("name", PERSONAS)
def test_still_frames_need_the_export_right(name: str, persona: Any, registry: dict[str, list[Camera]],
                                            real_segment: bytes, client_for: Any) -> None:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    client = client_for(_user(persona, name))
    for slug, cameras in registry.items():
        footage_index(cameras[0], start, count=1, seconds=4, payload=real_segment)
        at = (start + timedelta(seconds=1)).isoformat().replace("+", "%2B")
        response = client.get(f"/cameras/{cameras[0].public_id}/still.jpg?at={at}")
        if name == "anonymous":
            assert response.status_code == 302
            continue
        allowed = slug in EXPORT_SITES[name]
        assert response.status_code == (200 if allowed else 404)
        if allowed:
            assert response["Content-Type"] == "image/jpeg" and response.content[:2] == b"\xff\xd8"
            assert "attachment" in response["Content-Disposition"]
    assert AuditEvent.objects.filter(action="footage.still_exported").count() == len(EXPORT_SITES[name])


def test_a_still_frame_is_the_frame_at_the_moment_asked_and_is_audited(
    vabalninkas_camera: Camera, public_order: Any, real_segment: bytes, client_for: Any,
) -> None:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    [segment] = footage_index(vabalninkas_camera, start, count=1, seconds=4, payload=real_segment)
    client = client_for(public_order)

    def still(offset: float) -> Any:
        at = (start + timedelta(seconds=offset)).isoformat().replace("+", "%2B")
        return client.get(f"/cameras/{vabalninkas_camera.public_id}/still.jpg?at={at}")

    assert _brightness(still(0.5).content) > 200  # white half
    assert _brightness(still(3.0).content) < 50  # black half
    event = AuditEvent.objects.filter(action="footage.still_exported").latest("seq")
    assert event.actor == public_order and event.details["segment_sha256"] == segment.sha256
    nothing = still(3600)
    assert nothing.status_code == 404 and nothing.content  # a reason, not an empty page
    bad = client.get(f"/cameras/{vabalninkas_camera.public_id}/still.jpg?at=noon")
    assert bad.status_code == 400 and b"ISO 8601" in bad.content


def test_a_damaged_segment_gives_a_clear_error_not_a_500(vabalninkas_camera: Camera, public_order: Any,
                                                        client_for: Any) -> None:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    footage_index(vabalninkas_camera, start, count=1, payload=b"not video at all" * 100)
    at = (start + timedelta(seconds=1)).isoformat().replace("+", "%2B")
    response = client_for(public_order).get(f"/cameras/{vabalninkas_camera.public_id}/still.jpg?at={at}")
    assert response.status_code == 404 and response.content
    assert not AuditEvent.objects.filter(action="footage.still_exported").exists()


# --- signed URLs from S3 --------------------------------------------------------------------------

def test_with_s3_a_segment_request_redirects_to_a_short_lived_signed_url_after_the_checks(
    s3_server: S3Server, settings: Any, vabalninkas_camera: Camera, pabirze_camera: Camera,  # noqa: F811
    spec_vabalninkas: Any, api_client_for: Any,
) -> None:
    settings.STORAGES = {**settings.STORAGES, "footage": s3_server.storage_config()}
    settings.SAFECAM_PLAYBACK_REDIRECT = True
    settings.SAFECAM_SIGNED_URL_SECONDS = 30
    payload = b"\x47" + bytes(187) * 1
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    [segment] = footage_index(vabalninkas_camera, start, count=1, payload=payload)
    client = api_client_for(spec_vabalninkas)
    links = client.post(f"/api/v1/cameras/{vabalninkas_camera.public_id}/playback/", {"mode": "recorded"},
                        format="json").json()
    base = links["playlist"].rsplit("/", 1)[0]
    response = client.get(f"{base}/seg/{segment.pk}.ts")
    assert response.status_code == 302
    signed = response["Location"]
    assert signed.startswith(s3_server.endpoint_url) and "Expires=" in signed or "X-Amz-Expires=30" in signed
    with urllib.request.urlopen(signed, timeout=10) as fetched:
        assert fetched.read() == payload
    # Ranged requests stream through SafeCam instead (a signed URL would not carry the range).
    part = client.get(f"{base}/seg/{segment.pk}.ts", HTTP_RANGE="bytes=0-0")
    assert part.status_code == 206 and b"".join(part.streaming_content) == b"\x47"
