"""Reads of the audit trail for the DPO's page: filtered events a page at a time, one event with its
chain check, the latest verdict, and the events of an export in chunks.

The trail grows to millions of rows, so nothing here counts or sorts all of it: every filter has an
index ending in ``seq`` (see ``AuditEvent.Meta.indexes``), pages are cut by sequence number
("older than #n") instead of OFFSET and COUNT(*), and an export walks the matches in chunks by
``seq``. Everything starts from ``AuditEvent.objects.restrict(user, "view")``: for anyone without
``safecam.view_auditevent`` it is empty.

This package imports no app (STYLE.md): the cameras of the camera filter come through the app
registry, at call time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from safecam.audit import AuditAction, event_hash
from safecam.models import (GENESIS_HASH, AuditChainHead, AuditEvent, AuditVerification, audit_camera_key)

PER_PAGE = 50
EXPORT_CHUNK = 2000
# PostgreSQL's bigint: a larger "older than" would be an error in the database, not an empty page.
MAX_SEQ = 2**63 - 1


def audit_trail_visible(user: Any) -> bool:
    """Whether ``user`` may read the audit trail (the DPO; the superuser)."""
    return bool(user.is_authenticated and user.is_active and user.has_perm("safecam.view_auditevent"))


def audit_cameras(user: Any) -> QuerySet[Any]:
    """The cameras the trail's camera filter offers: every camera, to whoever may read the trail.

    The trail itself is not scoped by eldership (the DPO reads every event), so the filter is not
    either: offering only the cameras the reader may *watch* would hide events they already see
    unfiltered. A deleted camera is not offered; its events are still found by its id in the
    target search.
    """
    camera = apps.get_model("cameras", "Camera")
    if not audit_trail_visible(user):
        return camera.objects.none()
    return camera.objects.select_related("site").order_by("site__name", "name")


def audit_events(user: Any, *, actor: str = "", action: str = "", camera: Any = None,
                 start: datetime | None = None, end: datetime | None = None, q: str = "") -> QuerySet[AuditEvent]:
    """The events ``user`` may read that match every given filter, newest first.

    ``camera``: a camera (or its public id): events whose target is the camera or whose details
    name it. ``start``/``end``: the half-open range [start, end) of when the event was written.
    ``q``: part of the target's name, or its exact id.
    """
    events = AuditEvent.objects.restrict(user, "view")
    if actor:
        events = events.filter(actor_username=actor)
    if action:
        events = events.filter(action=action)
    if camera is not None:
        key = str(getattr(camera, "public_id", camera))
        events = events.alias(camera_key=audit_camera_key()).filter(camera_key=key)
    if start is not None:
        events = events.filter(at__gte=start)
    if end is not None:
        events = events.filter(at__lt=end)
    text = (q or "").strip()
    if text:
        events = events.filter(Q(target_repr__icontains=text) | Q(target_id=text))
    return events.order_by("-seq")


@dataclass(frozen=True)
class AuditPage:
    """One page of events, newest first, and where the pages beside it start."""

    events: list[AuditEvent]
    newer: int | None  # show events after this seq ("after=")
    older: int | None  # show events before this seq ("before=")

    @property
    def has_other_pages(self) -> bool:
        return self.newer is not None or self.older is not None


def _seq(value: Any) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_SEQ else None


def audit_page(events: QuerySet[AuditEvent], *, before: Any = None, after: Any = None,
               per_page: int = PER_PAGE) -> AuditPage:
    """The page of ``events`` older than ``before`` or newer than ``after`` (else the newest).

    Keyset pages: each is one index range scan of ``per_page + 1`` rows, however deep it is, plus
    one EXISTS for the link back. A malformed or out-of-range bound is ignored (the newest page).
    """
    before, after = _seq(before), _seq(after)
    if after is not None and before is None:
        rows = list(events.filter(seq__gt=after).order_by("seq")[:per_page + 1])
        more_newer = len(rows) > per_page
        rows = rows[:per_page][::-1]
        if not rows:  # nothing newer than that: show the newest page instead of an empty one
            return audit_page(events, per_page=per_page)
        older = rows[-1].seq if events.filter(seq__lt=rows[-1].seq).exists() else None
        return AuditPage(rows, rows[0].seq if more_newer else None, older)
    window = events.filter(seq__lt=before) if before is not None else events
    rows = list(window[:per_page + 1])
    more_older = len(rows) > per_page
    rows = rows[:per_page]
    newer = None
    if before is not None:
        # The link back starts just below the first newer event, so it shows the page before this one.
        first = rows[0].seq if rows else before
        newer = first if events.filter(seq__gt=first).exists() else None
    return AuditPage(rows, newer, rows[-1].seq if rows and more_older else None)


def audit_trail_size() -> int:
    """How many events the trail holds: the chain head's number, read from one row (no COUNT)."""
    head = AuditChainHead.objects.filter(pk=1).only("seq").first()
    return head.seq if head else 0


