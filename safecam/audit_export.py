"""The audit trail as a download: CSV for people, JSON lines for tools, both produced line by line.

CSV follows the registers' conventions (``access_requests.registers``): UTF-8 with a byte-order
mark, comma-separated, a header row in the active language, times in ISO 8601 local
(Europe/Vilnius) time with their offset, and a cell that a spreadsheet would take for a formula
prefixed with ``'`` (usernames of failed logins and target names come from outside). This package
imports no app, so the few lines of cell formatting are here rather than imported from there.

JSON lines carry every stored field, the time in UTC with microseconds, exactly as the hash covers
it, so a tool can recompute each hash (``safecam.audit.event_hash``) from the download alone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from safecam.audit import AuditAction

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/jsonl; charset=utf-8"}


def action_label(code: str) -> str:
    """The action's name in the active language (the code itself for one no longer listed)."""
    try:
        return str(AuditAction(code).label)
    except ValueError:
        return code


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def _csv_chunk(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    csv.writer(out).writerows([[_cell(value) for value in row] for row in rows])
    return out.getvalue()


def csv_lines(chunks: Iterable[list[dict[str, Any]]]) -> Iterator[str]:
    """A header, then one string per chunk of events."""
    yield "\ufeff" + _csv_chunk([[_("Sequence number"), _("Time"), _("Actor"), _("Action"), _("Action code"),
                                   _("Target type"), _("Target id"), pgettext("audit event", "Target"), _("IP address"), _("Details"),
                                   _("Previous hash"), _("Hash")]])
    zone = timezone.get_current_timezone()
    labels = {code: str(label) for code, label in AuditAction.choices}
    for chunk in chunks:
        yield _csv_chunk([[
            e["seq"], e["at"].astimezone(zone).isoformat(timespec="seconds"), e["actor_username"],
            labels.get(e["action"], e["action"]), e["action"], e["target_type"], e["target_id"], e["target_repr"],
            e["ip"], json.dumps(e["details"], ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder),
            e["prev_hash"], e["hash"]] for e in chunk])


def jsonl_lines(chunks: Iterable[list[dict[str, Any]]]) -> Iterator[str]:
    """One string per chunk of events, one JSON object a line."""
    for chunk in chunks:
        yield "".join(json.dumps({**e, "at": e["at"].astimezone(UTC).isoformat(timespec="microseconds")},
                                 ensure_ascii=False, cls=DjangoJSONEncoder) + "\n" for e in chunk)


def export_lines(export_format: str, chunks: Iterable[list[dict[str, Any]]]) -> Iterator[bytes]:
    lines = csv_lines(chunks) if export_format == "csv" else jsonl_lines(chunks)
    return (line.encode("utf-8") for line in lines)
