"""``manage.py verify_audit``: check the audit trail's hash chain; exit 1 naming the first broken event."""

from typing import Any

from django.core.management.base import BaseCommand

from safecam.audit import audit_chain_verify


class Command(BaseCommand):
    help = "Checks the audit trail's hash chain. Exits 1 and names the first broken event when it is not intact."

    def handle(self, *args: Any, **options: Any) -> None:
        report = audit_chain_verify()
        if report.intact:
            self.stdout.write(self.style.SUCCESS(f"Audit trail intact: {report.checked} events checked."))
            return
        self.stderr.write(self.style.ERROR(
            f"Audit trail BROKEN at {report.broken}. {report.checked} events before it are intact."))
        raise SystemExit(1)
