"""``seed_birzai``: the Biržai registry, role groups and demo personas, idempotent and audited."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db.models import Count, Q

from cameras.models import Camera, Controller, Site
from safecam import roles
from safecam.models import AuditEvent

pytestmark = pytest.mark.django_db

User = get_user_model()

ELDERSHIPS = {"Vabalninkas", "Parovėja", "Papilys", "Rinkuškiai", "Nemunėlio Radviliškis", "Pabiržė",
              "Pačeriaukštė"}
REGISTRY_EVENTS = Q(action__startswith="camera.") | Q(action__startswith="site.")


def _seed() -> None:
    call_command("seed_birzai", "--demo-users", stdout=StringIO())


@pytest.fixture
def seeded(db: None) -> None:
    _seed()


def test_it_seeds_the_seven_elderships_and_24_cameras(seeded: None) -> None:
    assert set(Site.objects.values_list("name", flat=True)) == ELDERSHIPS
    assert Camera.objects.count() == 24
    per_site = dict(Site.objects.annotate(n=Count("cameras")).values_list("name", "n"))
    assert all(count >= 2 for count in per_site.values()), per_site
    assert Site.objects.get(name="Pabiržė").slug == "pabirze"
    assert Site.objects.get(name="Vabalninkas").slug == "vabalninkas"


def test_it_seeds_cameras_that_pass_the_registry_rules(seeded: None) -> None:
    for camera in Camera.objects.all():
        camera.full_clean()
        assert camera.purpose and camera.legal_basis
        assert "@" not in camera.stream_url


def test_it_names_the_controller(seeded: None) -> None:
    controller = Controller.objects.get()
    assert controller.code == "188642660"


def test_it_makes_the_role_groups_and_demo_users(seeded: None) -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLE_GROUPS)
    assert len(roles.ROLE_GROUPS) == 4
    usernames = set(User.objects.values_list("username", flat=True))
    assert {"spec-vabalninkas", "spec-pabirze", "public-order", "dpo", "coordinator", "admin"} <= usernames
    assert User.objects.get(username="admin").is_superuser
    assert User.objects.get(username="dpo").groups.filter(name=roles.DATA_PROTECTION_OFFICER).exists()
    assert User.objects.get(username="spec-pabirze").groups.filter(name=roles.ELDERSHIP_SPECIALIST).exists()
    assert not User.objects.get(username="coordinator").is_staff


def test_it_confines_a_seeded_specialist_to_their_eldership(seeded: None) -> None:
    specialist = User.objects.get(username="spec-vabalninkas")
    visible = Camera.objects.restrict(specialist, "view")
    assert visible.exists()
    assert set(visible.values_list("site__slug", flat=True)) == {"vabalninkas"}
    assert visible.count() == Camera.objects.filter(site__slug="vabalninkas").count()
    assert not Camera.objects.restrict(specialist, "export").exists()


def test_it_changes_nothing_when_run_again(seeded: None) -> None:
    registry_events = AuditEvent.objects.filter(REGISTRY_EVENTS).count()
    all_events = AuditEvent.objects.count()
    cameras = dict(Camera.objects.values_list("public_id", "updated_at"))

    _seed()

    assert Site.objects.count() == 7
    assert Camera.objects.count() == 24
    assert User.objects.filter(username__startswith="spec-").count() == 7
    assert AuditEvent.objects.filter(REGISTRY_EVENTS).count() == registry_events
    assert AuditEvent.objects.count() == all_events
    assert dict(Camera.objects.values_list("public_id", "updated_at")) == cameras


def test_it_audits_what_the_first_run_made(seeded: None) -> None:
    assert AuditEvent.objects.filter(action="site.created").count() == 7
    assert AuditEvent.objects.filter(action="camera.created").count() == 24
    assert AuditEvent.objects.filter(action="controller.changed").count() == 1
