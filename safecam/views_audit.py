"""The DPO's audit trail: browse and filter events, open one with its hashes, download the filtered
events (CSV, JSON lines), and check the chain ("Verify now") with the latest verdict on the page.

Thin: a filter form, a selector from :mod:`safecam.selectors`, a service from
:mod:`safecam.verification`, respond. The trail is readable by holders of
``safecam.view_auditevent`` (the DPO, the superuser); to anyone else signed in, every page here
answers 404, as for a page that does not exist; an anonymous visitor is sent to the login page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from safecam import audit_export as formats
from safecam import selectors, verification
from safecam.audit import AuditAction
from safecam.doors import PERMISSION, door
from safecam.forms import InvalidMarked, widget_classes
from safecam.timeranges import RangeError, TimeRange, local_day, local_today, parse_instant


# Every page: the DPO's (and the superuser's); anyone else signed in gets 404 (safecam/doors.py).
AUDIT_DOOR = PERMISSION("safecam.view_auditevent")


# --- the filter form ------------------------------------------------------------------------------

class LocalTimeField(forms.Field):
    """A moment typed in local (Europe/Vilnius) time, ``2026-11-25T14:30``; an ISO 8601 offset is
    honoured. A date alone means the start of that local day (``from``) or its end (``until``)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1})

    def __init__(self, *, day_end: bool = False, **kwargs: Any) -> None:
        self.day_end = day_end
        super().__init__(required=False, **kwargs)

    def to_python(self, value: Any) -> datetime | None:
        text = str(value or "").strip()
        if not text:
            return None
        try:
            day = parse_date(text)
        except ValueError:
            day = None
        if day is not None:
            window = local_day(day)
            return window.end if self.day_end else window.start
        try:
            return parse_instant(text, field=str(self.label))
        except RangeError as error:
            raise forms.ValidationError(str(error), code="invalid") from error


class CameraChoiceField(forms.ModelChoiceField):
    """A camera by its public id; a malformed id is "not one of the choices", like an unknown one."""

    def to_python(self, value: Any) -> Any:
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice") from error


class AuditFilterForm(InvalidMarked, forms.Form):
    actor = forms.CharField(label=_("Actor (user name)"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False,
                               choices=[("", _("Every action")), *AuditAction.choices])
    camera = CameraChoiceField(label=_("Camera"), queryset=None, to_field_name="public_id", required=False,
                                    empty_label=_("Every camera"))
    start = LocalTimeField(label=_("From"))
    end = LocalTimeField(label=_("Until"), day_end=True)
    q = forms.CharField(label=pgettext_lazy("audit event", "Target"), required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": _("name or id")}))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        camera = self.fields["camera"]
        camera.queryset = selectors.audit_cameras(user)  # type: ignore[attr-defined]
        camera.label_from_instance = lambda c: f"{c.name} ({c.site.name})"  # type: ignore[attr-defined]
        widget_classes(self.fields, small=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start is not None and end is not None:
            try:
                empty = TimeRange(start, end).seconds == 0
            except ValueError:
                empty = True
            if empty:
                self.add_error("end", _("The end of the range must be after its start."))
        return data


def _filters(form: AuditFilterForm) -> dict[str, Any]:
    """The valid fields' values (an invalid one is shown with its error and left out)."""
    form.is_valid()
    return {name: value for name, value in getattr(form, "cleaned_data", {}).items() if value not in (None, "")}


def _described(filters: dict[str, Any]) -> dict[str, Any]:
    """The filters as the export's audit event keeps them: ids and UTC ISO times."""
    shown: dict[str, Any] = {}
    for name, value in filters.items():
        if name == "camera":
            value = str(value.public_id)
        elif isinstance(value, datetime):
            value = value.isoformat()
        shown[name] = value
    return shown


# --- pages ----------------------------------------------------------------------------------------

@door(AUDIT_DOOR, reason="the DPO's audit trail")
def audit_trail(request: HttpRequest) -> HttpResponse:
    """Every event of the trail, filtered, newest first, a page at a time; the chain's last verdict."""
    form = AuditFilterForm(request.GET, user=request.user)
    filters = _filters(form)
    events = selectors.audit_events(request.user, **filters)
    page = selectors.audit_page(events, before=request.GET.get("before"), after=request.GET.get("after"))
    return render(request, "safecam/audit_trail.html", _page_context(request, form, page, filters))


def _page_context(request: HttpRequest, form: AuditFilterForm, page: Any, filters: dict[str, Any]) -> dict[str, Any]:
    return {"form": form, "page": page, "rows": selectors.audit_rows(page.events), "filtered": bool(filters),
            "trail_size": selectors.audit_trail_size(),
            "verdict": selectors.audit_latest_verdict(request.user),
            "verification": selectors.audit_verification_open(request.user)}


@door(AUDIT_DOOR, reason="the DPO's audit trail")
def audit_export(request: HttpRequest, export_format: str) -> HttpResponse:
    """The filtered events as a streamed download (oldest first); the download itself is audited."""
    if export_format not in formats.FORMATS:
        raise Http404
    form = AuditFilterForm(request.GET, user=request.user)
    filters = _filters(form)
    if form.errors:
        # With a mistyped filter the download would hold more than the DPO asked for: show the errors.
        page = selectors.audit_page(selectors.audit_events(request.user, **filters))
        return render(request, "safecam/audit_trail.html", _page_context(request, form, page, filters), status=400)
    upto = verification.audit_export_record(by=request.user, export_format=export_format,
                                            filters=_described(filters))
    events = selectors.audit_export_events(selectors.audit_events(request.user, **filters), upto=upto)
    response = StreamingHttpResponse(formats.export_lines(export_format, events),
                                     content_type=formats.FORMATS[export_format])
    response["Content-Disposition"] = (f'attachment; filename="safecam-audit-{local_today():%Y-%m-%d}'
                                       f'-to-{upto}.{export_format}"')
    return response


@door(AUDIT_DOOR, reason="the DPO's audit trail")
def audit_event_detail(request: HttpRequest, seq: int) -> HttpResponse:
    """One event with its hashes, whether its hash matches its content and links to the one before."""
    event = selectors.audit_event_get(request.user, seq)
    return render(request, "safecam/audit_event.html", {
        "event": event, "check": selectors.audit_event_check(event),
        "at_hashed": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
        "action_label": formats.action_label(event.action)})


@door(AUDIT_DOOR, reason="the DPO's audit trail")
def audit_verify(request: HttpRequest) -> HttpResponse:
    """POST: check the whole chain now (a job with progress); the page shows its verdict."""
    if request.method != "POST":
        return HttpResponse(status=405, headers={"Allow": "POST"})
    job = verification.audit_verification_request(by=request.user)
    return redirect("audit-verification", public_id=job.public_id)


@door(AUDIT_DOOR, reason="the DPO's audit trail")
def audit_verification(request: HttpRequest, public_id: str) -> HttpResponse:
    """A "Verify now" run: its progress while it runs (the page reloads itself), then its verdict."""
    job = selectors.audit_verification_get(request.user, public_id)
    return render(request, "safecam/audit_verification.html", {"job": job})
