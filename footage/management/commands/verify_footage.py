"""``manage.py verify_footage [--camera UUID]``: re-hash stored segments against the index.

Exit 0 when every stored file matches its SHA-256 and size; exit 1 listing each missing or
altered file. The verdict is written to the audit trail, so the DPO can show when footage was
last proven intact.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from cameras.models import Camera
from footage.verify import footage_verify


class Command(BaseCommand):
    help = "Re-hash stored footage segments against the index; exit 1 on a mismatch or a missing file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--camera", help="only this camera (its UUID)")

    def handle(self, *args: Any, **options: Any) -> None:
        camera = None
        if options["camera"]:
            try:
                camera = Camera.objects.get(public_id=options["camera"])
            except (Camera.DoesNotExist, ValueError):
                raise CommandError(f"No camera with UUID {options['camera']!r}.") from None
        report = footage_verify(camera=camera)
        for problem in report.problems:
            self.stderr.write(f"{problem.kind}: {problem.storage_name} ({problem.detail})")
        summary = (f"{report.checked} segments checked, {report.bytes} bytes: "
                   f"{len(report.problems)} problem(s).")
        if report.problems:
            self.stderr.write(self.style.ERROR("Footage NOT intact. " + summary))
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("Footage intact. " + summary))
