"""The funder's PDFs: real text in the chosen language, and the job that makes, stores and hands them out."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from reports import jobs
from reports.models import Activity, ActivityKind, CostCategory, Expenditure, Report, ReportStatus
from reports.project import project_current
from safecam.models import AuditEvent
from tests.access_requests.test_signs import pdf_text
from tests.reports.conftest import NOVEMBER, KnownMonth

pytestmark = pytest.mark.django_db

DISCLAIMER_LT = ("Ši informacija parengta naudojant Europos Sąjungos finansinę paramą. Už šios informacijos turinį "
                 "atsako Biržų rajono savivaldybės administracija. Jokiomis aplinkybėmis negali būti laikoma, kad ji "
                 "atspindi Europos Sąjungos nuomonę.")
DISCLAIMER_EN = ("This information has been produced with the financial assistance of the European Union. The "
                 "contents of this information are the sole responsibility of Biržai district municipality "
                 "administration and can under no circumstances be regarded as reflecting the position of the "
                 "European Union.")


@pytest.fixture
def report_storage(settings: Any, tmp_path: Any) -> Any:
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path / "reports")}}}
    return tmp_path / "reports"


@pytest.fixture
def project_year(coordinator: Any) -> None:
    """A meeting and an exchange visit in November, and two invoices (one paid in the period)."""
    birzai = project_current().partners.get(country="LT")
    Activity.objects.create(date=date(2026, 11, 12), kind=ActivityKind.MEETING, place="Pabiržės kultūros namai",
                            title_lt="Saugios kaimynystės susitikimas", title_en="Safe neighbourhood meeting",
                            participants=34, description_lt="Aptarta, kaip kameros padeda bendruomenei.")
    Activity.objects.create(date=date(2026, 11, 20), kind=ActivityKind.EXCHANGE, place="Aizkraukle",
                            title_lt="Gerosios patirties mainai", title_en="Good-practice exchange", participants=12)
    Expenditure.objects.create(partner=birzai, category=CostCategory.EQUIPMENT, description="Vaizdo kameros (24 vnt.)",
                               supplier="UAB Saugos sistemos", invoice_number="SS-2026-118",
                               invoice_date=date(2026, 11, 3), payment_date=date(2026, 11, 18),
                               amount=Decimal("61234.50"), vat=Decimal("12859.25"))
    Expenditure.objects.create(partner=birzai, category=CostCategory.EXTERNAL, description="Leidinys",
                               invoice_number="L-7", invoice_date=date(2026, 11, 25), payment_date=None,
                               amount=Decimal("500.00"), vat=Decimal("105.00"))


def _made(*, kind: str, language: str, by: Any, problems: str = "", django_capture_on_commit_callbacks: Any,
          monkeypatch: Any) -> Report:
    """Ask for a report as the page does; the queued job runs here (as the Celery worker would)."""
    ran: list[int] = []
    monkeypatch.setattr("reports.jobs._enqueue", ran.append)
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs.report_request(kind=kind, language=language, period_start=NOVEMBER[0],
                                     period_end=NOVEMBER[1], problems=problems, by=by)
    assert ran == [report.pk]
    assert jobs.report_render(report.pk) == "done"
    report.refresh_from_db()
    return report


def _text(report: Report, by: Any) -> str:
    return pdf_text(jobs.report_file(report=report, by=by))


def test_the_publicity_report_in_lithuanian(known_month: KnownMonth, project_year: None, coordinator: Any,
                                            report_storage: Any, django_capture_on_commit_callbacks: Any,
                                            monkeypatch: Any) -> None:
    report = _made(kind="publicity", language="lt", by=coordinator,
                   django_capture_on_commit_callbacks=django_capture_on_commit_callbacks, monkeypatch=monkeypatch)
    assert report.status == ReportStatus.DONE and report.pages >= 2 and report.progress == 1.0
    text = _text(report, coordinator)
    assert "LLI-457" in text and "Safe community" in text
    assert "Gyvenimo kokybės gerinimas nepasiturinčiame pasienio regione" in text
    assert "Interreg V-A Latvijos ir Lietuvos bendradarbiavimo per sieną programa" in text
    assert "Europos regioninės plėtros fondas" in text and "www.latlit.eu" in text
    assert DISCLAIMER_LT in text and DISCLAIMER_EN not in text
    assert "232 097,84 EUR" in text and "197 283,16 EUR" in text
    assert "114 013,88 EUR" in text and "96 911,79 EUR" in text and "17 102,09 EUR" in text
    assert "Saugios kaimynystės susitikimas" in text  # the activity, in the report's language
    assert "Vabalninkas" in text and "Pabiržė" in text  # the statistics by eldership


def test_the_publicity_report_in_english(known_month: KnownMonth, project_year: None, coordinator: Any,
                                         report_storage: Any, django_capture_on_commit_callbacks: Any,
                                         monkeypatch: Any) -> None:
    report = _made(kind="publicity", language="en", by=coordinator,
                   django_capture_on_commit_callbacks=django_capture_on_commit_callbacks, monkeypatch=monkeypatch)
    text = _text(report, coordinator)
    assert "LLI-457" in text
    assert "Improvement of living conditions in deprived cross border region" in text
    assert "Interreg V-A Latvia–Lithuania Cross Border Cooperation Programme 2014–2020" in text
    assert "European Regional Development Fund" in text
    assert DISCLAIMER_EN in text and DISCLAIMER_LT not in text
    assert "232,097.84 EUR" in text and "197,283.16 EUR" in text and "114,013.88 EUR" in text
    assert "Safe neighbourhood meeting" in text


def test_the_progress_report_has_the_partner_reports_parts(known_month: KnownMonth, project_year: None,
                                                           coordinator: Any, report_storage: Any,
                                                           django_capture_on_commit_callbacks: Any,
                                                           monkeypatch: Any) -> None:
    report = _made(kind="progress", language="en", by=coordinator, problems="The exchange visit moved to spring.",
                   django_capture_on_commit_callbacks=django_capture_on_commit_callbacks, monkeypatch=monkeypatch)
    text = _text(report, coordinator)
    for part in ("1. Outputs", "2. Activities", "3. Expenditure by cost category", "4. Problems and deviations"):
        assert part in text
    assert "Previously reported" in text and "This period" in text
    assert "The exchange visit moved to spring." in text
    assert "SS-2026-118" in text and "74,093.75 EUR" in text  # the paid invoice, with its VAT
    assert "L-7" not in text  # not paid in the period
    assert DISCLAIMER_EN in text


def test_a_download_is_audited_and_checked_against_its_hash(known_month: KnownMonth, coordinator: Any,
                                                            report_storage: Any, django_capture_on_commit_callbacks: Any,
                                                            monkeypatch: Any) -> None:
    report = _made(kind="publicity", language="lt", by=coordinator,
                   django_capture_on_commit_callbacks=django_capture_on_commit_callbacks, monkeypatch=monkeypatch)
    data = jobs.report_file(report=report, by=coordinator)
    assert data.startswith(b"%PDF") and len(data) == report.file_size
    event = AuditEvent.objects.filter(action="report.downloaded").latest("seq")
    assert event.actor == coordinator and event.details["sha256"] == report.file_sha256
    (report_storage / report.file_name).write_bytes(data[:-10] + b"0123456789")
    with pytest.raises(Exception, match="neatitinka parengtosios"):
        jobs.report_file(report=report, by=coordinator)


def test_a_failed_report_says_why_and_offers_no_file(coordinator: Any, report_storage: Any, monkeypatch: Any,
                                                     django_capture_on_commit_callbacks: Any) -> None:
    monkeypatch.setattr("reports.jobs._enqueue", lambda report_id: None)
    report = jobs.report_request(kind="publicity", language="lt", period_start=NOVEMBER[0], period_end=NOVEMBER[1],
                                 by=coordinator)

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("No space left on device")

    monkeypatch.setattr("reports.documents.report_pdf", broken)
    assert jobs.report_render(report.pk) == "failed"
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED and "No space left on device" in report.error
    assert report.file_name == ""
    assert not (report_storage.exists() and any(report_storage.rglob("*.pdf")))
    assert AuditEvent.objects.filter(action="report.failed").exists()
    assert jobs.report_render(report.pk) == "not claimable"  # a second delivery does not run it again


def test_a_report_whose_worker_died_is_taken_up_again(coordinator: Any, report_storage: Any,
                                                      monkeypatch: Any) -> None:
    queued: list[int] = []
    monkeypatch.setattr("reports.jobs._enqueue", queued.append)
    report = jobs.report_request(kind="publicity", language="en", period_start=NOVEMBER[0], period_end=NOVEMBER[1],
                                 by=coordinator)
    Report.objects.filter(pk=report.pk).update(status=ReportStatus.RUNNING, attempts=1,
                                               heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert jobs.reports_resume() == 1 and queued[-1] == report.pk
    assert jobs.report_render(report.pk) == "done"
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE and report.attempts == 2


def test_a_reversed_period_is_refused_with_a_message(coordinator: Any) -> None:
    with pytest.raises(Exception) as error:
        jobs.report_request(kind="publicity", language="lt", period_start=date(2026, 12, 1),
                            period_end=date(2026, 11, 1), by=coordinator)
    assert "Laikotarpis negali baigtis anksčiau" in str(error.value)
    assert not Report.objects.exists()


def test_a_report_asked_for_while_the_broker_is_down_is_kept_and_sent_later(
        coordinator: Any, report_storage: Any, monkeypatch: Any, django_capture_on_commit_callbacks: Any) -> None:
    from kombu.exceptions import OperationalError

    from reports import tasks

    def broker_down(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.report_render, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs.report_request(kind="publicity", language="en", period_start=NOVEMBER[0],
                                     period_end=NOVEMBER[1], by=coordinator)
    report.refresh_from_db()
    assert report.status == ReportStatus.QUEUED  # kept, and its request audited
    assert AuditEvent.objects.filter(action="report.requested", target_id=str(report.public_id)).exists()
    queued: list[int] = []
    monkeypatch.setattr("reports.jobs._enqueue", queued.append)
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - jobs.STALE - timedelta(seconds=1))
    assert jobs.reports_resume() == 1 and queued == [report.pk]
