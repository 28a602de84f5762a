"""The one door: ``restrict(user, action)`` and ``can()``, per action and per persona."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from guardian.shortcuts import assign_perm

from cameras import services
from cameras.models import Camera, Site
from safecam.audit import audit_record
from safecam.models import AuditEvent
from safecam.permissions import ACTIONS, UnknownAction, can, allowed
from tests.conftest import PERSONAS, make_user

pytestmark = pytest.mark.django_db

# Which actions each persona holds, on which elderships.
RIGHTS: dict[str, dict[str, set[str]]] = {
    "anonymous": {},
    "spec_vabalninkas": {action: {"vabalninkas"} for action in ("view", "live", "playback", "hold")},
    "spec_pabirze": {action: {"pabirze"} for action in ("view", "live", "playback", "hold")},
    "public_order": {action: {"vabalninkas", "pabirze"} for action in ("view", "live", "playback", "export",
                                                                         "hold")},
    "dpo": {action: {"vabalninkas", "pabirze"} for action in ("view", "hold")},
    "coordinator": {},
}


def test_it_refuses_an_unknown_action(registry: dict[str, list[Camera]], public_order: Any) -> None:
    with pytest.raises(UnknownAction):
        Camera.objects.restrict(public_order, "delete")
    with pytest.raises(UnknownAction):
        Site.objects.restrict(public_order, "View")
    with pytest.raises(UnknownAction):
        can(public_order, "watch", registry["vabalninkas"][0])


def test_it_refuses_an_unknown_action_even_for_nobody(registry: dict[str, list[Camera]], anonymous: Any) -> None:
    with pytest.raises(UnknownAction):
        Camera.objects.restrict(anonymous, "delete")


@pytest.mark.parametrize("name", PERSONAS)
@pytest.mark.parametrize("action", ACTIONS)
def test_it_scopes_each_action_to_the_personas_sites(name: str, action: str, registry: dict[str, list[Camera]],
                                                     persona: Callable[[str], Any]) -> None:
    user = persona(name)
    allowed = RIGHTS[name].get(action, set())
    assert set(Site.objects.restrict(user, action).values_list("slug", flat=True)) == allowed
    expected = {camera.pk for slug in allowed for camera in registry[slug]}
    assert set(Camera.objects.restrict(user, action).values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("name", [*PERSONAS, "superuser"])
def test_it_answers_can_exactly_as_restrict_does(name: str, registry: dict[str, list[Camera]], vabalninkas: Site,
                                                 pabirze: Site, persona: Callable[[str], Any]) -> None:
    user = persona(name)
    for obj in [vabalninkas, pabirze, *registry["vabalninkas"], *registry["pabirze"]]:
        for action in ACTIONS:
            listed = type(obj).objects.restrict(user, action).filter(pk=obj.pk).exists()
            assert can(user, action, obj) is listed, (name, action, obj)
        # Several actions at once (one query) answer the same.
        assert allowed(user, tuple(ACTIONS), obj) == {a for a in ACTIONS if can(user, a, obj)}, (name, obj)


def test_it_shows_the_superuser_everything(registry: dict[str, list[Camera]], superuser: Any) -> None:
    for action in ACTIONS:
        assert Camera.objects.restrict(superuser, action).count() == 4
        assert Site.objects.restrict(superuser, action).count() == 2


def test_it_shows_an_inactive_user_nothing(registry: dict[str, list[Camera]], spec_vabalninkas: Any,
                                           public_order: Any) -> None:
    assert Camera.objects.restrict(spec_vabalninkas, "view").exists()
    for user in (spec_vabalninkas, public_order):
        user.is_active = False
        user.save()
        for action in ACTIONS:
            assert not Camera.objects.restrict(user, action).exists()
            assert not Site.objects.restrict(user, action).exists()
            assert not can(user, action, registry["vabalninkas"][0])


def test_it_shows_an_inactive_superuser_nothing(registry: dict[str, list[Camera]], superuser: Any) -> None:
    superuser.is_active = False
    assert not Camera.objects.restrict(superuser, "view").exists()


def test_it_separates_actions_on_the_same_site(registry: dict[str, list[Camera]], vabalninkas: Site) -> None:
    viewer = make_user("tik-perziura")
    services.site_access_grant(user=viewer, site=vabalninkas, actions=("view",), by=None)

    assert set(Camera.objects.restrict(viewer, "view")) == set(registry["vabalninkas"])
    for action in ("live", "playback", "export", "hold", "change"):
        assert not Camera.objects.restrict(viewer, action).exists(), action
    assert not can(viewer, "playback", registry["vabalninkas"][0])


def test_it_takes_a_right_away_when_it_is_revoked(registry: dict[str, list[Camera]], vabalninkas: Site,
                                                  spec_vabalninkas: Any) -> None:
    assert Camera.objects.restrict(spec_vabalninkas, "playback").exists()
    services.site_access_revoke(user=spec_vabalninkas, site=vabalninkas, actions=("playback",), by=None)
    assert not Camera.objects.restrict(spec_vabalninkas, "playback").exists()
    assert Camera.objects.restrict(spec_vabalninkas, "view").exists()


def test_it_grants_through_a_groups_object_permission(registry: dict[str, list[Camera]], pabirze: Site) -> None:
    group = Group.objects.create(name="Pabiržės budėtojai")
    member = make_user("budetojas", group=group)
    assign_perm("cameras.view_live", group, pabirze)
    assert set(Camera.objects.restrict(member, "live")) == set(registry["pabirze"])
    assert not Camera.objects.restrict(member, "view").exists()


@pytest.mark.parametrize(("name", "sees"), [
    ("dpo", True), ("superuser", True), ("public_order", False), ("spec_vabalninkas", False),
    ("coordinator", False), ("anonymous", False),
])
def test_it_shows_the_audit_trail_only_to_the_dpo(name: str, sees: bool, persona: Callable[[str], Any],
                                                  role_groups: dict[str, Group]) -> None:
    audit_record(action="controller.changed")
    user = persona(name)
    assert AuditEvent.objects.restrict(user, "view").exists() is sees
    if name != "superuser":  # the superuser passes every door; nobody else may act on the trail
        assert not AuditEvent.objects.restrict(user, "change").exists()
