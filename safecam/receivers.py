"""Audit receivers for changes that can happen through more than one door.

Logins and logouts come from Django's auth signals. Permission changes are caught on the
permission tables themselves (group membership, model permissions, and django-guardian's object
permission rows) rather than in each admin form or service: whichever path makes the change
(the admin, ``seed_birzai``, a shell, a future API), the row write and its audit event share the
same transaction. The actor is the request's user when there is a request, else "system".
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver
from guardian.models import GroupObjectPermission, UserObjectPermission

from safecam.audit import AuditAction, audit_record, current_actor
from safecam.middleware import client_ip

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


def _perm_names(model: type, pks: set[int] | None) -> list[str]:
    if model is Permission:
        perms = Permission.objects.filter(pk__in=pks or ()).select_related("content_type")
        return sorted(f"{p.content_type.app_label}.{p.codename}" for p in perms)
    return sorted(model.objects.filter(pk__in=pks or ()).values_list("name", flat=True))


def _membership_changed(instance: Any, action: str, model: type, pk_set: set[int] | None, what: str) -> None:
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if action != "pre_clear" and not pk_set:
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
                 details={what: _perm_names(model, pk_set)})


@receiver(m2m_changed, sender=User.groups.through)
def _user_groups(sender: Any, instance: Any, action: str, model: type, pk_set: set[int] | None, reverse: bool,
                 **kwargs: Any) -> None:
    if reverse:  # group.user_set.add(user): instance is the group, pk_set the users
        for user in User.objects.filter(pk__in=pk_set or ()):
            _membership_changed(user, action, Group, {instance.pk}, "groups")
        return
    _membership_changed(instance, action, model, pk_set, "groups")


@receiver(m2m_changed, sender=User.user_permissions.through)
def _user_permissions(sender: Any, instance: Any, action: str, model: type, pk_set: set[int] | None,
                      reverse: bool, **kwargs: Any) -> None:
    if not reverse:
        _membership_changed(instance, action, model, pk_set, "user_permissions")


@receiver(m2m_changed, sender=Group.permissions.through)
def _group_permissions(sender: Any, instance: Any, action: str, model: type, pk_set: set[int] | None,
                       reverse: bool, **kwargs: Any) -> None:
    if not reverse:
        _membership_changed(instance, action, model, pk_set, "permissions")


def _object_permission(instance: Any, granted: bool) -> None:
    holder = instance.user if isinstance(instance, UserObjectPermission) else instance.group
    details = {
        "permission": f"{instance.permission.content_type.app_label}.{instance.permission.codename}",
        "holder": holder.get_username() if isinstance(holder, User) else f"group:{holder.name}",
        "object": f"{instance.content_type.app_label}.{instance.content_type.model}:{instance.object_pk}",
    }
    target = instance.content_object
    audit_record(action=AuditAction.PERMISSION_GRANTED if granted else AuditAction.PERMISSION_REVOKED,
                 actor=current_actor(), target=target, details=details)


@receiver(post_save, sender=UserObjectPermission)
@receiver(post_save, sender=GroupObjectPermission)
def _object_permission_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        _object_permission(instance, granted=True)


@receiver(post_delete, sender=UserObjectPermission)
@receiver(post_delete, sender=GroupObjectPermission)
def _object_permission_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _object_permission(instance, granted=False)
