"""The DPO's registers: the request register, the disclosure log, the Art. 30 record, and their CSVs."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access_requests import registers
from access_requests.models import (AccessRequest, DeliveryMethod, Export, ExportStatus, RecipientKind, RequestKind,
                                    RequestState)
from access_requests.services import delivery_create, footage_attach, request_move
from cameras.models import Camera, Controller
from safecam.models import AuditEvent
from tests.access_requests.conftest import request_make
from tests.conftest import PERSONAS
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

PAGES = {"request-register": "/requests/register/", "disclosure-log": "/requests/disclosures/",
         "processing-record": "/records/processing/"}
ALLOWED = {"dpo", "superuser"}


def _english(client: Client) -> Client:
    """Compare CSV cells with the English source strings (the UI is Lithuanian by default)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def _csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment; filename=")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM, for Excel
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _references(response: Any) -> list[str]:
    assert response.status_code == 200
    return [row.request.reference for row in response.context["rows"]]


def _disclose(request: AccessRequest, *, by: Any, camera: Camera, method: str = DeliveryMethod.MEDIUM,
              delivered_on: date | None = None) -> AccessRequest:
    """The whole workflow: identity, search, footage found and attached, review, disclosed."""
    request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=by, identity_method="official")
    request_move(request=request, to=RequestState.SEARCHING, by=by)
    footage_attach(request=request, camera=camera, start=request.window_start,
                   end=request.window_start + timedelta(minutes=10), by=by)
    request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=by)
    request_move(request=request, to=RequestState.REVIEW, by=by)
    return request_move(request=request, to=RequestState.DISCLOSED, by=by, delivery_method=method,
                        delivered_on=delivered_on)


def _packaged(request: AccessRequest, *, by: Any, sha: str = "ab" * 32) -> Export:
    """A packaged export of the request's first range (the render job's end state, written directly)."""
    found = request.footage.get()
    return Export.objects.create(request=request, footage=found, camera=found.camera, start=found.start,
                                 end=found.end, status=ExportStatus.DONE, package_name="exports/p.zip",
                                 package_sha256=sha, package_size=1234, created_by=by, approved_by=by,
                                 approved_at=timezone.now())


def _linked(request: AccessRequest, *, by: Any, camera: Camera, recipient: str = "Tyrėjas Petraitis") -> Any:
    """A request in review with a packaged export and a download link (the request stays open)."""
    request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=by, identity_method="official")
    request_move(request=request, to=RequestState.SEARCHING, by=by)
    footage_attach(request=request, camera=camera, start=request.window_start,
                   end=request.window_start + timedelta(minutes=10), by=by)
    request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=by)
    return delivery_create(export=_packaged(request, by=by), by=by, recipient=recipient)


# --- who may see the registers --------------------------------------------------------------------

@pytest.mark.door("request-register", "disclosure-log", "processing-record")
@pytest.mark.parametrize("fmt", ["html", "csv"])
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("name", [*PERSONAS, "superuser"])
def test_it_shows_the_registers_to_the_dpo_and_the_administrator_only(
    name: str, page: str, fmt: str, persona: Any, client_for: Any, registry: Any,
) -> None:
    user = persona(name)
    request_make(by=persona("dpo"), camera=registry["vabalninkas"][0])
    response = client_for(user).get(PAGES[page], {"format": "csv"} if fmt == "csv" else {})
    if name == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(settings.LOGIN_URL)
    elif name in ALLOWED:
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv" if fmt == "csv" else "text/html")
    else:
        assert response.status_code == 404
    exported = AuditEvent.objects.filter(action=registers.REGISTER_EXPORTED).count()
    assert exported == (1 if fmt == "csv" and name in ALLOWED else 0)


def test_it_hides_the_registers_from_the_officer_who_filed_a_disclosure_request(
    public_order: Any, client_for: Any, registry: Any,
) -> None:
    mine = request_make(by=public_order, kind=RequestKind.DISCLOSURE, camera=registry["pabirze"][0])
    assert AccessRequest.objects.restrict(public_order, "view").get() == mine  # they do see their own request
    for path in PAGES.values():
        assert client_for(public_order).get(path).status_code == 404


# --- the request register -------------------------------------------------------------------------

