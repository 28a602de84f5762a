"""``manage.py verify_export PACKAGE.zip``: check an evidential package.

Offline checks (``access_requests.packages.package_verify``): the ZIP reads cleanly, every file
is in the manifest with the right size and SHA-256, nothing unlisted is inside, and each recorded
segment's bytes in the master copy match the hash taken when it was recorded. When the package
was built by this SafeCam (its export is in the database), the SHA-256 of the whole ZIP must
also match the one recorded then, so a change to any byte is caught. Exit 0 when intact, 1 when
not (each problem on stderr), 2 when the file cannot be read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from access_requests.models import Export
from access_requests.packages import package_verify


class Command(BaseCommand):
    help = "Check an evidential export package (ZIP); exit 1 when anything in it was changed."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("package", help="the package's ZIP file")
        parser.add_argument("--offline", action="store_true",
                            help="check only what the package itself proves (do not compare with the database)")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["package"])
        if not path.is_file():
            self.stderr.write(self.style.ERROR(f"No such file: {path}"))
            raise SystemExit(2)
        report = package_verify(path)
        export = None
        if not options["offline"] and report.manifest.get("export"):
            export = Export.objects.filter(public_id=report.manifest["export"]).select_related("request").first()
            if export is not None and export.package_sha256 and export.package_sha256 != report.sha256:
                report.problems.insert(0, f"the package's SHA-256 is {report.sha256}, but {export.package_sha256} "
                                          f"was recorded when it was built: the file was changed")
        for problem in report.problems:
            self.stderr.write(problem)
        reference = report.manifest.get("request", {}).get("reference", "?")
        if not report.ok:
            self.stderr.write(self.style.ERROR(f"Package {path.name} ({reference}) is NOT intact: "
                                               f"{len(report.problems)} problem(s)."))
            raise SystemExit(1)
        source = "checked against the record of its export" if export else "checked offline"
        self.stdout.write(self.style.SUCCESS(
            f"Package {path.name} ({reference}) is intact: {len(report.checked)} files, "
            f"{len(report.manifest.get('master', {}).get('segments', []))} recorded segments match their hashes; "
            f"SHA-256 {report.sha256} ({source})."))
