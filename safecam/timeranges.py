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


# Footage, requests and reports live between these years; anything outside is a typing slip (0001, 20266)
# and, near the ends of Python's calendar, would overflow when converted to UTC.
MIN_YEAR, MAX_YEAR = 1970, 2999


def day_check(value: date, *, field: str) -> date:
    """``value`` if its year is within MIN_YEAR–MAX_YEAR, else a RangeError naming the field."""
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise RangeError(_("%(field)s: the year %(year)s is outside %(min)s–%(max)s.") % {
            "field": field, "year": value.year, "min": MIN_YEAR, "max": MAX_YEAR})
    return value


def instant_check(value: datetime, *, field: str) -> datetime:
    """``value`` as an aware datetime, or a RangeError saying why it is not a usable moment.

    A time without an offset is read as local (Europe/Vilnius) time. One that local clocks skip (the
    spring change) is refused, naming the offsets to choose from, rather than silently moved; one
    they show twice (the autumn change) is taken the first time, as the timeline and the public form
    document (give an offset, +02:00, for the second)."""
    day_check(value.date(), field=field)
    if timezone.is_aware(value):
        return value
    zone = local_zone()
    first, second = value.replace(tzinfo=zone, fold=0), value.replace(tzinfo=zone, fold=1)
    offsets = [first.utcoffset(), second.utcoffset()]
    if offsets[0] != offsets[1] and first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != value:
        names = " / ".join(_offset_text(offset) for offset in offsets)
        raise RangeError(_("%(field)s: %(value)s does not exist in %(zone)s (the clocks were put forward); "
                           "give an offset, e.g. %(offsets)s.") % {
            "field": field, "value": value.isoformat(timespec="minutes"), "zone": zone.key, "offsets": names})
    return first


def _offset_text(offset: timedelta | None) -> str:
    minutes = int((offset or timedelta()).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def parse_instant(value: str, *, field: str) -> datetime:
    """An ISO 8601 time; without an offset it is read as local (Europe/Vilnius) time."""
    from django.utils.dateparse import parse_datetime

    value = value if isinstance(value, str) else ""
    text = value.strip().replace(" ", "T")
    try:
        # ASCII only: Python's parsers take other scripts' digits (٢٠٢٦) and trailing NULs are
        # nobody's date.
        parsed = parse_datetime(text) if text and len(text) <= 64 and text.isascii() and text.isprintable() else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise RangeError(_("%(field)s: %(value)s is not a date and time; use ISO 8601, e.g. "
                           "2026-11-25T14:30:00+02:00") % {"field": field, "value": repr(value[:64])})
    return instant_check(parsed, field=field)


def range_check(start: datetime, end: datetime, *, max_span: timedelta | None = None) -> TimeRange:
    """``[start, end)`` as a TimeRange, or a RangeError: the end after the start, at most ``max_span``."""
    start, end = instant_check(start, field="start"), instant_check(end, field="end")
    if end <= start:
        raise RangeError(_("The end must be after the start."))
    if max_span is not None and end - start > max_span:
        hours = int(max_span.total_seconds() // 3600)
        limit = (ngettext("%(n)d day", "%(n)d days", hours // 24) % {"n": hours // 24} if hours % 24 == 0
                 else ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
        raise RangeError(_("A range may cover at most %(limit)s.") % {"limit": limit})
    return TimeRange(start, end)


def parse_range(start: str | None, end: str | None, *, max_span: timedelta = timedelta(days=31)) -> TimeRange:
    """A range from two ISO 8601 strings, at most ``max_span`` long."""
    if not start or not end:
        raise RangeError(_("Give both start and end (ISO 8601)."))
    return range_check(parse_instant(start, field="start"), parse_instant(end, field="end"), max_span=max_span)


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


# --- fields: the same rules for a moment typed in a form or sent to the API -------------------------

from django import forms  # noqa: E402
from django.core.exceptions import ValidationError  # noqa: E402
from rest_framework import serializers  # noqa: E402


def _typed_text(value: object) -> None:
    # Python's parsers take other scripts' digits (٢٠٢٦) and Django's a trailing NUL.
    if isinstance(value, str) and not (value.isascii() and value.isprintable()):
        raise ValidationError(_("Enter a valid date/time."), code="invalid")


class DayFormField(forms.DateField):
    """A form's date within MIN_YEAR–MAX_YEAR (0001-01-01 and 9999-12-31 overflow month arithmetic)."""

    def to_python(self, value: object) -> date | None:
        _typed_text(value)
        result = super().to_python(value)
        if result is not None:
            try:
                day_check(result, field=str(self.label or _("date")))
            except RangeError as exc:
                raise ValidationError(str(exc), code="invalid") from None
        return result


class InstantFormField(forms.DateTimeField):
    """A form's date and time (local when typed without an offset), within MIN_YEAR–MAX_YEAR."""

    def to_python(self, value: object) -> datetime | None:
        _typed_text(value)
        result = super().to_python(value)
        if result is not None:
            try:
                instant_check(result, field=str(self.label or _("time")))
            except RangeError as exc:
                raise ValidationError(str(exc), code="invalid") from None
        return result


class InstantField(serializers.DateTimeField):
    """An API's date and time, parsed like every query parameter (``parse_instant``): ISO 8601 with
    an offset or ``Z``, naive as Vilnius time, refusing local times the clocks skip and years
    outside MIN_YEAR–MAX_YEAR with a message (DRF's own field crashes on ``0001-01-01T00:00``)."""

    def to_internal_value(self, value: object) -> datetime:
        name = self.field_name or "time"
        try:
            if isinstance(value, datetime):
                return self.enforce_timezone(instant_check(value, field=name))
            if not isinstance(value, str):
                raise RangeError(_("%(field)s: give a date and time as an ISO 8601 string.") % {"field": name})
            return self.enforce_timezone(parse_instant(value, field=name))
        except RangeError as exc:
            raise serializers.ValidationError(str(exc), code="invalid") from None
