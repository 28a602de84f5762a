"""Reads of the footage index, always through ``restrict()``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cameras.models import Camera
from footage.models import EndReason, Gap, Hold, RetentionRecord, Segment, SegmentState
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
    segments = (Segment.objects.filter(camera=camera, state=SegmentState.STORED, start__lt=end, end__gt=window.start)
                .order_by("start").values_list("start", "end"))
    gaps = (Gap.objects.filter(camera=camera, start__lt=end).filter(Q(end__isnull=True) | Q(end__gt=window.start))
            .order_by("start").values_list("start", "end", "reason", "detail"))
    events: list[Span] = []
    for start, stop in segments.iterator(chunk_size=5000):
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


def coverage(spans: list[Span]) -> float:
    total = sum(s.seconds for s in spans)
    return 100.0 * sum(s.seconds for s in spans if s.kind == "recorded") / total if total else 0.0


def retention_records_visible(user: Any) -> QuerySet[RetentionRecord]:
    return RetentionRecord.objects.restrict(user, "view").select_related("camera", "run")
