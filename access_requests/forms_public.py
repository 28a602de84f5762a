"""The public request form: what a resident types, read into the register's terms.

The form parses and bounds what was typed (every field has a length limit; the whole body is
limited in the view). The rules about the request itself (window in the past, end after start,
at most seven days, the camera at the chosen place) belong to ``services.request_register``, so
the public form and the DPO's register apply one set of rules; the view maps the service's errors
back onto these fields (``SERVICE_FIELDS``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from access_requests.models import RequestKind
from cameras.models import Camera, Site
from safecam.forms import widget_classes
from safecam.timeranges import RangeError, day_check, local_zone

# The kinds a data subject may ask for here (a disclosure to a third party is filed by the institution).
PUBLIC_KINDS = [(value, label) for value, label in RequestKind.choices if value != RequestKind.DISCLOSURE]

# Service error keys → the field of this form that shows them (None: above the form).
SERVICE_FIELDS: dict[str, str | None] = {
    "window_start": "date", "window_end": "time_to", "camera": "camera", "site": "site",
    "requester_name": "requester_name", "requester_email": "requester_email",
    "requester_phone": "requester_phone", "requester_address": "requester_address",
    "description": "description", "kind": "kind",
}

PHONE = RegexValidator(r"^\+?[0-9 ()\-]{5,40}$", _("Enter a phone number of digits, e.g. +370 612 34567."))

HONEYPOT = "website"


def local_instant(day: date, at: time) -> datetime:
    """A Vilnius wall-clock time as a UTC instant (an hour that happens twice is taken the first time)."""
    return datetime.combine(day, at, tzinfo=local_zone()).astimezone(UTC)


class PublicRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("What do you ask for?"), choices=PUBLIC_KINDS, initial=RequestKind.ACCESS,
                             widget=forms.RadioSelect(attrs={"class": "form-check-input"}))
    requester_name = forms.CharField(label=_("Your name and surname"), max_length=200,
                                     widget=forms.TextInput(attrs={"autocomplete": "name"}))
    requester_email = forms.EmailField(label=_("Email"), max_length=254, required=False,
                                       widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    requester_phone = forms.CharField(label=_("Phone"), max_length=40, required=False, validators=[PHONE],
                                      widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}))
    requester_address = forms.CharField(label=_("Postal address (optional)"), max_length=300, required=False,
                                        widget=forms.TextInput(attrs={"autocomplete": "street-address"}))
    site = forms.ModelChoiceField(label=_("Place (eldership)"), queryset=Site.objects.order_by("name"),
                                  to_field_name="slug", empty_label=_("Choose the place…"))
    camera = forms.ModelChoiceField(label=_("Camera (optional)"), required=False, to_field_name="public_id",
                                    queryset=Camera.objects.filter(enabled=True).select_related("site"),
                                    empty_label=_("Any camera there / I do not know"))
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                           input_formats=["%Y-%m-%d", "%Y.%m.%d"])
    time_from = forms.TimeField(label=_("From (local time)"), input_formats=["%H:%M", "%H:%M:%S"],
                                widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    date_to = forms.DateField(label=_("Until date (if not the same day)"), required=False,
                              widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                              input_formats=["%Y-%m-%d", "%Y.%m.%d"])
    time_to = forms.TimeField(label=_("Until (local time)"), input_formats=["%H:%M", "%H:%M:%S"],
                              widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    description = forms.CharField(
        label=_("Describe yourself and what happened"), max_length=2000,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": 2000}),
        help_text=_("What you wore, where you walked or stood, what happened: it helps us find you in the "
                    "footage. At most 2000 characters."))
    # Hidden from people (CSS and aria-hidden); form-filling robots fill it in.
    website = forms.CharField(label=_("Leave this field empty"), max_length=200, required=False,
                              widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Cameras grouped by place, so the list reads like the places on the signs.
        groups: dict[str, list[tuple[str, str]]] = {}
        for camera in self.fields["camera"].queryset.order_by("site__name", "name"):
            groups.setdefault(camera.site.name, []).append((str(camera.public_id), camera.name))
        self.fields["camera"].choices = [("", self.fields["camera"].empty_label), *groups.items()]
        # static/safecam/page.js shows only the chosen place's cameras (the server checks it again).
        self.fields["camera"].widget.attrs["data-sc-filter-by"] = self["site"].auto_id
        widget_classes(self.fields)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get(HONEYPOT):
            # Not a silent fake success: an autofilling browser could put something here, and a
            # person's request must never be dropped unseen. The field is cleared when shown again.
            raise forms.ValidationError(_("The form could not be sent. Please check it and send it again."),
                                        code="honeypot")
        if not data.get("requester_email") and not data.get("requester_phone") and not (
                self.has_error("requester_email") or self.has_error("requester_phone")):
            self.add_error("requester_email", _("Give an email address or a phone number (or both), so we can "
                                                "answer you."))
        day, start, end = data.get("date"), data.get("time_from"), data.get("time_to")
        for name in ("date", "date_to"):
            try:
                day_check(data[name], field=str(self.fields[name].label)) if data.get(name) else None
            except RangeError as exc:
                self.add_error(name, str(exc))
                day = None
        if day and start and end:
            data["window_start"] = local_instant(day, start)
            data["window_end"] = local_instant(data.get("date_to") or day, end)
        return data

    def mark_errors(self) -> None:
        """Flag the fields with errors for Bootstrap and for screen readers."""
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["class"] = f"{attrs.get('class', '')} is-invalid".strip()
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}-errors"

    def request_fields(self) -> dict[str, Any]:
        """The cleaned form in ``request_register``'s keywords."""
        data = self.cleaned_data
        return {"kind": data["kind"], "requester_name": data["requester_name"],
                "requester_email": data["requester_email"], "requester_phone": data["requester_phone"].strip(),
                "requester_address": data["requester_address"].strip(), "site": data["site"],
                "camera": data["camera"], "window_start": data["window_start"], "window_end": data["window_end"],
                "description": data["description"]}
