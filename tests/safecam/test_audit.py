"""The audit trail: hash-chained, append-only, written in the transaction of the change it records."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client, RequestFactory
from guardian.shortcuts import assign_perm, remove_perm

from cameras import services
from cameras.models import Camera, Site
from safecam import roles
from safecam.audit import AuditAction, acting, audit_chain_verify, audit_record, event_hash
from safecam.models import AppendOnlyError, AuditChainHead, AuditEvent
from tests.conftest import PASSWORD, _logged_in, make_user
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def chain(vabalninkas: Site) -> list[AuditEvent]:
    """At least five events (the site's own, then more), oldest first."""
    for n in range(4):
        audit_record(action=AuditAction.CONTROLLER_CHANGED, details={"n": n, "name": f"Savivaldybė {n}"},
                     ip="192.0.2.1")
    events = list(AuditEvent.objects.order_by("seq"))
    assert len(events) >= 5
    return events


def _sql(statement: str, params: list[Any]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def _verify() -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


def _names_event(stderr: str, seq: int) -> bool:
    return re.search(rf"event #{seq}\b", stderr) is not None


# --- verify_audit --------------------------------------------------------------------------------


def test_it_verifies_an_intact_chain(chain: list[AuditEvent]) -> None:
    code, out, err = _verify()
    assert code == 0, err
    assert f"{len(chain)} events checked" in out


def test_it_verifies_an_empty_chain(db: None) -> None:
    assert AuditEvent.objects.count() == 0
    assert _verify()[0] == 0


def test_it_chains_each_event_to_the_one_before(chain: list[AuditEvent]) -> None:
    assert [event.seq for event in chain] == list(range(1, len(chain) + 1))
    assert chain[0].prev_hash == "0" * 64
    for before, after in zip(chain, chain[1:]):
        assert after.prev_hash == before.hash
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (chain[-1].seq, chain[-1].hash)


def _details_sql() -> str:
    cast = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
    return f"UPDATE safecam_auditevent SET details = {cast} WHERE seq = %s"


@pytest.mark.parametrize(("column", "value"), [
    ("details", '{"n": 1, "name": "Kita savivaldybė"}'),
    ("action", "camera.deleted"),
    ("actor_username", "someone-else"),
    ("ip", "198.51.100.9"),
])
def test_it_finds_an_edited_event(column: str, value: str, chain: list[AuditEvent]) -> None:
    target = chain[2]
    statement = _details_sql() if column == "details" else f"UPDATE safecam_auditevent SET {column} = %s WHERE seq = %s"
    _sql(statement, [value, target.seq])

    code, _out, err = _verify()
    assert code == 1
    assert _names_event(err, target.seq), err
    assert "changed" in err


def test_it_finds_an_edited_event_whose_hash_was_recomputed(chain: list[AuditEvent]) -> None:
    # A forger who rewrites an event and its hash still breaks the link from the next event.
    target = chain[2]
    forged = {"n": 1, "name": "Kita savivaldybė"}
    digest = event_hash(seq=target.seq, at=target.at, actor_id=target.actor_id,
                        actor_username=target.actor_username, action=target.action,
                        target_type=target.target_type, target_id=target.target_id,
                        target_repr=target.target_repr, ip=target.ip, details=forged, prev_hash=target.prev_hash)
    _sql(_details_sql(), ['{"n": 1, "name": "Kita savivaldybė"}', target.seq])
    _sql("UPDATE safecam_auditevent SET hash = %s WHERE seq = %s", [digest, target.seq])

    code, _out, err = _verify()
    assert code == 1
    assert _names_event(err, target.seq + 1), err


def test_it_finds_a_deleted_event_in_the_middle(chain: list[AuditEvent]) -> None:
    target = chain[2]
    _sql("DELETE FROM safecam_auditevent WHERE seq = %s", [target.seq])

    code, _out, err = _verify()
    assert code == 1
    assert _names_event(err, target.seq), err
    assert "missing" in err


def test_it_finds_a_deleted_newest_event(chain: list[AuditEvent]) -> None:
    newest = chain[-1]
    _sql("DELETE FROM safecam_auditevent WHERE seq = %s", [newest.seq])

    code, _out, err = _verify()
    assert code == 1
    assert _names_event(err, newest.seq), err
    assert "deleted" in err


def test_it_reports_a_break_through_the_report_too(chain: list[AuditEvent]) -> None:
    _sql("UPDATE safecam_auditevent SET action = %s WHERE seq = %s", ["x", chain[1].seq])
    report = audit_chain_verify()
    assert not report.intact
    assert report.broken.seq == chain[1].seq
    assert report.broken.event_id == chain[1].pk
    assert report.checked == 1


# --- append-only ---------------------------------------------------------------------------------


def test_it_refuses_to_change_events_through_the_orm(chain: list[AuditEvent]) -> None:
    event = AuditEvent.objects.get(seq=chain[1].seq)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=event.seq).update(details={})
    with pytest.raises(AppendOnlyError):
        event.action = "x"
        event.save()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        AuditEvent.objects.bulk_update([event], ["action"])
    assert _verify()[0] == 0


def test_it_refuses_to_delete_events_through_the_orm(chain: list[AuditEvent]) -> None:
    count = AuditEvent.objects.count()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=chain[0].seq).delete()
    with pytest.raises(AppendOnlyError):
        chain[0].delete()
    assert AuditEvent.objects.count() == count


