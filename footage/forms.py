"""Forms for holds. Times are typed in local (Europe/Vilnius) time and stored in UTC."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from footage.models import Hold
from safecam.timeranges import DayFormField, InstantFormField

LOCAL_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local", "step": 1}, format="%Y-%m-%dT%H:%M:%S")


class HoldForm(forms.ModelForm):
    reason = forms.CharField(label=_("Reason"), max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    class Meta:
        model = Hold
        fields = ["start", "end", "reason", "review_on", "expires_at"]
        field_classes = {"start": InstantFormField, "end": InstantFormField, "expires_at": InstantFormField}
        widgets = {
            "start": LOCAL_INPUT,
            "end": LOCAL_INPUT,
            "expires_at": LOCAL_INPUT,
            "review_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "reason": forms.Textarea(attrs={"rows": 2}),
        }


class HoldReleaseForm(forms.Form):
    reason = forms.CharField(label=_("Why is the hold no longer needed?"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}))


class ViewingFilterForm(forms.Form):
    camera = forms.UUIDField(label=_("Camera (UUID)"), required=False)
    actor = forms.CharField(label=_("User"), required=False, max_length=150)
    day = DayFormField(label=_("Day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
