"""Footage panels for pages owned by lower apps (the camera page), so ``cameras`` imports no footage code."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import timezone

from footage import playback, selectors
from safecam.permissions import can
from safecam.timeranges import local_day, local_today

register = template.Library()


@register.inclusion_tag("footage/_camera_today.html")
def camera_today(camera: Any) -> dict[str, Any]:
    """Today's timeline as a bar: recorded, gaps with reasons, not yet known."""
    now = timezone.now()
    day = local_day(local_today(now))
    spans = selectors.timeline(camera, day, now=now)
    total = day.seconds
    bars = [{"span": s, "left": 100 * (s.start - day.start).total_seconds() / total,
             "width": 100 * s.seconds / total} for s in spans]
    gaps = [s for s in spans if s.kind == "gap"]
    return {"camera": camera, "bars": bars, "gaps": gaps, "day": day,
            "coverage": selectors.coverage(spans) if spans else None}


@register.inclusion_tag("footage/_camera_holds.html", takes_context=True)
def camera_holds(context: dict, camera: Any) -> dict[str, Any]:
    user = context["request"].user
    return {"camera": camera, "holds": list(selectors.camera_holds(camera, active_only=True)),
            "can_hold": can(user, "hold", camera.site), "request": context["request"]}


@register.inclusion_tag("footage/_player.html", takes_context=True)
def camera_player(context: dict, camera: Any) -> dict[str, Any]:
    """The player, for a user who may watch the camera (recorded or near-live); nothing otherwise."""
    request = context["request"]
    return {"camera": camera, "player_config": playback.page_session(
                request=request, camera=camera, config=selectors.player_config(request, camera)),
            "request": request}



@register.inclusion_tag("footage/_site_playback_button.html", takes_context=True)
def site_playback_button(context: dict, site: Any) -> dict[str, Any]:
    """A link to the eldership's synchronised grid, for a user who may watch any of its cameras."""
    return {"site": site, "show": selectors.cameras_playable(context["request"].user, site=site).exists()}


@register.filter
def reaches_footage(user: Any) -> bool:
    """Whether the menu offers the footage pages (holds): the user may see some camera. Asked once
    per request (kept on the user object), whatever number of places ask it."""
    from cameras.selectors import cameras_reachable

    if not getattr(user, "is_authenticated", False):
        return False
    if not hasattr(user, "_sc_reaches_footage"):
        user._sc_reaches_footage = cameras_reachable(user)
    return user._sc_reaches_footage
