"""The cover letter of an evidential package (WeasyPrint, Lithuanian and English).

The letter is what a person reads first: who sends what to whom and why, which footage, what was
hidden, who prepared and approved it, and the SHA-256 of each enclosed file with the command that
checks it. Text stays text in the PDF (searchable, copyable); DejaVu fonts carry ą č ę ė į š ų ū ž.
"""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone, translation

from access_requests.models import Export
from cameras.models import Controller
from safecam.timeranges import local_zone


def cover_letter_pdf(*, export: Export, manifest: dict[str, Any], language: str) -> bytes:
    from weasyprint import HTML

    from access_requests.exporting import recorded_spans

    zone = local_zone()
    with translation.override(language), timezone.override(zone):
        html = render_to_string("access_requests/pdf/cover_letter.html", {
            "export": export, "request": export.request, "manifest": manifest,
            "controller": Controller.objects.first(), "language": language,
            "start": timezone.localtime(export.start, zone), "end": timezone.localtime(export.end, zone),
            "regions": len(export.redaction.get("regions", [])), "mode": export.redaction.get("mode"),
            "files": manifest["files"], "now": timezone.localtime(timezone.now(), zone),
            "recorded": [(timezone.localtime(a, zone), timezone.localtime(b, zone)) for a, b in recorded_spans(export)],
        })
    return HTML(string=html).write_pdf()


LETTER_STATES = ("refused", "footage_not_found", "completed", "withdrawn", "partially_disclosed", "disclosed")


def answer_letter_pdf(*, request: Any, language: str) -> bytes:
    """The answer to the requester for a closed request: what was decided and why, and, for a refusal
    or a partial answer, the right to complain to the State Data Protection Inspectorate and to go to
    court (GDPR Art. 12(4)). A request whose footage was already deleted names the retention records."""
    from weasyprint import HTML

    from access_requests.selectors import retention_proof

    zone = local_zone()
    with translation.override(language), timezone.override(zone):
        html = render_to_string("access_requests/pdf/answer_letter.html", {
            "request": request, "controller": Controller.objects.first(), "language": language,
            "retention": retention_proof(request) if request.state == "footage_not_found" else [],
            "window_start": timezone.localtime(request.window_start, zone),
            "window_end": timezone.localtime(request.window_end, zone),
            "now": timezone.localtime(timezone.now(), zone),
        })
    return HTML(string=html).write_pdf()
