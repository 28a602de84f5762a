"""The persona matrix of every reports route: the statistics, the project record and the funder's
reports, pages and API, by URL name (see tests/safecam/test_doors.py)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from reports import project as records
from reports.models import (Activity, ActivityKind, BudgetLine, CostCategory, Expenditure, Indicator, Partner,
                            Report)
from tests.matrix import EVERYONE, SIGNED_IN, Door, knock, names

pytestmark = pytest.mark.django_db

COORDINATOR = ("coordinator", "superuser")


def _photo() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(buffer, "JPEG")
    return SimpleUploadedFile("photo.jpg", buffer.getvalue(), content_type="image/jpeg")


def _doors(coordinator: Any) -> list[Door]:
    partner = Partner.objects.get(country="LT")
    line = BudgetLine.objects.create(partner=partner, category=CostCategory.WORKS, amount=100)
    indicator = Indicator.objects.get(code="O1")
    activity = Activity.objects.create(date=date(2026, 11, 12), kind=ActivityKind.MEETING, place="Papilys",
                                       title_lt="Susitikimas", participants=10)
    photo = records.photo_add(activity=activity, upload=_photo(), caption="Namai", by=coordinator)
    invoice = Expenditure.objects.create(partner=partner, category=CostCategory.WORKS, description="Stulpai",
                                         invoice_number="ST-1", invoice_date=date(2026, 8, 1), amount=1000)
    report = Report.objects.create(kind="publicity", language="lt", period_start=date(2026, 1, 1),
                                   period_end=date(2026, 12, 31), created_by=coordinator)
    act, inv, rep = activity.public_id, invoice.public_id, report.public_id
    return [
        Door("statistics", "/statistics/", SIGNED_IN),  # every role sees its own elderships' figures
        Door("api:statistics", "/api/v1/statistics/", SIGNED_IN),
        Door("project", "/project/", COORDINATOR),
        Door("project-edit", "/project/edit/", COORDINATOR),
        Door("partner-edit", f"/project/partners/{partner.pk}/", COORDINATOR),
        Door("budget-line-new", "/project/budget/new/", COORDINATOR),
        Door("budget-line-edit", f"/project/budget/{line.pk}/", COORDINATOR),
        Door("budget-line-delete", f"/project/budget/{line.pk}/delete/", COORDINATOR),  # GET: the confirmation
        Door("indicator-new", "/project/indicators/new/", COORDINATOR),
        Door("indicator-edit", f"/project/indicators/{indicator.pk}/", COORDINATOR),
        Door("indicator-delete", f"/project/indicators/{indicator.pk}/delete/", COORDINATOR),
        Door("activity-list", "/project/activities/", COORDINATOR),
        Door("activity-new", "/project/activities/new/", COORDINATOR),
        Door("activity-detail", f"/project/activities/{act}/", COORDINATOR),
        Door("activity-edit", f"/project/activities/{act}/edit/", COORDINATOR),
        Door("activity-delete", f"/project/activities/{act}/delete/", COORDINATOR),
        Door("activity-photo", f"/project/photos/{photo.public_id}.jpg", COORDINATOR),
        Door("activity-photo-delete", f"/project/photos/{photo.public_id}/delete/", COORDINATOR, status=302,
             method="post"),
        Door("expenditure-list", "/project/expenditure/", COORDINATOR),
        Door("expenditure-new", "/project/expenditure/new/", COORDINATOR),
        Door("expenditure-edit", f"/project/expenditure/{inv}/", COORDINATOR),
        Door("expenditure-delete", f"/project/expenditure/{inv}/delete/", COORDINATOR),
        Door("report-list", "/reports/", COORDINATOR),
        Door("report-detail", f"/reports/{rep}/", COORDINATOR),
        # Still queued: the download sends the coordinator back to the report's page with a message.
        Door("report-download", f"/reports/{rep}/download/", COORDINATOR, status=302),
        Door("api:report-list", "/api/v1/reports/", COORDINATOR),
        Door("api:report-detail", f"/api/v1/reports/{rep}/", COORDINATOR),
    ]


@pytest.mark.door("statistics", "api:statistics", "project", "project-edit", "partner-edit", "budget-line-new",
                  "budget-line-edit", "budget-line-delete", "indicator-new", "indicator-edit", "indicator-delete",
                  "activity-list", "activity-new", "activity-detail", "activity-edit", "activity-delete",
                  "activity-photo", "activity-photo-delete", "expenditure-list", "expenditure-new", "expenditure-edit",
                  "expenditure-delete", "report-list", "report-detail", "report-download", "api:report-list",
                  "api:report-detail")
@pytest.mark.parametrize("name", EVERYONE)
def test_each_persona_meets_the_reports_doors(name: str, persona: Any, coordinator: Any, registry: Any,
                                              client_for: Any, api_client_for: Any, settings: Any, tmp_path: Any,
                                              request: pytest.FixtureRequest) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}  # the photo
    user = None if name == "anonymous" else persona(name)
    table = _doors(coordinator)
    assert names(table) == set(request.node.get_closest_marker("door").args)
    assert knock(table, name, lambda: client_for(user), lambda: api_client_for(user)) == []
