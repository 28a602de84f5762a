"""Malformed and unknown identifiers, path traversal in every file-serving URL, tampered tokens.

Malformed ids are "not found" (404), exactly like valid ids of nothing; no URL reaches a file by a
path taken from the request: segments and pictures are addressed by their index id (an integer),
photos, exports and reports by UUID, and the storage name always comes from the database row."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from access_requests.models import AccessRequest
from footage import playback
from footage.models import Hold, Segment, ViewingSession
from tests.access_requests.conftest import request_make
from tests.factories import footage_index
from tests.hardening.conftest import NoTrace, assert_api_refused

pytestmark = pytest.mark.django_db

UNKNOWN = str(uuid.UUID(int=0x5AFECA4))
MALFORMED = {
    "words": "not-a-uuid",
    "traversal": "..%2F..%2Fetc%2Fpasswd",
    "encoded dots": "%2e%2e",
    "absolute path": "%2Fetc%2Fpasswd",
    "NUL": "abc%00def",
    "1000 characters": "a" * 1000,
    "36 characters, not hex": "z" * 36,
    "uuid with a NUL": UNKNOWN[:-1] + "%00",
    "unknown": UNKNOWN,
}
IDS = list(MALFORMED)

# Every API detail route with a UUID (or other) lookup, with the persona who may use the collection.
API_ROUTES = [
    ("spec_vabalninkas", "get", "/api/v1/holds/{id}/"),
    ("spec_vabalninkas", "post", "/api/v1/holds/{id}/release/"),
    ("spec_vabalninkas", "get", "/api/v1/incidents/{id}/"),
    ("spec_vabalninkas", "get", "/api/v1/cameras/{id}/"),
    ("spec_vabalninkas", "get", "/api/v1/retention-records/{id}/"),
    ("spec_vabalninkas", "get", "/api/v1/sites/{id}/"),
    ("dpo", "get", "/api/v1/access-requests/{id}/"),
    ("dpo", "post", "/api/v1/access-requests/{id}/move/"),
    ("dpo", "post", "/api/v1/access-requests/{id}/extend/"),
    ("dpo", "post", "/api/v1/access-requests/{id}/erase/"),
    ("dpo", "post", "/api/v1/access-requests/{id}/footage/"),
    ("dpo", "get", "/api/v1/exports/{id}/"),
    ("dpo", "post", "/api/v1/exports/{id}/approve/"),
    ("dpo", "get", "/api/v1/audit-events/{id}/"),
    ("dpo", "post", "/api/v1/request-footage/{id}/preview/"),
    ("coordinator", "get", "/api/v1/reports/{id}/"),
    ("spec_vabalninkas", "get", "/api/v1/cameras/{id}/timeline/?start=2026-11-25T10:00Z&end=2026-11-25T11:00Z"),
    ("spec_vabalninkas", "post", "/api/v1/cameras/{id}/playback/"),
]


@pytest.mark.parametrize(("name", "method", "route"), API_ROUTES, ids=[f"{m} {r}" for _n, m, r in API_ROUTES])
def test_every_api_lookup_answers_404_json_for_bad_and_unknown_ids(
        name: str, method: str, route: str, persona: Any, api_client_for: Any, registry: Any) -> None:
    client = api_client_for(persona(name))
    for label, value in MALFORMED.items():  # one set-up per route: the table is the loop
        with NoTrace(Hold, AccessRequest, ViewingSession):
            response = getattr(client, method)(route.format(id=value), {} if method == "get" else {"reason": "x"},
                                               **({} if method == "get" else {"format": "json"}))
        assert response.status_code == 404, (label, response.status_code, response.content[:300])
        assert_api_refused(response, (404,))


@pytest.mark.parametrize("field", ["site", "camera", "kind", "channel", "requester_name"])
def test_a_nul_byte_in_a_related_or_text_field_is_a_400(field: str, dpo: Any, api_client_for: Any,
                                                         registry: Any) -> None:
    # PostgreSQL refuses NUL in text: unchecked, a slug lookup with one was a DataError (500).
    body = {"kind": "access", "channel": "email", "requester_name": "Jonas", "description": "Raudona striukė",
            "window_start": "2026-11-25T10:00Z", "window_end": "2026-11-25T11:00Z", field: "vabal\x00ninkas"}
    client = api_client_for(dpo)
    with NoTrace(AccessRequest):
        assert_api_refused(client.post("/api/v1/access-requests/", body, format="json"))


@pytest.mark.parametrize(("route", "value"), [
    ("/api/v1/holds/?camera__public_id={v}", "not-a-uuid"),
    ("/api/v1/incidents/?camera__public_id={v}", "../../etc/passwd"),
    ("/api/v1/retention-records/?camera__public_id={v}", "a" * 1000),
    ("/api/v1/cameras/?site={v}", "..%2F"),
    ("/api/v1/cameras/?ordering={v}", "stream_credentials"),
    ("/api/v1/holds/?page={v}", "99999999999999999999"),
    ("/api/v1/holds/?page={v}", "-1"),
])
def test_bad_filter_values_are_a_4xx_or_ignored_never_a_500(route: str, value: str, spec_vabalninkas: Any,
                                                            api_client_for: Any, registry: Any) -> None:
    response = api_client_for(spec_vabalninkas).get(route.format(v=value))
    assert response.status_code in (200, 400, 404), response.content[:300]
    if response.status_code != 200:
        assert response.json()["detail"]


# --- pages addressed by UUID (converter): malformed is no route, unknown is the 404 page ----------------

PAGE_ROUTES = [
    ("spec_vabalninkas", "/cameras/{id}/"), ("spec_vabalninkas", "/cameras/{id}/holds/new/"),
    ("public_order", "/cameras/{id}/still.jpg?at=2026-11-25T10:00Z"), ("spec_vabalninkas", "/holds/{id}/release/"),
    ("dpo", "/requests/{id}/"), ("dpo", "/requests/{id}/search/"), ("dpo", "/requests/{id}/letter-lt.pdf"),
    ("dpo", "/exports/{id}/"), ("dpo", "/exports/{id}/redacted.mp4"), ("coordinator", "/project/photos/{id}.jpg"),
    ("coordinator", "/project/activities/{id}/"), ("coordinator", "/reports/{id}/download/"),
    ("coordinator", "/project/budget/{id}/"), ("coordinator", "/project/partners/{id}/"),
]


@pytest.mark.parametrize(("name", "route"), PAGE_ROUTES, ids=[r for _n, r in PAGE_ROUTES])
def test_every_page_answers_404_for_bad_and_unknown_ids(name: str, route: str, persona: Any, client_for: Any,
                                                        registry: Any) -> None:
    client = client_for(persona(name))
    for label, value in {**MALFORMED, "int over 64 bits": "99999999999999999999", "negative": "-1"}.items():
        response = client.get(route.format(id=value))
        assert response.status_code == 404, (label, response.status_code, response.content[:300])


# --- file-serving URLs: traversal, NUL, huge ids, tampered tokens ---------------------------------------


@pytest.fixture
def recorded(vabalninkas_camera: Any) -> list[Segment]:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    return footage_index(vabalninkas_camera, start, count=3)


@pytest.fixture
def token(spec_vabalninkas: Any, vabalninkas_camera: Any, recorded: list[Segment]) -> str:
    session = playback.session_open(user=spec_vabalninkas, camera=vabalninkas_camera, mode="recorded")
    return playback.session_token(session)


TRAVERSALS = {
    "dot dot": "../../../../etc/passwd", "encoded dot dot": "%2e%2e/%2e%2e/etc/passwd",
    "encoded slashes": "..%2F..%2F..%2Fetc%2Fpasswd", "absolute": "/etc/passwd", "encoded absolute": "%2Fetc%2Fpasswd",
    "NUL": "1%00.ts", "backslashes": "..\\..\\etc\\passwd", "storage name": "{name}",
    "int over 64 bits": "99999999999999999999", "negative": "-1", "zero": "0",
}


@pytest.mark.parametrize("kind", ["seg", "thumb"])
def test_segments_and_pictures_are_reached_by_index_id_only(kind: str, token: str, recorded: list[Segment],
                                                           spec_vabalninkas: Any, client_for: Any) -> None:
    client = client_for(spec_vabalninkas)
    suffix = "ts" if kind == "seg" else "jpg"
    for label, value in TRAVERSALS.items():
        response = client.get(f"/play/{token}/{kind}/{value.format(name=recorded[0].storage_name)}.{suffix}")
        assert response.status_code == 404, (label, response.status_code, response.content[:200])


def test_a_real_segment_id_streams_its_file(token: str, recorded: list[Segment], spec_vabalninkas: Any,
                                            client_for: Any) -> None:
    # The control: the same client and token reach the segment by its id.
    response = client_for(spec_vabalninkas).get(f"/play/{token}/seg/{recorded[0].pk}.ts")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x47" * 188


def _tampered(token: str) -> dict[str, str]:
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    return {"last character changed": flipped, "truncated": token[: len(token) // 2],
            "signature dropped": token.rsplit(":", 1)[0], "empty payload": ":" + token.rsplit(":", 1)[-1],
            "1000 characters": token + "x" * 1000, "NUL": token + "%00", "traversal": "..%2F..%2Fetc"}


@pytest.mark.parametrize("leaf", ["index.m3u8?start=2026-11-25T10:00Z&end=2026-11-25T11:00Z", "live.m3u8",
                                  "seg/{seg}.ts", "thumb/{seg}.jpg"])
def test_a_tampered_playback_token_is_404(leaf: str, token: str, recorded: list[Segment], spec_vabalninkas: Any,
                                          client_for: Any) -> None:
    client = client_for(spec_vabalninkas)
    for label, bad in _tampered(token).items():
        response = client.get(f"/play/{bad}/{leaf.format(seg=recorded[0].pk)}")
        assert response.status_code == 404, (label, response.status_code, response.content[:200])


def test_a_tampered_heartbeat_token_is_404_and_counts_nothing(token: str, spec_vabalninkas: Any,
                                                              client_for: Any) -> None:
    client = client_for(spec_vabalninkas)
    session = ViewingSession.objects.get()
    for label, bad in _tampered(token).items():
        with NoTrace(ViewingSession):
            response = client.post(f"/play/{bad}/beat", "{}", content_type="application/json")
        assert response.status_code == 404, label
    assert ViewingSession.objects.get().watched == session.watched


def test_a_heartbeat_with_bad_watched_ranges_is_a_400(token: str, spec_vabalninkas: Any, client_for: Any) -> None:
    client = client_for(spec_vabalninkas)
    for body in ('{"watched": [["0001-01-01T00:00", "2026-11-25T10:00Z"]]}', '{"watched": "x"}', "[1]", "nonsense",
                 '{"watched": [["2026-11-25T10:00Z", "2026-11-25T09:00Z"]]}', '{"watched": [[1e10, "NaN"]]}'):
        response = client.post(f"/play/{token}/beat", body, content_type="application/json")
        assert response.status_code in (204, 400), (body, response.status_code, response.content)


@pytest.fixture
def delivery_token(dpo: Any, vabalninkas_camera: Any) -> str:
    from django.core import signing

    from access_requests.services import DELIVERY_SALT

    return signing.dumps(uuid.uuid4().hex, salt=DELIVERY_SALT, compress=False)


def test_a_tampered_download_link_is_404_and_claims_no_download(delivery_token: str, client: Any) -> None:
    for label, bad in _tampered(delivery_token).items():
        with NoTrace(AccessRequest):
            response = client.get(f"/download/{bad}/")
        assert response.status_code == 404, label


def test_a_well_signed_link_to_no_delivery_is_404(delivery_token: str, client: Any) -> None:
    with NoTrace():
        assert client.get(f"/download/{delivery_token}/").status_code == 404


@pytest.mark.parametrize("value", ["x", "x:y", "..%2F..%2Fetc", "a" * 1000, "%00"])
def test_a_tampered_confirmation_link_is_404(value: str, client: Any) -> None:
    assert client.get(f"/request/sent/{value}/").status_code == 404


@pytest.mark.parametrize("path", [
    "/signs/..%2F..%2Fsafecam%2Fsettings.pdf", "/signs/%2e%2e.pdf", "/signs/nowhere.pdf", "/signs/a%00b.pdf",
    "/privacy/..%2F..%2Fetc%2Fpasswd/", "/privacy/nowhere/", "/privacy/%2e%2e/",
    "/static/..%2F..%2Fsafecam%2Fsettings.py", "/static/%2e%2e/%2e%2e/safecam/settings.py",
    "/static/safecam/../../safecam/settings.py", "/static/%2Fetc%2Fpasswd", "/static/a%00b.css",
])
def test_public_file_urls_refuse_traversal(path: str, client: Any, dpo: Any, client_for: Any,
                                          vabalninkas: Any) -> None:
    # The signs are printed by the DPO; the notices and static files are public.
    response = (client_for(dpo) if path.startswith("/signs/") else client).get(path)
    assert response.status_code == 404, (path, response.status_code)
    assert b"SECRET_KEY" not in (response.content if not response.streaming else b"".join(response.streaming_content))


@pytest.mark.parametrize("language", ["xx", "..", "lt%00", "LT", "a" * 200, "%2e%2e%2fetc"])
def test_a_request_letter_in_an_unknown_language_is_404(language: str, dpo: Any, client_for: Any,
                                                        vabalninkas_camera: Any) -> None:
    item = request_make(by=dpo, camera=vabalninkas_camera)
    response = client_for(dpo).get(f"/requests/{item.public_id}/letter-{language}.pdf")
    assert response.status_code == 404, response.status_code