def audit_event_get(user: Any, seq: int) -> AuditEvent:
    """One event by its sequence number, or 404 (also for anyone who may not read the trail)."""
    from django.shortcuts import get_object_or_404

    if _seq(seq) is None:
        from django.http import Http404

        raise Http404
    return get_object_or_404(AuditEvent.objects.restrict(user, "view").select_related("actor"), seq=seq)


@dataclass(frozen=True)
class EventCheck:
    """One event checked on its own: does its hash match its content, does it link to the one before."""

    hash_matches: bool
    links: bool | None  # None when the event before it is missing
    previous: AuditEvent | None
    following: AuditEvent | None


def audit_event_check(event: AuditEvent) -> EventCheck:
    """Recompute one event's hash and compare its link with its neighbours (three indexed reads)."""
    digest = event_hash(seq=event.seq, at=event.at, actor_id=event.actor_id, actor_username=event.actor_username,
                        action=event.action, target_type=event.target_type, target_id=event.target_id,
                        target_repr=event.target_repr, ip=event.ip, details=event.details,
                        prev_hash=event.prev_hash)
    previous = AuditEvent.objects.filter(seq=event.seq - 1).only("seq", "hash").first()
    following = AuditEvent.objects.filter(seq=event.seq + 1).only("seq", "prev_hash").first()
    if event.seq == 1:
        links: bool | None = event.prev_hash == GENESIS_HASH
    else:
        links = None if previous is None else previous.hash == event.prev_hash
    return EventCheck(digest == event.hash, links, previous, following)


def audit_latest_verdict(user: Any) -> AuditEvent | None:
    """The newest recorded verdict of the chain check (the beat job's or a "Verify now")."""
    return (AuditEvent.objects.restrict(user, "view").filter(action=AuditAction.AUDIT_VERIFIED)
            .order_by("-seq").first())


def audit_verification_get(user: Any, public_id: Any) -> AuditVerification:
    from django.http import Http404
    from django.shortcuts import get_object_or_404

    if not audit_trail_visible(user):
        raise Http404
    return get_object_or_404(AuditVerification.objects.select_related("requested_by", "verdict"),
                             public_id=public_id)


def audit_verification_open(user: Any) -> AuditVerification | None:
    """A "Verify now" that is waiting or running, if any (the page shows its progress)."""
    if not audit_trail_visible(user):
        return None
    from safecam.models import verification_live_q

    return (AuditVerification.objects.filter(verification_live_q())
            .select_related("requested_by").order_by("-requested_at").first())


EXPORT_FIELDS = ("seq", "at", "actor_id", "actor_username", "action", "target_type", "target_id", "target_repr",
                 "ip", "details", "prev_hash", "hash")


def audit_export_events(events: QuerySet[AuditEvent], *, upto: int) -> Iterator[list[dict[str, Any]]]:
    """The matching events up to ``#upto``, oldest first, as chunks of ``EXPORT_CHUNK`` rows (dicts of
    ``EXPORT_FIELDS``) read by seq.

    Each chunk is its own short indexed query, so a download of millions of rows neither holds
    them in memory nor keeps one database cursor open for as long as the client takes to read.
    """
    ordered = events.filter(seq__lte=upto).order_by("seq").values(*EXPORT_FIELDS)
    last = 0
    while True:
        chunk = list(ordered.filter(seq__gt=last)[:EXPORT_CHUNK])
        if chunk:
            yield chunk
        if len(chunk) < EXPORT_CHUNK:
            return
        last = chunk[-1]["seq"]


@dataclass(frozen=True)
class AuditRow:
    """An event as the trail's table shows it: its action's name and its details in one short line."""

    event: AuditEvent
    action_label: str
    details: str


def _compact(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_compact(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_compact(item) for item in value[:5]) + (", …" if len(value) > 5 else "") + "]"
    return "" if value is None else str(value)


def audit_rows(events: list[AuditEvent], *, width: int = 200) -> list[AuditRow]:
    from safecam.audit_export import action_label

    rows = []
    for event in events:
        text = "; ".join(f"{key}: {_compact(value)}" for key, value in (event.details or {}).items()
                         if value not in ("", None, [], {}))
        rows.append(AuditRow(event, action_label(event.action), text if len(text) <= width else text[:width - 1] + "…"))
    return rows