def test_it_offers_no_add_change_or_delete_in_the_admin(chain: list[AuditEvent], superuser: Any,
                                                        client_for: Callable[[Any], Client]) -> None:
    model_admin = admin.site._registry[AuditEvent]
    request = RequestFactory().get("/admin/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, chain[0])
    assert not model_admin.has_delete_permission(request, chain[0])

    client = client_for(superuser)
    event = chain[1]
    assert client.get("/admin/safecam/auditevent/add/").status_code == 403
    assert client.post(f"/admin/safecam/auditevent/{event.pk}/change/", {"action": "x"}).status_code == 403
    assert client.post(f"/admin/safecam/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    changelist = client.post("/admin/safecam/auditevent/",
                             {"action": "delete_selected", "_selected_action": [event.pk]})
    assert changelist.status_code in (200, 302)
    assert AuditEvent.objects.get(pk=event.pk).action == event.action
    assert _verify()[0] == 0


# --- what is recorded ----------------------------------------------------------------------------


def test_it_records_a_login_with_the_address(spec_vabalninkas: Any) -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    response = client.post("/accounts/login/", {"username": "spec_vabalninkas", "password": PASSWORD})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.LOGIN)
    assert event.actor == spec_vabalninkas
    assert event.actor_username == "spec_vabalninkas"
    assert event.ip == "192.0.2.10"


def test_it_records_a_failed_login_with_the_address_and_no_password(spec_vabalninkas: Any) -> None:
    client = Client(REMOTE_ADDR="192.0.2.11")
    response = client.post("/accounts/login/", {"username": "spec_vabalninkas", "password": "Wrong-pass-1"})
    assert response.status_code == 200
    assert not AuditEvent.objects.filter(action=AuditAction.LOGIN).exists()
    event = AuditEvent.objects.get(action=AuditAction.LOGIN_FAILED)
    assert event.actor is None
    assert event.details == {"username": "spec_vabalninkas"}
    assert event.ip == "192.0.2.11"
    assert "Wrong-pass-1" not in str(event.details)


def test_it_records_a_logout_with_the_address(spec_vabalninkas: Any) -> None:
    client = Client(REMOTE_ADDR="2001:db8::5")
    _logged_in(client, spec_vabalninkas)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.LOGOUT)
    assert event.actor == spec_vabalninkas
    assert event.ip == "2001:db8::5"


def test_it_records_a_camera_change_with_what_changed(vabalninkas_camera: Camera, superuser: Any) -> None:
    camera = Camera.objects.get(pk=vabalninkas_camera.pk)
    old_name = camera.name
    camera.name = "Vabalninko aikštė (šiaurė)"
    camera.retention_hours = 96
    camera.retention_justification = "Mugės savaitė."
    services.camera_save(camera=camera, by=superuser)

    event = AuditEvent.objects.get(action=AuditAction.CAMERA_CHANGED)
    assert event.actor == superuser
    assert event.target_id == str(camera.public_id)
    assert event.details["site"] == "vabalninkas"
    assert event.details["changes"] == {
        "name": [old_name, "Vabalninko aikštė (šiaurė)"],
        "retention_hours": [72, 96],
        "retention_justification": ["", "Mugės savaitė."],
    }


def test_it_records_nothing_when_a_save_changes_nothing(vabalninkas_camera: Camera, superuser: Any) -> None:
    count = AuditEvent.objects.count()
    services.camera_save(camera=Camera.objects.get(pk=vabalninkas_camera.pk), by=superuser)
    assert AuditEvent.objects.count() == count


