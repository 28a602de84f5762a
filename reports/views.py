"""The statistics page, the project record's pages and the reports' pages. Thin: a form, a
selector or a service, respond.

Who: the statistics are open to whoever may see some eldership's figures (``reports.statistics``
decides); everything else here needs ``reports.manage_project`` (the coordinator) and answers 404
to anyone else, exactly like a page that does not exist. Nothing here links to footage.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from access_requests.registers import csv_bytes
from reports import charts, forms, jobs
from reports import project as records
from reports.models import Activity, ActivityPhoto, BudgetLine, Expenditure, Indicator, Partner, Report
from reports.statistics import may_see_statistics, statistics, statistics_csv
from safecam.audit import AuditAction, audit_record
from safecam.doors import PERMISSION, REACH, door
from safecam.timeranges import local_today, month_end


# A page of the project record or the reports: signed in, and the coordinator's (404 to anyone else).
project_page_view = door(PERMISSION("reports.manage_project"), reason="the project record and the funder's "
                                                                      "reports are the coordinator's")


def _get(model: type[models.Model], request: HttpRequest, **lookup: Any) -> Any:
    return get_object_or_404(model.objects.restrict(request.user, "change"), **lookup)  # type: ignore[attr-defined]


# --- statistics -----------------------------------------------------------------------------------------

@door(REACH(may_see_statistics), reason="whoever may see some eldership's figures, scoped to them")
def statistics_page(request: HttpRequest) -> HttpResponse:
    """Coverage, outages, storage, viewing, exports, holds and requests, by eldership, camera and month."""
    form = forms.StatisticsFilterForm(request.GET or None, user=request.user)
    # An unusable filter is shown with its message, and the page falls back to the last twelve months.
    valid = form.is_bound and form.is_valid()
    data = form.cleaned_data if valid else {}
    if valid:
        first, last = data["first"], data["last"]
    else:
        start, end = forms.default_months()
        first, last = start, month_end(end)
    stats = statistics(request.user, first=first, last=last, site=data.get("site"), camera=data.get("camera"))
    if request.GET.get("format") == "csv" and valid:
        table = "requests" if request.GET.get("table") == "requests" and stats.requests is not None else "cameras"
        audit_record(action=AuditAction.STATISTICS_EXPORTED, actor=request.user,
                     details={"table": table, "from": str(first), "until": str(last),
                              "site": data["site"].slug if data.get("site") else "",
                              "camera": str(data["camera"].public_id) if data.get("camera") else ""})
        response = HttpResponse(statistics_csv(stats, table=table), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (f'attachment; filename="safecam-statistics-{table}-'
                                           f'{first:%Y-%m}-{last:%Y-%m}.csv"')
        return response
    query = request.GET.copy()
    query.pop("format", None)
    query.pop("table", None)
    return render(request, "reports/statistics.html", {
        "form": form, "stats": stats, "charts": charts.statistics_charts(stats), "first": first, "last": last,
        "query": query.urlencode(),
    })


# --- the project record -----------------------------------------------------------------------------------

@project_page_view
def project_page(request: HttpRequest) -> HttpResponse:
    project = records.project_current()
    partners = list(project.partners.all())
    today = local_today()
    lines = records.budget_lines_by_partner(partners)
    spent = records.spent_by_partner(partners)
    return render(request, "reports/project.html", {
        "project": project, "partners": [(p, spent.get(p.pk, records.ZERO), lines.get(p.pk, {})) for p in partners],
        "budget_lines": BudgetLine.objects.select_related("partner"),
        "problems": records.budget_check(project), "indicators": records.indicator_rows(last=today),
        "activities": Activity.objects.all()[:5], "activity_count": Activity.objects.count(),
        "spending": [(p, records.expenditure_by_category(p)) for p in partners],
        "today": today,
    })


def _edit(request: HttpRequest, *, form_class: type, instance: models.Model | None, title: str,
          back: str, saved: Callable[[Any], str] | None = None, delete_url: str | None = None) -> HttpResponse:
    """One form for every project record: validate, save through the audited service, go ``back``
    (or to ``saved(obj)``)."""
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        obj = form.save(commit=False)
        if obj.pk is None and hasattr(obj, "created_by_id"):
            obj.created_by = request.user
        try:
            records.record_save(obj=obj, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Saved."))
            return redirect(saved(obj) if saved else back)
    return render(request, "reports/record_form.html", {"form": form, "title": title, "back": back,
                                                        "delete_url": delete_url})


def _delete(request: HttpRequest, *, obj: models.Model, back: str) -> HttpResponse:
    if request.method == "POST":
        try:
            records.record_delete(obj=obj, by=request.user)
        except models.ProtectedError:
            messages.error(request, _("This record is still used by others (e.g. a partner with expenditure) and "
                                      "cannot be deleted."))
            return redirect(back)
        messages.success(request, _("Deleted."))
        return redirect(back)
    return render(request, "reports/record_delete.html", {"obj": obj, "back": back})


@project_page_view
def project_edit(request: HttpRequest) -> HttpResponse:
    return _edit(request, form_class=forms.ProjectForm, instance=records.project_current(),
                 title=_("Project record"), back=reverse("project"))


@project_page_view
def partner_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _edit(request, form_class=forms.PartnerForm, instance=_get(Partner, request, pk=pk),
                 title=_("Partner"), back=reverse("project"))


@project_page_view
def budget_line_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    line = _get(BudgetLine, request, pk=pk) if pk else None
    return _edit(request, form_class=forms.BudgetLineForm, instance=line, title=_("Budget line"),
                 back=reverse("project"), delete_url=reverse("budget-line-delete", args=[pk]) if pk else None)


@project_page_view
def budget_line_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(request, obj=_get(BudgetLine, request, pk=pk), back=reverse("project"))


@project_page_view
def indicator_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    indicator = _get(Indicator, request, pk=pk) if pk else None
    return _edit(request, form_class=forms.IndicatorForm, instance=indicator, title=_("Output indicator"),
                 back=reverse("project"), delete_url=reverse("indicator-delete", args=[pk]) if pk else None)


@project_page_view
def indicator_delete(request: HttpRequest, pk: int) -> HttpResponse:
    return _delete(request, obj=_get(Indicator, request, pk=pk), back=reverse("project"))


# --- activities ---------------------------------------------------------------------------------------------

@project_page_view
def activity_list(request: HttpRequest) -> HttpResponse:
    activities = Activity.objects.restrict(request.user, "view").prefetch_related("photos")
    return render(request, "reports/activity_list.html", {"activities": activities})


@project_page_view
def activity_edit(request: HttpRequest, public_id: UUID | None = None) -> HttpResponse:
    activity = _get(Activity, request, public_id=public_id) if public_id else None
    return _edit(request, form_class=forms.ActivityForm, instance=activity, title=_("Activity"),
                 back=reverse("activity-detail", args=[public_id]) if public_id else reverse("activity-list"),
                 saved=lambda obj: reverse("activity-detail", args=[obj.public_id]),
                 delete_url=reverse("activity-delete", args=[public_id]) if public_id else None)


@project_page_view
def activity_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    activity = _get(Activity, request, public_id=public_id)
    form = forms.PhotoForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            records.photo_add(activity=activity, upload=form.cleaned_data["image"],
                              caption=form.cleaned_data["caption"], by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Photo added."))
            return redirect("activity-detail", public_id=activity.public_id)
    return render(request, "reports/activity_detail.html", {"activity": activity, "form": form,
                                                            "photos": activity.photos.all()})


@project_page_view
def activity_delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _delete(request, obj=_get(Activity, request, public_id=public_id), back=reverse("activity-list"))


@project_page_view
def photo_image(request: HttpRequest, public_id: UUID) -> HttpResponse:
    photo = _get(ActivityPhoto, request, public_id=public_id)
    response = HttpResponse(records.photo_bytes(photo), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response


@project_page_view
@require_POST
def photo_delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    photo = _get(ActivityPhoto, request, public_id=public_id)
    activity = photo.activity
    records.photo_delete(photo=photo, by=request.user)
    messages.success(request, _("Photo deleted."))
    return redirect("activity-detail", public_id=activity.public_id)


# --- expenditure -----------------------------------------------------------------------------------------

def expenditure_columns() -> list[tuple[str, Any]]:
    return [(_("Partner"), lambda e: str(e.partner)), (_("Cost category"), lambda e: e.get_category_display()),
            (_("What was bought"), lambda e: e.description), (_("Supplier"), lambda e: e.supplier),
            (_("Invoice number"), lambda e: e.invoice_number), (_("Invoice date"), lambda e: e.invoice_date),
            (_("Payment date"), lambda e: e.payment_date), (_("Amount without VAT (EUR)"), lambda e: e.amount),
            (_("VAT (EUR)"), lambda e: e.vat), (_("Total (EUR)"), lambda e: e.total)]


@project_page_view
def expenditure_list(request: HttpRequest) -> HttpResponse:
    rows = Expenditure.objects.restrict(request.user, "view").select_related("partner")
    if request.GET.get("format") == "csv":
        audit_record(action=AuditAction.STATISTICS_EXPORTED, actor=request.user, details={"table": "expenditure"})
        response = HttpResponse(csv_bytes(expenditure_columns(), rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="safecam-expenditure-{local_today():%Y-%m-%d}.csv"'
        return response
    project = records.project_current()
    partners = list(project.partners.all())
    return render(request, "reports/expenditure_list.html", {
        "rows": rows, "spending": [(p, records.expenditure_by_category(p)) for p in partners],
        "spent": records.spent_by_partner(partners), "partners": partners})


@project_page_view
def expenditure_edit(request: HttpRequest, public_id: UUID | None = None) -> HttpResponse:
    row = _get(Expenditure, request, public_id=public_id) if public_id else None
    return _edit(request, form_class=forms.ExpenditureForm, instance=row, title=_("Expenditure"),
                 back=reverse("expenditure-list"),
                 delete_url=reverse("expenditure-delete", args=[public_id]) if public_id else None)


@project_page_view
def expenditure_delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    return _delete(request, obj=_get(Expenditure, request, public_id=public_id), back=reverse("expenditure-list"))


# --- reports ---------------------------------------------------------------------------------------------

@project_page_view
def report_list(request: HttpRequest) -> HttpResponse:
    form = forms.ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            report = jobs.report_request(kind=data["kind"], language=data["language"],
                                         period_start=data["period_start"], period_end=data["period_end"],
                                         problems=data.get("problems", ""), by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect("report-detail", public_id=report.public_id)
    reports = Report.objects.restrict(request.user, "view").select_related("created_by")[:100]
    return render(request, "reports/report_list.html", {"form": form, "reports": reports})


@project_page_view
def report_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    report = _get(Report, request, public_id=public_id)
    if request.GET.get("format") == "json":
        return JsonResponse(report_state(report))
    return render(request, "reports/report_detail.html", {"report": report, "state": report_state(report)})


def report_state(report: Report) -> dict[str, Any]:
    """What the progress bar needs (the page polls this)."""
    return {"status": report.status, "status_label": report.get_status_display(), "progress": report.progress,
            "stage": report.stage_label, "error": report.error, "pages": report.pages, "size": report.file_size,
            "download_url": reverse("report-download", args=[report.public_id]) if report.status == "done" else None}


@project_page_view
def report_download(request: HttpRequest, public_id: UUID) -> HttpResponse:
    report = _get(Report, request, public_id=public_id)
    try:
        data = jobs.report_file(report=report, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("report-detail", public_id=report.public_id)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.file_name.rsplit("/", 1)[-1]}"'
    return response
