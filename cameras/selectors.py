"""Reads of the registry, always through ``restrict()``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cameras.models import Camera, CameraHealth, CameraStatus, RetentionChange, Site


def camera_status(camera: Camera, now: datetime | None = None) -> str:
    """The camera's state, from what its recorder last reported.

    Recording: a segment closed within two segment lengths (plus slack for keyframe rounding).
    Reconnecting: no fresh segment, but a recorder holds the camera and is trying.
    Not recording: no recorder is alive for it. Disabled: switched off in the registry.
    """
    if not camera.enabled:
        return CameraStatus.DISABLED
    health = camera_health(camera)
    if health is None:
        return CameraStatus.OFFLINE
    now = now or timezone.now()
    fresh = timedelta(seconds=2 * settings.SAFECAM_SEGMENT_SECONDS + 10)
    if health.last_segment_end and health.last_segment_end >= now - fresh:
        return CameraStatus.RECORDING
    alive = timedelta(seconds=settings.SAFECAM_RECORDER_LEASE_SECONDS)
    if (health.recorder_heartbeat_at and health.recorder_heartbeat_at >= now - alive
            and health.recorder_state != "stopped"):
        return CameraStatus.RECONNECTING
    return CameraStatus.OFFLINE


def camera_health(camera: Camera) -> CameraHealth | None:
    try:
        return camera.health
    except CameraHealth.DoesNotExist:
        return None


def retention_hours_effective(camera: Camera, now: datetime | None = None) -> int:
    """The retention the deletion job applies: a shortening waits out its notice period."""
    now = now or timezone.now()
    pending = [c.old_hours for c in retention_changes_pending(camera, now)]
    return max([camera.retention_hours, *pending])


def retention_changes_pending(camera: Camera, now: datetime | None = None) -> list[RetentionChange]:
    now = now or timezone.now()
    cached = getattr(camera, "pending_retention_changes", None)
    if cached is not None:
        return [c for c in cached if c.effective_at > now]
    return list(camera.retention_changes.filter(effective_at__gt=now))


def cameras_visible(user: Any, action: str = "view") -> QuerySet[Camera]:
    pending = RetentionChange.objects.filter(effective_at__gt=timezone.now())
    return (Camera.objects.restrict(user, action).select_related("site", "health")
            .prefetch_related(Prefetch("retention_changes", queryset=pending, to_attr="pending_retention_changes"))
            .order_by("site__name", "name"))


def sites_visible(user: Any, action: str = "view") -> QuerySet[Site]:
    visible = Camera.objects.restrict(user, action)
    return Site.objects.restrict(user, action).annotate(
        camera_count=Count("cameras", filter=Q(cameras__in=visible.values("pk")), distinct=True),
    )


@dataclass(frozen=True)
class SiteGroup:
    site: Site
    cameras: list[Camera]

    @property
    def stored_bytes(self) -> int:
        return sum(h.stored_bytes for c in self.cameras if (h := camera_health(c)) is not None)

    @property
    def recording_count(self) -> int:
        return sum(1 for c in self.cameras if getattr(c, "status", None) == CameraStatus.RECORDING)

    @property
    def days_on_hand(self) -> float | None:
        """Days of footage the eldership's longest-kept camera has on hand."""
        days = [d for c in self.cameras if (d := footage_days(c)) is not None]
        return max(days) if days else None


def footage_days(camera: Camera, now: datetime | None = None) -> float | None:
    health = camera_health(camera)
    if health is None or health.oldest_footage is None:
        return None
    return max(0.0, ((now or timezone.now()) - health.oldest_footage).total_seconds() / 86400)


def dashboard(user: Any) -> list[SiteGroup]:
    """Each site the user may see with its visible cameras, in two queries whatever their number."""
    sites = list(Site.objects.restrict(user, "view").order_by("name"))
    by_site: dict[int, list[Camera]] = {site.pk: [] for site in sites}
    for camera in cameras_visible(user):
        _decorate(camera)
        by_site.setdefault(camera.site_id, []).append(camera)
    return [SiteGroup(site, by_site[site.pk]) for site in sites]


def _decorate(camera: Camera) -> Camera:
    """What pages show beside the row: state, health (or None)."""
    camera.status = camera_status(camera)
    camera.health_or_none = camera_health(camera)
    return camera


def site_get(user: Any, slug: str) -> Site:
    return get_object_or_404(Site.objects.restrict(user, "view"), slug=slug)


def camera_get(user: Any, public_id: UUID, action: str = "view") -> Camera:
    camera = get_object_or_404(cameras_visible(user, action), public_id=public_id)
    return _decorate(camera)


def site_cameras(user: Any, site: Site) -> list[Camera]:
    return [_decorate(camera) for camera in cameras_visible(user).filter(site=site)]


def cameras_installed(*, by: Any) -> tuple[int, int]:
    """How many cameras were installed by the day ``by``, and in how many elderships (the registry's
    ``installed_on``, else the day a camera was entered). For the funder's indicators: counts only."""
    from safecam.timeranges import local_day

    entered_by = local_day(by).end
    installed = Camera.objects.filter(Q(installed_on__lte=by) | Q(installed_on__isnull=True, created_at__lt=entered_by))
    return installed.count(), installed.values("site").distinct().count()


def cameras_for_figures() -> list[Camera]:
    """Every camera with its site, for roll-ups that cover all of them (no user is asking)."""
    return list(Camera.objects.select_related("site").order_by("site__name", "name"))


def cameras_reachable(user: Any) -> bool:
    """Whether ``user`` may see any camera at all (one EXISTS): to anyone else the footage
    collections do not exist (404), like an object they may not see."""
    return Site.objects.restrict(user, "view").exists()
