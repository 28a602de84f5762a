"""Writes for GDPR requests: registering, moving through the workflow, finding footage, exports, delivery.

Every function here takes the acting user explicitly and writes its audit event in the same
transaction as the change (STYLE.md). Footage is kept through ``footage.services.hold_place``
with the request as the hold's cause: while the request is open the hold has no expiry (its
review date is the request's due date); when the request closes, every hold it placed is set to
expire ``SAFECAM_REQUEST_HOLD_DAYS`` later, after which retention takes the footage as usual.

Exports are rows first (status, progress, timings, error, who asked): ``export_create`` queues
the render job after commit; the job (``access_requests.exporting``) fills the row in.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access_requests import deadlines, workflow
from access_requests.models import (AccessRequest, DeliveryMethod, Delivery, Export, ExportStatus,
                                    ReferenceCounter, RequestFootage, RequestKind, RequestState)
from cameras.models import Camera, Site
from footage.models import Hold
from footage.services import hold_place, hold_release
from safecam.audit import AuditAction, audit_record
from safecam.timeranges import local_zone

WINDOW_MAX = timedelta(days=7)
DELIVERY_SALT = "safecam.access_requests.delivery"


# --- registering ----------------------------------------------------------------------------------

def reference_next(year: int) -> str:
    """The next reference of ``year`` (SC-2026-0001), inside the caller's transaction."""
    counter, _created = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return f"SC-{year}-{counter.last:04d}"


def received_on(request: AccessRequest) -> date:
    """The local (Vilnius) date of receipt, from which the month is counted."""
    return timezone.localtime(request.received_at, local_zone()).date()


def request_details(request: AccessRequest) -> dict[str, Any]:
    """What the audit trail keeps of a request (no description: it may hold personal details)."""
    return {"reference": request.reference, "kind": request.kind, "state": request.state,
            "channel": request.channel, "received_at": request.received_at, "due_on": request.due_on,
            "site": request.site.slug if request.site_id else "",
            "camera": str(request.camera.public_id) if request.camera_id else "",
            "window_start": request.window_start, "window_end": request.window_end,
            "recipient": request.recipient_organisation}


def _window_errors(start: datetime | None, end: datetime | None, *, now: datetime) -> dict[str, str]:
    errors: dict[str, str] = {}
    if start is None or end is None:
        return errors
    if end <= start:
        errors["window_end"] = _("The end of the time window must be after its start.")
    elif end - start > WINDOW_MAX:
        errors["window_end"] = _("The time window can cover at most 7 days; describe the moments you are "
                                 "looking for more precisely.")
    if start > now:
        errors["window_start"] = _("The time window cannot start in the future.")
    return errors


def _place_errors(site: Site | None, camera: Camera | None) -> dict[str, str]:
    if camera is not None and site is not None and camera.site_id != site.pk:
        return {"camera": _("That camera is not at the chosen place.")}
    return {}


