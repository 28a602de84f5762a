"""Registry pages: the dashboard, an eldership, a camera. Thin: fetch through selectors, render."""

from __future__ import annotations

from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cameras import selectors


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    groups = selectors.dashboard(request.user)
    camera_total = sum(len(group.cameras) for group in groups)
    return render(request, "cameras/dashboard.html", {
        "groups": groups, "camera_total": camera_total,
        "recording_total": sum(group.recording_count for group in groups),
        "stored_total": sum(group.stored_bytes for group in groups),
    })


@login_required
def site_detail(request: HttpRequest, slug: str) -> HttpResponse:
    site = selectors.site_get(request.user, slug)
    cameras = selectors.site_cameras(request.user, site)
    return render(request, "cameras/site_detail.html", {"site": site, "cameras": cameras})


@login_required
def camera_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    camera = selectors.camera_get(request.user, public_id)
    return render(request, "cameras/camera_detail.html", {"camera": camera, "site": camera.site})
