"""Who may reach requests, exports and the request-scoped footage search: the persona matrix of every
page and endpoint of the requests app (the public pages, registers and editor have their own files)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from access_requests import exporting, services
from access_requests.models import AccessRequest, Export, RequestKind, RequestState
from tests.access_requests.conftest import request_make
from tests.conftest import PERSONAS
from tests.media import ffmpeg_available, media_index, media_segments

pytestmark = pytest.mark.django_db

HANDLERS = {"dpo"}  # who handles requests (plus the superuser)
OTHERS = [p for p in PERSONAS if p not in HANDLERS]


def _user(persona: Any, name: str) -> Any:
    return None if name == "anonymous" else persona(name)


@pytest.fixture
def case(dpo: Any, public_order: Any, vabalninkas_camera: Any, pabirze_camera: Any) -> dict[str, Any]:
    """An access request (the DPO's) and a police disclosure request (filed by Public Order)."""
    access = request_make(by=dpo, camera=vabalninkas_camera)
    police = request_make(by=public_order, kind=RequestKind.DISCLOSURE, camera=pabirze_camera)
    return {"access": access, "police": police}


PAGES = ["/requests/", "/requests/new/", "/requests/{access}/", "/requests/{access}/search/",
         "/requests/{police}/"]


@pytest.mark.door("request-dashboard", "request-new", "request-detail", "request-search")
@pytest.mark.parametrize("name", PERSONAS)
@pytest.mark.parametrize("page", PAGES)
def test_it_shows_request_pages_to_the_dpo_only(name: str, page: str, persona: Any, client_for: Any,
                                                case: dict[str, Any]) -> None:
    url = page.format(access=case["access"].public_id, police=case["police"].public_id)
    response = client_for(_user(persona, name)).get(url)
    if name == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif name == "dpo":
        assert response.status_code == 200
    elif name == "public_order" and url in ("/requests/", "/requests/new/", f"/requests/{case['police'].public_id}/"):
        assert response.status_code == 200  # they file and follow their own police requests
    else:
        assert response.status_code == 404


def test_public_order_sees_only_their_own_disclosure_requests(public_order: Any, client_for: Any,
                                                              case: dict[str, Any]) -> None:
    page = client_for(public_order).get("/requests/").content.decode()
    assert case["police"].reference in page and case["access"].reference not in page
    form = client_for(public_order).get("/requests/new/").content.decode()
    assert 'value="disclosure"' in form and 'value="access"' not in form
    detail = client_for(public_order).get(f"/requests/{case['police'].public_id}/").content.decode()
    assert 'data-testid="move"' not in detail and 'data-testid="search"' not in detail


def test_a_police_officer_files_a_disclosure_request_with_its_legal_basis(public_order: Any, client_for: Any,
                                                                         pabirze_camera: Any) -> None:
    start = timezone.localtime() - timedelta(hours=5)
    data = {"kind": "access", "channel": "official", "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "requester_name": "Tyrėjas Petraitis", "recipient_kind": "police", "recipient_organisation": "",
            "legal_basis": "", "camera": pabirze_camera.pk, "window_start": start.strftime("%Y-%m-%dT%H:%M"),
            "window_end": (start + timedelta(minutes=20)).strftime("%Y-%m-%dT%H:%M"), "description": "Eismo įvykis"}
    refused = client_for(public_order).post("/requests/new/", data)
    assert refused.status_code == 400
    assert "legal basis" in refused.content.decode() or "teisinis pagrindas" in refused.content.decode().lower()
    assert not AccessRequest.objects.exists()
    data.update(recipient_organisation="Biržų r. policijos komisariatas", legal_basis="BPK 97 str.")
    assert client_for(public_order).post("/requests/new/", data).status_code == 400  # "access" is not theirs
    data["kind"] = "disclosure"
    created = client_for(public_order).post("/requests/new/", data)
    assert created.status_code == 302, re.findall(r"invalid-feedback d-block\">([^<]*)", created.content.decode())
    request = AccessRequest.objects.get()
    assert request.kind == RequestKind.DISCLOSURE
    assert request.created_by == public_order and request.site == pabirze_camera.site


@pytest.mark.door("api:access-request-list", "api:access-request-detail")
@pytest.mark.parametrize("name", PERSONAS)
def test_the_api_lists_requests_by_role(name: str, persona: Any, api_client_for: Any,
                                        case: dict[str, Any]) -> None:
    response = api_client_for(_user(persona, name)).get("/api/v1/access-requests/")
    if name == "anonymous":
        assert response.status_code in (401, 403)
        return
    if name not in ("dpo", "public_order"):  # no request of any kind is theirs: the collection does not exist
        assert response.status_code == 404
        return
    assert response.status_code == 200
    references = {row["reference"] for row in response.json()["results"]}
    expected = {"dpo": {case["access"].reference, case["police"].reference},
                "public_order": {case["police"].reference}}.get(name, set())
    assert references == expected
    detail = api_client_for(_user(persona, name)).get(f"/api/v1/access-requests/{case['access'].public_id}/")
    assert detail.status_code == (200 if name == "dpo" else 404)


@pytest.mark.door("api:access-request-move", "api:access-request-footage")
@pytest.mark.parametrize("name", PERSONAS)
def test_only_the_dpo_moves_requests_and_attaches_footage(name: str, persona: Any, api_client_for: Any,
                                                          case: dict[str, Any], vabalninkas_camera: Any) -> None:
    client = api_client_for(_user(persona, name))
    access = case["access"]
    move = client.post(f"/api/v1/access-requests/{access.public_id}/move/",
                       {"to": "identity_verified", "identity_method": "id_document"}, format="json")
    start = access.window_start
    attach = client.post(f"/api/v1/access-requests/{access.public_id}/footage/",
                         {"camera": str(vabalninkas_camera.public_id), "start": start.isoformat(),
                          "end": (start + timedelta(minutes=1)).isoformat()}, format="json")
    police_move = client.post(f"/api/v1/access-requests/{case['police'].public_id}/move/",
                              {"to": "withdrawn"}, format="json")
    if name == "anonymous":
        assert {move.status_code, attach.status_code, police_move.status_code} <= {401, 403}
    elif name == "dpo":
        assert move.status_code == 200 and move.json()["state"] == "identity_verified"
        assert attach.status_code == 201 and attach.json()["hold"]
        assert police_move.status_code == 200
    else:
        assert (move.status_code, attach.status_code, police_move.status_code) == (404, 404, 404)
        access.refresh_from_db()
        assert access.state == RequestState.RECEIVED and not access.footage.exists()


def test_the_api_answers_bad_input_with_messages(dpo: Any, api_client_for: Any, case: dict[str, Any],
                                                 pabirze_camera: Any) -> None:
    client = api_client_for(dpo)
    access = case["access"]
    illegal = client.post(f"/api/v1/access-requests/{access.public_id}/move/", {"to": "disclosed"}, format="json")
    assert illegal.status_code == 400 and "Galimi kiti etapai" in str(illegal.json()["errors"]["to"])
    unknown = client.post(f"/api/v1/access-requests/{access.public_id}/move/", {"to": "lost"}, format="json")
    assert unknown.status_code == 400
    reversed_ = client.post(f"/api/v1/access-requests/{access.public_id}/footage/",
                            {"camera": str(access.camera.public_id), "start": access.window_end.isoformat(),
                             "end": access.window_start.isoformat()}, format="json")
    assert reversed_.status_code == 400 and "end" in reversed_.json()["errors"]
    elsewhere = client.post(f"/api/v1/access-requests/{access.public_id}/footage/",
                            {"camera": str(pabirze_camera.public_id), "start": access.window_start.isoformat(),
                             "end": access.window_end.isoformat()}, format="json")
    assert elsewhere.status_code == 400 and "camera" in elsewhere.json()["errors"]
    late = client.post(f"/api/v1/access-requests/{access.public_id}/extend/",
                       {"months": 2, "reason": "Many cameras", "notified_on": "2099-01-01"}, format="json")
    assert late.status_code == 400 and "notified_on" in late.json()["errors"]
    created = client.post("/api/v1/access-requests/", {
        "kind": "access", "requester_name": "A", "description": "x", "window_start": "2026-01-02T10:00:00Z",
        "window_end": "2026-01-01T10:00:00Z"}, format="json")
    assert created.status_code == 400 and "window_end" in created.json()["errors"]
    assert client.get("/api/v1/access-requests/not-a-uuid/").status_code == 404


@pytest.fixture
def recorded(footage_storage_dir: Any, vabalninkas_camera: Any) -> dict[str, Any]:
    if not ffmpeg_available():
        pytest.skip("needs ffmpeg")
    start = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    return {"start": start, "segments": media_index(vabalninkas_camera, start, media_segments())}


@pytest.fixture
def ready_export(recorded: dict[str, Any], dpo: Any, vabalninkas_camera: Any) -> Export:
    request = request_make(by=dpo, camera=vabalninkas_camera, start=recorded["start"], minutes=3)
    services.request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="e_signature")
    services.request_move(request=request, to=RequestState.SEARCHING, by=dpo)
    found = services.footage_attach(request=request, camera=vabalninkas_camera, by=dpo,
                                    start=recorded["start"] + timedelta(seconds=5),
                                    end=recorded["start"] + timedelta(seconds=15))
    export = services.export_create(found=found, by=dpo)
    exporting.export_render(export.pk)
    return Export.objects.get(pk=export.pk)


