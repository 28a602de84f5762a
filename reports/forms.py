"""Forms of the statistics and project pages. They parse and check input; services write."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from reports.models import Activity, BudgetLine, Expenditure, Indicator, Partner, Project, Report, ReportKind
from reports.statistics import statistics_cameras, statistics_sites
from safecam.forms import InvalidMarked, widget_classes
from safecam.timeranges import DayFormField, local_today, month_end, month_start, months_between

# A statistics period covers at most this many months (a funder asks for a year, or the project's
# life; more is a question for the CSV of several periods).
MAX_MONTHS = 60


class MonthInput(forms.DateInput):
    input_type = "month"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m", **kwargs)


class MonthField(DayFormField):
    widget = MonthInput
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value: Any) -> date | None:
        result = super().to_python(value)
        return month_start(result) if result else None


def default_months(today: date | None = None) -> tuple[date, date]:
    """The last twelve months, this one included."""
    today = today or local_today()
    last = month_start(today)
    first = month_start(last - timedelta(days=334))
    return first, last


class StatisticsFilterForm(InvalidMarked, forms.Form):
    start = MonthField(label=_("From month"), required=False)
    end = MonthField(label=_("Until month"), required=False)
    site = forms.ModelChoiceField(label=_("Eldership"), queryset=None, to_field_name="slug", required=False,
                                  empty_label=_("Every eldership"))
    camera = forms.ModelChoiceField(label=_("Camera"), queryset=None, to_field_name="public_id", required=False,
                                    empty_label=_("Every camera"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = statistics_sites(user)
        self.fields["camera"].queryset = statistics_cameras(user)
        first, last = default_months()
        self.fields["start"].widget.attrs["placeholder"] = f"{first:%Y-%m}"
        self.fields["end"].widget.attrs["placeholder"] = f"{last:%Y-%m}"
        widget_classes(self.fields, small=True)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        first, last = default_months()
        start, end = data.get("start") or first, data.get("end") or last
        if not data.get("start") and data.get("end"):
            start = month_start(end - timedelta(days=334))
        if end < start:
            self.add_error("end", _("The last month must not be before the first."))
        elif len(months_between(start, end)) > MAX_MONTHS:
            self.add_error("end", _("A period may cover at most %(n)d months.") % {"n": MAX_MONTHS})
        camera, site = data.get("camera"), data.get("site")
        if camera is not None and site is not None and camera.site_id != site.pk:
            self.add_error("camera", _("This camera is not in the chosen eldership."))
        data["first"], data["last"] = start, month_end(end)
        return data


# --- the project record ---------------------------------------------------------------------------------

class RecordForm(InvalidMarked, forms.ModelForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget_classes(self.fields)


DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class ProjectForm(RecordForm):
    class Meta:
        model = Project
        fields = ["number", "acronym", "title_lt", "title_en", "programme_lt", "programme_en", "fund_lt", "fund_en",
                  "programme_site", "start_date", "end_date", "duration_months", "total_budget", "erdf",
                  "contact_name", "contact_phone", "contact_email", "disclaimer_lt", "disclaimer_en"]
        widgets = {"start_date": DATE, "end_date": DATE, "disclaimer_lt": forms.Textarea(attrs={"rows": 3}),
                   "disclaimer_en": forms.Textarea(attrs={"rows": 3})}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start_date") and data.get("end_date") and data["end_date"] < data["start_date"]:
            self.add_error("end_date", _("The project cannot end before it starts."))
        return data


class PartnerForm(RecordForm):
    class Meta:
        model = Partner
        fields = ["role", "name_lt", "name_en", "country", "budget", "erdf", "own_contribution", "note", "order"]
        widgets = {"note": forms.Textarea(attrs={"rows": 2})}


class BudgetLineForm(RecordForm):
    class Meta:
        model = BudgetLine
        fields = ["partner", "category", "amount"]


class IndicatorForm(RecordForm):
    class Meta:
        model = Indicator
        fields = ["code", "name_lt", "name_en", "unit_lt", "unit_en", "target", "source", "manual_value", "order"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("source") == "manual" and data.get("manual_value") is None:
            self.add_error("manual_value", _("An indicator entered by hand needs its achieved value."))
        return data


class ActivityForm(RecordForm):
    class Meta:
        model = Activity
        fields = ["date", "kind", "place", "title_lt", "title_en", "participants", "description_lt",
                  "description_en"]
        widgets = {"date": DATE, "description_lt": forms.Textarea(attrs={"rows": 4}),
                   "description_en": forms.Textarea(attrs={"rows": 4})}


class PhotoForm(InvalidMarked, forms.Form):
    image = forms.FileField(label=_("Photo"), widget=forms.ClearableFileInput(attrs={"accept": "image/*"}))
    caption = forms.CharField(label=_("Caption"), max_length=300, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        widget_classes(self.fields)


class ExpenditureForm(RecordForm):
    class Meta:
        model = Expenditure
        fields = ["partner", "category", "description", "supplier", "invoice_number", "invoice_date",
                  "payment_date", "amount", "vat"]
        widgets = {"invoice_date": DATE, "payment_date": DATE}


class ReportForm(InvalidMarked, forms.ModelForm):
    class Meta:
        model = Report
        fields = ["kind", "language", "period_start", "period_end", "problems"]
        widgets = {"period_start": DATE, "period_end": DATE, "problems": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"period_start": DayFormField, "period_end": DayFormField}
        help_texts = {"problems": _("Progress report only: what went differently from the plan, and why.")}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        first, last = default_months()
        self.fields["period_start"].initial = first
        self.fields["period_end"].initial = month_end(last)
        self.fields["kind"].choices = ReportKind.choices
        self.fields["kind"].initial = ReportKind.PUBLICITY
        self.fields["language"].choices = settings.LANGUAGES
        self.fields["language"].initial = (get_language() or "lt")[:2]
        widget_classes(self.fields)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end:
            if end < start:
                self.add_error("period_end", _("The period must not end before it starts."))
            elif len(months_between(start, end)) > MAX_MONTHS:
                self.add_error("period_end", _("A period may cover at most %(n)d months.") % {"n": MAX_MONTHS})
        return data