@transaction.atomic
def request_register(*, kind: str, channel: str, requester_name: str, description: str, window_start: datetime,
                     window_end: datetime, by: Any, received_at: datetime | None = None, site: Site | None = None,
                     camera: Camera | None = None, submitted_from: str = "", **fields: Any) -> AccessRequest:
    """Enter a request in the register, with its reference and its Art. 12(3) deadline.

    ``by`` is the officer who registered it, or None for the public form. A disclosure request
    needs the recipient's organisation and the legal basis in writing.
    """
    now = timezone.now()
    received_at = received_at or now
    errors = {**_window_errors(window_start, window_end, now=now), **_place_errors(site, camera)}
    if received_at > now + timedelta(minutes=5):
        errors["received_at"] = _("A request cannot be received in the future.")
    if not requester_name.strip():
        errors["requester_name"] = _("Give the requester's name.")
    if kind == RequestKind.DISCLOSURE:
        if not fields.get("recipient_organisation", "").strip():
            errors["recipient_organisation"] = _("Name the organisation asking for the footage.")
        if not fields.get("legal_basis", "").strip():
            errors["legal_basis"] = _("A disclosure needs its legal basis in writing (the law and article).")
    if errors:
        raise ValidationError(errors)
    request = AccessRequest(kind=kind, channel=channel, requester_name=requester_name.strip(),
                            description=description.strip(), window_start=window_start, window_end=window_end,
                            received_at=received_at, site=site or (camera.site if camera else None), camera=camera,
                            created_by=by, submitted_from=submitted_from, **fields)
    request.reference = reference_next(timezone.localtime(received_at, local_zone()).year)
    request.due_on = deadlines.due_date(received_on(request))
    request.full_clean(exclude=["reference", "due_on", "created_by", "site", "camera"])
    request.save()
    audit_record(action=AuditAction.REQUEST_RECEIVED, actor=by, target=request, details=request_details(request))
    if by is None or not by.has_perm("access_requests.handle_request"):
        from access_requests.notify import request_received_notify

        request_received_notify(request)
    return request


EDITABLE = ("channel", "requester_name", "requester_email", "requester_phone", "requester_address",
            "recipient_kind", "recipient_organisation", "recipient_reference", "legal_basis", "description",
            "site", "camera", "window_start", "window_end", "outcome")


