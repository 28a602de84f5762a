"""Reads of the registry, always through ``restrict()``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from cameras.models import Camera, CameraStatus, Site


def camera_status(camera: Camera) -> str:
    """The camera's state. Until the recorder reports health, an enabled camera is not recording."""
    return CameraStatus.OFFLINE if camera.enabled else CameraStatus.DISABLED


def cameras_visible(user: Any, action: str = "view") -> QuerySet[Camera]:
    return Camera.objects.restrict(user, action).select_related("site").order_by("site__name", "name")


def sites_visible(user: Any, action: str = "view") -> QuerySet[Site]:
    visible = Camera.objects.restrict(user, action)
    return Site.objects.restrict(user, action).annotate(
        camera_count=Count("cameras", filter=Q(cameras__in=visible.values("pk")), distinct=True),
    )


@dataclass(frozen=True)
class SiteGroup:
    site: Site
    cameras: list[Camera]


def dashboard(user: Any) -> list[SiteGroup]:
    """Each site the user may see with its visible cameras, in two queries whatever their number."""
    sites = list(Site.objects.restrict(user, "view").order_by("name"))
    by_site: dict[int, list[Camera]] = {site.pk: [] for site in sites}
    for camera in cameras_visible(user):
        camera.status = camera_status(camera)
        by_site.setdefault(camera.site_id, []).append(camera)
    return [SiteGroup(site, by_site[site.pk]) for site in sites]


def site_get(user: Any, slug: str) -> Site:
    return get_object_or_404(Site.objects.restrict(user, "view"), slug=slug)


def camera_get(user: Any, public_id: UUID, action: str = "view") -> Camera:
    camera = get_object_or_404(Camera.objects.restrict(user, action).select_related("site"), public_id=public_id)
    camera.status = camera_status(camera)
    return camera


def site_cameras(user: Any, site: Site) -> list[Camera]:
    cameras = list(cameras_visible(user).filter(site=site))
    for camera in cameras:
        camera.status = camera_status(camera)
    return cameras
