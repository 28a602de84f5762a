"""The registry API under /api/v1/: the persona matrix, the site filter, token login, audit trail, schema."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from cameras.models import Camera
from safecam.audit import AuditAction
from safecam.models import AuditEvent
from tests.conftest import PASSWORD, PERSONAS, VISIBLE_SITES, totp_now

pytestmark = pytest.mark.django_db

SIGNED_IN = [p for p in PERSONAS if p != "anonymous"]
ApiClientFor = Callable[[Any], APIClient]


def _uuids(cameras: list[Camera]) -> set[str]:
    return {str(camera.public_id) for camera in cameras}


def _visible_cameras(name: str, registry: dict[str, list[Camera]]) -> set[str]:
    return {str(c.public_id) for slug in VISIBLE_SITES[name] for c in registry[slug]}


@pytest.mark.parametrize("path", [
    "/api/v1/sites/", "/api/v1/sites/vabalninkas/", "/api/v1/cameras/", "/api/v1/cameras/{uuid}/",
    "/api/v1/audit-events/",
])
def test_it_asks_anonymous_callers_to_authenticate(path: str, registry: dict[str, list[Camera]],
                                                   api_client_for: ApiClientFor) -> None:
    response = api_client_for(None).get(path.format(uuid=registry["vabalninkas"][0].public_id))
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.door("api:site-list")
@pytest.mark.parametrize("name", SIGNED_IN)
def test_it_lists_only_the_sites_the_caller_may_see(name: str, registry: dict[str, list[Camera]],
                                                    persona: Callable[[str], Any],
                                                    api_client_for: ApiClientFor) -> None:
    response = api_client_for(persona(name)).get("/api/v1/sites/")
    assert response.status_code == 200
    results = response.json()["results"]
    assert {site["slug"] for site in results} == VISIBLE_SITES[name]
    assert all(site["camera_count"] == len(registry[site["slug"]]) for site in results)


@pytest.mark.door("api:site-detail")
@pytest.mark.parametrize("name", SIGNED_IN)
@pytest.mark.parametrize("slug", ["vabalninkas", "pabirze"])
def test_it_answers_a_site_detail_only_to_those_allowed(name: str, slug: str, registry: dict[str, list[Camera]],
                                                        persona: Callable[[str], Any],
                                                        api_client_for: ApiClientFor) -> None:
    response = api_client_for(persona(name)).get(f"/api/v1/sites/{slug}/")
    if slug in VISIBLE_SITES[name]:
        assert response.status_code == 200
        assert response.json()["slug"] == slug
        assert response.json()["camera_count"] == len(registry[slug])
    else:
        assert response.status_code == 404
        assert response.json()["detail"]


@pytest.mark.door("api:camera-list")
@pytest.mark.parametrize("name", SIGNED_IN)
def test_it_lists_only_the_cameras_the_caller_may_see(name: str, registry: dict[str, list[Camera]],
                                                      persona: Callable[[str], Any],
                                                      api_client_for: ApiClientFor) -> None:
    response = api_client_for(persona(name)).get("/api/v1/cameras/")
    assert response.status_code == 200
    body = response.json()
    assert {camera["uuid"] for camera in body["results"]} == _visible_cameras(name, registry)
    assert body["count"] == len(_visible_cameras(name, registry))


@pytest.mark.door("api:camera-detail")
@pytest.mark.parametrize("name", SIGNED_IN)
@pytest.mark.parametrize("slug", ["vabalninkas", "pabirze"])
def test_it_answers_a_camera_detail_only_to_those_allowed(name: str, slug: str, registry: dict[str, list[Camera]],
                                                          persona: Callable[[str], Any],
                                                          api_client_for: ApiClientFor) -> None:
    camera = registry[slug][0]
    response = api_client_for(persona(name)).get(f"/api/v1/cameras/{camera.public_id}/")
    if slug in VISIBLE_SITES[name]:
        assert response.status_code == 200
        assert response.json()["uuid"] == str(camera.public_id)
        assert response.json()["site"] == slug
    else:
        assert response.status_code == 404
        assert response.json()["detail"]


def test_it_hides_other_elderships_cameras(registry: dict[str, list[Camera]], spec_vabalninkas: Any,
                                           api_client_for: ApiClientFor) -> None:
    client = api_client_for(spec_vabalninkas)
    unseen = client.get(f"/api/v1/cameras/{registry['pabirze'][0].public_id}/")
    missing = client.get(f"/api/v1/cameras/{uuid.uuid4()}/")
    assert unseen.status_code == missing.status_code == 404
    assert unseen.json() == missing.json()
    listed = client.get("/api/v1/cameras/?search=Pabiržės").json()
    assert listed["results"] == []


def test_it_filters_cameras_by_a_visible_site(registry: dict[str, list[Camera]], public_order: Any,
                                              api_client_for: ApiClientFor) -> None:
    response = api_client_for(public_order).get("/api/v1/cameras/?site=pabirze")
    assert response.status_code == 200
    assert {camera["uuid"] for camera in response.json()["results"]} == _uuids(registry["pabirze"])


@pytest.mark.parametrize("slug", ["pabirze", "nera-tokios"])
def test_it_refuses_a_filter_on_a_site_the_caller_cannot_see(slug: str, registry: dict[str, list[Camera]],
                                                             spec_vabalninkas: Any,
                                                             api_client_for: ApiClientFor) -> None:
    response = api_client_for(spec_vabalninkas).get(f"/api/v1/cameras/?site={slug}")
    assert response.status_code == 400
    body = response.json()
    assert body["detail"]
    assert "site" in body["errors"]
    # An unseen site and a missing one are refused in the same words: nothing is revealed.
    assert "Pabir" not in str(body)


def test_it_gives_the_same_answer_for_an_unseen_and_a_missing_site_filter(
    registry: dict[str, list[Camera]], spec_vabalninkas: Any, api_client_for: ApiClientFor,
) -> None:
    client = api_client_for(spec_vabalninkas)
    assert client.get("/api/v1/cameras/?site=pabirze").json() == client.get("/api/v1/cameras/?site=nera").json()


@pytest.mark.parametrize("path", ["/api/v1/cameras/not-a-uuid/", "/api/v1/cameras/" + "-" * 36 + "/",
                                  "/api/v1/cameras/0123456789abcdef0123456789abcdef-123/",
                                  "/api/v1/sites/nera-tokios/", "/api/v1/nothing-here/"])
def test_it_answers_a_malformed_or_unknown_address_with_json_404(path: str, public_order: Any,
                                                                 api_client_for: ApiClientFor) -> None:
    response = api_client_for(public_order).get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["detail"]


# --- token authentication ------------------------------------------------------------------------


def test_it_issues_a_token_that_authenticates_api_calls(registry: dict[str, list[Camera]], public_order: Any) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "public_order", "password": PASSWORD,
                                                        "otp": totp_now(public_order)}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert AuditEvent.objects.filter(action=AuditAction.TOKEN_ISSUED, actor=public_order).count() == 1

    caller = APIClient()
    caller.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    cameras = caller.get("/api/v1/cameras/")
    assert cameras.status_code == 200
    assert {c["uuid"] for c in cameras.json()["results"]} == _visible_cameras("public_order", registry)


def test_it_scopes_a_token_to_its_owner(registry: dict[str, list[Camera]], spec_vabalninkas: Any) -> None:
    token = APIClient().post("/api/v1/auth/token/", {"username": "spec_vabalninkas", "password": PASSWORD,
                                                     "otp": totp_now(spec_vabalninkas)}).json()["token"]
    caller = APIClient()
    caller.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert {c["uuid"] for c in caller.get("/api/v1/cameras/").json()["results"]} == _uuids(registry["vabalninkas"])
    assert caller.get(f"/api/v1/cameras/{registry['pabirze'][0].public_id}/").status_code == 404


def test_it_refuses_a_wrong_password_and_audits_the_attempt(public_order: Any) -> None:
    response = APIClient().post("/api/v1/auth/token/", {"username": "public_order", "password": "wrong-password"},
                                format="json", REMOTE_ADDR="192.0.2.7")
    assert response.status_code == 400
    assert response.json()["detail"]
    assert "token" not in response.json()
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.details == {"username": "public_order"}
    assert event.ip == "192.0.2.7"
    assert "wrong-password" not in str(event.details)
    assert not AuditEvent.objects.filter(action=AuditAction.TOKEN_ISSUED).exists()


def test_it_refuses_an_unknown_token(registry: dict[str, list[Camera]]) -> None:
    caller = APIClient()
    caller.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = caller.get("/api/v1/cameras/")
    assert response.status_code == 401
    assert response.json()["detail"]


# --- the audit trail -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dpo", "superuser"])
def test_it_shows_the_audit_trail_to_the_dpo_and_the_superuser(name: str, registry: dict[str, list[Camera]],
                                                               persona: Callable[[str], Any],
                                                               api_client_for: ApiClientFor) -> None:
    user = persona(name)
    response = api_client_for(user).get("/api/v1/audit-events/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == AuditEvent.objects.count() > 0
    seqs = [event["seq"] for event in body["results"]]
    assert seqs == sorted(seqs, reverse=True)
    assert {"camera.created", "site.created"} <= {event["action"] for event in body["results"]}


@pytest.mark.door("api:audit-event-list", "api:audit-event-detail")
@pytest.mark.parametrize("name", ["spec_vabalninkas", "spec_pabirze", "public_order", "coordinator"])
def test_to_others_the_audit_trail_does_not_exist(name: str, registry: dict[str, list[Camera]],
                                                  persona: Callable[[str], Any], api_client_for: ApiClientFor) -> None:
    client = api_client_for(persona(name))
    assert client.get("/api/v1/audit-events/").status_code == 404
    newest = AuditEvent.objects.order_by("-seq").first()
    assert client.get(f"/api/v1/audit-events/{newest.seq}/").status_code == 404


def test_it_offers_no_way_to_change_the_audit_trail(registry: dict[str, list[Camera]], dpo: Any,
                                                    api_client_for: ApiClientFor) -> None:
    client = api_client_for(dpo)
    newest = AuditEvent.objects.order_by("-seq").first()
    before = AuditEvent.objects.count()
    assert client.post("/api/v1/audit-events/", {"action": "x"}, format="json").status_code == 405
    assert client.patch(f"/api/v1/audit-events/{newest.seq}/", {"action": "x"}, format="json").status_code == 405
    assert client.delete(f"/api/v1/audit-events/{newest.seq}/").status_code == 405
    assert AuditEvent.objects.count() == before
    assert AuditEvent.objects.get(seq=newest.seq).action == newest.action


# --- the schema ----------------------------------------------------------------------------------


def test_it_publishes_an_openapi_schema_with_the_registry_paths(public_order: Any,
                                                                api_client_for: ApiClientFor) -> None:
    response = api_client_for(public_order).get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/v1/sites/", "/api/v1/cameras/", "/api/v1/auth/token/", "/api/v1/cameras/{uuid}/",
            "/api/v1/audit-events/"} <= set(schema["paths"])


def test_it_offers_only_visible_sites_in_the_browsable_filter_form(registry: dict[str, list[Camera]],
                                                                   spec_vabalninkas: Any,
                                                                   api_client_for: ApiClientFor) -> None:
    response = api_client_for(spec_vabalninkas).get("/api/v1/cameras/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    page = response.content.decode()
    assert 'value="vabalninkas"' in page  # the filter form's choice for the caller's own site
    assert "pabirze" not in page
    assert "Pabiržė" not in page and "Pabir&#x17E;" not in page
