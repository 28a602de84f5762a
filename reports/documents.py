"""The funder's PDFs (WeasyPrint): the publicity report and the progress (partner) report.

Both are HTML templates under ``templates/reports/pdf/`` rendered in the report's language and in
Vilnius time, with the EU emblem and the programme's branding inlined as SafeCam's own SVG
drawings (``static/reports/``), the charts as inline SVG (:mod:`reports.charts`, vector in the
PDF) and activity photos as data URIs (no URL is fetched while rendering, so nothing reaches the
network). Text is text: DejaVu carries ą č ę ė į š ų ū ž, and ``pdftotext`` reads it all.

The statistics are those the person who asked may see (the coordinator: every eldership).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from reports import charts
from reports import project as records
from reports.models import Activity, Expenditure, Report, ReportKind
from reports.statistics import statistics
from safecam.timeranges import local_zone

PHOTOS_PER_ACTIVITY = 4


def asset_svg(name: str) -> str:
    """One of the project's own SVG drawings, for inlining (without its XML prolog)."""
    path = finders.find(f"reports/{name}")
    if not path:
        raise FileNotFoundError(f"static/reports/{name} is missing")
    text = Path(path).read_text(encoding="utf-8")
    return text[text.index("<svg"):]


def _photo_uri(photo: Any) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(records.photo_bytes(photo)).decode("ascii")


def report_context(report: Report, *, progress: Callable[[float, str], None] | None = None) -> dict[str, Any]:
    """Everything the report's template shows, computed in the report's language."""
    step = progress or (lambda _value, _stage: None)
    step(0.1, "statistics")
    project = records.project_current()
    partners = list(project.partners.all())
    stats = statistics(report.created_by, first=report.period_start, last=report.period_end)
    indicators = records.indicator_rows(first=report.period_start, last=report.period_end)
    step(0.3, "charts")
    drawn = charts.statistics_charts(stats)
    targets = [row for row in indicators if row.target]
    if targets:
        drawn["indicators"] = charts.paired(
            [row.indicator.code for row in targets], (_("Target"), [float(row.target) for row in targets]),
            (_("Achieved"), [float(row.achieved) for row in targets]), title=_("Output indicators"),
            size=(7.0, 0.5 * len(targets) + 1.0))
    spending = []
    for partner in partners:
        lines = records.expenditure_by_category(partner, first=report.period_start, last=report.period_end)
        spending.append({"partner": partner, "lines": lines,
                         "period": sum((line.period for line in lines), records.ZERO),
                         "cumulative": sum((line.cumulative for line in lines), records.ZERO)})
    step(0.45, "activities")
    activities = list(Activity.objects.filter(date__gte=report.period_start, date__lte=report.period_end)
                      .order_by("date").prefetch_related("photos"))
    photos = {activity.pk: [(photo, _photo_uri(photo)) for photo in list(activity.photos.all())[:PHOTOS_PER_ACTIVITY]]
              for activity in activities}
    expenditure = []
    if report.kind == ReportKind.PROGRESS:
        expenditure = list(Expenditure.objects.filter(payment_date__gte=report.period_start,
                                                      payment_date__lte=report.period_end)
                           .select_related("partner").order_by("partner__order", "category", "payment_date"))
    return {
        "report": report, "project": project, "partners": partners, "stats": stats, "charts": drawn,
        "indicators": indicators, "spending": spending, "activities": [(a, photos[a.pk]) for a in activities],
        "participants": sum(a.participants for a in activities), "expenditure": expenditure,
        "budget_problems": records.budget_check(project),
        "eu_emblem": asset_svg("eu-emblem.svg"), "programme_logo": asset_svg("interreg-latlit.svg"),
        "now": timezone.localtime(timezone.now(), local_zone()),
        "spent_total": sum((item["cumulative"] for item in spending), records.ZERO),
    }


TEMPLATES = {ReportKind.PUBLICITY: "reports/pdf/publicity.html", ReportKind.PROGRESS: "reports/pdf/progress.html"}


def report_pdf(report: Report, *, progress: Callable[[float, str], None] | None = None) -> tuple[bytes, int]:
    """The report as PDF bytes and its page count."""
    from weasyprint import HTML

    step = progress or (lambda _value, _stage: None)
    with translation.override(report.language), timezone.override(local_zone()):
        context = report_context(report, progress=step)
        step(0.6, "layout")
        html = render_to_string(TEMPLATES[ReportKind(report.kind)], context)
        document = HTML(string=html, url_fetcher=_only_data_urls()).render()
        step(0.85, "pdf")
        return document.write_pdf(), len(document.pages)


def _only_data_urls() -> Any:
    """Everything the PDF shows is inlined as data URIs: no file or network address is read while
    rendering (and a failed one is an error, not a silently missing picture)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
