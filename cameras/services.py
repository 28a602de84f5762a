"""Writes to the registry. Each one validates, saves and writes its audit event in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from cameras.models import Camera, CameraHealth, Controller, RetentionChange, Site
from cameras.streams import StreamCredentials, StreamURLError, split_stream_url
from safecam.audit import AuditAction, acting, audit_record
from safecam.permissions import SITE_PERMISSIONS

CREDENTIALS_FIELD = "stream_credentials"
M = TypeVar("M", bound=models.Model)


def _field_values(obj: models.Model) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields
            if f.attname not in ("id", "created_at", "updated_at")}


def _diff(old: models.Model | None, new: models.Model) -> dict[str, Any]:
    """Changed fields as {name: [old, new]}; credentials only as 'changed', never their value."""
    before = _field_values(old) if old is not None else {}
    changes: dict[str, Any] = {}
    for name, value in _field_values(new).items():
        if old is not None and before.get(name) == value:
            continue
        if name == CREDENTIALS_FIELD:
            if old is None and not value:
                continue
            changes[name] = "changed" if value else "removed"
        else:
            changes[name] = [before.get(name), value] if old is not None else value
    return changes


def _save_audited(obj: M, *, by: Any, created: str, changed: str, **details: Any) -> M:
    """Validate and save ``obj`` (already carrying its new values); audit what changed, if anything.

    The caller holds the transaction, so the row and its event commit or roll back together.
    """
    old = type(obj)._default_manager.filter(pk=obj.pk).first() if obj.pk else None
    obj.full_clean()
    obj.save()
    changes = _diff(old, obj)
    if old is None or changes:
        audit_record(action=created if old is None else changed, actor=by, target=obj,
                     details={**details, "changes": changes})
    return obj


@transaction.atomic
def site_save(*, site: Site, by: Any) -> Site:
    """Create or update a site, audited with what changed."""
    return _save_audited(site, by=by, created=AuditAction.SITE_CREATED, changed=AuditAction.SITE_CHANGED)


@transaction.atomic
def site_delete(*, site: Site, by: Any) -> None:
    audit_record(action=AuditAction.SITE_DELETED, actor=by, target=site, details={"name": site.name})
    site.delete()


def stream_url_apply(*, camera: Camera, url: str, username: str | None = None,
                     password: str | None = None) -> None:
    """Store ``url`` on the camera without its credentials; put credentials in the encrypted field.

    Credentials typed into the URL (``rtsp://user:pw@host``) are moved out of it. ``username`` /
    ``password`` of None keep what is stored; an empty string clears it.
    """
    clean, embedded = split_stream_url(url)
    current = camera.credentials
    new_username = embedded.username or (current.username if username is None else username)
    new_password = embedded.password or (current.password if password is None else password)
    camera.stream_url = clean
    camera.credentials = StreamCredentials(new_username, new_password)


@transaction.atomic
def camera_save(*, camera: Camera, by: Any) -> Camera:
    """Create or update a camera (already carrying its new values), audited with what changed."""
    # A URL set directly may still carry credentials: move them to the encrypted field.
    try:
        if split_stream_url(camera.stream_url)[1]:
            stream_url_apply(camera=camera, url=camera.stream_url)
    except StreamURLError as exc:
        raise ValidationError({"stream_url": str(exc)}) from None
    old_hours = (Camera.objects.filter(pk=camera.pk).values_list("retention_hours", flat=True).first()
                 if camera.pk else None)
    camera = _save_audited(camera, by=by, created=AuditAction.CAMERA_CREATED, changed=AuditAction.CAMERA_CHANGED,
                           site=camera.site.slug)
    if old_hours is not None and camera.retention_hours < old_hours:
        retention_shorten_notice(camera=camera, old_hours=old_hours, by=by)
    return camera


def retention_shorten_notice(*, camera: Camera, old_hours: int, by: Any) -> RetentionChange:
    """A shorter retention deletes nothing for a notice period; users who will lose footage see it."""
    effective_at = timezone.now() + timedelta(hours=settings.SAFECAM_RETENTION_NOTICE_HOURS)
    change = RetentionChange.objects.create(camera=camera, old_hours=old_hours, new_hours=camera.retention_hours,
                                            effective_at=effective_at, changed_by=by)
    audit_record(action=AuditAction.RETENTION_SHORTENED, actor=by, target=camera,
                 details={"old_hours": old_hours, "new_hours": camera.retention_hours,
                          "effective_at": effective_at})
    return change


def camera_create(*, site: Site, name: str, stream_url: str, by: Any, **fields: Any) -> Camera:
    """A new camera; credentials in ``stream_url`` are stored encrypted, apart from the URL."""
    camera = Camera(site=site, name=name, **fields)
    stream_url_apply(camera=camera, url=stream_url)
    return camera_save(camera=camera, by=by)


@transaction.atomic
def camera_delete(*, camera: Camera, by: Any) -> None:
    audit_record(action=AuditAction.CAMERA_DELETED, actor=by, target=camera,
                 details={"site": camera.site.slug, "name": camera.name})
    camera.delete()


@transaction.atomic
def controller_save(*, controller: Controller, by: Any) -> Controller:
    return _save_audited(controller, by=by, created=AuditAction.CONTROLLER_CHANGED,
                         changed=AuditAction.CONTROLLER_CHANGED)


@transaction.atomic
def site_access_grant(*, user: Any, site: Site, actions: tuple[str, ...], by: Any) -> None:
    """Give ``user`` the given actions on one site (guardian object permissions; audited per row)."""
    with acting(by):
        for action in actions:
            assign_perm(f"cameras.{SITE_PERMISSIONS[action]}", user, site)
    _forget_cached_permissions(user)


@transaction.atomic
def site_access_revoke(*, user: Any, site: Site, actions: tuple[str, ...], by: Any) -> None:
    with acting(by):
        for action in actions:
            remove_perm(f"cameras.{SITE_PERMISSIONS[action]}", user, site)
    _forget_cached_permissions(user)


def _forget_cached_permissions(user: Any) -> None:
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_guardian_perms_cache"):
        if hasattr(user, cache):
            delattr(user, cache)


# --- health, as reported by the recorder (``footage`` calls down into these) ------------------------


def health_update(*, camera_id: int, **fields: Any) -> None:
    """Set fields of a camera's health row, creating it on first report."""
    updated = CameraHealth.objects.filter(camera_id=camera_id).update(**fields)
    if not updated:
        CameraHealth.objects.get_or_create(camera_id=camera_id, defaults=fields)


def health_count_stored(*, camera_id: int, size: int, seconds: float, start: datetime) -> None:
    """Add one stored segment to the camera's storage counters (one UPDATE)."""
    F = models.F
    oldest = models.Case(
        models.When(models.Q(oldest_footage__isnull=True) | models.Q(oldest_footage__gt=start),
                    then=models.Value(start)),
        default=F("oldest_footage"), output_field=models.DateTimeField())
    updated = CameraHealth.objects.filter(camera_id=camera_id).update(
        stored_bytes=F("stored_bytes") + size, stored_seconds=F("stored_seconds") + seconds,
        stored_segments=F("stored_segments") + 1, oldest_footage=oldest)
    if not updated:
        CameraHealth.objects.get_or_create(camera_id=camera_id)
        health_count_stored(camera_id=camera_id, size=size, seconds=seconds, start=start)
