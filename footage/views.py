"""Footage pages: the holds register, placing and releasing a hold. Thin: selectors, one service."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from cameras import selectors as camera_selectors
from footage import selectors, services
from footage.forms import HoldForm, HoldReleaseForm


@login_required
def hold_list(request: HttpRequest) -> HttpResponse:
    holds = selectors.holds_visible(request.user)
    show = request.GET.get("show", "active")
    if show == "active":
        holds = holds.active()
    return render(request, "footage/hold_list.html", {"holds": holds.order_by("-created_at")[:500], "show": show})


@login_required
def hold_place(request: HttpRequest, public_id: UUID) -> HttpResponse:
    camera = camera_selectors.camera_get(request.user, public_id, action="hold")
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.hold_place(camera=camera, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Hold placed: this footage will not be deleted while the hold lasts."))
            return redirect("camera-detail", public_id=camera.public_id)
    return render(request, "footage/hold_form.html", {"form": form, "camera": camera, "site": camera.site})


@login_required
def hold_release(request: HttpRequest, public_id: UUID) -> HttpResponse:
    hold = selectors.hold_get(request.user, public_id, action="hold")
    form = HoldReleaseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.hold_release(hold=hold, by=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as exc:
            form.add_error(None, exc.messages)
        else:
            messages.success(request, _("Hold released: the footage follows the camera's retention again."))
            return redirect("hold-list")
    return render(request, "footage/hold_release.html", {"form": form, "hold": hold})
