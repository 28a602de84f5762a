"""Registry pages: the dashboard, an eldership, a camera. Thin: fetch through selectors, render."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cameras import selectors
from safecam.doors import RESTRICTED, SIGNED_IN, door


@door(SIGNED_IN, reason="every signed-in user has one; it lists only what restrict() gives them")
def dashboard(request: HttpRequest) -> HttpResponse:
    groups = selectors.dashboard(request.user)
    camera_total = sum(len(group.cameras) for group in groups)
    return render(request, "cameras/dashboard.html", {
        "groups": groups, "camera_total": camera_total,
        "recording_total": sum(group.recording_count for group in groups),
        "stored_total": sum(group.stored_bytes for group in groups),
    })


@door(RESTRICTED, reason="the site through restrict(user, 'view'); 404 otherwise")
def site_detail(request: HttpRequest, slug: str) -> HttpResponse:
    site = selectors.site_get(request.user, slug)
    cameras = selectors.site_cameras(request.user, site)
    return render(request, "cameras/site_detail.html", {"site": site, "cameras": cameras})


@door(RESTRICTED, reason="the camera through restrict(user, 'view'); 404 otherwise")
def camera_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    camera = selectors.camera_get(request.user, public_id)
    return render(request, "cameras/camera_detail.html", {"camera": camera, "site": camera.site})
