"""Holds: who sees them, who places and releases them, and the audit trail they leave."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from cameras.models import Camera
from footage import services
from footage.models import Hold
from safecam.models import AuditEvent
from tests.conftest import PERSONAS, VISIBLE_SITES

pytestmark = pytest.mark.django_db

# Who may place and release holds on each eldership (Site permission place_hold): everyone who sees
# an eldership's cameras may hold their footage (the DPO and Public Order everywhere).
HOLD_SITES = VISIBLE_SITES


@pytest.fixture
def holds(registry: dict[str, list[Camera]], superuser: Any) -> dict[str, Hold]:
    now = timezone.now()
    return {slug: services.hold_place(camera=cameras[0], start=now - timedelta(hours=2), end=now - timedelta(hours=1),
                                      reason=f"Incidentas {slug}", by=superuser, review_on=(now + timedelta(days=7)).date())
            for slug, cameras in registry.items()}


def _body(camera: Camera, **extra: Any) -> dict[str, Any]:
    now = timezone.now()
    return {"camera": str(camera.public_id), "start": (now - timedelta(hours=3)).isoformat(),
            "end": (now - timedelta(hours=2)).isoformat(), "reason": "Policijos užklausa Nr. 15",
            "review_on": (now + timedelta(days=30)).date().isoformat(), **extra}


@pytest.mark.door("api:hold-list", "api:hold-detail")
@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_lists_exactly_the_holds_of_elderships_they_see(
    name: str, persona: Any, holds: dict[str, Hold], api_client_for: Any
) -> None:
    user = None if name == "anonymous" else persona(name)
    response = api_client_for(user).get("/api/v1/holds/")
    if name == "anonymous":
        assert response.status_code in (401, 403)
        return
    if name == "coordinator":  # sees no camera: to them the footage collections do not exist
        assert response.status_code == 404
        return
    assert response.status_code == 200
    assert {item["site"] for item in response.json()["results"]} == VISIBLE_SITES[name]
    for slug, hold in holds.items():
        detail = api_client_for(user).get(f"/api/v1/holds/{hold.public_id}/")
        assert detail.status_code == (200 if slug in VISIBLE_SITES[name] else 404)


@pytest.mark.door("api:hold-list")
@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_places_holds_only_where_allowed(
    name: str, persona: Any, registry: dict[str, list[Camera]], api_client_for: Any
) -> None:
    user = None if name == "anonymous" else persona(name)
    for slug, cameras in registry.items():
        response = api_client_for(user).post("/api/v1/holds/", _body(cameras[0]), format="json")
        if name == "anonymous":
            assert response.status_code in (401, 403)
        elif name == "coordinator":
            assert response.status_code == 404
        elif slug in HOLD_SITES[name]:
            assert response.status_code == 201, response.content
            hold = Hold.objects.get(public_id=response.json()["uuid"])
            assert hold.created_by == user
            event = AuditEvent.objects.get(action="hold.placed", target_id=str(hold.public_id))
            assert event.actor == user and event.details["reason"] == "Policijos užklausa Nr. 15"
        else:
            # A camera the persona may not hold on does not exist for them.
            assert response.status_code == 400
            assert "camera" in response.json()["errors"]
    if name in ("anonymous", "coordinator"):
        assert not Hold.objects.exists()


@pytest.mark.door("api:hold-release")
@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_releases_holds_only_where_allowed(
    name: str, persona: Any, holds: dict[str, Hold], api_client_for: Any
) -> None:
    user = None if name == "anonymous" else persona(name)
    for slug, hold in holds.items():
        response = api_client_for(user).post(f"/api/v1/holds/{hold.public_id}/release/",
                                             {"reason": "Nebereikia"}, format="json")
        hold.refresh_from_db()
        if name == "anonymous":
            assert response.status_code in (401, 403)
        elif slug in HOLD_SITES[name]:
            assert response.status_code == 200
            assert hold.released_by == user and not hold.is_active()
            assert AuditEvent.objects.filter(action="hold.released", target_id=str(hold.public_id)).exists()
        else:
            assert response.status_code == 404
            assert hold.is_active()


def test_it_refuses_a_hold_without_review_date_or_expiry_with_a_clear_message(
    vabalninkas_camera: Camera, public_order: Any, api_client_for: Any
) -> None:
    body = _body(vabalninkas_camera)
    del body["review_on"]
    response = api_client_for(public_order).post("/api/v1/holds/", body, format="json")
    assert response.status_code == 400
    assert "review" in str(response.json()).lower()
    assert not Hold.objects.exists()


def test_it_refuses_a_hold_that_ends_before_it_starts(
    vabalninkas_camera: Camera, public_order: Any, api_client_for: Any
) -> None:
    now = timezone.now()
    body = _body(vabalninkas_camera, start=now.isoformat(), end=(now - timedelta(hours=1)).isoformat())
    response = api_client_for(public_order).post("/api/v1/holds/", body, format="json")
    assert response.status_code == 400
    assert "end" in response.json()["errors"]


def test_releasing_twice_is_a_clear_error_not_a_second_event(
    holds: dict[str, Hold], public_order: Any, api_client_for: Any
) -> None:
    hold = holds["vabalninkas"]
    client = api_client_for(public_order)
    assert client.post(f"/api/v1/holds/{hold.public_id}/release/", {"reason": "x"}, format="json").status_code == 200
    again = client.post(f"/api/v1/holds/{hold.public_id}/release/", {"reason": "x"}, format="json")
    assert again.status_code == 400
    assert AuditEvent.objects.filter(action="hold.released").count() == 1


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.door("hold-list")
@pytest.mark.parametrize("name", PERSONAS)
def test_the_holds_page_lists_what_each_persona_may_see(
    name: str, persona: Any, holds: dict[str, Hold], client_for: Any
) -> None:
    user = None if name == "anonymous" else persona(name)
    response = client_for(user).get("/holds/")
    if name == "anonymous":
        assert response.status_code == 302
        return
    page = response.content.decode()
    for slug, hold in holds.items():
        assert (str(hold.public_id) in page) is (slug in VISIBLE_SITES[name])


@pytest.mark.door("hold-place")
@pytest.mark.parametrize("name", PERSONAS)
def test_the_place_hold_form_answers_only_those_who_may_hold(
    name: str, persona: Any, registry: dict[str, list[Camera]], client_for: Any
) -> None:
    user = None if name == "anonymous" else persona(name)
    for slug, cameras in registry.items():
        url = f"/cameras/{cameras[0].public_id}/holds/new/"
        response = client_for(user).get(url)
        if name == "anonymous":
            assert response.status_code == 302
        else:
            assert response.status_code == (200 if slug in HOLD_SITES[name] else 404)


def test_a_specialist_places_a_hold_from_the_camera_page_in_local_time(
    vabalninkas_camera: Camera, spec_vabalninkas: Any, client_for: Any
) -> None:
    client = client_for(spec_vabalninkas)
    page = client.get(f"/cameras/{vabalninkas_camera.public_id}/").content.decode()
    assert 'data-testid="place-hold"' in page
    response = client.post(f"/cameras/{vabalninkas_camera.public_id}/holds/new/", {
        "start": "2026-10-25T02:30:00", "end": "2026-10-25T05:30:00", "reason": "Langų išdaužymas",
        "review_on": "2026-12-31"})
    assert response.status_code == 302
    hold = Hold.objects.get()
    # Vilnius: 02:30 is EEST (UTC+3), 05:30 is after the change back to EET (UTC+2).
    assert hold.start.isoformat() == "2026-10-24T23:30:00+00:00"
    assert hold.end.isoformat() == "2026-10-25T03:30:00+00:00"
    assert "Langų išdaužymas" in client.get(f"/cameras/{vabalninkas_camera.public_id}/").content.decode()


def test_the_place_hold_form_explains_a_missing_review_date(
    vabalninkas_camera: Camera, spec_vabalninkas: Any, client_for: Any
) -> None:
    response = client_for(spec_vabalninkas).post(f"/cameras/{vabalninkas_camera.public_id}/holds/new/", {
        "start": "2026-11-20T10:00:00", "end": "2026-11-20T11:00:00", "reason": "Incidentas"})
    assert response.status_code == 200
    assert "Nurodykite peržiūros datą arba galiojimo pabaigą" in response.content.decode()
    assert not Hold.objects.exists()
