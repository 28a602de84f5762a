"""``manage.py statistics_rollup [--from DAY] [--to DAY] [--force]``: compute daily statistics.

The beat job keeps today and yesterday; this backfills (after installation, or after a long stop of
beat). Days whose footage may already be partly deleted by retention keep their existing figures
unless ``--force``: the roll-up made while the footage was there is the better record.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from reports.rollup import days_rollup
from safecam.timeranges import local_today


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"{value!r} is not a day; use YYYY-MM-DD, e.g. 2026-11-30") from error


class Command(BaseCommand):
    help = "Computes the daily statistics of every camera for a range of local days (default: the last 7)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: a week ago)")
        parser.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: today)")
        parser.add_argument("--force", action="store_true",
                            help="recompute days whose footage retention may already have deleted")

    def handle(self, *args: Any, first: str | None, last: str | None, force: bool, **options: Any) -> None:
        today = local_today()
        last_day = _day(last) if last else today
        first_day = _day(first) if first else last_day - timedelta(days=6)
        if last_day < first_day:
            raise CommandError("--to is before --from")
        if (last_day - first_day).days > 3660:
            raise CommandError("at most ten years at a time")
        written = days_rollup(first_day, last_day, force=force)
        self.stdout.write(f"{written} camera-days computed from {first_day} to {last_day}.")