@pytest.fixture
def three(dpo: Any, registry: dict[str, list[Camera]]) -> dict[str, AccessRequest]:
    """An open access request (January), an open police request (June), a refused erasure (October)."""
    vabalninkas, pabirze = registry["vabalninkas"][0], registry["pabirze"][0]
    access = request_make(by=dpo, camera=vabalninkas, requester_name="Jonas Jonaitis",
                          received_at=datetime(2026, 1, 15, 8, 30, tzinfo=UTC),
                          start=datetime(2026, 1, 14, 16, 0, tzinfo=UTC))
    police = request_make(by=dpo, kind=RequestKind.DISCLOSURE, camera=pabirze,
                          received_at=datetime(2026, 6, 10, 9, 0, tzinfo=UTC),
                          start=datetime(2026, 6, 9, 21, 0, tzinfo=UTC))
    erasure = request_make(by=dpo, kind=RequestKind.ERASURE, site=vabalninkas.site, requester_name="Žydrūnė Šalkauskė",
                           received_at=datetime(2026, 10, 1, 7, 0, tzinfo=UTC),
                           start=datetime(2026, 9, 30, 12, 0, tzinfo=UTC))
    erasure = request_move(request=erasure, to=RequestState.REFUSED, by=dpo,
                           refusal_reasons="Identity not proven.")
    return {"access": access, "police": police, "erasure": erasure}


def test_it_lists_every_request_newest_first_with_overdue_ones_marked(
    dpo: Any, client_for: Any, three: dict[str, AccessRequest],
) -> None:
    response = client_for(dpo).get("/requests/register/")
    assert _references(response) == [three[k].reference for k in ("erasure", "police", "access")]
    overdue = {row.request.reference for row in response.context["rows"] if row.overdue}
    assert overdue == {three["access"].reference, three["police"].reference}  # the refused one is closed
    page = response.content.decode()
    assert page.count('data-testid="overdue"') == 2
    assert "Žydrūnė Šalkauskė" in page and "Vabalninko aikštė" in page
    # Received 08:30 UTC: 10:30 in Vilnius in January, in the Lithuanian short format.
    assert "2026-01-15 10:30" in page and "2026-01-15 08:30" not in page


@pytest.mark.parametrize(("query", "expected"), [
    ({"kind": "disclosure"}, ["police"]),
    ({"state": "refused"}, ["erasure"]),
    ({"status": "open"}, ["police", "access"]),
    ({"status": "closed"}, ["erasure"]),
    ({"received_from": "2026-06-10", "received_to": "2026-10-01"}, ["erasure", "police"]),
    ({"received_to": "2026-01-15"}, ["access"]),
    ({"received_from": "2026-01-16", "received_to": "2026-06-09"}, []),
    ({"site": "pabirze"}, ["police"]),
    ({"site": "vabalninkas"}, ["erasure", "access"]),
    ({"q": "jonait"}, ["access"]),
    ({"q": "VPK Biržų"}, ["police"]),
    ({"kind": "access", "site": "pabirze"}, []),
])
def test_it_narrows_the_register_by_the_filters(
    query: dict[str, str], expected: list[str], dpo: Any, client_for: Any, three: dict[str, AccessRequest],
) -> None:
    assert _references(client_for(dpo).get("/requests/register/", query)) == [three[k].reference for k in expected]


def test_it_finds_a_request_by_its_reference(dpo: Any, client_for: Any, three: dict[str, AccessRequest]) -> None:
    reference = three["police"].reference
    assert _references(client_for(dpo).get("/requests/register/", {"q": reference.lower()})) == [reference]


def test_it_shows_a_mistyped_filter_and_downloads_nothing_with_it(
    dpo: Any, client_for: Any, three: dict[str, AccessRequest],
) -> None:
    client = client_for(dpo)
    response = client.get("/requests/register/", {"received_from": "31/31/2026", "kind": "bogus", "site": "atlantis"})
    assert response.status_code == 200 and response.content.decode().count("is-invalid") == 3
    backwards = client.get("/requests/register/", {"received_from": "2026-06-01", "received_to": "2026-01-01"})
    assert "is-invalid" in backwards.content.decode()
    refused = client.get("/requests/register/", {"received_from": "31/31/2026", "format": "csv"})
    assert refused["Content-Type"].startswith("text/html")
    assert not AuditEvent.objects.filter(action=registers.REGISTER_EXPORTED).exists()