def test_it_records_group_membership_changes_with_the_acting_user(role_groups: dict[str, Group],
                                                                  superuser: Any) -> None:
    user = make_user("naujas")
    group = role_groups[roles.PUBLIC_ORDER_OFFICER]
    with acting(superuser):
        user.groups.add(group)
    joined = AuditEvent.objects.get(action=AuditAction.GROUP_JOINED, target_id=str(user.pk))
    assert joined.actor == superuser
    assert joined.details == {"groups": [roles.PUBLIC_ORDER_OFFICER]}

    with acting(superuser):
        group.user_set.remove(user)
    left = AuditEvent.objects.get(action=AuditAction.GROUP_LEFT, target_id=str(user.pk))
    assert left.actor == superuser
    assert left.details == {"groups": [roles.PUBLIC_ORDER_OFFICER]}


def test_it_records_clearing_all_groups(role_groups: dict[str, Group], superuser: Any) -> None:
    user = make_user("naujas", group=role_groups[roles.DATA_PROTECTION_OFFICER])
    with acting(superuser):
        user.groups.clear()
    left = AuditEvent.objects.get(action=AuditAction.GROUP_LEFT, target_id=str(user.pk))
    assert left.actor == superuser
    assert left.details == {"groups": [roles.DATA_PROTECTION_OFFICER]}


def test_it_records_membership_changed_from_the_groups_side(role_groups: dict[str, Group], superuser: Any) -> None:
    first, second = make_user("pirmas"), make_user("antras")
    group = role_groups[roles.PUBLIC_ORDER_OFFICER]
    with acting(superuser):
        group.user_set.add(first, second)
    joined = AuditEvent.objects.filter(action=AuditAction.GROUP_JOINED, actor=superuser)
    assert {event.target_repr for event in joined} == {"pirmas", "antras"}

    with acting(superuser):
        group.user_set.clear()
    left = AuditEvent.objects.filter(action=AuditAction.GROUP_LEFT, actor=superuser)
    assert {event.target_repr for event in left} == {"pirmas", "antras"}
    assert all(event.details == {"groups": [roles.PUBLIC_ORDER_OFFICER]} for event in left)


def test_it_records_global_permissions_given_to_a_user_or_a_group(superuser: Any) -> None:
    user = make_user("naujas")
    group = Group.objects.create(name="Budėtojai")
    with acting(superuser):
        assign_perm("cameras.view_live", user)
        assign_perm("cameras.view_site", group)
    events = AuditEvent.objects.filter(action=AuditAction.PERMISSION_GRANTED, actor=superuser)
    assert {event.target_repr: event.details for event in events} == {
        "naujas": {"user_permissions": ["cameras.view_live"]},
        "Budėtojai": {"permissions": ["cameras.view_site"]},
    }


def test_it_records_object_permissions_granted_on_many_objects_at_once(vabalninkas: Site, pabirze: Site,
                                                                       superuser: Any) -> None:
    # guardian's assign_perm with a queryset writes its rows with bulk_create (no signals).
    user = make_user("naujas")
    with acting(superuser):
        assign_perm("cameras.view_site", user, Site.objects.all())
    granted = AuditEvent.objects.filter(action=AuditAction.PERMISSION_GRANTED, actor=superuser)
    assert {event.target_id for event in granted} == {str(vabalninkas.pk), str(pabirze.pk)}


def test_it_records_one_permission_given_to_many_users_at_once(vabalninkas: Site, superuser: Any) -> None:
    first, second = make_user("pirmas"), make_user("antras")
    with acting(superuser):
        assign_perm("cameras.view_live", get_user_model().objects.filter(pk__in=[first.pk, second.pk]),
                    vabalninkas)
    granted = AuditEvent.objects.filter(action=AuditAction.PERMISSION_GRANTED, actor=superuser)
    assert sorted(event.details["holder"] for event in granted) == ["antras", "pirmas"]


def test_it_records_permissions_changed_from_the_permissions_side(role_groups: dict[str, Group],
                                                                  superuser: Any) -> None:
    user = make_user("naujas")
    permission = Permission.objects.get(content_type__app_label="cameras", codename="export_footage")
    with acting(superuser):
        permission.user_set.add(user)
        permission.group_set.add(role_groups[roles.PROJECT_COORDINATOR])
        permission.user_set.clear()
    granted = AuditEvent.objects.filter(action=AuditAction.PERMISSION_GRANTED, actor=superuser)
    assert {event.target_repr: event.details for event in granted} == {
        "naujas": {"user_permissions": ["cameras.export_footage"]},
        roles.PROJECT_COORDINATOR: {"permissions": ["cameras.export_footage"]},
    }
    revoked = AuditEvent.objects.get(action=AuditAction.PERMISSION_REVOKED, actor=superuser)
    assert revoked.target_repr == "naujas"


