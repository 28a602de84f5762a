"""Audit receivers for changes that can happen through more than one door.

Logins and logouts come from Django's auth signals. Permission changes are caught on the
permission tables themselves (group membership from either side, model permissions, group
deletion, and the object-permission rows, whose bulk writes ``safecam.models`` audits) rather than
in each admin form or service: whichever path makes the change
(the admin, ``seed_birzai``, a shell, a future API), the row write and its audit event share the
same transaction. The actor is the request's user when there is a request, else "system".
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from safecam.audit import AuditAction, audit_record, current_actor
from safecam.middleware import client_ip
from safecam.models import AuditedGroupObjectPermission, AuditedUserObjectPermission

User = get_user_model()


def _ip(request: Any) -> str | None:
    return client_ip(request) if request is not None and hasattr(request, "META") else None


@receiver(user_logged_in)
def _login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOGIN, actor=user, target=user, ip=_ip(request))


@receiver(user_logged_out)
def _logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action=AuditAction.LOGOUT, actor=user, target=user, ip=_ip(request))


@receiver(user_login_failed)
def _login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    # Django has already masked the password in `credentials`; keep only the username tried.
    username = str(credentials.get("username", ""))[:150]
    audit_record(action=AuditAction.LOGIN_FAILED, details={"username": username}, ip=_ip(request))
    if request is not None and hasattr(request, "META"):
        from safecam import lockout

        lockout.address_failure_count(getattr(request, "_request", request))


@receiver(user_locked_out)
def _locked_out(sender: Any, request: Any = None, username: str | None = None, ip_address: str | None = None,
                **kwargs: Any) -> None:
    from safecam import lockout

    lockout.user_locked_out_record(request, username, ip_address)


def _perm_names(model: type, pks: set[int] | None) -> list[str]:
    if model is Permission:
        perms = Permission.objects.filter(pk__in=pks or ()).select_related("content_type")
        return sorted(f"{p.content_type.app_label}.{p.codename}" for p in perms)
    return sorted(model.objects.filter(pk__in=pks or ()).values_list("name", flat=True))


def _membership_changed(instance: Any, action: str, model: type, pk_set: set[int] | None, what: str,
                        extra: dict[str, Any] | None = None) -> None:
    """One event for ``instance`` gaining or losing the ``model`` rows in ``pk_set``."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if action == "pre_clear":
        pk_set = set(getattr(instance, what).values_list("pk", flat=True))
    if not pk_set:
        return
    granted = action == "post_add"
    if model is Group:
        event = AuditAction.GROUP_JOINED if granted else AuditAction.GROUP_LEFT
    else:
        event = AuditAction.PERMISSION_GRANTED if granted else AuditAction.PERMISSION_REVOKED
    audit_record(action=event, actor=current_actor(), target=instance,
                 details={what: _perm_names(model, pk_set), **(extra or {})})


def _reverse_side(instance: Any, action: str, pk_set: set[int] | None, holders: type, accessor: str,
                  what: str) -> None:
    """``group.user_set.add(u)`` / ``permission.user_set.add(u)``: one event per holder affected."""
    if action == "pre_clear":
        action, pk_set = "post_remove", set(getattr(instance, accessor).values_list("pk", flat=True))
    for holder in holders.objects.filter(pk__in=pk_set or ()):
        _membership_changed(holder, action, type(instance), {instance.pk}, what)


@receiver(m2m_changed, sender=User.groups.through)
def _user_groups(sender: Any, instance: Any, action: str, model: type, pk_set: set[int] | None, reverse: bool,
                 **kwargs: Any) -> None:
    if reverse:  # instance is the group, pk_set the users
        _reverse_side(instance, action, pk_set, User, "user_set", "groups")
    else:
        _membership_changed(instance, action, model, pk_set, "groups")


@receiver(m2m_changed, sender=User.user_permissions.through)
def _user_permissions(sender: Any, instance: Any, action: str, model: type, pk_set: set[int] | None,
                      reverse: bool, **kwargs: Any) -> None:
    if reverse:  # instance is the permission, pk_set the users
        _reverse_side(instance, action, pk_set, User, "user_set", "user_permissions")
    else:
        _membership_changed(instance, action, model, pk_set, "user_permissions")


@receiver(m2m_changed, sender=Group.permissions.through)
def _group_permissions(sender: Any, instance: Any, action: str, model: type, pk_set: set[int] | None,
                       reverse: bool, **kwargs: Any) -> None:
    if reverse:  # instance is the permission, pk_set the groups
        _reverse_side(instance, action, pk_set, Group, "group_set", "permissions")
    else:
        _membership_changed(instance, action, model, pk_set, "permissions")


@receiver(pre_delete, sender=Group)
def _group_deleted(sender: Any, instance: Group, **kwargs: Any) -> None:
    # The cascade removes memberships without m2m signals: record each member leaving first.
    for user in instance.user_set.all():
        _membership_changed(user, "post_remove", Group, {instance.pk}, "groups", {"group_deleted": True})


def object_permission_record(instance: Any, granted: bool) -> None:
    """Audit one object-permission row written or deleted (also called for guardian's bulk writes)."""
    holder = instance.user if hasattr(instance, "user_id") else instance.group
    details = {
        "permission": f"{instance.permission.content_type.app_label}.{instance.permission.codename}",
        "holder": holder.get_username() if isinstance(holder, User) else f"group:{holder.name}",
        "object": f"{instance.content_type.app_label}.{instance.content_type.model}:{instance.object_pk}",
    }
    audit_record(action=AuditAction.PERMISSION_GRANTED if granted else AuditAction.PERMISSION_REVOKED,
                 actor=current_actor(), target=instance.content_object, details=details)


@receiver(post_save, sender=AuditedUserObjectPermission)
@receiver(post_save, sender=AuditedGroupObjectPermission)
def _object_permission_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        object_permission_record(instance, granted=True)


@receiver(post_delete, sender=AuditedUserObjectPermission)
@receiver(post_delete, sender=AuditedGroupObjectPermission)
def _object_permission_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    object_permission_record(instance, granted=False)
