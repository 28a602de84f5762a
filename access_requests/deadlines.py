"""GDPR Art. 12(3) deadlines: one month from receipt, moved to the next Lithuanian working day.

"One month" follows the EU rule on periods (Regulation 1182/71, Art. 3): the period ends on the
same date of the next month, or on that month's last day when it has no such date (31 January →
28 or 29 February). A deadline on a Saturday, Sunday or public holiday moves to the next working
day. Holidays come from the maintained ``holidays`` package (Lithuania, including Easter Monday,
Mother's and Father's Days, which fall on Sundays, and the days added by later laws), so nobody
has to type a holiday calendar in.

An extension (Art. 12(3)) adds up to two further months to the *original* one-month period,
counted from receipt, and is only lawful when the requester is told, with reasons, within the
first month; :func:`extension_check` says what is missing.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from functools import lru_cache

import holidays
from django.utils.translation import gettext as _

MAX_EXTENSION_MONTHS = 2


def months_add(day: date, months: int) -> date:
    """The same date ``months`` later, or that month's last day when there is no such date."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@lru_cache(maxsize=32)
def _holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("LT", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _holidays(day.year)


def holiday_name(day: date) -> str | None:
    return _holidays(day.year).get(day)


def next_working_day(day: date) -> date:
    """``day`` itself when it is a working day, else the first working day after it."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def due_date(received: date, *, extension_months: int = 0) -> date:
    """When the answer is due for a request received on ``received`` (a local, Vilnius date)."""
    if not 0 <= extension_months <= MAX_EXTENSION_MONTHS:
        raise ValueError(_("An extension can add one or two months, no more."))
    return next_working_day(months_add(received, 1 + extension_months))


def extension_check(*, received: date, months: int, reason: str, notified_on: date | None) -> dict[str, str]:
    """What stops an extension from being lawful, by field (empty when it may be recorded)."""
    errors: dict[str, str] = {}
    if months not in range(1, MAX_EXTENSION_MONTHS + 1):
        errors["months"] = _("An extension can add one or two months, no more.")
    if not reason.strip():
        errors["reason"] = _("Give the reason for the extension (the complexity or number of requests).")
    if notified_on is None:
        errors["notified_on"] = _("Record when the requester was told of the extension and why.")
    elif notified_on > due_date(received):
        errors["notified_on"] = _("The requester must be told within the first month, by %(due)s.") % {
            "due": due_date(received).isoformat()}
    elif notified_on < received:
        errors["notified_on"] = _("The notice cannot be earlier than the request.")
    return errors