def test_it_downloads_the_filtered_register_as_csv_with_local_times(
    dpo: Any, client_for: Any, three: dict[str, AccessRequest],
) -> None:
    verified = request_move(request=three["access"], to=RequestState.IDENTITY_VERIFIED, by=dpo,
                            identity_method="id_document")
    rows = _csv(_english(client_for(dpo)).get("/requests/register/", {"site": "vabalninkas", "format": "csv"}))
    assert [row["Reference"] for row in rows] == [three["erasure"].reference, three["access"].reference]
    erasure, access = rows
    assert list(access)[:5] == ["Reference", "Type", "Received", "Channel", "Requester"]
    assert access["Type"] == "Subject access (Art. 15)" and access["Channel"] == "Email"
    assert access["Received"] == "2026-01-15T10:30:00+02:00"
    assert access["Window from"] == "2026-01-14T18:00:00+02:00"
    assert access["Place"] == "Vabalninkas" and access["Camera"] == "Vabalninko aikštė"
    assert access["State"] == "Identity verified" and access["Overdue"] == "yes"
    assert access["Due"] == three["access"].due_on.isoformat()
    assert access["Identity checked by"] == "Identity document shown in person"
    assert access["Identity verified by"] == "dpo"
    assert access["Identity verified"] == timezone.localtime(verified.identity_verified_at).isoformat(
        timespec="seconds")
    assert erasure["Requester"] == "Žydrūnė Šalkauskė" and erasure["Camera"] == ""
    assert erasure["State"] == "Refused" and erasure["Overdue"] == "no"
    assert erasure["Reasons for refusal"] == "Identity not proven."
    assert erasure["Closed"].startswith(timezone.localdate().isoformat())
    event = AuditEvent.objects.get(action=registers.REGISTER_EXPORTED)
    assert event.actor == dpo
    assert event.details == {"register": "requests", "filters": {"site": "vabalninkas"}, "rows": 2}


def test_it_defuses_text_a_spreadsheet_would_run_as_a_formula(
    dpo: Any, client_for: Any, registry: Any,
) -> None:
    request_make(by=None, camera=registry["vabalninkas"][0], requester_name='=HYPERLINK("http://x","y")')
    rows = _csv(_english(client_for(dpo)).get("/requests/register/", {"format": "csv"}))
    assert rows[0]["Requester"] == '\'=HYPERLINK("http://x","y")'


def test_it_pages_the_register_by_fifty(dpo: Any, client_for: Any, registry: Any) -> None:
    for _n in range(51):
        request_make(by=dpo, camera=registry["pabirze"][0])
    client = client_for(dpo)
    first = client.get("/requests/register/", {"site": "pabirze"})
    assert len(first.context["rows"]) == 50 and first.context["page"].paginator.num_pages == 2
    assert "site=pabirze&amp;page=2" in first.content.decode()
    assert len(client.get("/requests/register/", {"site": "pabirze", "page": 2}).context["rows"]) == 1
    assert len(_csv(client.get("/requests/register/", {"site": "pabirze", "page": 2, "format": "csv"}))) == 51


# --- the disclosure log ---------------------------------------------------------------------------

@pytest.fixture
def released(dpo: Any, registry: dict[str, list[Camera]]) -> dict[str, Any]:
    """A police request delivered by link (Pabiržė), a subject's footage handed over on a medium and one
    shown at a viewing (Vabalninkas), and a request still being searched (nothing left)."""
    vabalninkas, pabirze = registry["vabalninkas"][0], registry["pabirze"][0]
    police = request_make(by=dpo, kind=RequestKind.DISCLOSURE, camera=pabirze,
                          start=timezone.now() - timedelta(days=2))
    link = _linked(police, by=dpo, camera=pabirze)
    medium = request_make(by=dpo, camera=vabalninkas, requester_name="Ona Onaitė",
                          start=timezone.now() - timedelta(days=3))
    medium = _disclose(medium, by=dpo, camera=vabalninkas, method=DeliveryMethod.MEDIUM,
                       delivered_on=date(2026, 3, 2))
    _packaged(medium, by=dpo, sha="cd" * 32)
    viewing = request_make(by=dpo, camera=vabalninkas, requester_name="Petras Petraitis",
                           start=timezone.now() - timedelta(days=4))
    viewing = _disclose(viewing, by=dpo, camera=vabalninkas, method=DeliveryMethod.VIEWING,
                        delivered_on=date(2026, 5, 20))
    request_make(by=dpo, camera=vabalninkas, requester_name="Nieko Negavęs")
    return {"police": police, "link": link, "medium": medium, "viewing": viewing}


def _logged(response: Any) -> list[str]:
    assert response.status_code == 200
    return [row.request.reference for row in response.context["page"]]


def test_it_logs_every_time_footage_left(dpo: Any, client_for: Any, released: dict[str, Any]) -> None:
    response = client_for(dpo).get("/requests/disclosures/")
    refs = {name: released[name].reference for name in ("police", "medium", "viewing")}
    assert _logged(response) == [refs["police"], refs["viewing"], refs["medium"]]  # newest first
    page = response.content.decode()
    assert "Nieko Negavęs" not in page
    assert "ab" * 32 in page and "cd" * 32 in page
    assert "BPK 97 str." in page and "Pabiržės bažnyčios šventorius" in page
    assert "0 / 3" in page