def test_it_records_every_member_leaving_when_a_group_is_deleted(superuser: Any) -> None:
    group = Group.objects.create(name="Laikina")
    group.user_set.add(make_user("pirmas"), make_user("antras"))
    with acting(superuser):
        group.delete()
    left = AuditEvent.objects.filter(action=AuditAction.GROUP_LEFT, actor=superuser)
    assert sorted(event.target_repr for event in left) == ["antras", "pirmas"]
    assert all(event.details == {"groups": ["Laikina"], "group_deleted": True} for event in left)


def test_it_records_object_permission_grants_and_revocations(vabalninkas: Site, superuser: Any) -> None:
    user = make_user("naujas")
    with acting(superuser):
        assign_perm("cameras.view_recorded", user, vabalninkas)
    granted = AuditEvent.objects.get(action=AuditAction.PERMISSION_GRANTED)
    assert granted.actor == superuser
    assert granted.target_type == "cameras.site"
    assert granted.target_id == str(vabalninkas.pk)
    assert granted.details == {"permission": "cameras.view_recorded", "holder": "naujas",
                               "object": f"cameras.site:{vabalninkas.pk}"}

    with acting(superuser):
        remove_perm("cameras.view_recorded", user, vabalninkas)
    revoked = AuditEvent.objects.get(action=AuditAction.PERMISSION_REVOKED)
    assert revoked.actor == superuser
    assert revoked.details == granted.details


def test_it_records_the_grantor_of_site_access(vabalninkas: Site, superuser: Any) -> None:
    user = make_user("naujas")
    services.site_access_grant(user=user, site=vabalninkas, actions=("view", "live"), by=superuser)
    events = AuditEvent.objects.filter(action=AuditAction.PERMISSION_GRANTED).order_by("seq")
    assert [event.details["permission"] for event in events] == ["cameras.view_site", "cameras.view_live"]
    assert all(event.actor == superuser for event in events)


def test_it_records_a_group_change_made_in_the_admin_as_the_admins(role_groups: dict[str, Group],
                                                                   superuser: Any) -> None:
    user = make_user("naujas")
    client = Client(REMOTE_ADDR="192.0.2.20")
    _logged_in(client, superuser)
    group = role_groups[roles.ELDERSHIP_SPECIALIST]
    response = client.post(f"/admin/auth/user/{user.pk}/change/", {
        "username": "naujas", "first_name": "", "last_name": "", "email": "", "is_active": "on",
        "groups": [group.pk], "user_permissions": [],
        "last_login_0": "", "last_login_1": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"), "date_joined_1": "12:00:00",
        "_save": "Save",
    })
    assert response.status_code == 302, response.content.decode()[:3000]
    joined = AuditEvent.objects.get(action=AuditAction.GROUP_JOINED, target_id=str(user.pk))
    assert joined.actor == superuser
    assert joined.ip == "192.0.2.20"
    assert joined.details == {"groups": [roles.ELDERSHIP_SPECIALIST]}


def test_it_rolls_an_event_back_with_its_transaction(vabalninkas: Site) -> None:
    head_before = AuditChainHead.objects.get(pk=1)
    count = AuditEvent.objects.count()

    with pytest.raises(RuntimeError), transaction.atomic():
        CameraFactory(site=vabalninkas, name="Niekada")
        audit_record(action=AuditAction.CONTROLLER_CHANGED, details={"never": True})
        raise RuntimeError("the change fails after its events were written")

    assert not Camera.objects.filter(name="Niekada").exists()
    assert AuditEvent.objects.count() == count
    assert not AuditEvent.objects.filter(action=AuditAction.CAMERA_CREATED, target_repr="Niekada").exists()
    head = AuditChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (head_before.seq, head_before.hash)
    # The next event continues the chain without a gap.
    event = audit_record(action=AuditAction.CONTROLLER_CHANGED)
    assert event.seq == head_before.seq + 1
    assert event.prev_hash == head_before.hash
    assert _verify()[0] == 0


def test_it_records_a_password_change_without_the_password(spec_vabalninkas: Any) -> None:
    client = Client()
    _logged_in(client, spec_vabalninkas)
    response = client.post("/accounts/password_change/", {
        "old_password": PASSWORD, "new_password1": "Naujas-slapt-2026!", "new_password2": "Naujas-slapt-2026!"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditAction.USER_CHANGED)
    assert event.actor == spec_vabalninkas
    assert event.details == {"password_set": True}
    assert "Naujas-slapt-2026!" not in str(event.details)


def test_it_offers_no_password_reset_by_email(client: Client) -> None:
    assert client.get("/accounts/password_reset/").status_code == 404