@pytest.mark.door("export-detail", "export-redacted", "api:export-list", "api:export-approve")
@pytest.mark.parametrize("name", PERSONAS)
def test_exports_are_the_dpos(name: str, persona: Any, client_for: Any, api_client_for: Any,
                              ready_export: Export) -> None:
    user = _user(persona, name)
    pages = [client_for(user).get(f"/exports/{ready_export.public_id}/"),
             client_for(user).get(f"/exports/{ready_export.public_id}/redacted.mp4")]
    listing = api_client_for(user).get("/api/v1/exports/")
    approve = api_client_for(user).post(f"/api/v1/exports/{ready_export.public_id}/approve/")
    if name == "anonymous":
        assert all(p.status_code == 302 for p in pages) and listing.status_code in (401, 403)
    elif name == "dpo":
        assert [p.status_code for p in pages] == [200, 200]
        assert [r["uuid"] for r in listing.json()["results"]] == [str(ready_export.public_id)]
        assert approve.status_code == 200 and approve.json()["status"] == "packaging"
    else:
        assert [p.status_code for p in pages] == [404, 404]
        if name == "public_order":  # files police disclosures: sees the exports of those only
            assert listing.status_code == 200 and listing.json()["results"] == []
        else:
            assert listing.status_code == 404
        assert approve.status_code == 404


