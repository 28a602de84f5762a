"""Statistics match the records: a known month rolled up, read back by eldership, camera and month."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine

from footage.models import Segment
from reports.models import CameraDay
from reports.rollup import day_rollup, days_rollup, statistics_rollup_recent
from reports.statistics import statistics, statistics_csv
from tests.reports.conftest import NOVEMBER, ROLLED_UP_AT, KnownMonth, at, segments_index

pytestmark = pytest.mark.django_db

EXPECTED = 30 * 86_400  # November 2026 in Vilnius has no clock change


def test_it_counts_a_known_month_exactly(known_month: KnownMonth, coordinator: Any) -> None:
    stats = statistics(coordinator, first=NOVEMBER[0], last=NOVEMBER[1])
    vab = next(r for r in stats.rows if r.camera_id == str(known_month.vabalninkas.public_id))
    f = vab.figures
    assert vab.month == date(2026, 11, 1)
    assert f.expected_seconds == EXPECTED
    assert f.recorded_seconds == 3600 + 20  # one hour, and 5 s + 15 s across midnight
    assert f.gap_seconds == {"camera_unreachable": 1800, "camera_lost": 7200}
    assert f.outages == 2
    assert f.unknown_seconds == EXPECTED - 3620 - 9000
    assert f.segments == 362 and f.bytes_recorded == 362_000 and f.bytes_stored == 362_000
    assert (f.playback_sessions, f.live_sessions, f.request_sessions) == (1, 1, 1)
    assert f.seconds_viewed == 300 + 60 + 120
    assert (f.stills, f.exports, f.holds, f.incidents) == (1, 1, 1, 1)
    assert f.coverage == pytest.approx(100 * 3620 / EXPECTED)

    pab = next(r for r in stats.rows if r.camera_id == str(known_month.pabirze.public_id))
    assert (pab.figures.recorded_seconds, pab.figures.segments, pab.figures.seconds_viewed) == (1800, 180, 45)
    assert pab.figures.gap_seconds == {} and pab.figures.outages == 0
    # Cameras installed in December expect nothing in November, so they do not dilute coverage.
    assert stats.total.expected_seconds == 2 * EXPECTED
    assert stats.total.recorded_seconds == 3620 + 1800
    assert {name: f.cameras for name, _slug, f in stats.by_site} == {"Vabalninkas": 1, "Pabiržė": 1}


def test_it_splits_days_at_vilnius_midnight(known_month: KnownMonth) -> None:
    days = {row.day: row for row in CameraDay.objects.filter(camera=known_month.vabalninkas)}
    assert days[date(2026, 11, 11)].recorded_seconds == 5
    assert days[date(2026, 11, 12)].recorded_seconds == 15
    assert days[date(2026, 11, 12)].gap_seconds == {"camera_lost": 3600}
    assert days[date(2026, 11, 13)].gap_seconds == {"camera_lost": 3600}
    assert (days[date(2026, 11, 12)].outages, days[date(2026, 11, 13)].outages) == (1, 0)
    assert len(days) == 30 and all(row.final for row in days.values())


def test_it_counts_requests_by_type_outcome_and_deadline(known_month: KnownMonth, coordinator: Any) -> None:
    requests = statistics(coordinator, first=NOVEMBER[0], last=NOVEMBER[1]).requests
    total = requests.total
    assert total["received"] == 3  # the October one is not November's
    assert dict(total["by_kind"]) == {"access": 1, "disclosure": 1, "erasure": 1}
    assert dict(total["by_outcome"]) == {"footage_not_found": 1, "disclosed": 1}
    assert (total["closed"], total["on_time"], total["on_time_rate"]) == (2, 1, 50.0)
    assert (total["police"], total["police_disclosed"]) == (1, 1)


def test_its_csv_has_one_row_per_camera_and_month(known_month: KnownMonth, coordinator: Any) -> None:
    stats = statistics(coordinator, first=NOVEMBER[0], last=NOVEMBER[1])
    rows = list(csv.DictReader(io.StringIO(statistics_csv(stats).decode("utf-8-sig"))))
    assert len(rows) == 2  # the cameras installed in December have nothing to say of November
    vab = next(r for r in rows if r["Kamera"] == known_month.vabalninkas.name)
    assert vab["Seniūnija"] == "Vabalninkas" and vab["Mėnuo"] == "2026-11"
    assert vab["Tikėtasi (val.)"] == "720.00"
    assert vab["Įrašyta (val.)"] == "1.01"
    assert vab["Aprėptis (%)"] == "0.14"
    assert vab["Spraga: Kamera nepasiekiama (val.)"] == "0.50"
    assert vab["Spraga: Kamera nustojo siųsti vaizdą (val.)"] == "2.00"
    assert vab["Sutrikimai"] == "2"
    assert vab["Įrašyta baitų"] == "362000"
    assert vab["Peržiūrėta valandų"] == "0.13"
    assert (vab["Kadrai"], vab["Eksportai"], vab["Uždėtos išsaugojimo žymos"]) == ("1", "1", "1")
    requests = list(csv.DictReader(io.StringIO(statistics_csv(stats, table="requests").decode("utf-8-sig"))))
    november = next(r for r in requests if r["Mėnuo"] == "2026-11")
    assert (november["Gauta"], november["Atsakyta laiku"], november["Laiku (%)"]) == ("3", "1", "50.00")
    assert november["Policijai pateikta"] == "1"


def test_a_specialist_sees_only_their_elderships_figures(known_month: KnownMonth, spec_pabirze: Any) -> None:
    stats = statistics(spec_pabirze, first=NOVEMBER[0], last=NOVEMBER[1])
    assert {row.site for row in stats.rows} == {"Pabiržė"}
    assert stats.total.recorded_seconds == 1800
    assert stats.requests is None  # requests are not per eldership a specialist may count


def test_the_dpo_sees_request_figures(known_month: KnownMonth, dpo: Any) -> None:
    assert statistics(dpo, first=NOVEMBER[0], last=NOVEMBER[1]).requests.total["received"] == 3


def test_clock_change_days_expect_23_and_25_hours(vabalninkas_camera: Any) -> None:
    type(vabalninkas_camera).objects.filter(pk=vabalninkas_camera.pk).update(installed_on=date(2026, 1, 1))
    now = at(1, 12, month=11)
    day_rollup(date(2026, 3, 29), now=now)
    day_rollup(date(2026, 10, 25), now=now)
    expected = dict(CameraDay.objects.filter(camera=vabalninkas_camera).values_list("day", "expected_seconds"))
    assert expected == {date(2026, 3, 29): 23 * 3600, date(2026, 10, 25): 25 * 3600}


def test_a_day_whose_footage_retention_deleted_keeps_its_figures(known_month: KnownMonth) -> None:
    before = CameraDay.objects.get(camera=known_month.vabalninkas, day=date(2026, 11, 10)).recorded_seconds
    Segment.objects.filter(camera=known_month.vabalninkas).delete()
    days_rollup(*NOVEMBER, now=ROLLED_UP_AT + timedelta(days=5))
    assert CameraDay.objects.get(camera=known_month.vabalninkas, day=date(2026, 11, 10)).recorded_seconds == before
    days_rollup(date(2026, 11, 10), date(2026, 11, 10), now=ROLLED_UP_AT + timedelta(days=5), force=True)
    assert CameraDay.objects.get(camera=known_month.vabalninkas, day=date(2026, 11, 10)).recorded_seconds == 0


def test_the_beat_job_keeps_today_and_yesterday_current(vabalninkas_camera: Any) -> None:
    type(vabalninkas_camera).objects.filter(pk=vabalninkas_camera.pk).update(installed_on=date(2026, 11, 1))
    segments_index(vabalninkas_camera, at(20, 8), count=6)
    with time_machine.travel(at(20, 9), tick=False):
        statistics_rollup_recent()
    today = CameraDay.objects.get(camera=vabalninkas_camera, day=date(2026, 11, 20))
    assert (today.recorded_seconds, today.expected_seconds, today.final) == (60, 9 * 3600, False)
    segments_index(vabalninkas_camera, at(20, 23), count=6)  # indexed late, after midnight
    with time_machine.travel(at(21, 0, 20), tick=False):
        statistics_rollup_recent()
        statistics_rollup_recent()  # twice: the same rows, not more
    today.refresh_from_db()
    assert (today.recorded_seconds, today.expected_seconds, today.final) == (120, 86_400, True)
    assert set(CameraDay.objects.filter(camera=vabalninkas_camera).values_list("day", flat=True)) == {
        date(2026, 11, 19), date(2026, 11, 20), date(2026, 11, 21)}


def test_a_year_of_statistics_reads_in_a_fixed_number_of_queries(
        known_month: KnownMonth, coordinator: Any, django_assert_max_num_queries: Any) -> None:
    with django_assert_max_num_queries(6):
        stats = statistics(coordinator, first=date(2026, 1, 1), last=date(2026, 12, 31))
    assert len(stats.months) == 12 and stats.total.recorded_seconds == 5420
