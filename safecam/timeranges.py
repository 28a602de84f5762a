"""Time ranges: the one helper for "from … until …" in UTC and for local (Europe/Vilnius) days.

Times are stored in UTC and shown in the configured zone. A local day is not always 24 hours: on
the last Sunday of October Vilnius has a 25-hour day, on the last Sunday of March a 23-hour one, so
"today" is computed from the zone's midnights, never as ``midnight + 24 h``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone


@dataclass(frozen=True)
class TimeRange:
    """A half-open interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if timezone.is_naive(self.start) or timezone.is_naive(self.end):
            raise ValueError("TimeRange needs aware datetimes")
        if self.end < self.start:
            raise ValueError("a time range cannot end before it starts")

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return start < self.end and end > self.start

    def overlap_seconds(self, start: datetime, end: datetime) -> float:
        return max(0.0, (min(end, self.end) - max(start, self.start)).total_seconds())


def local_zone() -> ZoneInfo:
    return ZoneInfo(timezone.get_current_timezone_name())


def local_day(day: date, zone: ZoneInfo | None = None) -> TimeRange:
    """The UTC instants of one local calendar day (23, 24 or 25 hours long)."""
    zone = zone or local_zone()
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return TimeRange(start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC")))


def local_today(now: datetime | None = None, zone: ZoneInfo | None = None) -> date:
    zone = zone or local_zone()
    return (now or timezone.now()).astimezone(zone).date()


def today_so_far(now: datetime | None = None, zone: ZoneInfo | None = None) -> TimeRange:
    """From local midnight until now."""
    now = now or timezone.now()
    day = local_day(local_today(now, zone), zone)
    return TimeRange(day.start, now)
