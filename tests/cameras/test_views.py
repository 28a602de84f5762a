"""Who sees which registry page: the persona matrix for the dashboard, site, camera and admin pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from cameras.models import Camera
from tests.conftest import PERSONAS, VISIBLE_SITES

pytestmark = pytest.mark.django_db

SIGNED_IN = [p for p in PERSONAS if p != "anonymous"]


def _redirect_target(response: Any) -> tuple[str, str | None]:
    parts = urlsplit(response.url)
    return parts.path, parse_qs(parts.query).get("next", [None])[0]


def _page(kind: str, registry: dict[str, list[Camera]], slug: str) -> str:
    if kind == "site":
        return f"/sites/{slug}/"
    return f"/cameras/{registry[slug][0].public_id}/"


@pytest.mark.parametrize("kind", ["dashboard", "site", "camera"])
def test_it_sends_anonymous_visitors_to_the_login_page(kind: str, registry: dict[str, list[Camera]],
                                                       client_for: Callable[[Any], Client]) -> None:
    path = "/" if kind == "dashboard" else _page(kind, registry, "vabalninkas")
    response = client_for(None).get(path)
    assert response.status_code == 302
    assert _redirect_target(response) == ("/accounts/login/", path)


@pytest.mark.door("admin:index")
@pytest.mark.parametrize("name", PERSONAS)
def test_it_keeps_everyone_but_staff_out_of_the_admin(name: str, persona: Callable[[str], Any],
                                                       client_for: Callable[[Any], Client]) -> None:
    response = client_for(persona(name)).get("/admin/")
    # The admin has its own login form (it authenticates, and is audited, like /accounts/login/).
    assert response.status_code == 302
    assert _redirect_target(response) == ("/admin/login/", "/admin/")


def test_it_lets_the_superuser_into_the_admin(superuser: Any, client_for: Callable[[Any], Client]) -> None:
    assert client_for(superuser).get("/admin/").status_code == 200


@pytest.mark.door("site-detail", "camera-detail")
@pytest.mark.parametrize("name", SIGNED_IN)
@pytest.mark.parametrize("slug", ["vabalninkas", "pabirze"])
@pytest.mark.parametrize("kind", ["site", "camera"])
def test_it_shows_site_and_camera_pages_only_to_those_allowed(
    kind: str, slug: str, name: str, registry: dict[str, list[Camera]], persona: Callable[[str], Any],
    client_for: Callable[[Any], Client],
) -> None:
    response = client_for(persona(name)).get(_page(kind, registry, slug))
    expected = 200 if slug in VISIBLE_SITES[name] else 404
    assert response.status_code == expected
    if expected == 200:
        shown = response.context["site"]
        assert shown.slug == slug
        if kind == "camera":
            assert response.context["camera"] == registry[slug][0]
            assert registry[slug][0].name in response.content.decode()


def test_it_hides_other_elderships_cameras(registry: dict[str, list[Camera]], spec_vabalninkas: Any,
                                           client_for: Callable[[Any], Client]) -> None:
    client = client_for(spec_vabalninkas)
    for camera in registry["pabirze"]:
        assert client.get(f"/cameras/{camera.public_id}/").status_code == 404
    assert client.get("/sites/pabirze/").status_code == 404
    for path in ("/", "/sites/vabalninkas/", f"/cameras/{registry['vabalninkas'][0].public_id}/"):
        page = client.get(path).content.decode()
        for camera in registry["pabirze"]:
            assert camera.name not in page
            assert str(camera.public_id) not in page
        assert "Pabiržė" not in page


def test_it_answers_an_unseen_camera_exactly_like_a_missing_one(
    registry: dict[str, list[Camera]], spec_vabalninkas: Any, client_for: Callable[[Any], Client],
) -> None:
    client = client_for(spec_vabalninkas)
    unseen = client.get(f"/cameras/{registry['pabirze'][0].public_id}/")
    missing = client.get(f"/cameras/{uuid.uuid4()}/")
    assert unseen.status_code == missing.status_code == 404
    assert [t.name for t in unseen.templates] == [t.name for t in missing.templates]


def test_it_answers_404_for_a_site_that_does_not_exist(public_order: Any, registry: dict[str, list[Camera]],
                                                       client_for: Callable[[Any], Client]) -> None:
    assert client_for(public_order).get("/sites/nera-tokios/").status_code == 404


@pytest.mark.door("dashboard")
@pytest.mark.parametrize("name", SIGNED_IN)
def test_it_lists_exactly_the_allowed_cameras_on_the_dashboard(
    name: str, registry: dict[str, list[Camera]], persona: Callable[[str], Any],
    client_for: Callable[[Any], Client],
) -> None:
    response = client_for(persona(name)).get("/")
    assert response.status_code == 200
    groups = response.context["groups"]
    expected = {camera.pk for slug in VISIBLE_SITES[name] for camera in registry[slug]}
    assert {group.site.slug for group in groups} == VISIBLE_SITES[name]
    assert {camera.pk for group in groups for camera in group.cameras} == expected
    assert response.context["camera_total"] == len(expected)
    page = response.content.decode()
    for slug, cameras in registry.items():
        for camera in cameras:
            assert (camera.name in page) == (camera.pk in expected), camera.name


def test_it_shows_the_coordinator_no_camera(registry: dict[str, list[Camera]], coordinator: Any,
                                            client_for: Callable[[Any], Client]) -> None:
    response = client_for(coordinator).get("/")
    assert response.status_code == 200
    assert response.context["groups"] == []
    assert 'data-testid="no-cameras"' in response.content.decode()


def test_it_shows_the_site_page_with_only_that_sites_cameras(
    registry: dict[str, list[Camera]], public_order: Any, client_for: Callable[[Any], Client],
) -> None:
    response = client_for(public_order).get("/sites/vabalninkas/")
    assert {camera.pk for camera in response.context["cameras"]} == {camera.pk for camera in registry["vabalninkas"]}
    page = response.content.decode()
    assert all(camera.name not in page for camera in registry["pabirze"])
