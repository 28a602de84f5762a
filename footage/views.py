"""Footage pages: holds, playback links (footage.playback), still frames, the site grid, the viewing log.

Thin: selectors, one service, respond."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse,
                         StreamingHttpResponse)
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from cameras import selectors as camera_selectors
from footage import playback, selectors, services
from footage.forms import HoldForm, HoldReleaseForm, ViewingFilterForm
from footage.models import Segment, SegmentState
from safecam.doors import PERMISSION, REACH, RESTRICTED, SIGNED_TOKEN, door
from safecam.timeranges import RangeError, TimeRange, parse_instant, parse_range


@door(REACH(camera_selectors.cameras_reachable), reason="no camera, no holds page (the coordinator)")
def hold_list(request: HttpRequest) -> HttpResponse:
    holds = selectors.holds_visible(request.user)
    show = request.GET.get("show", "active")
    if show == "active":
        holds = holds.active()
    return render(request, "footage/hold_list.html", {"holds": holds.order_by("-created_at")[:500], "show": show})


@door(RESTRICTED, reason="the camera through restrict(user, 'hold'); 404 otherwise")
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


@door(RESTRICTED, reason="the hold through restrict(user, 'hold'); 404 otherwise")
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


# --- playback -------------------------------------------------------------------------------------
# The /play/<token>/ links: every request goes through playback.session_for_request (signature, owner,
# expiry, the right on the camera now) and is counted on the viewing session. Errors are short plain
# text a person can read in the browser's network panel; the player reacts to 404 and 410.

HLS = "application/vnd.apple.mpegurl"
play_door = door(SIGNED_TOKEN, reason="a signed per-user, per-session link; session_for_request checks the owner, "
                                     "the expiry and the right on the camera now")


def _plain(message: Any, status: int) -> HttpResponse:
    """A short refusal a person can read (the player reacts to the status)."""
    return HttpResponse(str(message), status=status, content_type="text/plain; charset=utf-8")


def _refused(exc: playback.PlaybackRefused) -> HttpResponse:
    return _plain(exc, exc.status)


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@play_door
@require_GET
def play_playlist(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = playback.session_for_request(token=token, user=request.user)
        if session.mode != "recorded":
            raise playback.PlaybackRefused(_("This is a near-live session: use its live playlist."))
        window = parse_range(request.GET.get("start"), request.GET.get("end"),
                             max_span=timedelta(hours=settings.SAFECAM_PLAYLIST_MAX_HOURS))
    except playback.PlaybackRefused as exc:
        return _refused(exc)
    except RangeError as exc:
        return _plain(exc, 400)
    playback.session_touch(session)
    return _private(HttpResponse(playback.playlist_recorded(session, window), content_type=HLS))


@play_door
@require_GET
def play_live(request: HttpRequest, token: str) -> HttpResponse:
    try:
        session = playback.session_for_request(token=token, user=request.user)
        if session.mode != "live":
            raise playback.PlaybackRefused(_("This is a recorded-footage session: use its playlist."))
    except playback.PlaybackRefused as exc:
        return _refused(exc)
    playback.session_touch(session)
    return _private(HttpResponse(playback.playlist_live(session), content_type=HLS))


def _stream(handle: Any, first: int, length: int, chunk: int = 64 * 1024) -> Any:
    try:
        if first:
            handle.seek(first)
        remaining = length
        while remaining > 0:
            data = handle.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            yield data
    finally:
        handle.close()


@play_door
@require_GET
def play_segment(request: HttpRequest, token: str, segment_id: int) -> HttpResponse:
    try:
        session = playback.session_for_request(token=token, user=request.user)
        segment = playback.segment_for_session(session, segment_id, user=request.user)
    except playback.PlaybackRefused as exc:
        return _refused(exc)
    try:
        wanted = playback.byte_range(request.headers.get("Range"), segment.size)
    except playback.RangeNotSatisfiable:
        response = _plain(_("The requested byte range is outside the segment."), 416)
        response["Content-Range"] = f"bytes */{segment.size}"
        return response
    first, last = wanted or (0, segment.size - 1)
    storage = services.footage_storage()
    signed = playback.storage_signed_url(storage, segment.storage_name) if wanted is None else None
    playback.session_touch(session, segment=segment, nbytes=last - first + 1)
    if signed:
        return _private(HttpResponseRedirect(signed))
    try:
        handle = storage.open(segment.storage_name, "rb")
    except (FileNotFoundError, OSError):
        return _plain(_("The storage server cannot deliver this segment right now."), 503)
    response = StreamingHttpResponse(_stream(handle, first, last - first + 1), content_type="video/mp2t",
                                     status=206 if wanted else 200)
    response["Content-Length"] = str(last - first + 1)
    response["Accept-Ranges"] = "bytes"
    if wanted:
        response["Content-Range"] = f"bytes {first}-{last}/{segment.size}"
    return _private(response)


@play_door
@require_GET
def play_thumbnail(request: HttpRequest, token: str, segment_id: int) -> HttpResponse:
    from footage.thumbnails import thumbnail_name

    try:
        session = playback.session_for_request(token=token, user=request.user, action="playback")
    except playback.PlaybackRefused as exc:
        return _refused(exc)
    segment = Segment.objects.filter(pk=segment_id, camera_id=session.camera_id, thumbnail=True,
                                     state=SegmentState.STORED).only("pk", "storage_name", "start", "end").first()
    if segment is None or playback.session_scope(session, TimeRange(segment.start, segment.end)) is None:
        return _plain(_("No preview picture here."), 404)
    try:
        with services.footage_storage().open(thumbnail_name(segment.storage_name), "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError):
        return _plain(_("No preview picture here."), 404)
    playback.session_touch(session, nbytes=len(data), thumbnail=True)
    return _private(HttpResponse(data, content_type="image/jpeg"))


@play_door
@csrf_exempt  # the signed, per-user, per-session token in the URL is the proof; sendBeacon sends no header
@require_POST
def play_beat(request: HttpRequest, token: str) -> HttpResponse:
    import json

    try:
        session = playback.session_for_request(token=token, user=request.user)
    except playback.PlaybackRefused as exc:
        return _refused(exc)
    if len(request.body) > 32_768:
        return JsonResponse({"detail": _("The heartbeat is too large.")}, status=413)
    try:
        body = json.loads(request.body or b"{}")
        if not isinstance(body, dict):
            raise ValueError
        watched = playback.watched_parse(body.get("watched"))
    except playback.BeatError as exc:
        return JsonResponse({"watched": [str(exc)]}, status=400)
    except ValueError:
        return JsonResponse({"detail": _("The heartbeat must be a JSON object.")}, status=400)
    playback.session_beat(session=session, watched=watched, closing=bool(body.get("closing")))
    return HttpResponse(status=204)


@door(RESTRICTED, reason="the camera through restrict(user, 'export'); 404 otherwise")
@require_GET
def still_frame(request: HttpRequest, public_id: UUID) -> HttpResponse:
    camera = camera_selectors.camera_get(request.user, public_id, action="export")
    try:
        at = parse_instant(request.GET.get("at", ""), field="at")
        image = playback.still_export(camera=camera, at=at, by=request.user)
    except (RangeError, playback.StillError) as exc:
        return _plain(exc, 400 if isinstance(exc, RangeError) else 404)
    local = timezone.localtime(at)
    response = HttpResponse(image, content_type="image/jpeg")
    response["Content-Disposition"] = (f'attachment; filename="{camera.public_id}-'
                                       f'{local:%Y%m%d-%H%M%S}.jpg"')
    return _private(response)


@door(RESTRICTED, reason="the site through restrict(); 404 unless some camera of it may be played")
def site_playback(request: HttpRequest, slug: str) -> HttpResponse:
    site = camera_selectors.site_get(request.user, slug)
    cameras = list(selectors.cameras_playable(request.user, site=site))
    if not cameras:
        raise Http404(_("You may not watch any camera of this eldership."))
    config = selectors.grid_config(request, site=site, cameras=cameras)
    by_id = {str(camera.public_id): camera for camera in cameras}
    config["cameras"] = [playback.page_session(request=request, camera=by_id[c["camera"]], config=c)
                         for c in config["cameras"]]
    return render(request, "footage/site_playback.html", {"site": site, "cameras": cameras, "grid_config": config})


@door(PERMISSION("safecam.view_auditevent"), reason="the DPO's: who watched what is read from the audit trail")
def viewing_log(request: HttpRequest) -> HttpResponse:
    """The DPO's record of who watched which footage, when and from where (from the audit trail)."""
    form = ViewingFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    rows = selectors.viewing_log(request.user, camera=str(filters.get("camera") or ""),
                                 actor=filters.get("actor") or "", day=filters.get("day"))
    return render(request, "footage/viewing_log.html", {
        "rows": rows, "form": form, "now_watching": selectors.viewing_now(request.user)[:100]})
