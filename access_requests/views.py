"""The DPO's pages: the dashboard of open requests, a request from intake to delivery, the search
for footage, the redaction editor, exports and their review, and the public download link.

Every view fetches through ``AccessRequest.objects.restrict()`` (or the rows scoped by it) and
calls one service. A request the user may not see answers 404. The Public Order officer may file a
police disclosure request and follow it (read only); the specialists and the coordinator see none
of this. The download link is the one public view: its signed token is the permission, and every
download, and every refused attempt, is audited.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views.decorators.http import require_GET, require_POST

from access_requests import selectors, services
from access_requests.forms import AttachForm, DeliveryForm, ExtendForm, MoveForm, ReasonForm, RequestForm
from access_requests.models import AccessRequest, Delivery, Export, RequestFootage, RequestKind
from cameras.models import Camera
from safecam.audit import AuditAction, audit_record, request_context
from safecam.doors import PERMISSION, RESTRICTED, SIGNED_TOKEN, door


# The dashboard and the new-request form: the DPO handles requests, Public Order files police ones.
handles_or_files = door(PERMISSION("access_requests.handle_request", "access_requests.file_disclosure"),
                        reason="the DPO, and Public Order for the police disclosure requests they file")
request_door = door(RESTRICTED, reason="the request through restrict(): the DPO's (Public Order: their own, "
                                       "read only); 404 otherwise")
export_door = door(RESTRICTED, reason="the export through restrict(): the DPO's; 404 otherwise")


def _may_handle(user: Any) -> bool:
    return user.has_perm("access_requests.handle_request")


def _request(user: Any, public_id: UUID, action: str = "change") -> AccessRequest:
    return get_object_or_404(AccessRequest.objects.restrict(user, action).select_related("site", "camera"),
                             public_id=public_id)


def _found(user: Any, request_id: UUID, footage_id: UUID) -> RequestFootage:
    return get_object_or_404(RequestFootage.objects.restrict(user, "change").select_related(
        "request", "camera", "camera__site", "hold"), public_id=footage_id, request__public_id=request_id)


def _export(user: Any, public_id: UUID, action: str = "change") -> Export:
    return get_object_or_404(Export.objects.restrict(user, action).select_related(
        "request", "camera", "camera__site", "footage", "created_by", "approved_by"), public_id=public_id)


def _errors_to_form(form: Any, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


def _form_refused(request: HttpRequest, form: Any) -> None:
    """A small action form (on a page that shows it again after the redirect) failed: say why."""
    messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))


def _private(response: HttpResponse) -> HttpResponse:
    patch_cache_control(response, private=True, no_store=True)
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- the dashboard and the register entry ---------------------------------------------------------

@handles_or_files
def dashboard(request: HttpRequest) -> HttpResponse:
    rows = selectors.dashboard(request.user)
    return render(request, "access_requests/dashboard.html", {
        "rows": rows, "overdue": sum(r.overdue for r in rows), "this_week": sum(r.due_this_week for r in rows),
        "can_handle": _may_handle(request.user)})


@handles_or_files
def request_new(request: HttpRequest) -> HttpResponse:
    handle = _may_handle(request.user)
    form = RequestForm(request.POST or None, disclosure_only=not handle)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not handle:
            data["kind"] = RequestKind.DISCLOSURE
        try:
            created = services.request_register(by=request.user, **data)
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            messages.success(request, _("Request %(reference)s registered; the answer is due by %(due)s.")
                             % {"reference": created.reference, "due": created.due_on.strftime("%Y-%m-%d")})
            return redirect("request-detail", public_id=created.public_id)
    return render(request, "access_requests/request_form.html", {"form": form, "disclosure_only": not handle},
                  status=400 if form.errors else 200)


@request_door
def request_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    item = _request(request.user, public_id, "view")
    handle = _may_handle(request.user)
    from access_requests.letters import LETTER_STATES

    context = {"item": item, "can_handle": handle, "letter": item.state in LETTER_STATES,
               **selectors.request_page(item)}
    if handle:
        context.update(move_form=MoveForm(state=item.state), extend_form=ExtendForm(),
                       delivery_form=DeliveryForm(initial={"recipient": item.recipient_organisation or item.requester_name,
                                                           "days": 14, "max_downloads": 3}))
    return render(request, "access_requests/request_detail.html", context)


@request_door
@require_POST
def request_move(request: HttpRequest, public_id: UUID) -> HttpResponse:
    item = _request(request.user, public_id)
    form = MoveForm(request.POST, state=item.state)
    if form.is_valid():
        try:
            services.request_move(request=item, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            item.refresh_from_db()
            messages.success(request, _("The request is now “%(state)s”.") % {"state": item.get_state_display()})
    else:
        _form_refused(request, form)
    return redirect("request-detail", public_id=item.public_id)


@request_door
@require_POST
def request_extend(request: HttpRequest, public_id: UUID) -> HttpResponse:
    item = _request(request.user, public_id)
    form = ExtendForm(request.POST)
    if form.is_valid():
        try:
            services.request_extend(request=item, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            item.refresh_from_db()
            messages.success(request, _("The deadline is now %(due)s.") % {"due": item.due_on.strftime("%Y-%m-%d")})
    else:
        _form_refused(request, form)
    return redirect("request-detail", public_id=item.public_id)


@request_door
@require_GET
def request_letter(request: HttpRequest, public_id: UUID, language: str) -> HttpResponse:
    """The answer letter of a closed request, in Lithuanian or English, for the DPO to sign and send."""
    from access_requests.letters import LETTER_STATES, answer_letter_pdf

    item = _request(request.user, public_id)
    if language not in ("lt", "en") or item.state not in LETTER_STATES:
        raise Http404(_("There is no answer letter for this request yet."))
    response = HttpResponse(answer_letter_pdf(request=item, language=language), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{item.reference}-{language}.pdf"'
    return _private(response)


@request_door
@require_POST
def request_erase(request: HttpRequest, public_id: UUID) -> HttpResponse:
    item = _request(request.user, public_id)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Say why the footage is erased (the requester's ground under Art. 17)."))
        services.request_erase(request=item, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The footage was erased and the request completed."))
    return redirect("request-detail", public_id=item.public_id)


# --- finding footage ------------------------------------------------------------------------------

def search_player_config(request: HttpRequest, item: AccessRequest, camera: Camera) -> dict[str, Any]:
    """The camera page's player, pointed at a session the request authorises (recorded footage only)."""
    from django.conf import settings
    from django.middleware.csrf import get_token
    from django.utils.translation import get_language

    return {
        "camera": str(camera.public_id), "name": camera.name,
        "session_url": reverse("api:request-playback", kwargs={"uuid": item.public_id, "camera": camera.public_id}),
        "timeline_url": reverse("api:camera-timeline", kwargs={"uuid": camera.public_id}),
        "incident_url": None, "still_url": None, "can_recorded": True, "can_live": False, "can_hold": False,
        "time_zone": str(timezone.get_current_timezone()), "locale": get_language() or "lt",
        "start": item.window_start.isoformat(), "live": False,
        "segment_seconds": settings.SAFECAM_SEGMENT_SECONDS, "csrf_token": get_token(request),
    }


