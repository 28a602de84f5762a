"""Periodic checks of the project itself (thin wrappers; the work is in ``safecam.audit``)."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import mail_admins

from safecam.audit import audit_chain_verify

logger = logging.getLogger(__name__)


@shared_task
def audit_trail_verify() -> bool:
    """Verify the chain every few hours, so tampering is noticed without anyone asking."""
    report = audit_chain_verify()
    if report.intact:
        logger.info("Audit trail intact: %s events", report.checked)
        return True
    logger.error("Audit trail broken at %s", report.broken)
    if settings.ADMINS:
        mail_admins("SafeCam: audit trail broken", f"verify_audit found: {report.broken}")
    return False
