"""GDPR Art. 12(3) deadlines: a table of the cases a DPO meets, checked against the real calendar."""

from datetime import date

import pytest

from access_requests.deadlines import due_date, extension_check, holiday_name, months_add, next_working_day


@pytest.mark.parametrize(("received", "due", "why"), [
    (date(2026, 3, 2), date(2026, 4, 2), "an ordinary Monday → the same date next month (a Thursday)"),
    (date(2026, 10, 14), date(2026, 11, 16), "14 November 2026 is a Saturday → Monday 16th"),
    (date(2027, 1, 31), date(2027, 3, 1), "31 January, non-leap year → 28 February, a Sunday → 1 March"),
    (date(2028, 1, 31), date(2028, 2, 29), "31 January, leap year → 29 February (a Tuesday)"),
    (date(2026, 1, 31), date(2026, 3, 2), "28 February 2026 is a Saturday → Monday 2 March"),
    (date(2026, 3, 31), date(2026, 4, 30), "31 March → 30 April, the month's last day"),
    (date(2026, 5, 31), date(2026, 6, 30), "31 May → 30 June"),
    (date(2026, 8, 31), date(2026, 9, 30), "31 August → 30 September"),
    (date(2026, 12, 31), date(2027, 2, 1), "31 December → 31 January 2027, a Sunday → Monday 1 February"),
    (date(2027, 1, 16), date(2027, 2, 17), "16 February 2027 (a Tuesday) is the Restoration of the State"),
    (date(2026, 1, 16), date(2026, 2, 17), "16 February 2026 is a Monday holiday → Tuesday 17th"),
    (date(2027, 2, 11), date(2027, 3, 12), "11 March (Thursday), Restoration of Independence → 12th"),
    (date(2027, 5, 24), date(2027, 6, 25), "24 June (Thursday), Midsummer (Joninės) → 25th"),
    (date(2027, 11, 24), date(2027, 12, 27), "24, 25, 26 December and the weekend → Monday 27th"),
    (date(2026, 11, 1), date(2026, 12, 1), "received on All Saints' Day: the period still runs"),
    (date(2026, 3, 6), date(2026, 4, 7), "6 April 2026 is Easter Monday → Tuesday 7th"),
    (date(2026, 6, 6), date(2026, 7, 7), "6 July 2026 (Monday) is Statehood Day → 7th"),
    (date(2026, 10, 1), date(2026, 11, 3), "1 and 2 November 2026 (Sunday, Monday) → Tuesday 3rd"),
])
def test_it_computes_the_one_month_deadline(received: date, due: date, why: str) -> None:
    assert due_date(received) == due, why


@pytest.mark.parametrize(("received", "months", "due"), [
    (date(2026, 3, 2), 1, date(2026, 5, 4)),    # 2 May is a Saturday (and 3 May Mother's Day)
    (date(2026, 3, 2), 2, date(2026, 6, 2)),
    (date(2027, 11, 30), 1, date(2028, 1, 31)),  # 30 January 2028 is a Sunday
    (date(2027, 12, 31), 2, date(2028, 3, 31)),  # three months from 31 December → 31 March (a Friday)
    (date(2025, 11, 30), 1, date(2026, 1, 30)),
])
def test_it_extends_from_receipt_by_whole_months(received: date, months: int, due: date) -> None:
    assert due_date(received, extension_months=months) == due


def test_it_refuses_an_extension_beyond_two_months() -> None:
    with pytest.raises(ValueError, match="vienu arba dviem mėnesiais"):  # in Lithuanian, the users' language
        due_date(date(2026, 3, 2), extension_months=3)


def test_it_asks_for_a_reason_and_a_notice_within_the_first_month() -> None:
    errors = extension_check(received=date(2026, 3, 2), months=2, reason=" ", notified_on=None)
    assert set(errors) == {"reason", "notified_on"}
    late = extension_check(received=date(2026, 3, 2), months=1, reason="Many cameras", notified_on=date(2026, 4, 3))
    assert "2026-04-02" in late["notified_on"]
    assert extension_check(received=date(2026, 3, 2), months=1, reason="Many cameras",
                           notified_on=date(2026, 4, 2)) == {}
    assert "months" in extension_check(received=date(2026, 3, 2), months=0, reason="x", notified_on=date(2026, 3, 3))


def test_it_keeps_month_ends_and_knows_the_holidays() -> None:
    assert months_add(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert months_add(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert holiday_name(date(2027, 6, 24))
    assert next_working_day(date(2027, 6, 24)) == date(2027, 6, 25)
    assert next_working_day(date(2027, 6, 25)) == date(2027, 6, 25)
