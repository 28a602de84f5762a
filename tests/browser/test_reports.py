"""The coordinator's statistics and funder's reports in real Chromium: a known month's figures, charts
and CSV, and a report asked for on the page, made by its Celery job, followed by the progress bar and
downloaded as a PDF that ``pdftotext`` reads."""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
from pathlib import Path
from typing import Any

import pytest

from reports import tasks
from reports.models import Report, ReportStatus
from safecam.audit import AuditAction
from safecam.models import AuditEvent
from tests.browser.test_player import snapshot
from tests.reports.conftest import KnownMonth, known_month  # noqa: F401

DISCLAIMER = "Ši informacija parengta naudojant Europos Sąjungos finansinę paramą"
# The report's page loads with its job queued and polls every 1.5 s: the PDF takes a few seconds.
JOB_TIMEOUT = 60_000


@pytest.fixture(autouse=True)
def files_dir(settings: Any, tmp_path: Path) -> Path:
    """Reports in the test's own folder on the real FileSystemStorage (not the data dir's storage)."""
    folder = tmp_path / "files"
    settings.STORAGES = {**settings.STORAGES, "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(folder)}}}
    return folder


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids handed to Celery, instead of the broker: the test is the worker, so no worker
    elsewhere on the same Redis can take (or fail) its job first."""
    ids: list[int] = []
    monkeypatch.setattr(tasks.report_render, "delay", ids.append)
    return ids


def no_horizontal_scroll(page: Any) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")


def words(text: str) -> str:
    """The text with every run of whitespace as one space (WeasyPrint wraps lines)."""
    return " ".join(text.split())


def report_ask(page: Any, *, kind: str, language: str, start: str, end: str) -> Report:
    """Fill the report form on /reports/ and send it; returns the row the page now shows."""
    page.goto("/reports/")
    form = page.get_by_test_id("report-form")
    form.locator("[name=kind]").select_option(kind)
    form.locator("[name=language]").select_option(language)
    form.locator("[name=period_start]").fill(start)
    form.locator("[name=period_end]").fill(end)
    page.get_by_test_id("make-report").click()
    page.wait_for_url("**/reports/*-*-*-*-*/")
    report = Report.objects.get()
    assert page.url.endswith(f"/reports/{report.public_id}/")
    return report


def job_run_and_wait_for_reload(page: Any, report: Report, queued: list[int]) -> str:
    """Run the queued job as a worker would, then wait until jobs.js, polling the row, reloads the page."""
    assert queued == [report.pk]  # queued once the request's transaction committed
    status = page.get_by_test_id("report-status")
    assert status.get_attribute("data-status") == ReportStatus.QUEUED
    # A mark in this document: a page without it is a new one, loaded by jobs.js (nothing else reloads).
    page.evaluate("() => { window.scBeforeJob = true; }")
    outcome = tasks.report_render(queued[0])
    page.wait_for_function("() => window.scBeforeJob === undefined && document.readyState === 'complete'",
                           timeout=JOB_TIMEOUT)
    return outcome


def test_it_shows_a_known_months_charts_and_tables_on_desktop_and_phone_and_downloads_the_csv(
        page_for: Any, coordinator: Any, known_month: KnownMonth) -> None:  # noqa: F811
    page = page_for(coordinator, viewport={"width": 1366, "height": 800})
    page.goto("/statistics/?start=2026-11&end=2026-11")
    for chart in ("chart-coverage-month", "chart-coverage-site"):
        svg = page.locator(f"[data-testid={chart}] svg")
        assert svg.is_visible(), chart
        box = svg.bounding_box()
        assert box["width"] > 100 and box["height"] > 50, (chart, box)
    by_site = page.get_by_test_id("by-site")
    assert by_site.locator("tr[data-site=vabalninkas] td").first.inner_text() == "Vabalninkas"
    assert by_site.locator("tr[data-site=pabirze] td").first.inner_text() == "Pabiržė"
    cameras = page.get_by_test_id("by-camera")
    for camera in (known_month.vabalninkas, known_month.pabirze):
        row = cameras.locator(f"tr[data-camera='{camera.public_id}'][data-month='2026-11']")
        assert camera.name in row.inner_text()
    assert no_horizontal_scroll(page)
    snapshot(page, "statistics-desktop")

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    assert page.locator("[data-testid=chart-coverage-month] svg").bounding_box()["width"] <= 390
    assert no_horizontal_scroll(page), page.evaluate("() => document.documentElement.scrollWidth")
    snapshot(page, "statistics-phone")

    with page.expect_download() as waiting:
        page.get_by_test_id("csv-cameras").click()
    download = waiting.value
    assert download.suggested_filename == "safecam-statistics-cameras-2026-11-2026-11.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert known_month.vabalninkas.name in text and known_month.pabirze.name in text
    assert len(list(csv.reader(io.StringIO(text)))) == 3  # the header and the two cameras installed in November
    assert AuditEvent.objects.filter(action=AuditAction.STATISTICS_EXPORTED, actor=coordinator).count() == 1
    assert page.errors == []


def test_it_makes_a_lithuanian_publicity_report_follows_its_job_and_downloads_the_pdf(
        page_for: Any, coordinator: Any, known_month: KnownMonth, queued: list[int]) -> None:  # noqa: F811
    page = page_for(coordinator)
    report = report_ask(page, kind="publicity", language="lt", start="2026-11-01", end="2026-11-30")
    assert (report.kind, report.language, str(report.period_start), str(report.period_end)) == (
        "publicity", "lt", "2026-11-01", "2026-11-30")
    assert report.created_by == coordinator
    assert page.get_by_test_id("download").count() == 0

    assert job_run_and_wait_for_reload(page, report, queued) == "done"
    download_link = page.get_by_test_id("download")
    download_link.wait_for(state="visible")
    status = page.get_by_test_id("report-status")
    assert status.get_attribute("data-status") == ReportStatus.DONE
    assert page.get_by_test_id("report-error").is_hidden()
    bar = status.locator("[data-sc=bar]")
    assert "bg-success" in bar.get_attribute("class") and bar.evaluate("b => b.style.width") == "100%"
    snapshot(page, "report-done")

    with page.expect_download() as waiting:
        download_link.click()
    download = waiting.value
    path = download.path()
    data = Path(path).read_bytes()
    report.refresh_from_db()
    assert data.startswith(b"%PDF-") and hashlib.sha256(data).hexdigest() == report.file_sha256
    text = words(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, check=True, text=True).stdout)
    assert "LLI-457" in text
    assert DISCLAIMER in text
    assert AuditEvent.objects.filter(action=AuditAction.REPORT_DOWNLOADED, actor=coordinator).count() == 1
    assert page.errors == []


def test_it_shows_a_failed_jobs_error_on_the_reports_page(
        page_for: Any, coordinator: Any, queued: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    def report_pdf(*_args: Any, **_kwargs: Any) -> tuple[bytes, int]:
        raise RuntimeError("disk full")

    monkeypatch.setattr("reports.documents.report_pdf", report_pdf)
    page = page_for(coordinator)
    report = report_ask(page, kind="publicity", language="lt", start="2026-11-01", end="2026-11-30")
    assert page.get_by_test_id("report-error").is_hidden()

    assert job_run_and_wait_for_reload(page, report, queued) == "failed"
    error = page.get_by_test_id("report-error")
    error.wait_for(state="visible")
    assert "disk full" in error.inner_text()
    status = page.get_by_test_id("report-status")
    assert status.get_attribute("data-status") == ReportStatus.FAILED
    assert "bg-danger" in status.locator("[data-sc=bar]").get_attribute("class")
    assert page.get_by_test_id("download").count() == 0
    snapshot(page, "report-failed")
    assert page.errors == []