def test_watching_the_redacted_copy_is_audited(dpo: Any, client_for: Any, ready_export: Export) -> None:
    from safecam.models import AuditEvent

    response = client_for(dpo).get(f"/exports/{ready_export.public_id}/redacted.mp4")
    assert response.status_code == 200 and response["Content-Type"] == "video/mp4"
    assert b"".join(response.streaming_content)[4:8] == b"ftyp"
    assert AuditEvent.objects.filter(action="export.previewed", target_id=str(ready_export.public_id)).count() == 1


@pytest.mark.door("api:request-footage-preview")
@pytest.mark.parametrize("name", PERSONAS)
def test_the_preview_frame_is_the_dpos_and_audited(name: str, persona: Any, api_client_for: Any,
                                                   ready_export: Export) -> None:
    from safecam.models import AuditEvent

    spec = {"mode": "regions", "regions": [{"effect": "black", "keyframes": [
        {"t": 0, "x": 0.2, "y": 0.2, "w": 0.3, "h": 0.3}]}]}
    response = api_client_for(_user(persona, name)).post(
        f"/api/v1/request-footage/{ready_export.footage.public_id}/preview/", {"at": 2.5, "redaction": spec},
        format="json")
    if name == "dpo":
        assert response.status_code == 200 and response.content[:2] == b"\xff\xd8"
        assert AuditEvent.objects.filter(action="export.previewed").exists()
    else:
        assert response.status_code in ((401, 403) if name == "anonymous" else (404,))


