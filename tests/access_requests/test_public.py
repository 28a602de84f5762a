"""The public pages: the request form (no login), its confirmation, and the second-layer notices."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core import signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from access_requests import public
from access_requests.models import AccessRequest, Channel, RequestKind
from access_requests.services import submitter_key
from cameras.models import Camera, Controller
from safecam.audit import AuditAction
from safecam.models import AuditEvent
from safecam.timeranges import local_zone
from tests.factories import CameraFactory, footage_index

pytestmark = pytest.mark.django_db

FORM = "/request/"


@pytest.fixture
def controller(db: None) -> Controller:
    return Controller.objects.create(name="Biržų rajono savivaldybės administracija", code="188753243",
                                     address="Vytauto g. 38, LT-41143 Biržai", email="info@birzai.lt",
                                     dpo_email="dap@birzai.lt")


@pytest.fixture
def english(client: Client) -> Client:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def local_window(hours_ago: float = 3, minutes: int = 30) -> tuple[datetime, datetime]:
    """A window in Vilnius time, whole minutes, ending in the past."""
    start = (timezone.now() - timedelta(hours=hours_ago)).astimezone(local_zone()).replace(second=0, microsecond=0)
    return start, start + timedelta(minutes=minutes)


def form_data(place: Any, *, at_camera: Camera | None = None, start: datetime | None = None,
              end: datetime | None = None, **overrides: Any) -> dict[str, str]:
    if start is None or end is None:
        start, end = local_window()
    data = {"kind": RequestKind.ACCESS, "requester_name": "Ona Onaitė", "requester_email": "ona@example.lt",
            "requester_phone": "", "requester_address": "", "site": place.slug,
            "camera": str(at_camera.public_id) if at_camera else "",
            "date": start.strftime("%Y-%m-%d"), "time_from": start.strftime("%H:%M"),
            "date_to": end.strftime("%Y-%m-%d") if end.date() != start.date() else "",
            "time_to": end.strftime("%H:%M"),
            "description": "Vilkėjau raudoną striukę, ėjau pro seniūniją su šunimi.", "website": ""}
    data.update(overrides)
    return data


# --- the form ----------------------------------------------------------------------------------------

def test_it_shows_the_form_to_anyone_with_the_four_subject_rights(client: Client, registry: Any) -> None:
    response = client.get(FORM)
    assert response.status_code == 200
    kinds = [value for value, _label in response.context["form"].fields["kind"].choices]
    assert kinds == [RequestKind.ACCESS, RequestKind.ERASURE, RequestKind.RESTRICTION, RequestKind.OBJECTION]
    assert b'value="disclosure"' not in response.content
    assert b"csrfmiddlewaretoken" in response.content
    # Cameras grouped under their place, so a person finds theirs.
    assert re.search(r'<optgroup label="Pabiržė">.*Pabiržės bažnyčios šventorius', response.content.decode(), re.S)


def test_it_preselects_the_place_from_a_notice_link(client: Client, registry: Any) -> None:
    response = client.get(FORM, {"site": "pabirze"})
    assert re.search(r'<option value="pabirze" selected>', response.content.decode())


def test_it_registers_a_web_request_with_the_window_in_utc(client: Client, registry: Any, controller: Any,
                                                          english: Client) -> None:
    camera = registry["vabalninkas"][0]
    start, end = local_window(hours_ago=5, minutes=45)
    response = client.post(FORM, form_data(camera.site, at_camera=camera, start=start, end=end,
                                           kind=RequestKind.ERASURE, requester_phone="+370 612 34567",
                                           requester_address="Jaunimo g. 2, Vabalninkas"))
    assert response.status_code == 302
    assert response["Location"].startswith("/request/sent/")

    registered = AccessRequest.objects.get()
    assert registered.channel == Channel.WEB
    assert registered.kind == RequestKind.ERASURE
    assert registered.created_by is None
    assert (registered.window_start, registered.window_end) == (start.astimezone(UTC), end.astimezone(UTC))
    assert registered.site == camera.site and registered.camera == camera
    assert registered.requester_phone == "+370 612 34567"
    assert registered.submitted_from == submitter_key("127.0.0.1")
    event = AuditEvent.objects.get(action=AuditAction.REQUEST_RECEIVED)
    assert event.target_id == str(registered.public_id)
    assert event.actor is None and event.ip == "127.0.0.1"
    assert event.details["channel"] == Channel.WEB

    page = client.get(response["Location"])
    assert page.status_code == 200
    text = page.content.decode()
    assert registered.reference in text and re.fullmatch(r"SC-\d{4}-\d{4}", registered.reference)
    with translation.override("en"):
        assert f'data-testid="due-on">{date_format(registered.due_on, "SHORT_DATE_FORMAT")}<' in text
    for words in ("identity document", "qualified electronic signature", "epaslaugos.lt",
                  "signed letter with a copy of your identity document", "only after your identity is verified",
                  "blurred"):
        assert words in text
    assert "dap@birzai.lt" in text


def test_it_answers_a_reload_of_the_confirmation_without_registering_again(client: Client, registry: Any) -> None:
    location = client.post(FORM, form_data(registry["pabirze"][0].site))["Location"]
    assert client.get(location).status_code == 200
    assert client.get(location).status_code == 200
    assert AccessRequest.objects.count() == 1


def test_it_refuses_a_forged_or_stale_confirmation_link(client: Client, monkeypatch: pytest.MonkeyPatch,
                                                        db: None) -> None:
    forged = signing.dumps({"reference": "SC-2026-0001", "due_on": "2026-12-01"}, salt="another salt")
    assert client.get(reverse("public-request-sent", args=[forged])).status_code == 404
    assert client.get(reverse("public-request-sent", args=["garbage"])).status_code == 404
    real_time = signing.time.time
    monkeypatch.setattr(signing.time, "time", lambda: real_time() - 2 * 3600)
    stale = public._sent_token("SC-2026-0001", "2026-12-01")
    monkeypatch.setattr(signing.time, "time", real_time)
    assert client.get(reverse("public-request-sent", args=[stale])).status_code == 404
    fresh = public._sent_token("SC-2026-0001", "2026-12-01")
    assert client.get(reverse("public-request-sent", args=[fresh])).status_code == 200


def test_it_keeps_csrf_protection_on(registry: Any) -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(FORM, form_data(registry["pabirze"][0].site))
    assert response.status_code == 403
    assert not AccessRequest.objects.exists()
    # With the token from the page, the same browser gets through.
    page = strict.get(FORM)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    response = strict.post(FORM, {**form_data(registry["pabirze"][0].site), "csrfmiddlewaretoken": token})
    assert response.status_code == 302


# --- abuse --------------------------------------------------------------------------------------------

def test_it_throttles_a_flood_of_submissions_from_one_address(client: Client, registry: Any, controller: Any,
                                                              settings: Any, english: Client) -> None:
    settings.SAFECAM_PUBLIC_FORM_RATE = "3/h"
    site = registry["vabalninkas"][0].site
    for _ in range(3):
        assert client.post(FORM, form_data(site)).status_code == 302
    response = client.post(FORM, form_data(site))
    assert response.status_code == 429
    text = response.content.decode()
    assert "try again later" in text and "dap@birzai.lt" in text
    assert AccessRequest.objects.count() == 3
    # Reading the form is not counted; another address has its own allowance.
    assert client.get(FORM).status_code == 200
    assert client.post(FORM, form_data(site), REMOTE_ADDR="10.20.30.40").status_code == 302
    assert AccessRequest.objects.count() == 4


def test_it_refuses_an_oversized_body_before_reading_it(client: Client, registry: Any, english: Client) -> None:
    response = client.post(FORM, form_data(registry["pabirze"][0].site, description="ą" * 12_000))
    assert response.status_code == 413
    assert "too long" in response.content.decode() and "20 kB" in response.content.decode()
    assert not AccessRequest.objects.exists()


def _other_site_camera(registry: dict[str, list[Camera]]) -> str:
    return str(registry["pabirze"][0].public_id)


MALFORMED: list[tuple[str, Any, str | None]] = [
    ("impossible date", {"date": "2026-02-30"}, "date"),
    ("not a date", {"date": "vakar"}, "date"),
    ("impossible time", {"time_from": "25:61"}, "time_from"),
    ("reversed window", {"time_from": "14:00", "time_to": "13:00", "date_to": ""}, "time_to"),
    ("future window", lambda start, end: {"date": (start + timedelta(days=2)).strftime("%Y-%m-%d"),
                                          "date_to": (end + timedelta(days=2)).strftime("%Y-%m-%d")}, "date"),
    ("eight-day window", lambda start, end: {"date": (start - timedelta(days=9)).strftime("%Y-%m-%d"),
                                             "date_to": (start - timedelta(days=1)).strftime("%Y-%m-%d")}, "time_to"),
    ("camera of another site", "other-camera", "camera"),
    ("camera that does not exist", {"camera": "not-a-uuid"}, "camera"),
    ("no contact", {"requester_email": "", "requester_phone": ""}, "requester_email"),
    ("bad email", {"requester_email": "ona@"}, "requester_email"),
    ("letters for a phone", {"requester_email": "", "requester_phone": "call me"}, "requester_phone"),
    ("no name", {"requester_name": "  "}, "requester_name"),
    ("name too long", {"requester_name": "O" * 201}, "requester_name"),
    ("description too long", {"description": "d" * 2001}, "description"),
    ("a null character", {"requester_name": "Ona\x00"}, "requester_name"),
    ("disclosure is not offered", {"kind": RequestKind.DISCLOSURE}, "kind"),
    ("unknown place", {"site": "nowhere"}, "site"),
    ("honeypot filled", {"website": "http://spam.example"}, None),
]


@pytest.mark.parametrize(("case", "change", "field"), MALFORMED, ids=[case for case, _c, _f in MALFORMED])
def test_it_answers_malformed_input_with_the_form_and_its_messages(client: Client, registry: Any, case: str,
                                                                   change: Any, field: str | None) -> None:
    site = registry["vabalninkas"][0].site
    start, end = local_window(hours_ago=30, minutes=40)
    if change == "other-camera":
        change = {"camera": _other_site_camera(registry)}
    elif callable(change):
        change = change(start, end)
    response = client.post(FORM, form_data(site, start=start, end=end, **change))
    assert response.status_code == 400
    assert b'data-testid="form-errors"' in response.content
    errors = response.context["form"].errors
    assert (field or "__all__") in errors, errors
    assert not AccessRequest.objects.exists()


def test_it_empties_a_filled_honeypot_when_it_shows_the_form_again(client: Client, registry: Any) -> None:
    """Decision: a filled honeypot gets the form back (400) with a general message, not a fake
    success. A browser's autofill may fill a hidden field, and a person's request must never be
    dropped unseen; the field comes back empty, so their second try goes through."""
    site = registry["vabalninkas"][0].site
    response = client.post(FORM, form_data(site, website="http://spam.example"))
    assert response.status_code == 400
    assert b"http://spam.example" not in response.content
    assert client.post(FORM, form_data(site)).status_code == 302


def test_it_survives_garbage_of_every_kind(client: Client, registry: Any, settings: Any) -> None:
    settings.SAFECAM_PUBLIC_FORM_RATE = "100/h"
    for data in ({}, {"kind": ["access", "erasure"]}, {"site": "\x00"}, {"date": "9" * 300},
                 {"camera": "' OR 1=1 --"}, {"time_to": "-1"}):
        response = client.post(FORM, data)
        assert response.status_code == 400
    assert client.put(FORM).status_code == 405
    assert not AccessRequest.objects.exists()


# --- never reveal whether footage exists ----------------------------------------------------------------

def _normalised(content: bytes) -> str:
    text = content.decode()
    text = re.sub(r"SC-\d{4}-\d{4}", "SC-REF", text)
    text = re.sub(r"/request/sent/[^/\"]+/", "/request/sent/TOKEN/", text)
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', text)
    # The form shown again holds the times typed, which differ on purpose between the two tries.
    return re.sub(r'(name="(?:date|date_to|time_from|time_to)") value="[^"]*"', r"\1", text)


def test_it_never_reveals_whether_footage_exists(client: Client, registry: Any, controller: Any) -> None:
    camera = registry["vabalninkas"][0]
    recorded_start, recorded_end = local_window(hours_ago=6, minutes=30)
    empty_start, empty_end = local_window(hours_ago=3, minutes=30)
    footage_index(camera, recorded_start.astimezone(UTC) - timedelta(minutes=5), count=240, with_files=False)

    answers = {}
    with CaptureQueriesContext(connection) as queries:
        for name, (start, end) in {"recorded": (recorded_start, recorded_end),
                                   "empty": (empty_start, empty_end)}.items():
            sent = client.post(FORM, form_data(camera.site, at_camera=camera, start=start, end=end))
            page = client.get(sent["Location"])
            refused = client.post(FORM, form_data(camera.site, at_camera=camera, start=start, end=end,
                                                  requester_email=""))
            answers[name] = (sent.status_code, page.status_code, _normalised(page.content),
                             refused.status_code, _normalised(refused.content))
    assert answers["recorded"] == answers["empty"]
    assert answers["recorded"][:2] == (302, 200)
    assert not [query for query in queries.captured_queries if "footage_segment" in query["sql"]]
    assert AccessRequest.objects.count() == 2


# --- the notices ---------------------------------------------------------------------------------------

def test_it_lists_the_notices_of_every_eldership_publicly(client: Client, registry: Any) -> None:
    response = client.get(reverse("public-notice-index"))
    assert response.status_code == 200
    assert reverse("public-notice", args=["vabalninkas"]).encode() in response.content
    assert reverse("public-notice", args=["pabirze"]).encode() in response.content
    assert reverse("public-request").encode() in response.content


def test_it_shows_a_sites_cameras_purposes_and_retention_publicly(client: Client, registry: Any, controller: Any,
                                                                   english: Client,
                                                                   django_assert_max_num_queries: Any) -> None:
    site = registry["vabalninkas"][0].site
    CameraFactory(site=site, name="Vabalninko parkas", retention_hours=36, purpose="Parko apsauga nuo vandalizmo.")
    CameraFactory(site=site, name="Išjungta kamera", enabled=False)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("public-notice", args=["vabalninkas"]))
    assert response.status_code == 200
    text = response.content.decode()
    for camera in registry["vabalninkas"]:
        assert camera.name in text and camera.location in text
    assert "Viešosios tvarkos palaikymas seniūnijos centre." in text and "Parko apsauga nuo vandalizmo." in text
    assert "BDAR 6 straipsnio 1 dalies e punktas." in text
    assert "3 days" in text and "36 hours" in text
    assert "Išjungta kamera" not in text
    assert not any(camera.name in text for camera in registry["pabirze"])
    assert "Biržų rajono savivaldybės administracija" in text and "dap@birzai.lt" in text
    assert "L. Sapiegos g. 17, LT-10312 Vilnius" in text and "www.vdai.lrv.lt" in text
    for right in ("Art. 15", "Art. 17", "Art. 18", "Art. 21"):
        assert right in text
    assert "police" in text and "courts" in text
    assert f'href="{reverse("public-request")}?site=vabalninkas"' in text


def test_it_shows_a_notice_before_the_controller_is_entered(client: Client, registry: Any) -> None:
    response = client.get(reverse("public-notice", args=["pabirze"]))
    assert response.status_code == 200
    assert registry["pabirze"][0].name in response.content.decode()


def test_it_answers_an_unknown_place_with_404(client: Client, registry: Any) -> None:
    assert client.get("/privacy/nowhere/").status_code == 404
