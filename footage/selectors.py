"""Reads of the footage index, always through ``restrict()``."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.db.models import Max, Min, Q, QuerySet, Sum, Window
from django.db.models.functions import Mod, RowNumber
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cameras.models import Camera
from footage.models import SEGMENT_LONGEST, EndReason, Gap, Hold, Incident, RetentionRecord, Segment, SegmentState
from safecam.timeranges import TimeRange


def holds_visible(user: Any) -> QuerySet[Hold]:
    return Hold.objects.restrict(user, "view").select_related("camera", "camera__site", "created_by",
                                                                "released_by")


def hold_get(user: Any, public_id: UUID, action: str = "view") -> Hold:
    return get_object_or_404(Hold.objects.restrict(user, action).select_related("camera", "camera__site"),
                             public_id=public_id)


def camera_holds(camera: Camera, *, active_only: bool = False) -> QuerySet[Hold]:
    holds = Hold.objects.filter(camera=camera).select_related("created_by", "released_by")
    return holds.active() if active_only else holds


@dataclass(frozen=True)
class Span:
    """A stretch of a camera's timeline: recorded, or a gap with its reason, or unknown."""

    kind: str  # "recorded", "gap", "unknown"
    start: datetime
    end: datetime
    reason: str = ""
    detail: str = ""

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    @property
    def reason_label(self) -> str:
        return str(EndReason(self.reason).label) if self.reason in EndReason.values else self.reason


def timeline(camera: Camera, window: TimeRange, *, now: datetime | None = None) -> list[Span]:
    """Every second of ``window`` as recorded, gap (with reason) or unknown.

    Contiguous segments merge into one recorded span, so a day is a handful of spans, not 8640.
    "unknown" is time before the camera's first recording or after its latest report.
    """
    now = now or timezone.now()
    end = min(window.end, now)
    if end <= window.start:
        return []
    segments = _recorded_pieces(camera, window.start, end)
    gaps = (Gap.objects.filter(camera=camera, start__lt=end).filter(Q(end__isnull=True) | Q(end__gt=window.start))
            .order_by("start").values_list("start", "end", "reason", "detail"))
    events: list[Span] = []
    for start, stop in segments:
        start, stop = max(start, window.start), min(stop, end)
        if events and events[-1].kind == "recorded" and (start - events[-1].end).total_seconds() <= 1.0:
            events[-1] = Span("recorded", events[-1].start, max(events[-1].end, stop))
        else:
            events.append(Span("recorded", start, stop))
    for start, stop, reason, detail in gaps:
        events.append(Span("gap", max(start, window.start), min(stop or end, end), reason, detail))
    events.sort(key=lambda s: (s.start, s.kind != "gap"))
    spans: list[Span] = []
    cursor = window.start
    for span in events:
        if span.end <= cursor:
            continue
        if span.start > cursor + _SLACK:
            spans.append(Span("unknown", cursor, span.start))
        span = Span(span.kind, max(span.start, cursor), span.end, span.reason, span.detail)
        spans.append(span)
        cursor = span.end
    if end > cursor + _SLACK:
        spans.append(Span("unknown", cursor, end))
    return spans


_SLACK = timezone.timedelta(seconds=1)