@pytest.mark.parametrize(("query", "expected"), [
    ({"recipient_kind": "police"}, ["police"]),
    ({"recipient_kind": "subject"}, ["viewing", "medium"]),
    ({"recipient_kind": "court"}, []),
    ({"site": "pabirze"}, ["police"]),
    ({"site": "vabalninkas"}, ["viewing", "medium"]),
    ({"delivered_from": "2026-03-01", "delivered_to": "2026-03-31"}, ["medium"]),
    ({"delivered_from": "2026-05-20", "delivered_to": "2026-05-20"}, ["viewing"]),
])
def test_it_narrows_the_disclosure_log_by_the_filters(
    query: dict[str, str], expected: list[str], dpo: Any, client_for: Any, released: dict[str, Any],
) -> None:
    assert _logged(client_for(dpo).get("/requests/disclosures/", query)) == [released[k].reference for k in expected]


def test_it_narrows_the_disclosure_log_to_the_day_a_link_was_made(
    dpo: Any, client_for: Any, released: dict[str, Any],
) -> None:
    today = timezone.localdate().isoformat()
    assert _logged(client_for(dpo).get("/requests/disclosures/", {"delivered_from": today})) == [
        released["police"].reference]


def test_it_downloads_the_disclosure_log_as_csv(dpo: Any, client_for: Any, released: dict[str, Any]) -> None:
    rows = _csv(_english(client_for(dpo)).get("/requests/disclosures/", {"format": "csv", "recipient_kind": "police"}))
    assert len(rows) == 1
    police, link = rows[0], released["link"]
    assert police["Reference"] == released["police"].reference
    assert police["Recipient"] == "Panevėžio apskrities VPK Biržų r. policijos komisariatas"
    assert police["Recipient kind"] == "Police" and police["Link for"] == "Tyrėjas Petraitis"
    assert police["Legal basis"] == "BPK 97 str.; Policijos veiklos įstatymo 23 str."
    assert police["Footage"].startswith("Pabiržės bažnyčios šventorius (Pabiržė) ")
    assert police["Export status"] == "Approved and packaged" and police["Package SHA-256"] == "ab" * 32
    assert police["Delivered by"] == "Expiring download link"
    assert police["Delivered"] == timezone.localtime(link.created_at).isoformat(timespec="seconds")
    assert (police["Downloads"], police["Download limit"]) == ("0", "3")
    assert police["Link expires"] == timezone.localtime(link.expires_at).isoformat(timespec="seconds")
    subjects = _csv(_english(client_for(dpo)).get("/requests/disclosures/", {"format": "csv",
                                                                             "recipient_kind": "subject"}))
    assert [(row["Recipient"], row["Recipient kind"], row["Delivered by"], row["Delivered"]) for row in subjects] == [
        ("Petras Petraitis", "The data subject", "Viewed at the municipality", "2026-05-20"),
        ("Ona Onaitė", "The data subject", "Handed over on a physical medium", "2026-03-02")]
    assert subjects[0]["Legal basis"] == "Subject access (Art. 15)"
    assert subjects[1]["Package SHA-256"] == "cd" * 32
    assert [event.details["register"] for event in AuditEvent.objects.filter(action=registers.REGISTER_EXPORTED)
            .order_by("seq")] == ["disclosures", "disclosures"]


# --- the record of processing activities ----------------------------------------------------------

