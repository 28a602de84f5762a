"""Bad times and time ranges on every endpoint that takes them: a clear 4xx, never a 500, no trace.

Each endpoint is asked by a persona who may use it, so the permission check passes and the input
is what is tested. Good-but-unusual input (offsets +14:00 / -12:00, ``Z``) is accepted."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from access_requests.models import AccessRequest, Export, RequestFootage
from footage import playback
from footage.models import Hold, Incident
from reports.models import Report
from safecam.timeranges import RangeError, parse_instant, parse_range
from tests.access_requests.conftest import request_make
from tests.hardening.conftest import NoTrace, assert_api_refused, assert_page_refused

pytestmark = pytest.mark.django_db

GOOD = "2026-11-25T10:00:00+02:00"
GOOD_END = "2026-11-25T10:20:00+02:00"

# Strings that are not a usable moment, each for its own reason.
BAD_INSTANTS = {
    "month 13": "2026-13-01",
    "Feb 30 at 25:00": "2026-02-30T25:00",
    "exponent": "1e10",
    "now": "now",
    "NaN": "NaN",
    "empty": "",
    "skipped by DST (Vilnius)": "2026-03-29T03:30",
    "Arabic-Indic digits": "٢٠٢٦-١١-٢٥T10:00",
    "year 0001": "0001-01-01T00:00",
    "year 0001 with offset": "0001-01-01T00:00+05:00",
    "year 9999 with -12:00": "9999-12-31T23:59-12:00",
    "year 99999": "99999-01-01T00:00",
    "trailing NUL": "2026-11-25T10:00\x00",
    "offset +25:00": "2026-11-25T10:00+25:00",
    "1000 characters": "2026-11-25T10:00" + "0" * 984,
}
BAD_IDS = list(BAD_INSTANTS)

# Ranges that are not usable whatever the endpoint: reversed and empty. And one of centuries, where a
# maximum length applies.
BAD_RANGES = {
    "reversed": ("2026-11-25T12:00:00+02:00", "2026-11-25T10:00:00+02:00"),
    "zero length": ("2026-11-25T10:00:00+02:00", "2026-11-25T10:00:00+02:00"),
    "1970 to 2999": ("1970-01-01T00:00:00Z", "2999-12-31T00:00:00Z"),
}


# --- the one helper ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", BAD_INSTANTS.values(), ids=BAD_IDS)
def test_it_refuses_each_bad_instant_with_a_message_naming_the_field(value: str) -> None:
    with pytest.raises(RangeError, match="start"):
        parse_instant(value, field="start")


@pytest.mark.parametrize(("value", "utc"), [
    ("2026-11-25T10:00+14:00", "2026-11-24T20:00:00+00:00"),
    ("2026-11-25T10:00-12:00", "2026-11-25T22:00:00+00:00"),
    ("2026-11-25T10:00Z", "2026-11-25T10:00:00+00:00"),
    ("2026-11-25 10:00", "2026-11-25T08:00:00+00:00"),  # naive: Vilnius (EET)
    ("2026-07-01T10:00", "2026-07-01T07:00:00+00:00"),  # naive: Vilnius (EEST)
    ("2026-10-25T03:30", "2026-10-25T00:30:00+00:00"),  # the doubled hour without offset: the first time
    ("2026-10-25T03:30+03:00", "2026-10-25T00:30:00+00:00"),  # the doubled hour, first time
    ("2026-10-25T03:30+02:00", "2026-10-25T01:30:00+00:00"),  # … and second time
])
def test_it_reads_offsets_z_and_naive_vilnius_times(value: str, utc: str) -> None:
    assert parse_instant(value, field="t").astimezone(UTC).isoformat() == utc


def test_the_dst_messages_say_what_to_do() -> None:
    from django.utils import translation

    with translation.override("en"):
        with pytest.raises(RangeError, match="does not exist in Europe/Vilnius.*offset"):
            parse_instant("2026-03-29T03:30", field="start")
        with pytest.raises(RangeError, match="year 1 is outside 1970"):
            parse_instant("0001-01-02T00:00", field="start")


@pytest.mark.parametrize(("start", "end"), BAD_RANGES.values(), ids=list(BAD_RANGES))
def test_it_refuses_reversed_empty_and_overlong_ranges(start: str, end: str) -> None:
    with pytest.raises(RangeError):
        parse_range(start, end)


def test_a_range_at_the_edges_of_the_calendar_is_refused_not_crashed() -> None:
    # Once the year 1 in Vilnius (+01:41) became year 0 in UTC: an OverflowError, a 500.
    with pytest.raises(RangeError):
        parse_range("0001-01-01T00:00", "0001-01-01T01:00")


# --- query-string ranges: the timeline API and the HLS playlist -----------------------------------


@pytest.fixture
def spec_client(spec_vabalninkas: Any, api_client_for: Any) -> Any:
    return api_client_for(spec_vabalninkas)


def _timeline(client: Any, camera: Any, start: str, end: str) -> Any:
    return client.get(f"/api/v1/cameras/{camera.public_id}/timeline/?" + urlencode({"start": start, "end": end}))


@pytest.mark.parametrize("value", BAD_INSTANTS.values(), ids=BAD_IDS)
def test_the_timeline_api_refuses_bad_instants(value: str, spec_client: Any, vabalninkas_camera: Any) -> None:
    assert_api_refused(_timeline(spec_client, vabalninkas_camera, value, GOOD_END))
    assert_api_refused(_timeline(spec_client, vabalninkas_camera, GOOD, value))


@pytest.mark.parametrize(("start", "end"), BAD_RANGES.values(), ids=list(BAD_RANGES))
def test_the_timeline_api_refuses_bad_ranges(start: str, end: str, spec_client: Any, vabalninkas_camera: Any) -> None:
    assert_api_refused(_timeline(spec_client, vabalninkas_camera, start, end))


@pytest.mark.parametrize(("start", "end"), [("2026-11-25T10:00+14:00", "2026-11-25T10:00-12:00"),
                                            ("2026-11-25T08:00Z", "2026-11-25T10:30")])
def test_the_timeline_api_accepts_far_offsets_and_z(start: str, end: str, spec_client: Any,
                                                     vabalninkas_camera: Any) -> None:
    response = _timeline(spec_client, vabalninkas_camera, start, end)
    assert response.status_code == 200, response.content


@pytest.fixture
def playlist_url(spec_vabalninkas: Any, vabalninkas_camera: Any) -> str:
    session = playback.session_open(user=spec_vabalninkas, camera=vabalninkas_camera, mode="recorded")
    return playback.session_links(session)["playlist"]


@pytest.mark.parametrize(("start", "end"), [*[(v, GOOD_END) for v in BAD_INSTANTS.values()], *BAD_RANGES.values(),
                                            (GOOD, "2026-11-26T10:00:00+02:00")],
                         ids=[*BAD_IDS, *BAD_RANGES, "a day (over the playlist maximum)"])
def test_the_playlist_refuses_bad_ranges_in_plain_words(start: str, end: str, playlist_url: str, spec_vabalninkas: Any,
                                                       client_for: Any) -> None:
    client = client_for(spec_vabalninkas)
    with NoTrace():
        response = client.get(f"{playlist_url}?" + urlencode({"start": start, "end": end}))
    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("text/plain") and response.content


@pytest.mark.parametrize("value", BAD_INSTANTS.values(), ids=BAD_IDS)
def test_the_still_frame_refuses_bad_moments_and_records_no_still(value: str, public_order: Any, client_for: Any,
                                                                  vabalninkas_camera: Any) -> None:
    client = client_for(public_order)
    with NoTrace():
        response = client.get(f"/cameras/{vabalninkas_camera.public_id}/still.jpg?" + urlencode({"at": value}))
    assert response.status_code == 400, response.content


# --- bodies with times: holds, incidents, requests, footage, exports, reports ---------------------


def _hold_body(camera: Any, start: str, end: str) -> dict[str, Any]:
    return {"camera": str(camera.public_id), "start": start, "end": end, "reason": "Policijos prašymas",
            "review_on": "2026-12-31"}


@pytest.mark.parametrize(("start", "end"), [*[(v, GOOD_END) for v in BAD_INSTANTS.values()],
                                            *[(GOOD, v) for v in BAD_INSTANTS.values()],
                                            BAD_RANGES["reversed"], BAD_RANGES["zero length"]],
                         ids=[*[f"start {i}" for i in BAD_IDS], *[f"end {i}" for i in BAD_IDS], "reversed", "zero"])
def test_the_holds_api_refuses_bad_times_and_places_nothing(start: str, end: str, spec_client: Any,
                                                             vabalninkas_camera: Any) -> None:
    with NoTrace(Hold):
        assert_api_refused(spec_client.post("/api/v1/holds/", _hold_body(vabalninkas_camera, start, end),
                                            format="json"))


@pytest.mark.parametrize("expires_at", ["0001-01-01T00:00", "2026-03-29T03:30", "not a time"])
def test_the_holds_api_refuses_a_bad_expiry(expires_at: str, spec_client: Any, vabalninkas_camera: Any) -> None:
    body = {**_hold_body(vabalninkas_camera, GOOD, GOOD_END), "expires_at": expires_at}
    body.pop("review_on")
    with NoTrace(Hold):
        assert_api_refused(spec_client.post("/api/v1/holds/", body, format="json"))


@pytest.mark.parametrize(("start", "end"), [*[(v, GOOD_END) for v in BAD_INSTANTS.values()], *BAD_RANGES.values()],
                         ids=[*BAD_IDS, *BAD_RANGES])
def test_the_incidents_api_refuses_bad_times_and_marks_nothing(start: str, end: str, spec_client: Any,
                                                                vabalninkas_camera: Any) -> None:
    body = {"camera": str(vabalninkas_camera.public_id), "start": start, "end": end, "note": "Muštynės",
            "place_hold": True}
    with NoTrace(Incident, Hold):
        assert_api_refused(spec_client.post("/api/v1/incidents/", body, format="json"))


@pytest.mark.parametrize(("start", "end"), [*[(v, "2026-11-25T10:20") for v in BAD_INSTANTS.values()],
                                            ("2026-11-25T12:00", "2026-11-25T10:00"),
                                            ("2026-11-25T10:00", "2026-11-25T10:00")],
                         ids=[*BAD_IDS, "reversed", "zero"])
def test_the_hold_form_shows_an_error_and_places_nothing(start: str, end: str, spec_vabalninkas: Any,
                                                          client_for: Any, vabalninkas_camera: Any) -> None:
    client = client_for(spec_vabalninkas)
    with NoTrace(Hold):
        response = client.post(f"/cameras/{vabalninkas_camera.public_id}/holds/new/",
                               {"start": start, "end": end, "reason": "Policijos prašymas", "review_on": "2026-12-31"})
    page = assert_page_refused(response, (200,))
    assert "is-invalid" in page or "errorlist" in page or "invalid-feedback" in page


def _request_body(start: str, end: str) -> dict[str, Any]:
    return {"kind": "access", "channel": "email", "requester_name": "Jonas Jonaitis",
            "requester_email": "jonas@example.lt", "description": "Raudona striukė", "window_start": start,
            "window_end": end}


@pytest.mark.parametrize(("start", "end"), [*[(v, GOOD_END) for v in BAD_INSTANTS.values()], *BAD_RANGES.values()],
                         ids=[*BAD_IDS, *BAD_RANGES])
def test_the_requests_api_refuses_bad_windows_and_registers_nothing(start: str, end: str, dpo: Any,
                                                                    api_client_for: Any) -> None:
    client = api_client_for(dpo)
    with NoTrace(AccessRequest):
        assert_api_refused(client.post("/api/v1/access-requests/", _request_body(start, end), format="json"))


@pytest.mark.parametrize("received_at", ["0001-01-01T00:00", "9999-12-31T23:59-12:00", "2026-03-29T03:30"])
def test_the_requests_api_refuses_a_bad_received_at(received_at: str, dpo: Any, api_client_for: Any) -> None:
    client = api_client_for(dpo)
    body = {**_request_body("2026-11-25T10:00Z", "2026-11-25T11:00Z"), "received_at": received_at}
    with NoTrace(AccessRequest):
        assert_api_refused(client.post("/api/v1/access-requests/", body, format="json"))


@pytest.mark.parametrize(("start", "end"), [("0001-01-01T00:00", "2026-11-25T10:20"),
                                            ("2026-03-29T03:30", "2026-03-29T05:00"),
                                            ("2026-11-25T12:00", "2026-11-25T10:00")],
                         ids=["year 0001", "skipped by DST", "reversed"])
def test_the_request_form_shows_an_error_and_registers_nothing(start: str, end: str, dpo: Any,
                                                                client_for: Any) -> None:
    client = client_for(dpo)
    body = {**_request_body(start, end), "received_at": "2026-11-25T09:00"}
    with NoTrace(AccessRequest):
        assert_page_refused(client.post("/requests/new/", body), (200, 400))


@pytest.fixture
def open_request(dpo: Any, vabalninkas_camera: Any) -> AccessRequest:
    return request_make(by=dpo, camera=vabalninkas_camera)


@pytest.mark.parametrize(("start", "end"), [*[(v, GOOD_END) for v in BAD_INSTANTS.values()], *BAD_RANGES.values()],
                         ids=[*BAD_IDS, *BAD_RANGES])
def test_attaching_footage_refuses_bad_ranges_and_holds_nothing(start: str, end: str, dpo: Any, api_client_for: Any,
                                                               open_request: AccessRequest,
                                                               vabalninkas_camera: Any) -> None:
    client = api_client_for(dpo)
    body = {"camera": str(vabalninkas_camera.public_id), "start": start, "end": end, "note": ""}
    with NoTrace(RequestFootage, Hold):
        assert_api_refused(client.post(f"/api/v1/access-requests/{open_request.public_id}/footage/", body,
                                       format="json"))


@pytest.mark.parametrize(("start", "end"), [("0001-01-01T00:00", "2026-11-25T10:20"),
                                            ("2026-10-25T03:30", "2026-10-25T03:50"),
                                            ("2026-11-25T12:00", "2026-11-25T10:00")],
                         ids=["year 0001", "doubled by DST", "reversed"])
def test_the_attach_form_shows_an_error_and_holds_nothing(start: str, end: str, dpo: Any, client_for: Any,
                                                          open_request: AccessRequest,
                                                          vabalninkas_camera: Any) -> None:
    client = client_for(dpo)
    with NoTrace(RequestFootage, Hold):
        response = client.post(f"/requests/{open_request.public_id}/footage/",
                               {"camera": str(vabalninkas_camera.public_id), "start": start, "end": end})
    assert_page_refused(response, (200, 302, 400))


@pytest.mark.parametrize(("start", "end"), [("0001-01-01T00:00", None), ("2026-03-29T03:30", None),
                                            ("not a time", None), ("reversed", "reversed")],
                         ids=["year 0001", "skipped by DST", "garbage", "reversed"])
def test_an_export_refuses_bad_times_and_queues_nothing(start: str, end: Any, dpo: Any, api_client_for: Any,
                                                        open_request: AccessRequest, vabalninkas_camera: Any) -> None:
    from access_requests.services import footage_attach

    found = footage_attach(request=open_request, camera=vabalninkas_camera, by=dpo,
                           start=open_request.window_start, end=open_request.window_start + timedelta(minutes=5))
    if start == "reversed":
        start, end = (found.end.isoformat(), found.start.isoformat())
    body = {"footage": str(found.public_id), "start": start, "end": end or found.end.isoformat()}
    client = api_client_for(dpo)
    with NoTrace(Export):
        assert_api_refused(client.post("/api/v1/exports/", body, format="json"))


@pytest.mark.parametrize(("day", "time_from", "time_to"), [("0001-01-01", "00:10", "00:30"),
                                                          ("9999-12-31", "23:00", "23:30"),
                                                          ("2026-02-30", "10:00", "11:00"),
                                                          ("2026-11-25", "25:00", "26:00")])
def test_the_public_form_refuses_impossible_dates_and_registers_nothing(day: str, time_from: str, time_to: str,
                                                                        client: Any, vabalninkas: Any) -> None:
    body = {"kind": "access", "requester_name": "Jonas Jonaitis", "requester_email": "jonas@example.lt",
            "site": vabalninkas.slug, "date": day, "time_from": time_from, "time_to": time_to,
            "description": "Raudona striukė"}
    with NoTrace(AccessRequest):
        assert_page_refused(client.post("/request/", body), (200, 400))


# --- months and days: statistics and reports -------------------------------------------------------

BAD_MONTHS = {"month 13": ("2026-13", ""), "reversed": ("2026-11", "2026-01"), "words": ("last year", ""),
              "year 0001 (end only)": ("", "0001-01"), "year 9999": ("9999-12", "9999-12"),
              "1970 to 2999": ("1970-01", "2999-12"), "unicode digits": ("٢٠٢٦-١١", "")}


@pytest.mark.parametrize(("start", "end"), BAD_MONTHS.values(), ids=list(BAD_MONTHS))
def test_the_statistics_api_refuses_bad_months(start: str, end: str, coordinator: Any, api_client_for: Any) -> None:
    client = api_client_for(coordinator)
    query = {k: v for k, v in {"start": start, "end": end}.items() if v}
    assert_api_refused(client.get("/api/v1/statistics/?" + urlencode(query)))


@pytest.mark.parametrize(("start", "end"), BAD_MONTHS.values(), ids=list(BAD_MONTHS))
def test_the_statistics_page_shows_an_error_for_bad_months(start: str, end: str, coordinator: Any,
                                                           client_for: Any) -> None:
    query = {k: v for k, v in {"start": start, "end": end}.items() if v}
    assert_page_refused(client_for(coordinator).get("/statistics/?" + urlencode(query)), (200, 400))


BAD_PERIODS = {"reversed": ("2026-06-30", "2026-01-01"), "year 9999": ("9999-12-01", "9999-12-31"),
               "year 0001": ("0001-01-01", "0001-01-31"), "1970 to 2999": ("1970-01-01", "2999-12-31"),
               "Feb 30": ("2026-02-30", "2026-03-31")}


@pytest.mark.parametrize(("start", "end"), BAD_PERIODS.values(), ids=list(BAD_PERIODS))
def test_the_reports_api_refuses_bad_periods_and_queues_nothing(start: str, end: str, coordinator: Any,
                                                                api_client_for: Any) -> None:
    client = api_client_for(coordinator)
    body = {"kind": "progress", "language": "lt", "period_start": start, "period_end": end, "problems": ""}
    with NoTrace(Report):
        assert_api_refused(client.post("/api/v1/reports/", body, format="json"))


@pytest.mark.parametrize(("start", "end"), BAD_PERIODS.values(), ids=list(BAD_PERIODS))
def test_the_report_form_shows_an_error_and_queues_nothing(start: str, end: str, coordinator: Any,
                                                           client_for: Any) -> None:
    client = client_for(coordinator)
    body = {"kind": "progress", "language": "lt", "period_start": start, "period_end": end, "problems": ""}
    with NoTrace(Report):
        assert_page_refused(client.post("/reports/", body), (200, 400))
