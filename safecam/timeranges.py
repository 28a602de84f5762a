"""Time ranges: the one helper for "from … until …" in UTC and for local (Europe/Vilnius) days.

Times are stored in UTC and shown in the configured zone. A local day is not always 24 hours: on
the last Sunday of October Vilnius has a 25-hour day, on the last Sunday of March a 23-hour one, so
"today" is computed from the zone's midnights, never as ``midnight + 24 h``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


@dataclass(frozen=True)
class TimeRange:
    """A half-open interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if timezone.is_naive(self.start) or timezone.is_naive(self.end):
            raise ValueError("TimeRange needs aware datetimes")
        # In UTC: Python compares two times of the same zone by wall clock, ignoring ``fold``, so
        # 03:05 EET (after the autumn change) would count as earlier than 03:55 EEST.
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))
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
    return TimeRange(start, end)


def local_today(now: datetime | None = None, zone: ZoneInfo | None = None) -> date:
    zone = zone or local_zone()
    return (now or timezone.now()).astimezone(zone).date()


def today_so_far(now: datetime | None = None, zone: ZoneInfo | None = None) -> TimeRange:
    """From local midnight until now."""
    now = now or timezone.now()
    day = local_day(local_today(now, zone), zone)
    return TimeRange(day.start, now)


class RangeError(ValueError):
    """A time range a person typed or sent is unusable; the message says how to fix it."""


def parse_instant(value: str, *, field: str) -> datetime:
    """An ISO 8601 time; without an offset it is read as local (Europe/Vilnius) time."""
    from django.utils.dateparse import parse_datetime

    value = value or ""
    try:
        parsed = parse_datetime(value.strip().replace(" ", "T")) if value and len(value) <= 64 else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise RangeError(_("%(field)s: %(value)s is not a date and time; use ISO 8601, e.g. "
                           "2026-11-25T14:30:00+02:00") % {"field": field, "value": repr(value[:64])})
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, local_zone())
    return parsed


def parse_range(start: str | None, end: str | None, *, max_span: timedelta = timedelta(days=31)) -> TimeRange:
    """A range from two ISO 8601 strings, at most ``max_span`` long."""
    if not start or not end:
        raise RangeError(_("Give both start and end (ISO 8601)."))
    result_start, result_end = parse_instant(start, field="start"), parse_instant(end, field="end")
    if result_end <= result_start:
        raise RangeError(_("The end must be after the start."))
    if result_end - result_start > max_span:
        hours = int(max_span.total_seconds() // 3600)
        limit = (ngettext("%(n)d day", "%(n)d days", hours // 24) % {"n": hours // 24} if hours % 24 == 0
                 else ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
        raise RangeError(_("A range may cover at most %(limit)s.") % {"limit": limit})
    return TimeRange(result_start, result_end)


def local_days(first: date, last: date, zone: ZoneInfo | None = None) -> TimeRange:
    """The UTC instants from local midnight of ``first`` to the end of ``last`` (both days included)."""
    return TimeRange(local_day(first, zone).start, local_day(last, zone).end)


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return following - timedelta(days=1)


def months_between(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s to ``last``'s, in order."""
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = month_end(month) + timedelta(days=1)
    return months


def parse_month(value: str, *, field: str) -> date:
    """``2026-11`` (or a full date, whose month is taken) as the first day of that month."""
    text = (value or "").strip()[:10]
    for pattern in ("%Y-%m", "%Y-%m-%d"):
        try:
            return month_start(datetime.strptime(text, pattern).date())
        except ValueError:
            continue
    raise RangeError(_("%(field)s: %(value)s is not a month; use YYYY-MM, e.g. 2026-11") % {
        "field": field, "value": repr(text)})
