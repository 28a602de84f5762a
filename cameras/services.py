"""Writes to the registry. Each one validates, saves and writes its audit event in one transaction."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from guardian.shortcuts import assign_perm, remove_perm

from cameras.models import Camera, Controller, Site
from cameras.streams import StreamCredentials, split_stream_url
from safecam.audit import AuditAction, acting, audit_record
from safecam.permissions import SITE_PERMISSIONS

CREDENTIALS_FIELD = "stream_credentials"


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


@transaction.atomic
def site_save(*, site: Site, by: Any) -> Site:
    """Create or update a site, audited with what changed."""
    old = Site.objects.filter(pk=site.pk).first() if site.pk else None
    site.full_clean()
    site.save()
    changes = _diff(old, site)
    if old is None or changes:
        audit_record(action=AuditAction.SITE_CREATED if old is None else AuditAction.SITE_CHANGED,
                     actor=by, target=site, details={"changes": changes})
    return site


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
    old = Camera.objects.filter(pk=camera.pk).first() if camera.pk else None
    # A URL set directly (admin, API) may still carry credentials: move them to the encrypted field.
    clean, embedded = split_stream_url(camera.stream_url)
    if embedded:
        stream_url_apply(camera=camera, url=camera.stream_url)
    camera.full_clean()
    camera.save()
    changes = _diff(old, camera)
    if old is None or changes:
        audit_record(action=AuditAction.CAMERA_CREATED if old is None else AuditAction.CAMERA_CHANGED,
                     actor=by, target=camera, details={"site": camera.site.slug, "changes": changes})
    return camera


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
    old = Controller.objects.filter(pk=controller.pk).first() if controller.pk else None
    controller.full_clean()
    controller.save()
    changes = _diff(old, controller)
    if changes:
        audit_record(action=AuditAction.CONTROLLER_CHANGED, actor=by, target=controller,
                     details={"changes": changes})
    return controller


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