def test_it_records_every_camera_with_purpose_legal_basis_and_retention(
    dpo: Any, client_for: Any, registry: dict[str, list[Camera]], vabalninkas: Any,
) -> None:
    Controller.objects.create(name="Biržų rajono savivaldybės administracija", code="188753080",
                              address="Vytauto g. 38, LT-41143 Biržai", dpo_email="dap@birzai.lt")
    kept = CameraFactory(site=vabalninkas, name="Turgaus aikštė", retention_hours=168,
                         purpose="Turgaus prekybos vietų stebėjimas.", legal_basis="Vietos savivaldos įstatymas.",
                         retention_justification="Turgaus dienos kas savaitę.")
    cameras = list(Camera.objects.all())
    response = client_for(dpo).get("/records/processing/")
    assert response.status_code == 200
    assert [row.camera for row in response.context["record"].rows] == cameras  # every camera, site by site
    page = response.content.decode()
    assert "dap@birzai.lt" in page and "188753080" in page
    assert "Turgaus prekybos vietų stebėjimas." in page and "Turgaus dienos kas savaitę." in page
    assert page.count('data-testid="processing-row"') == len(cameras) == 5

    rows = _csv(_english(client_for(dpo)).get("/records/processing/", {"format": "csv"}))
    assert [(row["Site"], row["Camera"]) for row in rows] == [(c.site.name, c.name) for c in cameras]
    by_name = {row["Camera"]: row for row in rows}
    for camera in cameras:
        row = by_name[camera.name]
        assert (row["Purpose"], row["Legal basis"], row["Retention (hours)"]) == (
            camera.purpose, camera.legal_basis, str(camera.retention_hours))
        assert row["Controller"] == "Biržų rajono savivaldybės administracija"
        assert row["Data protection officer"] == "dap@birzai.lt"
        assert row["Categories of personal data"] == "Video images (no audio)"
        assert row["Transfers outside the EU"].startswith("None")
        assert camera.site.name in row["Categories of data subjects"]
        assert "hash chain" in row["Security measures"] and "police" in row["Recipients"].lower()
    assert by_name[kept.name]["Justification for longer retention"] == "Turgaus dienos kas savaitę."
    assert by_name["Vabalninko aikštė"]["Justification for longer retention"] == ""
    assert AuditEvent.objects.get(action=registers.REGISTER_EXPORTED).details["register"] == "processing"


def test_it_says_when_the_controller_is_not_entered(dpo: Any, client_for: Any, registry: Any) -> None:
    response = client_for(dpo).get("/records/processing/")
    assert response.status_code == 200 and 'data-testid="controller"' not in response.content.decode()
    assert response.context["record"].controller is None


# --- query counts ---------------------------------------------------------------------------------

def _queries(client: Client, path: str, query: dict[str, str]) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, query)
    assert response.status_code == 200
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_it_reads_the_register_in_a_fixed_number_of_queries(
    fmt: str, dpo: Any, client_for: Any, registry: dict[str, list[Camera]], django_assert_max_num_queries: Any,
) -> None:
    def add(count: int) -> None:
        for n in range(count):
            made = request_make(by=dpo, camera=registry["vabalninkas" if n % 2 else "pabirze"][n % 2],
                                kind=RequestKind.DISCLOSURE if n % 3 == 0 else RequestKind.ACCESS)
            if n % 2:
                request_move(request=made, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="e_signature")

    query = {"format": "csv"} if fmt == "csv" else {"site": "vabalninkas"}
    client = client_for(dpo)
    add(3)
    client.get("/requests/register/", query)  # warm per-process caches (content types, translations)
    few = _queries(client, "/requests/register/", query)
    add(27)
    with django_assert_max_num_queries(16):
        many = _queries(client, "/requests/register/", query)
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_it_reads_the_disclosure_log_in_a_fixed_number_of_queries(
    fmt: str, dpo: Any, client_for: Any, registry: dict[str, list[Camera]], django_assert_max_num_queries: Any,
) -> None:
    def add(count: int) -> None:
        for n in range(count):
            camera = registry["vabalninkas" if n % 2 else "pabirze"][n % 2]
            made = request_make(by=dpo, camera=camera, kind=RequestKind.DISCLOSURE, recipient_kind=RecipientKind.COURT,
                                start=timezone.now() - timedelta(days=1, minutes=n))
            if n % 2:
                _linked(made, by=dpo, camera=camera)
            else:
                _packaged(_disclose(made, by=dpo, camera=camera), by=dpo)

    query = {"format": "csv"} if fmt == "csv" else {"recipient_kind": "court"}
    client = client_for(dpo)
    add(3)
    client.get("/requests/disclosures/", query)
    few = _queries(client, "/requests/disclosures/", query)
    add(27)
    assert len(_logged(client.get("/requests/disclosures/"))) == 30
    with django_assert_max_num_queries(16):
        many = _queries(client, "/requests/disclosures/", query)
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("fmt", ["html", "csv"])
def test_it_reads_the_processing_record_in_a_fixed_number_of_queries(
    fmt: str, dpo: Any, client_for: Any, registry: dict[str, list[Camera]], vabalninkas: Any, pabirze: Any,
    django_assert_max_num_queries: Any,
) -> None:
    query = {"format": "csv"} if fmt == "csv" else {}
    client = client_for(dpo)
    client.get("/records/processing/", query)
    few = _queries(client, "/records/processing/", query)
    CameraFactory.create_batch(13, site=vabalninkas)
    CameraFactory.create_batch(13, site=pabirze)
    with django_assert_max_num_queries(14):
        many = _queries(client, "/records/processing/", query)
    assert len(many) == len(few), "\n".join(many)