@transaction.atomic
def request_update(*, request: AccessRequest, by: Any, **changes: Any) -> AccessRequest:
    """Correct the register entry (while the request is open); the trail keeps which fields changed."""
    if not request.is_open:
        raise ValidationError(_("A closed request cannot be changed."))
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError(_("These fields cannot be changed: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    changed = [name for name, value in changes.items() if getattr(request, name) != value]
    for name in changed:
        setattr(request, name, changes[name])
    errors = {**_window_errors(request.window_start, request.window_end, now=timezone.now()),
              **_place_errors(request.site, request.camera)}
    if errors:
        raise ValidationError(errors)
    request.full_clean(exclude=["created_by"])
    request.save()
    if changed:
        audit_record(action=AuditAction.REQUEST_CHANGED, actor=by, target=request,
                     details={"reference": request.reference, "fields": sorted(changed)})
    return request


@transaction.atomic
def request_extend(*, request: AccessRequest, by: Any, months: int, reason: str, notified_on: date | None) -> AccessRequest:
    """Extend the deadline by one or two months (Art. 12(3)), only with a reason and a timely notice."""
    if not request.is_open:
        raise ValidationError(_("A closed request cannot be extended."))
    errors = deadlines.extension_check(received=received_on(request), months=months, reason=reason,
                                       notified_on=notified_on)
    if errors:
        raise ValidationError(errors)
    before = request.due_on
    request.extension_months, request.extension_reason = months, reason.strip()
    request.extension_notified_on = notified_on
    request.due_on = deadlines.due_date(received_on(request), extension_months=months)
    request.save(update_fields=["extension_months", "extension_reason", "extension_notified_on", "due_on",
                                "updated_at"])
    audit_record(action=AuditAction.REQUEST_EXTENDED, actor=by, target=request,
                 details={"reference": request.reference, "months": months, "reason": request.extension_reason,
                          "notified_on": notified_on, "due_before": before, "due_on": request.due_on})
    return request


# --- the workflow ---------------------------------------------------------------------------------

def refusal_notice() -> str:
    """The sentence every refusal carries (GDPR Art. 12(4)), in the active language."""
    return _("You have the right to lodge a complaint with the State Data Protection Inspectorate (Valstybinė "
             "duomenų apsaugos inspekcija, L. Sapiegos g. 17, LT-10312 Vilnius, www.vdai.lrv.lt) and to seek a "
             "judicial remedy before a court.")


@transaction.atomic
def request_move(*, request: AccessRequest, to: str, by: Any, note: str = "", identity_method: str = "",
                 identity_notes: str = "", refusal_reasons: str = "", delivery_method: str = "",
                 delivered_on: date | None = None, outcome: str = "") -> AccessRequest:
    """Move a request to state ``to``, checking the workflow and what the new state needs."""
    # Lock the row, then bring the caller's instance up to date (it may have been read before a move).
    AccessRequest.objects.select_for_update().filter(pk=request.pk).values_list("pk", flat=True).get()
    request.refresh_from_db()
    try:
        workflow.transition_check(request.state, to)
    except workflow.TransitionRefused as refused:
        raise ValidationError({"to": str(refused)}) from None
    now = timezone.now()
    errors: dict[str, str] = {}
    if to == RequestState.IDENTITY_VERIFIED:
        if not identity_method:
            errors["identity_method"] = _("Say how the identity was checked.")
        request.identity_method, request.identity_notes = identity_method, identity_notes.strip()
        request.identity_verified_by, request.identity_verified_at = by, now
    if to == RequestState.REFUSED:
        if not refusal_reasons.strip():
            errors["refusal_reasons"] = _("A refusal must give its reasons.")
        request.refusal_reasons = refusal_reasons.strip()
        request.outcome = "\n\n".join(filter(None, [outcome.strip(), refusal_notice()]))
    if to in (RequestState.DISCLOSED, RequestState.PARTIALLY_DISCLOSED):
        if not delivery_method or delivery_method == DeliveryMethod.NONE:
            errors["delivery_method"] = _("Say how the footage was delivered.")
        if to == RequestState.PARTIALLY_DISCLOSED and not outcome.strip():
            errors["outcome"] = _("Say what was withheld and why.")
        if request.kind != RequestKind.DISCLOSURE and not request.identity_verified_at:
            errors["to"] = _("Footage of a person can only be released after their identity was verified.")
        request.delivery_method, request.delivered_on = delivery_method, delivered_on or timezone.localdate()
    if to in (RequestState.FOOTAGE_FOUND, RequestState.REDACTION, RequestState.REVIEW) and not request.footage.exists():
        errors["to"] = _("Attach the footage found to the request first.")
    if to == RequestState.COMPLETED and request.kind in (RequestKind.ACCESS, RequestKind.DISCLOSURE):
        errors["to"] = _("An access or disclosure request ends disclosed, partially disclosed or refused.")
    if errors:
        raise ValidationError(errors)
    if outcome.strip() and to != RequestState.REFUSED:
        request.outcome = outcome.strip()
    before = request.state
    request.state = to
    if workflow.is_closed(to):
        request.closed_at = now
    elif request.closed_at:  # reopened (no footage found → searching again)
        request.closed_at = None
    request.save()
    audit_record(action=AuditAction.REQUEST_MOVED, actor=by, target=request,
                 details={"reference": request.reference, "from": before, "to": to, "note": note.strip(),
                          **({"identity_method": identity_method} if identity_method else {}),
                          **({"refusal_reasons": request.refusal_reasons} if to == RequestState.REFUSED else {}),
                          **({"delivery_method": delivery_method} if delivery_method else {})})
    holds_follow(request=request, by=by)
    return request


def _request_holds(request: AccessRequest) -> models.QuerySet:
    from django.contrib.contenttypes.models import ContentType

    return Hold.objects.filter(cause_type=ContentType.objects.get_for_model(AccessRequest),
                               cause_id=str(request.pk), released_at__isnull=True)


def holds_follow(*, request: AccessRequest, by: Any) -> None:
    """Holds last while the request is open; after it closes they expire in SAFECAM_REQUEST_HOLD_DAYS."""
    if request.is_open:
        _request_holds(request).update(expires_at=None)
        return
    expires = (request.closed_at or timezone.now()) + timedelta(days=settings.SAFECAM_REQUEST_HOLD_DAYS)
    for hold in _request_holds(request).filter(models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=expires)):
        Hold.objects.filter(pk=hold.pk).update(expires_at=expires)
        audit_record(action=AuditAction.HOLD_PLACED, actor=by, target=hold,
                     details={"reference": request.reference, "expires_at": expires,
                              "why": "request closed: footage kept until the hold expires"})


# --- footage found --------------------------------------------------------------------------------

@transaction.atomic
def footage_attach(*, request: AccessRequest, camera: Camera, start: datetime, end: datetime, by: Any,
                   note: str = "") -> RequestFootage:
    """Attach a range of footage to the request and keep it with a hold while the request is open."""
    if not request.is_open:
        raise ValidationError(_("Footage cannot be attached to a closed request."))
    if end <= start:
        raise ValidationError({"end": _("The end must be after the start.")})
    if end - start > timedelta(minutes=settings.SAFECAM_EXPORT_MAX_MINUTES):
        raise ValidationError({"end": _("One range can cover at most %(minutes)s minutes; attach several ranges.")
                               % {"minutes": settings.SAFECAM_EXPORT_MAX_MINUTES}})
    found = RequestFootage.objects.create(request=request, camera=camera, start=start, end=end, note=note.strip(),
                                          added_by=by)
    found.hold = hold_place(camera=camera, start=start, end=end, by=by, cause=request,
                            reason=_("Request %(reference)s") % {"reference": request.reference},
                            review_on=request.due_on)
    found.save(update_fields=["hold"])
    audit_record(action=AuditAction.REQUEST_FOOTAGE_ADDED, actor=by, target=request,
                 details={"reference": request.reference, "footage": str(found.public_id),
                          "camera": str(camera.public_id), "camera_name": camera.name, "start": start, "end": end,
                          "hold": str(found.hold.public_id)})
    return found


@transaction.atomic
def footage_detach(*, found: RequestFootage, by: Any, reason: str) -> None:
    """Take a range off the request (found by mistake) and release its hold."""
    if not found.request.is_open:
        raise ValidationError(_("Footage cannot be detached from a closed request."))
    if found.exports.exists():
        raise ValidationError(_("This range has exports; it stays on the request as their source."))
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the range is taken off the request.")})
    if found.hold and found.hold.released_at is None:
        hold_release(hold=found.hold, by=by, reason=reason)
    audit_record(action=AuditAction.REQUEST_FOOTAGE_REMOVED, actor=by, target=found.request,
                 details={"reference": found.request.reference, "footage": str(found.public_id),
                          "camera": str(found.camera.public_id), "start": found.start, "end": found.end,
                          "reason": reason.strip()})
    found.delete()


@transaction.atomic
def request_erase(*, request: AccessRequest, by: Any, reason: str) -> AccessRequest:
    """Carry out an erasure request (Art. 17): delete the footage attached to it now, not when its
    retention ends, and complete the request with what was erased and what other holds keep.

    The request's own holds are released first (they kept the footage only for this answer); a hold
    for another case (an incident, a police request) keeps its footage, and the outcome says so.
    """
    from footage.retention import footage_erase

    if request.kind != RequestKind.ERASURE:
        raise ValidationError({"to": _("Only an erasure request erases footage.")})
    request.refresh_from_db()
    if request.state != RequestState.FOOTAGE_FOUND:
        raise ValidationError({"to": _("Attach the footage to erase and mark it found first.")})
    if not reason.strip():
        raise ValidationError({"reason": _("Say why the footage is erased (the requester's ground under Art. 17).")})
    erased = kept = 0
    for found in RequestFootage.objects.filter(request=request).select_related("camera", "hold"):
        if found.hold and found.hold.released_at is None:
            hold_release(hold=found.hold, by=by, reason=_("Erasure request %(reference)s carried out")
                         % {"reference": request.reference})
        run = footage_erase(camera=found.camera, start=found.start, end=found.end, by=by,
                            reason=f"{request.reference}: {reason.strip()}")
        erased += run.segments_deleted
        kept += run.segments_held
    outcome = _("Footage erased: %(erased)s segments.") % {"erased": erased}
    if kept:
        outcome += " " + _("%(kept)s segments are kept by a hold for another case and will be deleted when it "
                           "ends.") % {"kept": kept}
    return request_move(request=request, to=RequestState.COMPLETED, by=by, outcome=outcome, note=reason)


# --- exports --------------------------------------------------------------------------------------

def watermark_text(request: AccessRequest, at: datetime) -> str:
    local = timezone.localtime(at, local_zone())
    return f"{request.reference} · {local:%Y-%m-%d %H:%M} {local.tzname()}"


@transaction.atomic
def export_create(*, found: RequestFootage, by: Any, redaction: dict[str, Any] | None = None,
                  start: datetime | None = None, end: datetime | None = None) -> Export:
    """Ask for an evidential export of (part of) a found range; the job starts after commit."""
    from access_requests.redaction import RedactionError, redaction_validate

    request = found.request
    request.refresh_from_db()
    if not request.is_open:
        raise ValidationError(_("The request is closed; nothing more can be exported for it."))
    start, end = start or found.start, end or found.end
    if start < found.start or end > found.end or end <= start:
        raise ValidationError({"end": _("An export must lie inside the attached range (%(start)s – %(end)s).") % {
            "start": timezone.localtime(found.start).strftime("%Y-%m-%d %H:%M:%S"),
            "end": timezone.localtime(found.end).strftime("%H:%M:%S")}})
    try:
        spec = redaction_validate(redaction or {"mode": "regions", "regions": []})
    except RedactionError as error:
        raise ValidationError({"redaction": str(error)}) from None
    export = Export.objects.create(request=request, footage=found, camera=found.camera, start=start, end=end,
                                   redaction=spec, created_by=by, watermark=watermark_text(request, timezone.now()))
    audit_record(action=AuditAction.EXPORT_REQUESTED, actor=by, target=export,
                 details={"reference": request.reference, "camera": str(found.camera.public_id),
                          "start": start, "end": end, "regions": len(spec["regions"]), "mode": spec["mode"]})
    if request.state == RequestState.FOOTAGE_FOUND:
        request_move(request=request, to=RequestState.REDACTION, by=by, note=_("Export asked for"))
    from access_requests import tasks

    # robust: with the broker down (a Redis restart) the row is still saved and the person gets no
    # error page; the beat job exports_resume sends queued rows whose message never arrived.
    transaction.on_commit(lambda: tasks.export_render.delay(export.pk), robust=True)
    return export


@transaction.atomic
def export_approve(*, export: Export, by: Any) -> Export:
    """Approve the reviewed copy for release; the package is built after commit."""
    if export.status != ExportStatus.READY:
        raise ValidationError(_("Only an export that is ready for review can be approved (this one is “%(status)s”).")
                              % {"status": export.get_status_display()})
    if not export.request.is_open:
        raise ValidationError(_("The request is closed; nothing more can be released for it."))
    updated = Export.objects.filter(pk=export.pk, status=ExportStatus.READY).update(
        status=ExportStatus.PACKAGING, approved_by=by, approved_at=timezone.now(), progress=0.0, stage="package",
        heartbeat_at=None, attempts=0)
    if not updated:
        raise ValidationError(_("Someone else approved this export a moment ago."))
    export.refresh_from_db()
    audit_record(action=AuditAction.EXPORT_APPROVED, actor=by, target=export,
                 details={"reference": export.request.reference, "prepared_by": export.created_by.get_username(),
                          "redacted_sha256": export.redacted_sha256, "master_sha256": export.master_sha256})
    from access_requests import tasks

    transaction.on_commit(lambda: tasks.export_package.delay(export.pk), robust=True)
    return export


# --- delivery -------------------------------------------------------------------------------------

def delivery_token(delivery: Delivery) -> str:
    return signing.dumps(delivery.public_id.hex, salt=DELIVERY_SALT, compress=False)


@transaction.atomic
def delivery_create(*, export: Export, by: Any, recipient: str, days: int | None = None,
                    max_downloads: int | None = None) -> Delivery:
    """An expiring, counted download link to a packaged export."""
    if export.status != ExportStatus.DONE or not export.package_name:
        raise ValidationError(_("The package is not ready yet: approve the export and wait for it to be packaged."))
    days = days or settings.SAFECAM_DELIVERY_DAYS
    max_downloads = max_downloads or settings.SAFECAM_DELIVERY_DOWNLOADS
    errors = {}
    if not recipient.strip():
        errors["recipient"] = _("Say who the link is for.")
    if not 1 <= days <= 90:
        errors["days"] = _("A link can be valid for 1 to 90 days.")
    if not 1 <= max_downloads <= 20:
        errors["max_downloads"] = _("Allow 1 to 20 downloads.")
    if errors:
        raise ValidationError(errors)
    delivery = Delivery.objects.create(export=export, recipient=recipient.strip(), created_by=by,
                                       expires_at=timezone.now() + timedelta(days=days), max_downloads=max_downloads)
    audit_record(action=AuditAction.DELIVERY_CREATED, actor=by, target=delivery,
                 details={"reference": export.request.reference, "export": str(export.public_id),
                          "recipient": delivery.recipient, "expires_at": delivery.expires_at,
                          "max_downloads": max_downloads, "package_sha256": export.package_sha256})
    return delivery


@transaction.atomic
def delivery_revoke(*, delivery: Delivery, by: Any) -> None:
    if Delivery.objects.filter(pk=delivery.pk, revoked_at__isnull=True).update(revoked_at=timezone.now()):
        audit_record(action=AuditAction.DELIVERY_REVOKED, actor=by, target=delivery,
                     details={"reference": delivery.export.request.reference, "downloads": delivery.downloads})


class DeliveryRefused(Exception):
    """A download link that may not be used now: ``status`` 404 (unknown) or 410 (expired or used up)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def delivery_claim(*, token: str, ip: str | None, user_agent: str = "") -> Delivery:
    """Count one download of the link behind ``token`` and audit it; refuse (and audit) when it may not."""
    try:
        public_id = signing.loads(token, salt=DELIVERY_SALT)
    except signing.BadSignature:
        raise DeliveryRefused(_("This download link does not exist."), 404) from None
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update().select_related("export", "export__request")
                    .filter(public_id=public_id).first())
        if delivery is None:
            raise DeliveryRefused(_("This download link does not exist."), 404)
        problem = None
        if delivery.revoked_at:
            problem = _("This download link was withdrawn. Ask the data protection officer for a new one.")
        elif delivery.expires_at <= timezone.now():
            problem = _("This download link has expired. Ask the data protection officer for a new one.")
        elif delivery.downloads >= delivery.max_downloads:
            problem = _("This download link has been used the allowed number of times. "
                        "Ask the data protection officer for a new one.")
        details = {"reference": delivery.export.request.reference, "recipient": delivery.recipient,
                   "downloads": delivery.downloads, "max_downloads": delivery.max_downloads,
                   "package_sha256": delivery.export.package_sha256, "user_agent": user_agent[:200]}
        if problem:
            audit_record(action=AuditAction.DELIVERY_REFUSED, target=delivery, ip=ip,
                         details={**details, "problem": problem})
        else:
            delivery.downloads += 1
            delivery.save(update_fields=["downloads"])
            audit_record(action=AuditAction.DELIVERY_DOWNLOADED, target=delivery, ip=ip,
                         details={**details, "downloads": delivery.downloads})
    if problem:
        raise DeliveryRefused(problem, 410)
    return delivery


def submitter_key(ip: str | None) -> str:
    """A keyed hash of the submitting address: enough to spot abuse, not the address itself."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:{ip or ''}".encode()).hexdigest()[:32] if ip else ""

