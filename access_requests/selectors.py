"""Reads for GDPR requests: the DPO's dashboard, a request's page, what its search may reach."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from access_requests.models import AccessRequest, Export, RequestFootage, RequestState
from cameras.models import Camera
from footage.models import RetentionRecord, Segment, SegmentState
from safecam.timeranges import TimeRange, local_today


def requests_for(user: Any) -> QuerySet[AccessRequest]:
    return AccessRequest.objects.restrict(user, "view").select_related("site", "camera")


@dataclass(frozen=True)
class DueRow:
    """An open request on the dashboard, with how urgent it is."""

    request: AccessRequest
    days_left: int

    @property
    def overdue(self) -> bool:
        return self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left

    @property
    def due_this_week(self) -> bool:
        return 0 <= self.days_left <= 7


def dashboard(user: Any, *, today: date | None = None) -> list[DueRow]:
    """Open requests, soonest due first (overdue ones first of all)."""
    today = today or local_today()
    rows = requests_for(user).open().order_by("due_on", "received_at")
    return [DueRow(request, (request.due_on - today).days) for request in rows]


def search_scope(request: AccessRequest) -> TimeRange:
    """What the DPO's search may reach: the requester's window widened by the search margin."""
    margin = timedelta(hours=settings.SAFECAM_REQUEST_SEARCH_MARGIN_HOURS)
    return TimeRange(request.window_start - margin, request.window_end + margin)


def search_cameras(request: AccessRequest) -> QuerySet[Camera]:
    """The cameras the search covers: the named camera's site, the named place, or every camera."""
    cameras = Camera.objects.select_related("site")
    site_id = request.camera.site_id if request.camera_id else request.site_id
    return cameras.filter(site_id=site_id) if site_id else cameras.all()


def request_viewing_allowed(user: Any, session: Any) -> bool:
    """Checked by footage at every playback request of a session opened for ``access_request:<uuid>``:
    the request is still open, the user still handles requests, and the camera is in its search."""
    _kind, _sep, public_id = session.purpose.partition(":")
    request = (AccessRequest.objects.restrict(user, "change").filter(public_id=public_id)
               .select_related("camera").first())
    if request is None or not request.is_open:
        return False
    return search_cameras(request).filter(pk=session.camera_id).exists()


def retention_proof(request: AccessRequest) -> list[RetentionRecord]:
    """Retention records showing that footage of the request's window and cameras was already deleted."""
    cameras = search_cameras(request).values("pk")
    return list(RetentionRecord.objects.filter(camera__in=cameras, removed_from__lt=request.window_end,
                                               removed_until__gt=request.window_start)
                .select_related("camera", "run").order_by("camera__name", "removed_from"))


def footage_present(request: AccessRequest) -> dict[int, float]:
    """Seconds of stored footage in the request's window, per camera id of its search."""
    from django.db.models import Sum

    rows = (Segment.objects.filter(camera__in=search_cameras(request).values("pk"), state=SegmentState.STORED)
            .overlapping(request.window_start, request.window_end)
            .values("camera_id").annotate(seconds=Sum("duration")))
    return {row["camera_id"]: row["seconds"] for row in rows}


def request_page(request: AccessRequest) -> dict[str, Any]:
    """Everything a request's page shows, in a fixed number of queries."""
    from safecam.audit import AuditAction
    from safecam.models import AuditEvent

    found = list(RequestFootage.objects.filter(request=request).select_related("camera", "camera__site", "hold"))
    exports = list(Export.objects.filter(request=request).select_related("camera", "created_by", "approved_by")
                   .prefetch_related("deliveries"))
    events = list(AuditEvent.objects.filter(
        Q(target_type="access_requests.accessrequest", target_id=str(request.public_id))
        | Q(target_type="access_requests.export", target_id__in=[str(e.public_id) for e in exports])
        | Q(target_type="access_requests.delivery",
            target_id__in=[str(d.public_id) for e in exports for d in e.deliveries.all()])
    ).order_by("-seq")[:200])
    labels, states = dict(AuditAction.choices), dict(RequestState.choices)
    for event in events:
        event.label = labels.get(event.action, event.action)
        if event.details.get("to"):
            event.move = (states.get(event.details.get("from"), event.details.get("from")),
                          states.get(event.details["to"], event.details["to"]))
    return {"found": found, "exports": exports, "events": events, "retention": retention_proof(request),
            "scope": search_scope(request), "today": local_today(), "now": timezone.now()}


# --- figures for the statistics (reports reads these: counts only, never a requester) ------------

def export_counts(window: TimeRange) -> dict[int, int]:
    """Evidential exports asked for in ``window``, per camera id."""
    from django.db.models import Count

    return {row["camera_id"]: row["n"] for row in
            Export.objects.filter(created_at__gte=window.start, created_at__lt=window.end).order_by()
            .values("camera_id").annotate(n=Count("pk"))}


@dataclass(frozen=True)
class RequestFigure:
    """One request reduced to what statistics count: when, what kind, where, how it ended, on time."""

    received_on: date
    kind: str
    site_id: int | None
    state: str
    closed_on: date | None
    due_on: date
    police: bool

    @property
    def closed(self) -> bool:
        return self.closed_on is not None

    @property
    def on_time(self) -> bool | None:
        """Answered by the deadline (None while open)."""
        return None if self.closed_on is None else self.closed_on <= self.due_on

    @property
    def disclosed(self) -> bool:
        return self.state in (RequestState.DISCLOSED, RequestState.PARTIALLY_DISCLOSED)


def request_figures(window: TimeRange, *, site_ids: list[int] | None = None) -> list[RequestFigure]:
    """Requests received in ``window`` as :class:`RequestFigure` (no names, no contact details, no text).

    A request's place is its camera's site, else its site; ``site_ids`` keeps those of these sites."""
    from access_requests.models import CLOSED_STATES, RecipientKind, RequestKind
    from safecam.timeranges import local_zone

    zone = local_zone()
    rows = (AccessRequest.objects.filter(received_at__gte=window.start, received_at__lt=window.end)
            .values_list("received_at", "kind", "site_id", "camera__site_id", "state", "closed_at", "due_on",
                         "recipient_kind"))
    figures = []
    for received_at, kind, site_id, camera_site_id, state, closed_at, due_on, recipient in rows:
        place = camera_site_id or site_id
        if site_ids is not None and place not in site_ids:
            continue
        closed_on = closed_at.astimezone(zone).date() if closed_at and state in CLOSED_STATES else None
        figures.append(RequestFigure(
            received_on=received_at.astimezone(zone).date(), kind=kind, site_id=place, state=state,
            closed_on=closed_on, due_on=due_on,
            police=kind == RequestKind.DISCLOSURE and recipient == RecipientKind.POLICE))
    return figures


def requests_reachable(user: Any) -> bool:
    """Whether ``user`` may see any request at all: the DPO, and Public Order for their disclosures."""
    return user.has_perm("access_requests.handle_request") or user.has_perm("access_requests.file_disclosure")
