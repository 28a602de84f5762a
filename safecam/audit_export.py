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

from safecam.audit import AuditAction
from safecam.models import AuditEvent

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


def _line(row: list[Any]) -> str:
    out = io.StringIO()
    csv.writer(out).writerow([_cell(value) for value in row])
    return out.getvalue()


def csv_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    yield "\ufeff" + _line([_("Sequence number"), _("Time"), _("Actor"), _("Action"), _("Action code"),
                            _("Target type"), _("Target id"), _("Target"), _("IP address"), _("Details"),
                            _("Previous hash"), _("Hash")])
    for event in events:
        yield _line([event.seq, timezone.localtime(event.at).isoformat(timespec="seconds"), event.actor_username,
                     action_label(event.action), event.action, event.target_type, event.target_id,
                     event.target_repr, event.ip,
                     json.dumps(event.details, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder),
                     event.prev_hash, event.hash])


def jsonl_lines(events: Iterable[AuditEvent]) -> Iterator[str]:
    for event in events:
        yield json.dumps({
            "seq": event.seq, "at": event.at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor_id": event.actor_id, "actor_username": event.actor_username, "action": event.action,
            "target_type": event.target_type, "target_id": event.target_id, "target_repr": event.target_repr,
            "ip": event.ip, "details": event.details, "prev_hash": event.prev_hash, "hash": event.hash,
        }, ensure_ascii=False, cls=DjangoJSONEncoder) + "\n"


def export_lines(export_format: str, events: Iterable[AuditEvent]) -> Iterator[bytes]:
    lines = csv_lines(events) if export_format == "csv" else jsonl_lines(events)
    return (line.encode("utf-8") for line in lines)
