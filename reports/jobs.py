"""Report jobs: ask for a PDF, render it in Celery with progress, store it, hand it out audited.

Like exports (``access_requests.exporting``), a report is a row the job claims with a conditional
UPDATE (``queued``, or ``running`` with a stale heartbeat after its worker died), so a second
delivery of the message or the resume beat job never renders one twice at once. The PDF is written
to the storage server under ``reports/<uuid>/`` and named in the row only once it is complete, so a
half-written file is never offered; the row keeps its size and SHA-256.
"""

from __future__ import annotations

import hashlib
import logging
import time
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from reports.models import Report, ReportKind, ReportStatus
from safecam.audit import AuditAction, audit_record

log = logging.getLogger(__name__)

STALE = timedelta(minutes=5)
MAX_ATTEMPTS = 3


def _storage() -> Any:
    from django.core.files.storage import storages

    return storages["default"]


@transaction.atomic
def report_request(*, kind: str, language: str, period_start: Any, period_end: Any, problems: str = "",
                   by: Any) -> Report:
    """Queue a report; the job starts once this transaction commits."""
    report = Report(kind=kind, language=language, period_start=period_start, period_end=period_end,
                    problems=problems if kind == ReportKind.PROGRESS else "", created_by=by)
    report.full_clean()
    report.save()
    audit_record(action=AuditAction.REPORT_REQUESTED, actor=by, target=report,
                 details={"kind": kind, "language": language, "from": str(period_start), "until": str(period_end)})
    # robust: with the broker down the report is kept (queued, audited) and reports_resume sends it
    # later; the coordinator gets the row, not an error.
    transaction.on_commit(lambda: _enqueue(report.pk), robust=True)
    return report


def _enqueue(report_id: int) -> None:
    from reports.tasks import report_render as task

    task.delay(report_id)


def _claim(report_id: int) -> Report | None:
    now = timezone.now()
    claimable = Q(status=ReportStatus.QUEUED) | (Q(status=ReportStatus.RUNNING) & Q(heartbeat_at__lt=now - STALE))
    updated = Report.objects.filter(claimable, pk=report_id, attempts__lt=MAX_ATTEMPTS).update(
        status=ReportStatus.RUNNING, attempts=F("attempts") + 1, heartbeat_at=now, started_at=now, progress=0.0,
        stage="", error="")
    return Report.objects.select_related("created_by").get(pk=report_id) if updated else None


class Progress:
    """Writes progress and stage to the row (which is also the heartbeat)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.started = time.monotonic()
        self.timings: dict[str, float] = {}
        self.last_stage: str | None = None
        self.last_at = self.started

    def __call__(self, value: float, stage: str) -> None:
        now = time.monotonic()
        if self.last_stage is not None:
            self.timings[self.last_stage] = round(now - self.last_at, 3)
        self.last_stage, self.last_at = stage, now
        Report.objects.filter(pk=self.report.pk).update(progress=round(min(1.0, max(0.0, value)), 3), stage=stage,
                                                        heartbeat_at=timezone.now())


def report_render(report_id: int) -> str:
    """The Celery job: claim, render, store, mark done (or failed with a message a person can act on)."""
    from reports.documents import report_pdf

    report = _claim(report_id)
    if report is None:
        return "not claimable"
    progress = Progress(report)
    try:
        pdf, pages = report_pdf(report, progress=progress)
        progress(0.95, "storing")
        digest = hashlib.sha256(pdf).hexdigest()
        name = _storage().save(f"reports/{report.public_id}/{report.kind}-{report.language}-"
                               f"{report.period_start:%Y%m%d}-{report.period_end:%Y%m%d}.pdf", ContentFile(pdf))
        progress(1.0, "done")
        progress.timings["total"] = round(time.monotonic() - progress.started, 3)
        Report.objects.filter(pk=report.pk).update(
            status=ReportStatus.DONE, progress=1.0, stage="done", file_name=name, file_size=len(pdf),
            file_sha256=digest, pages=pages, finished_at=timezone.now(), timings=progress.timings)
        return "done"
    except Exception as error:
        log.exception("report %s failed", report.public_id)
        message = _("The report could not be made: %(error)s") % {"error": str(error)[:500] or type(error).__name__}
        with transaction.atomic():
            Report.objects.filter(pk=report.pk).update(status=ReportStatus.FAILED, error=message,
                                                       finished_at=timezone.now(), timings=progress.timings)
            audit_record(action=AuditAction.REPORT_FAILED, actor=None, target=report, details={"error": message})
        return "failed"


def reports_resume() -> int:
    """Beat: queue again reports whose worker died (stale heartbeat) or whose message was lost."""
    now = timezone.now()
    stuck = Report.objects.filter(
        Q(status=ReportStatus.RUNNING, heartbeat_at__lt=now - STALE)
        | Q(status=ReportStatus.QUEUED, created_at__lt=now - STALE), attempts__lt=MAX_ATTEMPTS)
    ids = list(stuck.values_list("pk", flat=True))
    for report_id in ids:
        _enqueue(report_id)
    exhausted = Report.objects.filter(status=ReportStatus.RUNNING, heartbeat_at__lt=now - STALE,
                                      attempts__gte=MAX_ATTEMPTS)
    exhausted.update(status=ReportStatus.FAILED, finished_at=now,
                     error=_("The report was tried %(n)d times and its worker stopped each time; ask for it "
                             "again, and tell the administrator if it fails again.") % {"n": MAX_ATTEMPTS})
    return len(ids)


def report_file(*, report: Report, by: Any) -> bytes:
    """The finished PDF, read from storage; the download is audited."""
    if report.status != ReportStatus.DONE or not report.file_name:
        raise ValidationError(_("This report is not ready."))
    with _storage().open(report.file_name, "rb") as handle:
        data = handle.read()
    if hashlib.sha256(data).hexdigest() != report.file_sha256:
        raise ValidationError(_("The stored report does not match the one that was made; ask for it again."))
    audit_record(action=AuditAction.REPORT_DOWNLOADED, actor=by, target=report,
                 details={"sha256": report.file_sha256, "bytes": len(data)})
    return data