@request_door
def request_search(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The playback screen for a request: its cameras, its window, attach what shows the requester."""
    item = _request(request.user, public_id)
    cameras = list(selectors.search_cameras(item))
    chosen = next((c for c in cameras if str(c.public_id) == request.GET.get("camera")), None) or (
        item.camera if item.camera_id else (cameras[0] if cameras else None))
    present = selectors.footage_present(item)
    config = search_player_config(request, item, chosen) if chosen and item.is_open else None
    attach = AttachForm(initial={"camera": chosen.public_id if chosen else None,
                                 "start": timezone.localtime(item.window_start).replace(second=0, microsecond=0),
                                 "end": timezone.localtime(item.window_end).replace(second=0, microsecond=0)})
    return render(request, "access_requests/request_search.html", {
        "item": item, "cameras": [(c, present.get(c.pk, 0.0)) for c in cameras], "chosen": chosen,
        "player_config": config, "attach_form": attach, "scope": selectors.search_scope(item),
        "retention": selectors.retention_proof(item)})


@request_door
@require_POST
def footage_attach(request: HttpRequest, public_id: UUID) -> HttpResponse:
    item = _request(request.user, public_id)
    form = AttachForm(request.POST)
    if form.is_valid():
        camera = selectors.search_cameras(item).filter(public_id=form.cleaned_data["camera"]).first()
        if camera is None:
            messages.error(request, _("That camera is not among this request's cameras."))
        else:
            try:
                services.footage_attach(request=item, camera=camera, start=form.cleaned_data["start"],
                                        end=form.cleaned_data["end"], note=form.cleaned_data["note"],
                                        by=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(request, _("Footage attached and kept by a hold while the request is open."))
    else:
        _form_refused(request, form)
    return redirect("request-detail", public_id=item.public_id)


@request_door
@require_POST
def footage_detach(request: HttpRequest, public_id: UUID, footage_id: UUID) -> HttpResponse:
    found = _found(request.user, public_id, footage_id)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError(_("Say why the range is taken off the request."))
        services.footage_detach(found=found, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The range was taken off the request and its hold released."))
    return redirect("request-detail", public_id=public_id)


# --- redaction and exports ------------------------------------------------------------------------

@request_door
def redaction_editor(request: HttpRequest, public_id: UUID, footage_id: UUID) -> HttpResponse:
    """Mark what to hide on the found range, preview it frame by frame, then ask for the export."""
    from footage import playback

    found = _found(request.user, public_id, footage_id)
    if not found.request.is_open:
        raise Http404(_("The request is closed."))
    session = playback.session_open(user=request.user, camera=found.camera, mode="recorded",
                                    ip=request_context.get().ip, user_agent=request.headers.get("User-Agent", ""),
                                    purpose=f"access_request:{found.request.public_id}",
                                    scope=selectors.search_scope(found.request))
    links = playback.session_links(session)
    from django.middleware.csrf import get_token
    from django.utils.http import urlencode

    config = {
        "footage": str(found.public_id), "request": str(found.request.public_id),
        "reference": found.request.reference, "camera": found.camera.name,
        "start": found.start.isoformat(), "end": found.end.isoformat(),
        "duration": (found.end - found.start).total_seconds(),
        "playlist": links["playlist"] + "?" + urlencode({"start": found.start.isoformat(),
                                                           "end": found.end.isoformat()}),
        "beat": links["beat"],
        "preview_url": reverse("api:request-footage-preview", kwargs={"uuid": found.public_id}),
        "export_url": reverse("api:export-list"),
        "detail_url": reverse("request-detail", kwargs={"public_id": found.request.public_id}),
        "csrf_token": get_token(request), "time_zone": str(timezone.get_current_timezone()),
    }
    return render(request, "access_requests/redaction_editor.html", {"found": found, "item": found.request,
                                                                       "editor_config": config})


TIMING_LABELS = [("clip_seconds", _lazy("footage")), ("master", _lazy("master copy")),
                 ("redact", _lazy("redacted copy")), ("upload", _lazy("upload")), ("package", _lazy("package"))]


@export_door
def export_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    export = _export(request.user, public_id, "view")
    return render(request, "access_requests/export_detail.html", {
        "export": export, "item": export.request, "can_handle": _may_handle(request.user),
        "deliveries": export.deliveries.order_by("-created_at"),
        "delivery_form": DeliveryForm(initial={"recipient": export.request.recipient_organisation
                                               or export.request.requester_name, "days": 14, "max_downloads": 3}),
        "status_url": reverse("api:export-detail", kwargs={"uuid": export.public_id}),
        "timings": [(label, export.timings[key]) for key, label in TIMING_LABELS if key in export.timings]})


@export_door
@require_GET
def export_redacted(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The redacted working copy, for review before release (footage leaving the server: audited)."""
    from footage.services import footage_storage

    export = _export(request.user, public_id)
    if not export.redacted_name:
        raise Http404(_("The redacted copy is not ready yet."))
    if not request.headers.get("Range", "").startswith("bytes=") or request.headers["Range"].startswith("bytes=0-"):
        # One event per viewing, not one per range request of the video element.
        audit_record(action=AuditAction.EXPORT_PREVIEWED, actor=request.user, target=export,
                     details={"reference": export.request.reference, "file": "redacted",
                              "sha256": export.redacted_sha256})
    handle = footage_storage().open(export.redacted_name, "rb")
    return _private(FileResponse(handle, content_type="video/mp4"))


@export_door
@require_POST
def export_approve(request: HttpRequest, public_id: UUID) -> HttpResponse:
    export = _export(request.user, public_id)
    try:
        services.export_approve(export=export, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Approved. The evidential package is being built."))
    return redirect("export-detail", public_id=export.public_id)


@export_door
@require_POST
def delivery_create(request: HttpRequest, public_id: UUID) -> HttpResponse:
    export = _export(request.user, public_id)
    form = DeliveryForm(request.POST)
    if form.is_valid():
        try:
            delivery = services.delivery_create(export=export, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            link = request.build_absolute_uri(reverse("delivery-download",
                                                      kwargs={"token": services.delivery_token(delivery)}))
            messages.success(request, _("Download link for %(recipient)s (valid until %(until)s, %(count)s "
                                        "downloads): %(link)s") % {
                "recipient": delivery.recipient, "until": timezone.localtime(delivery.expires_at).strftime(
                    "%Y-%m-%d %H:%M"), "count": delivery.max_downloads, "link": link})
    else:
        _form_refused(request, form)
    return redirect("export-detail", public_id=export.public_id)


@door(RESTRICTED, reason="the delivery through restrict(user, 'change'): the DPO's; 404 otherwise")
@require_POST
def delivery_revoke(request: HttpRequest, public_id: UUID) -> HttpResponse:
    delivery = get_object_or_404(Delivery.objects.restrict(request.user, "change").select_related(
        "export", "export__request"), public_id=public_id)
    services.delivery_revoke(delivery=delivery, by=request.user)
    messages.success(request, _("The download link was withdrawn."))
    return redirect("export-detail", public_id=delivery.export.public_id)


@door(SIGNED_TOKEN, reason="the recipient has no account: the signed link is the permission; "
                               "each use is counted and audited, refusals too")
@require_GET
def delivery_download(request: HttpRequest, token: str) -> HttpResponse:
    """The recipient's download: the signed token is the permission; each use is counted and audited."""
    from footage.services import footage_storage

    try:
        delivery = services.delivery_claim(token=token, ip=request_context.get().ip,
                                           user_agent=request.headers.get("User-Agent", ""))
    except services.DeliveryRefused as refused:
        return render(request, "access_requests/download_refused.html", {"message": str(refused)},
                      status=refused.status)
    export = delivery.export
    handle = footage_storage().open(export.package_name, "rb")
    response = FileResponse(handle, as_attachment=True, filename=export.package_name.rsplit("/", 1)[-1],
                            content_type="application/zip")
    response["X-Package-SHA256"] = export.package_sha256
    return _private(response)
