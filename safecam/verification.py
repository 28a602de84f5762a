"""Writes behind the DPO's audit trail page: "Verify now" as a Celery job, and the export's own event.

Checking the chain costs about 2 s per 100,000 events on the project's 2-core machine
(``bench/audit.py``); the trail grows to millions, so a check asked for on the page is a job row
(:class:`safecam.models.AuditVerification`) that a worker claims and runs with progress, as
exports and reports are. The check is ``safecam.audit.audit_chain_verify``, the one behind
``manage.py verify_audit`` and the beat job, and its verdict is recorded in the trail like theirs,
with the DPO who asked as the actor.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from safecam.audit import AuditAction, audit_chain_verify, audit_record
from safecam.models import (VERIFICATION_STALE_SECONDS, AuditChainHead, AuditVerification, VerificationStatus,
                            verification_live_q)

log = logging.getLogger(__name__)

# A running check writes its progress at least this often; a row silent for STALE lost its worker.
PROGRESS_SECONDS = 1.0
STALE = timedelta(seconds=VERIFICATION_STALE_SECONDS)


def _enqueue(verification_id: int) -> None:
    from safecam.tasks import audit_verification_run as task

    task.delay(verification_id)


@transaction.atomic
def audit_verification_request(*, by: Any) -> AuditVerification:
    """Queue a check of the whole chain, or return the one already waiting or running (a second
    click while a check of millions of rows runs should not start another)."""
    running = (AuditVerification.objects.select_for_update().filter(verification_live_q())
               .order_by("-requested_at").first())
    if running is not None:
        return running
    verification = AuditVerification.objects.create(requested_by=by, total=AuditChainHead.objects.get(pk=1).seq)
    transaction.on_commit(lambda: _enqueue(verification.pk))
    return verification


def _claim(verification_id: int) -> AuditVerification | None:
    now = timezone.now()
    claimable = Q(status=VerificationStatus.QUEUED) | Q(status=VerificationStatus.RUNNING,
                                                       heartbeat_at__lt=now - STALE)
    claimed = AuditVerification.objects.filter(claimable, pk=verification_id).update(
        status=VerificationStatus.RUNNING, started_at=now, heartbeat_at=now, checked=0)
    return AuditVerification.objects.select_related("requested_by").get(pk=verification_id) if claimed else None


def audit_verification_run(verification_id: int) -> str:
    """Run one queued check (safe to deliver twice: the second finds it claimed and returns)."""
    verification = _claim(verification_id)
    if verification is None:
        return "taken"
    last = [time.monotonic()]

    def progress(checked: int, total: int) -> None:
        if time.monotonic() - last[0] >= PROGRESS_SECONDS:
            AuditVerification.objects.filter(pk=verification_id).update(
                checked=checked, total=total, heartbeat_at=timezone.now())
            last[0] = time.monotonic()

    try:
        report = audit_chain_verify(progress=progress)
    except Exception as error:  # a lost database connection, not a verdict: say so on the page
        log.exception("audit verification %s failed", verification_id)
        AuditVerification.objects.filter(pk=verification_id).update(
            status=VerificationStatus.FAILED, finished_at=timezone.now(), error=str(error)[:2000])
        return "failed"
    broken = report.broken
    with transaction.atomic():
        verdict = audit_record(
            action=AuditAction.AUDIT_VERIFIED, actor=verification.requested_by,
            details={"intact": report.intact, "checked": report.checked, "broken": str(broken) if broken else "",
                     "broken_seq": broken.seq if broken else None, "verification": str(verification.public_id)})
        AuditVerification.objects.filter(pk=verification_id).update(
            status=VerificationStatus.DONE, finished_at=timezone.now(), heartbeat_at=timezone.now(),
            checked=report.checked, total=max(verification.total, report.checked), intact=report.intact,
            broken_seq=broken.seq if broken else None, problem=str(broken) if broken else "", verdict=verdict)
    if not report.intact:
        log.error("Audit trail broken at %s (checked on request)", broken)
    return "done"


def audit_export_record(*, by: Any, export_format: str, filters: dict[str, Any]) -> int:
    """The event a download of the trail leaves: who, which format, which filters, and up to which
    event it runs (the download holds the matching events up to that one, so it can be reproduced,
    and neither it nor events written while it streams are in it). Returns that sequence number."""
    with transaction.atomic():
        upto = AuditChainHead.objects.select_for_update().get(pk=1).seq
        audit_record(action=AuditAction.AUDIT_EXPORTED, actor=by,
                     details={"format": export_format, "filters": filters, "upto_seq": upto})
    return upto