def test_a_bad_redaction_or_moment_gets_a_message(dpo: Any, api_client_for: Any, ready_export: Export) -> None:
    client = api_client_for(dpo)
    url = f"/api/v1/request-footage/{ready_export.footage.public_id}/preview/"
    bad = client.post(url, {"at": 1, "redaction": {"mode": "everything"}}, format="json")
    assert bad.status_code == 400 and "redaction" in bad.json()["errors"]
    late = client.post(url, {"at": 3600, "redaction": {"mode": "regions", "regions": []}}, format="json")
    assert late.status_code == 400 and "at" in late.json()["errors"]
    export = client.post("/api/v1/exports/", {"footage": str(ready_export.footage.public_id),
                                              "redaction": {"mode": "regions", "regions": [{"effect": "pixelate"}]}},
                         format="json")
    assert export.status_code == 400 and "redaction" in export.json()["errors"]


# --- the DPO watches footage only through a request ------------------------------------------------

def _session(client: Any, request: AccessRequest, camera: Any) -> dict[str, Any]:
    response = client.post(f"/api/v1/access-requests/{request.public_id}/cameras/{camera.public_id}/playback/",
                           {"mode": "recorded"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_the_dpo_plays_footage_through_a_request_and_only_within_it(
        recorded: dict[str, Any], dpo: Any, spec_vabalninkas: Any, api_client_for: Any, client_for: Any,
        vabalninkas_camera: Any, pabirze_camera: Any, settings: Any) -> None:
    settings.SAFECAM_REQUEST_SEARCH_MARGIN_HOURS = 0
    start = recorded["start"]
    # No right of their own: the DPO cannot open the camera's player directly.
    direct = api_client_for(dpo).post(f"/api/v1/cameras/{vabalninkas_camera.public_id}/playback/",
                                      {"mode": "recorded"}, format="json")
    assert direct.status_code == 404
    request = request_make(by=dpo, camera=vabalninkas_camera, start=start + timedelta(seconds=30), minutes=1)
    other_site = api_client_for(dpo).post(
        f"/api/v1/access-requests/{request.public_id}/cameras/{pabirze_camera.public_id}/playback/")
    assert other_site.status_code == 404

    links = _session(api_client_for(dpo), request, vabalninkas_camera)
    browser = client_for(dpo)
    playlist = browser.get(links["playlist"], {"start": start.isoformat(),
                                               "end": (start + timedelta(minutes=3)).isoformat()})
    assert playlist.status_code == 200
    served = [line for line in playlist.content.decode().splitlines() if line.startswith("seg/")]
    inside = [s.pk for s in recorded["segments"] if s.end > start + timedelta(seconds=30)
              and s.start < start + timedelta(seconds=90)]
    assert served == [f"seg/{pk}.ts" for pk in inside]
    base = links["playlist"].rsplit("/", 1)[0]
    assert browser.get(f"{base}/seg/{inside[0]}.ts").status_code == 200
    assert browser.get(f"{base}/seg/{recorded['segments'][0].pk}.ts").status_code == 404  # outside the window
    assert client_for(spec_vabalninkas).get(f"{base}/seg/{inside[0]}.ts").status_code == 404  # not theirs

    services.request_move(request=request, to=RequestState.WITHDRAWN, by=dpo)
    assert browser.get(f"{base}/seg/{inside[0]}.ts").status_code == 404  # a closed request plays nothing


def test_request_viewing_is_audited_with_its_purpose(recorded: dict[str, Any], dpo: Any, api_client_for: Any,
                                                     client_for: Any, vabalninkas_camera: Any) -> None:
    from footage.playback import sessions_close_idle
    from safecam.models import AuditEvent

    request = request_make(by=dpo, camera=vabalninkas_camera, start=recorded["start"], minutes=2)
    links = _session(api_client_for(dpo), request, vabalninkas_camera)
    base = links["playlist"].rsplit("/", 1)[0]
    assert client_for(dpo).get(f"{base}/seg/{recorded['segments'][1].pk}.ts").status_code == 200
    sessions_close_idle(now=timezone.now() + timedelta(hours=1))
    event = AuditEvent.objects.get(action="footage.viewed")
    assert event.actor == dpo and event.details["purpose"] == f"access_request:{request.public_id}"


@pytest.mark.parametrize("name", ["dpo", "public_order", "spec_vabalninkas", "coordinator"])
def test_the_overview_shows_open_requests_to_the_dpo(name: str, persona: Any, client_for: Any,
                                                     case: dict[str, Any]) -> None:
    from access_requests.models import AccessRequest as Request

    Request.objects.filter(pk=case["access"].pk).update(due_on=timezone.localdate() - timedelta(days=2))
    page = client_for(persona(name)).get("/").content.decode()
    if name == "dpo":
        assert 'data-testid="requests-due"' in page and case["access"].reference in page
    else:
        assert 'data-testid="requests-due"' not in page


@pytest.mark.door("request-extend", "request-footage-attach", "request-footage-detach", "export-approve",
                  "delivery-create", "delivery-revoke", "request-move")
@pytest.mark.parametrize("name", PERSONAS)
def test_only_the_dpo_may_post_to_a_request_or_an_export(name: str, persona: Any, client_for: Any,
                                                         ready_export: Export, dpo: Any) -> None:
    from access_requests.models import Delivery

    request = ready_export.request
    delivery = Delivery.objects.create(export=ready_export, recipient="Jonas", created_by=dpo,
                                       expires_at=timezone.now() + timedelta(days=1))
    posts = {
        f"/requests/{request.public_id}/extend/": {"months": 1, "reason": "Daug kamerų",
                                                   "notified_on": timezone.localdate().isoformat()},
        f"/requests/{request.public_id}/footage/": {"camera": str(ready_export.camera.public_id),
                                                    "start": "2026-01-01T10:00", "end": "2026-01-01T10:01"},
        f"/requests/{request.public_id}/footage/{ready_export.footage.public_id}/detach/": {"reason": "Klaida"},
        f"/exports/{ready_export.public_id}/approve/": {},
        f"/exports/{ready_export.public_id}/deliver/": {"recipient": "Jonas", "days": 3, "max_downloads": 1},
        f"/deliveries/{delivery.public_id}/revoke/": {},
        f"/requests/{request.public_id}/move/": {"to": "withdrawn"},  # last: a closed request takes no more
    }
    before = (AccessRequest.objects.get(pk=request.pk).state, Export.objects.get(pk=ready_export.pk).status)
    for url, data in posts.items():
        response = client_for(_user(persona, name)).post(url, data)
        if name == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
        elif name == "dpo":
            assert response.status_code == 302 and "/accounts/login/" not in response["Location"], url
        else:
            assert response.status_code == 404, url
    after = (AccessRequest.objects.get(pk=request.pk).state, Export.objects.get(pk=ready_export.pk).status)
    if name == "dpo":
        assert after == (RequestState.WITHDRAWN, "packaging")
        assert Delivery.objects.get(pk=delivery.pk).revoked_at is not None
    else:
        assert after == before and Delivery.objects.get(pk=delivery.pk).revoked_at is None
