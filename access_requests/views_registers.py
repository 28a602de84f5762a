"""The DPO's registers as pages and CSV downloads: requests, disclosures, the Art. 30 record.

Thin: a filter form, one selector from :mod:`access_requests.registers`, respond. The registers
hold every request and disclosure, so they are the DPO's alone (``access_requests.handle_request``):
the Public Order officer follows the requests they filed on the requests' own pages, and anyone
else gets a 404, exactly as for a page that does not exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from access_requests import registers
from access_requests.models import RecipientKind, RequestKind, RequestState
from cameras.models import Site
from safecam.doors import PERMISSION, door
from safecam.forms import InvalidMarked, widget_classes
from safecam.timeranges import DayFormField, local_today

PER_PAGE = 50


# --- filter forms ---------------------------------------------------------------------------------

class _FilterForm(InvalidMarked, forms.Form):
    """Small Bootstrap widgets; an invalid field is marked so the template need not decide."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "site" in self.fields:
            self.fields["site"].queryset = Site.objects.restrict(user, "view").order_by("name")
        widget_classes(self.fields, small=True)

    def _range_check(self, start: str, end: str) -> None:
        data = self.cleaned_data
        if data.get(start) and data.get(end) and data[end] < data[start]:
            self.add_error(end, _("The end of the range must not be before its start."))


def _date(label: Any) -> forms.DateField:
    # Years within 1970–2999: 0001-01-01 or 9999-12-31 would overflow the local-day arithmetic (a 500).
    return DayFormField(label=label, required=False, widget=forms.DateInput(attrs={"type": "date"},
                                                                               format="%Y-%m-%d"))


def _site() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(label=_("Place"), queryset=Site.objects.none(), to_field_name="slug",
                                  required=False, empty_label=_("Every place"))


class RegisterFilterForm(_FilterForm):
    kind = forms.ChoiceField(label=_("Type"), required=False,
                             choices=[("", _("Every type")), *RequestKind.choices])
    state = forms.ChoiceField(label=_("State"), required=False,
                              choices=[("", _("Every state")), *RequestState.choices])
    status = forms.ChoiceField(label=_("Open or closed"), required=False,
                               choices=[("", _("Open and closed")), ("open", _("Open")), ("closed", _("Closed"))])
    received_from = _date(_("Received from"))
    received_to = _date(_("Received until"))
    site = _site()
    q = forms.CharField(label=_("Reference or requester"), required=False, max_length=100)

    def clean(self) -> dict[str, Any]:
        self._range_check("received_from", "received_to")
        return self.cleaned_data


class DisclosureFilterForm(_FilterForm):
    recipient_kind = forms.ChoiceField(
        label=_("Recipient"), required=False,
        choices=[("", _("Every recipient")), (registers.SUBJECT, _("The data subject")), *RecipientKind.choices])
    delivered_from = _date(_("Delivered from"))
    delivered_to = _date(_("Delivered until"))
    site = _site()

    def clean(self) -> dict[str, Any]:
        self._range_check("delivered_from", "delivered_to")
        return self.cleaned_data


# --- pages ----------------------------------------------------------------------------------------

dpo_only = door(PERMISSION("access_requests.handle_request"), reason="every request and disclosure: the DPO's alone")


def _filters(form: forms.Form) -> dict[str, Any]:
    """The valid fields' values (an invalid one is shown with its error and left out)."""
    form.is_valid()
    return {name: value for name, value in getattr(form, "cleaned_data", {}).items() if value not in (None, "")}


def _wants_csv(request: HttpRequest, form: forms.Form | None = None) -> bool:
    # With a mistyped filter the download would hold more than the DPO asked for: show the errors instead.
    return request.GET.get("format") == "csv" and (form is None or not form.errors)


def _csv(request: HttpRequest, *, register: str, columns: Sequence[registers.Column], rows: Sequence[Any],
         filters: dict[str, Any]) -> HttpResponse:
    registers.register_exported(by=request.user, register=register, filters=filters, rows=len(rows))
    response = HttpResponse(registers.csv_bytes(columns, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="safecam-{register}-{local_today():%Y-%m-%d}.csv"'
    return response


@dpo_only
def request_register(request: HttpRequest) -> HttpResponse:
    """The register of every GDPR request and disclosure request."""
    form = RegisterFilterForm(request.GET, user=request.user)
    filters = _filters(form)
    requests = registers.register_requests(request.user, **filters)
    if _wants_csv(request, form):
        return _csv(request, register="requests", columns=registers.register_columns(),
                    rows=registers.register_rows(requests), filters=filters)
    page = Paginator(requests, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "access_requests/registers/request_register.html", {
        "form": form, "page": page, "rows": registers.register_rows(page.object_list)})


@dpo_only
def disclosure_log(request: HttpRequest) -> HttpResponse:
    """Every time footage left the municipality, to whom, under which law."""
    form = DisclosureFilterForm(request.GET, user=request.user)
    filters = _filters(form)
    rows = registers.disclosure_log(request.user, **filters)
    if _wants_csv(request, form):
        return _csv(request, register="disclosures", columns=registers.disclosure_columns(), rows=rows,
                    filters=filters)
    page = Paginator(rows, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "access_requests/registers/disclosure_log.html", {"form": form, "page": page})


@dpo_only
def processing_record(request: HttpRequest) -> HttpResponse:
    """The record of processing activities (GDPR Art. 30), one entry per camera, printable."""
    record = registers.processing_record(request.user)
    if _wants_csv(request):
        return _csv(request, register="processing", columns=registers.processing_columns(record), rows=record.rows,
                    filters={})
    return render(request, "access_requests/registers/processing_record.html", {"record": record,
                                                                                 "today": local_today()})
