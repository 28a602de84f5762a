"""Forms of the DPO's pages. They parse and check input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from access_requests.models import (AccessRequest, Channel, DeliveryMethod, IdentityMethod, RecipientKind,
                                    RequestKind, RequestState)
from access_requests.workflow import allowed
from cameras.models import Camera, Site
from safecam.forms import widget_classes
from safecam.timeranges import InstantFormField


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class RequestForm(forms.ModelForm):
    """Registering a request (the DPO: every kind; Public Order: a police disclosure)."""

    class Meta:
        model = AccessRequest
        fields = ["kind", "channel", "received_at", "requester_name", "requester_email", "requester_phone",
                  "requester_address", "recipient_kind", "recipient_organisation", "recipient_reference",
                  "legal_basis", "site", "camera", "window_start", "window_end", "description"]
        widgets = {"received_at": LocalDateTimeInput(), "window_start": LocalDateTimeInput(),
                   "window_end": LocalDateTimeInput(), "description": forms.Textarea(attrs={"rows": 4}),
                   "legal_basis": forms.Textarea(attrs={"rows": 2})}
        field_classes = {"received_at": InstantFormField, "window_start": InstantFormField,
                         "window_end": InstantFormField}

    def __init__(self, *args: Any, disclosure_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_at"].initial = timezone.localtime().replace(second=0, microsecond=0)
        # A TextField without a length in the model: the form bounds it (no migration for a form rule).
        self.fields["legal_basis"].max_length = 4000
        self.fields["legal_basis"].validators.append(MaxLengthValidator(4000))
        self.fields["site"].queryset = Site.objects.order_by("name")
        self.fields["camera"].queryset = Camera.objects.select_related("site").order_by("site__name", "name")
        self.fields["camera"].label_from_instance = lambda camera: f"{camera.site.name} · {camera.name}"
        if disclosure_only:
            self.fields["kind"].choices = [(RequestKind.DISCLOSURE, RequestKind.DISCLOSURE.label)]
            self.fields["kind"].initial = RequestKind.DISCLOSURE
            self.fields["recipient_kind"].initial = RecipientKind.POLICE
            self.fields["channel"].initial = Channel.OFFICIAL
        widget_classes(self.fields)


class MoveForm(forms.Form):
    """Moving a request on: the next state and what it needs."""

    to = forms.ChoiceField(label=_("Next step"), choices=RequestState.choices)
    note = forms.CharField(label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    identity_method = forms.ChoiceField(label=_("Identity checked by"), required=False,
                                        choices=[("", "—"), *IdentityMethod.choices])
    identity_notes = forms.CharField(label=_("Identity check notes"), required=False, max_length=2000)
    refusal_reasons = forms.CharField(label=_("Reasons for refusal"), required=False, max_length=4000,
                                      widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(label=_("Outcome"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    delivery_method = forms.ChoiceField(label=_("Delivered by"), required=False,
                                        choices=[("", "—"), *DeliveryMethod.choices])
    delivered_on = forms.DateField(label=_("Delivered on"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, state: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].choices = [(s, RequestState(s).label) for s in allowed(state)]
        widget_classes(self.fields)


class ExtendForm(forms.Form):
    months = forms.TypedChoiceField(label=_("Extend by"), coerce=int, choices=[(1, _("1 month")), (2, _("2 months"))])
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    notified_on = forms.DateField(label=_("Requester told on"), widget=forms.DateInput(attrs={"type": "date"}))


class AttachForm(forms.Form):
    camera = forms.UUIDField(label=_("Camera"))
    start = InstantFormField(label=_("From"), widget=LocalDateTimeInput())
    end = InstantFormField(label=_("Until"), widget=LocalDateTimeInput())
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=2000)


class DeliveryForm(forms.Form):
    recipient = forms.CharField(label=_("Recipient"), max_length=200)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=90)
    max_downloads = forms.IntegerField(label=_("Download limit"), min_value=1, max_value=20)
