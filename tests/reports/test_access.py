"""Who reaches the statistics, the project record and the reports: the persona matrix.

Statistics: every role that works with cameras sees its own elderships' figures; the coordinator
sees all; the anonymous visitor is sent to log in (pages) or refused (API). The project record and
the reports are the coordinator's alone: anyone else gets 404, as for a page that does not exist.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client

from reports.models import Activity, ActivityKind, CostCategory, Expenditure, Indicator, Partner, Report
from safecam.models import AuditEvent
from tests.conftest import PERSONAS
from tests.reports.conftest import KnownMonth

pytestmark = pytest.mark.django_db

STATISTICS_SITES = {"anonymous": None, "spec_vabalninkas": {"Vabalninkas"}, "spec_pabirze": {"Pabiržė"},
                    "public_order": {"Vabalninkas", "Pabiržė"}, "dpo": {"Vabalninkas", "Pabiržė"},
                    "coordinator": {"Vabalninkas", "Pabiržė"}}
SEES_REQUESTS = {"dpo", "coordinator"}


@pytest.fixture
def records(coordinator: Any) -> dict[str, Any]:
    activity = Activity.objects.create(date=date(2026, 11, 12), kind=ActivityKind.MEETING, place="Papilys",
                                       title_lt="Susitikimas", participants=10)
    partner = Partner.objects.get(country="LT")
    invoice = Expenditure.objects.create(partner=partner, category=CostCategory.WORKS, description="Stulpai",
                                         invoice_number="ST-1", invoice_date=date(2026, 8, 1), amount=1000)
    report = Report.objects.create(kind="publicity", language="lt", period_start=date(2026, 1, 1),
                                   period_end=date(2026, 12, 31), created_by=coordinator)
    return {"activity": activity, "partner": partner, "invoice": invoice, "report": report,
            "indicator": Indicator.objects.get(code="O1")}


def _project_urls(r: dict[str, Any]) -> list[str]:
    return ["/project/", "/project/edit/", f"/project/partners/{r['partner'].pk}/", "/project/budget/new/",
            "/project/indicators/new/", f"/project/indicators/{r['indicator'].pk}/",
            f"/project/indicators/{r['indicator'].pk}/delete/", "/project/activities/", "/project/activities/new/",
            f"/project/activities/{r['activity'].public_id}/", f"/project/activities/{r['activity'].public_id}/edit/",
            f"/project/activities/{r['activity'].public_id}/delete/", "/project/expenditure/",
            "/project/expenditure/?format=csv", "/project/expenditure/new/",
            f"/project/expenditure/{r['invoice'].public_id}/", f"/project/expenditure/{r['invoice'].public_id}/delete/",
            "/reports/", f"/reports/{r['report'].public_id}/", f"/reports/{r['report'].public_id}/?format=json",
            f"/reports/{r['report'].public_id}/download/"]


@pytest.mark.door("project", "project-edit", "partner-edit", "budget-line-new", "indicator-new", "indicator-edit",
                  "indicator-delete", "activity-list", "activity-new", "activity-detail", "activity-edit",
                  "activity-delete", "expenditure-list", "expenditure-new", "expenditure-edit", "expenditure-delete",
                  "report-list", "report-detail", "report-download")
@pytest.mark.parametrize("name", PERSONAS)
def test_the_project_pages_are_the_coordinators(name: str, persona: Callable[[str], Any], records: dict[str, Any],
                                                client_for: Callable[[Any], Client]) -> None:
    client = client_for(persona(name))
    for url in _project_urls(records):
        response = client.get(url)
        if name == "anonymous":
            assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
        elif name == "coordinator":
            # the report is still queued: its download sends back to the report's page with a message
            expected = 302 if url.endswith("/download/") else 200
            assert response.status_code == expected, url
        else:
            assert response.status_code == 404, f"{name} {url}"
            assert client.post(url).status_code == 404, f"{name} POST {url}"


@pytest.mark.door("statistics")
@pytest.mark.parametrize("name", PERSONAS)
def test_the_statistics_page_shows_each_persona_their_elderships(
        name: str, persona: Callable[[str], Any], known_month: KnownMonth, client_for: Callable[[Any], Client]) -> None:
    client = client_for(persona(name))
    response = client.get("/statistics/?start=2026-11&end=2026-11")
    if name == "anonymous":
        assert response.status_code == 302
        return
    assert response.status_code == 200
    assert {site for site, _slug, _f in response.context["stats"].by_site} == STATISTICS_SITES[name]
    assert (response.context["stats"].requests is not None) == (name in SEES_REQUESTS)
    content = response.content.decode()
    assert "<svg" in content and "data-testid=\"chart-coverage-month\"" in content
    assert "/cameras/" not in content and "/play/" not in content  # no way from here to footage
    rows = list(csv.DictReader(io.StringIO(client.get("/statistics/?start=2026-11&end=2026-11&format=csv")
                                           .content.decode("utf-8-sig"))))
    assert {row["Seniūnija"] for row in rows} == STATISTICS_SITES[name]


def test_a_csv_download_of_statistics_is_audited(known_month: KnownMonth, coordinator: Any,
                                                 client_for: Callable[[Any], Client]) -> None:
    client_for(coordinator).get("/statistics/?start=2026-11&end=2026-11&format=csv&table=requests")
    event = AuditEvent.objects.filter(action="statistics.exported").latest("seq")
    assert event.actor == coordinator and event.details["table"] == "requests"


@pytest.mark.parametrize("query,field", [
    ("start=2026-12&end=2026-01", "end"), ("start=2020-01&end=2026-12", "end"), ("start=kovas", "start"),
    ("camera=not-a-uuid", "camera"), ("site=atlantis", "site"), ("start=2026-13", "start"),
])
def test_bad_statistics_filters_get_a_message_not_a_500(query: str, field: str, coordinator: Any,
                                                        client_for: Callable[[Any], Client],
                                                        api_client_for: Callable[[Any], Any]) -> None:
    page = client_for(coordinator).get(f"/statistics/?{query}")
    assert page.status_code == 200 and page.context["form"].errors[field]
    api = api_client_for(coordinator).get(f"/api/v1/statistics/?{query}")
    assert api.status_code == 400 and field in api.json()["errors"]


@pytest.mark.door("api:statistics")
@pytest.mark.parametrize("name", PERSONAS)
def test_the_statistics_api_by_persona(name: str, persona: Callable[[str], Any], known_month: KnownMonth,
                                       api_client_for: Callable[[Any], Any]) -> None:
    response = api_client_for(persona(name)).get("/api/v1/statistics/?start=2026-11&end=2026-11")
    if name == "anonymous":
        assert response.status_code in (401, 403)
        return
    assert response.status_code == 200
    body = response.json()
    assert {row["site"] for row in body["by_site"]} == STATISTICS_SITES[name]
    assert (body["requests_total"] is not None) == (name in SEES_REQUESTS)
    if name == "coordinator":
        vab = next(row for row in body["cameras"] if row["camera_id"] == str(known_month.vabalninkas.public_id))
        assert vab["month"] == "2026-11" and vab["figures"]["recorded_seconds"] == 3620
        assert vab["figures"]["gap_seconds"] == {"camera_unreachable": 1800.0, "camera_lost": 7200.0}
        assert body["requests_total"]["on_time_rate"] == 50.0


@pytest.mark.door("api:report-list", "api:report-detail")
@pytest.mark.parametrize("name", PERSONAS)
def test_the_reports_api_is_the_coordinators(name: str, persona: Callable[[str], Any], records: dict[str, Any],
                                             api_client_for: Callable[[Any], Any], monkeypatch: Any) -> None:
    monkeypatch.setattr("reports.jobs._enqueue", lambda report_id: None)
    client = api_client_for(persona(name))
    report = records["report"]
    body = {"kind": "progress", "language": "en", "period_start": "2026-01-01", "period_end": "2026-06-30",
            "problems": "None."}
    answers = [client.get("/api/v1/reports/").status_code, client.get(f"/api/v1/reports/{report.public_id}/").status_code,
               client.post("/api/v1/reports/", body, format="json").status_code]
    if name == "anonymous":
        assert set(answers) <= {401, 403}
    elif name == "coordinator":
        assert answers == [200, 200, 201]
        assert Report.objects.filter(kind="progress", problems="None.").exists()
    else:
        assert answers == [404, 404, 404]
        assert not Report.objects.filter(kind="progress").exists()


def test_a_reversed_report_period_in_the_api_is_a_400(coordinator: Any, api_client_for: Callable[[Any], Any]) -> None:
    response = api_client_for(coordinator).post("/api/v1/reports/", {
        "kind": "publicity", "language": "lt", "period_start": "2026-06-30", "period_end": "2026-01-01"},
        format="json")
    assert response.status_code == 400 and "period_end" in response.json()["errors"]
    assert not Report.objects.filter(period_start=date(2026, 6, 30)).exists()


def test_the_coordinator_keeps_the_record_through_the_pages(coordinator: Any, client_for: Callable[[Any], Client],
                                                            records: dict[str, Any]) -> None:
    client = client_for(coordinator)
    response = client.post("/project/activities/new/", {
        "date": "2026-11-28", "kind": "exchange", "place": "Aizkraukle", "title_lt": "Vizitas Aizkrauklėje",
        "title_en": "Visit to Aizkraukle", "participants": "15", "description_lt": "", "description_en": ""})
    activity = Activity.objects.get(title_lt="Vizitas Aizkrauklėje")
    assert response.status_code == 302 and response["Location"] == f"/project/activities/{activity.public_id}/"
    bad = client.post("/project/expenditure/new/", {
        "partner": records["partner"].pk, "category": "works", "description": "Stulpai", "invoice_number": "ST-1",
        "invoice_date": "2026-08-01", "amount": "-5", "vat": "0"})
    assert bad.status_code == 200 and bad.context["form"].errors  # a negative amount, a repeated invoice
    assert Expenditure.objects.count() == 1
    client.post(f"/project/activities/{activity.public_id}/delete/")
    assert not Activity.objects.filter(pk=activity.pk).exists()
    assert AuditEvent.objects.filter(action="project.deleted", target_id=str(activity.public_id)).exists()