def _recorded_pieces(camera: Camera, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Stored footage in ``[start, end)`` as a few (start, end) pieces, in order.

    Within a run, segments are contiguous by construction, so the database sums each run's
    segments (one GROUP BY over the (camera, start) index) and a run whose durations add up to its
    extent is one piece; only a run with holes (a lost or deleted segment) is fetched segment by
    segment, in one more query. A day is a few rows to Python, not 8 640.
    """
    stored = Segment.objects.filter(camera=camera, state=SegmentState.STORED).overlapping(start, end)
    pieces: list[tuple[datetime, datetime]] = []
    holey: list[int] = []
    for row in (stored.order_by().values("run_id")
                .annotate(first=Min("start"), last=Max("end"), seconds=Sum("duration"))):
        if row["seconds"] >= (row["last"] - row["first"]).total_seconds() - 0.5:
            pieces.append((row["first"], row["last"]))
        else:
            holey.append(row["run_id"])
    if holey:
        pieces.extend(stored.filter(run_id__in=holey).order_by().values_list("start", "end"))
    pieces.sort()
    return pieces


def coverage(spans: list[Span]) -> float:
    total = sum(s.seconds for s in spans)
    return 100.0 * sum(s.seconds for s in spans if s.kind == "recorded") / total if total else 0.0


def retention_records_visible(user: Any) -> QuerySet[RetentionRecord]:
    return RetentionRecord.objects.restrict(user, "view").select_related("camera", "run")


# --- playback -------------------------------------------------------------------------------------

def cameras_playable(user: Any, *, site: Any) -> QuerySet[Camera]:
    """The site's cameras ``user`` may watch (recorded or near-live), for the site grid."""
    playable = Camera.objects.restrict(user, "playback") | Camera.objects.restrict(user, "live")
    return playable.filter(site=site).select_related("site").order_by("name")


def timeline_marks(camera: Camera, window: TimeRange, *, footage: bool) -> dict[str, list[Any]]:
    """Holds, incidents and preview pictures in ``window`` (three queries; the last two only for a
    user who may see footage, since a note or a picture can show a person)."""
    holds = list(Hold.objects.filter(camera=camera, start__lt=window.end, end__gt=window.start)
                 .order_by("start")[:500])
    incidents: list[Incident] = []
    thumbnails: list[dict[str, Any]] = []
    if footage:
        incidents = list(Incident.objects.filter(camera=camera, start__lt=window.end, end__gt=window.start)
                         .select_related("created_by", "hold").order_by("start")[:500])
        pictures = Segment.objects.filter(camera=camera, thumbnail=True, state=SegmentState.STORED,
                                          start__gte=window.start, start__lt=window.end)
        # Evenly every n-th picture, chosen by the database: a day has 1 440, the strip shows ≤ 300.
        expected = window.seconds / settings.SAFECAM_THUMBNAIL_SECONDS
        step = max(1, math.ceil(expected / THUMBNAILS_MAX))
        rows = (pictures.annotate(pick=Mod(Window(RowNumber(), order_by="start") - 1, step)).filter(pick=0)
                .order_by("start").values_list("pk", "start"))
        # Already in the API's form (UTC, "Z"): hundreds of pictures are not worth a serializer field each.
        thumbnails = [{"segment": pk, "at": at.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"} for pk, at in rows]
    return {"holds": holds, "incidents": incidents, "thumbnails": thumbnails}


THUMBNAILS_MAX = 300


def player_config(request: Any, camera: Camera) -> dict[str, Any] | None:
    """What the camera page's player needs: links, rights and where to start (None: may not watch)."""
    from django.middleware.csrf import get_token
    from django.urls import reverse
    from django.utils.translation import get_language

    from safecam.permissions import allowed

    user = request.user
    actions = ("playback", "live", "export", "hold")
    granted = allowed(user, actions, camera)
    rights = {action: action in granted for action in actions}
    if not (rights["playback"] or rights["live"]):
        return None
    start = request.GET.get("t") or None
    if start:
        from safecam.timeranges import RangeError, parse_instant
        try:
            start = parse_instant(start, field="t").isoformat()
        except RangeError:
            start = None
    return {
        "camera": str(camera.public_id), "name": camera.name,
        "session_url": reverse("api:camera-playback", kwargs={"uuid": camera.public_id}),
        "timeline_url": reverse("api:camera-timeline", kwargs={"uuid": camera.public_id}),
        "incident_url": reverse("api:incident-list") if rights["playback"] else None,
        "still_url": reverse("still-frame", kwargs={"public_id": camera.public_id}) if rights["export"] else None,
        "can_recorded": rights["playback"], "can_live": rights["live"], "can_hold": rights["hold"],
        "time_zone": str(timezone.get_current_timezone()), "locale": get_language() or "lt",
        "start": start, "live": request.GET.get("live") in ("1", "true") or not rights["playback"],
        "segment_seconds": settings.SAFECAM_SEGMENT_SECONDS, "csrf_token": get_token(request),
    }


def grid_config(request: Any, *, site: Any, cameras: list[Camera]) -> dict[str, Any]:
    configs = [config for config in (player_config(request, camera) for camera in cameras) if config]
    first = configs[0] if configs else {}
    return {"site": site.slug, "cameras": configs, "time_zone": first.get("time_zone"),
            "locale": first.get("locale"), "start": first.get("start"), "live": first.get("live", False),
            "csrf_token": first.get("csrf_token")}


# --- the viewing log (for the DPO) ---------------------------------------------------------------

@dataclass(frozen=True)
class Viewing:
    """One audited stretch of viewing or one still frame, as the DPO reads it."""

    at: datetime
    actor: str
    action: str
    camera_id: str
    camera_name: str
    site: str
    footage_from: datetime | None
    footage_to: datetime | None
    watched_seconds: float | None
    mode: str
    ip: str | None
    seq: int


def viewing_log(user: Any, *, camera: str = "", actor: str = "", day: Any = None, limit: int = 500) -> list[Viewing]:
    """Viewing and still-frame events from the audit trail (readable by the DPO only), newest first."""
    from django.utils.dateparse import parse_datetime

    from safecam.audit import AuditAction
    from safecam.models import AuditEvent
    from safecam.timeranges import local_day

    events = AuditEvent.objects.restrict(user, "view").filter(
        action__in=[AuditAction.FOOTAGE_VIEWED, AuditAction.STILL_EXPORTED])
    if camera:
        events = events.filter(target_id=camera)
    if actor:
        events = events.filter(actor_username=actor)
    if day is not None:
        window = local_day(day)
        events = events.filter(at__gte=window.start, at__lt=window.end)
    rows = []
    for event in events.order_by("-seq")[:limit]:
        d = event.details
        still = event.action == AuditAction.STILL_EXPORTED
        rows.append(Viewing(
            at=event.at, actor=event.actor_username, action=event.action, camera_id=event.target_id,
            camera_name=d.get("camera_name", event.target_repr), site=d.get("site", ""),
            footage_from=parse_datetime(d.get("at") if still else d.get("footage_from") or ""),
            footage_to=None if still else parse_datetime(d.get("footage_to") or ""),
            watched_seconds=None if still else d.get("watched_seconds"), mode="still" if still else d.get("mode", ""),
            ip=event.ip, seq=event.seq))
    return rows


def viewing_now(user: Any) -> QuerySet[Any]:
    """Sessions open right now (watching, not yet audited), for the DPO."""
    from footage.models import ViewingSession

    if not user.has_perm("safecam.view_auditevent"):
        return ViewingSession.objects.none()
    idle = timezone.now() - timezone.timedelta(seconds=settings.SAFECAM_PLAYBACK_IDLE_SECONDS)
    return (ViewingSession.objects.filter(closed_at__isnull=True, last_seen_at__gte=idle)
            .select_related("user", "camera", "camera__site").order_by("-opened_at"))


# --- figures for the statistics (reports reads these; they hold no personal data) ----------------

@dataclass
class DayFigures:
    """One camera's footage and viewing in a window, as counts and seconds only."""

    recorded_seconds: float = 0.0
    segments: int = 0
    bytes_recorded: int = 0
    gap_seconds: dict[str, float] | None = None
    outages: int = 0
    playback_sessions: int = 0
    live_sessions: int = 0
    request_sessions: int = 0
    seconds_viewed: float = 0.0
    stills: int = 0
    holds: int = 0
    incidents: int = 0


def _watched_seconds(watched: Any) -> float:
    from django.utils.dateparse import parse_datetime

    total = 0.0
    for pair in watched or []:
        try:
            start, end = parse_datetime(pair[0]), parse_datetime(pair[1])
        except (TypeError, ValueError, IndexError):
            continue
        if start and end and end > start:
            total += (end - start).total_seconds()
    return total


def day_figures(window: TimeRange, *, now: datetime | None = None) -> dict[int, DayFigures]:
    """Every camera's figures for ``window`` (a local day), keyed by camera id, in seven queries.

    Recorded time is the stored segments' time clipped to the window (one GROUP BY over the
    (camera, start) index); segments and bytes count those that *start* in the window, so a month
    is the sum of its days. Gaps are clipped to the window and to ``now``; an outage is a gap that
    began in it. Viewing counts sessions opened in the window that served footage, and the seconds
    the player reported on screen. Holds, incidents and still frames are those made in the window."""
    from django.db.models import Count, DurationField, ExpressionWrapper, F, Value
    from django.db.models.functions import Greatest, Least

    from footage.models import ViewingMode, ViewingSession
    from safecam.audit import AuditAction
    from safecam.models import AuditEvent

    now = now or timezone.now()
    end = min(window.end, now)
    figures: dict[int, DayFigures] = {}

    def of(camera_id: int) -> DayFigures:
        return figures.setdefault(camera_id, DayFigures(gap_seconds={}))

    if end <= window.start:
        return figures
    clipped = ExpressionWrapper(Least(F("end"), Value(end)) - Greatest(F("start"), Value(window.start)),
                                output_field=DurationField())
    starts_inside = Q(start__gte=window.start)
    by_public_id = {str(public_id): pk for public_id, pk in Camera.objects.values_list("public_id", "pk")}
    # One pass over each camera's (camera, start) index range (naming the cameras lets PostgreSQL use
    # the index instead of scanning every retained segment): clipped seconds of every overlapping
    # segment, and the count and bytes of those that start inside the window.
    for row in (Segment.objects.filter(camera_id__in=list(by_public_id.values()), state=SegmentState.STORED,
                                       start__lt=end,
                                       start__gt=window.start - SEGMENT_LONGEST, end__gt=window.start)
                .order_by().values("camera_id")
                .annotate(seconds=Sum(clipped), n=Count("pk", filter=starts_inside),
                          size=Sum("size", filter=starts_inside))):
        item = of(row["camera_id"])
        item.recorded_seconds = row["seconds"].total_seconds() if row["seconds"] else 0.0
        item.segments, item.bytes_recorded = row["n"], row["size"] or 0
    for camera_id, start, stop, reason in (
            Gap.objects.filter(start__lt=end).filter(Q(end__isnull=True) | Q(end__gt=window.start))
            .values_list("camera_id", "start", "end", "reason")):
        item = of(camera_id)
        seconds = (min(stop or end, end) - max(start, window.start)).total_seconds()
        if seconds > 0:
            item.gap_seconds[reason] = item.gap_seconds.get(reason, 0.0) + seconds
        if start >= window.start:
            item.outages += 1
    for camera_id, mode, purpose, watched in (
            ViewingSession.objects.filter(opened_at__gte=window.start, opened_at__lt=end, segments_served__gt=0)
            .values_list("camera_id", "mode", "purpose", "watched")):
        item = of(camera_id)
        if purpose:
            item.request_sessions += 1
        elif mode == ViewingMode.LIVE:
            item.live_sessions += 1
        else:
            item.playback_sessions += 1
        item.seconds_viewed += _watched_seconds(watched)
    for model, field in ((Hold, "holds"), (Incident, "incidents")):
        for row in (model.objects.filter(created_at__gte=window.start, created_at__lt=end).order_by()
                    .values("camera_id").annotate(n=Count("pk"))):
            setattr(of(row["camera_id"]), field, row["n"])
    stills = (AuditEvent.objects.filter(action=AuditAction.STILL_EXPORTED, at__gte=window.start, at__lt=end)
              .order_by().values("target_id").annotate(n=Count("pk")))
    for row in stills:
        camera_id = by_public_id.get(row["target_id"])
        if camera_id is not None:
            of(camera_id).stills = row["n"]
    return figures

