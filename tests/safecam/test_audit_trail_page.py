"""The DPO's audit trail page: who may open it, its filters, its pages, its downloads, and the chain's verdict."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.urls import reverse

from cameras.models import Camera
from safecam import audit, selectors, verification
from safecam.audit import AuditAction, audit_chain_verify, audit_record, event_hash
from safecam.models import AuditChainHead, AuditEvent, AuditVerification, VerificationStatus
from safecam.tasks import audit_trail_verify
from tests.conftest import PERSONAS

pytestmark = pytest.mark.django_db

TRAIL = "/audit/"


def _seqs(response: Any) -> list[int]:
    assert response.status_code == 200, response.status_code
    return [int(seq) for seq in re.findall(r'data-testid="audit-row" data-seq="(\d+)"', response.content.decode())]


def _errors(response: Any) -> list[str]:
    return re.findall(r'data-testid="filter-error">([^<]*)<', response.content.decode())


def _body(response: Any) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def _csv_rows(response: Any) -> list[dict[str, str]]:
    text = _body(response)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def _tamper(seq: int) -> None:
    """What someone with database access might do: change a stored event behind the ORM's back."""
    with connection.cursor() as cursor:
        cursor.execute("UPDATE safecam_auditevent SET target_repr = %s WHERE seq = %s", ["nieko nebuvo", seq])


@pytest.fixture
def verify_now(client_for: Callable[[Any], Client], django_capture_on_commit_callbacks: Any,
               monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], Any]:
    """Press "Verify now" as ``user``; the queued job runs here, as the Celery worker would."""

    def press(user: Any) -> Any:
        queued: list[int] = []
        monkeypatch.setattr("safecam.verification._enqueue", queued.append)
        client = client_for(user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("audit-verify"))
        assert response.status_code == 302
        assert len(queued) == 1
        assert verification.audit_verification_run(queued[0]) == "done"
        return client.get(response["Location"])

    return press


# --- who may open it ------------------------------------------------------------------------------

@pytest.mark.door("audit-trail", "audit-event", "audit-export", "audit-verify", "audit-verification")
@pytest.mark.parametrize("name", [*PERSONAS, "superuser"])
def test_it_opens_every_page_to_the_dpo_and_the_superuser_and_is_a_404_to_everyone_else(
        name: str, persona: Callable[[str], Any], client_for: Callable[[Any], Client], dpo: Any) -> None:
    user = persona(name)
    event = audit_record(action=AuditAction.CONTROLLER_CHANGED, actor=dpo, details={"name": "Savivaldybė"})
    job = AuditVerification.objects.create(requested_by=dpo, total=event.seq, status=VerificationStatus.DONE)
    client = client_for(None if name == "anonymous" else user)
    pages = [TRAIL, f"/audit/{event.seq}/", "/audit/export.csv", "/audit/export.jsonl", f"/audit/verify/{job.public_id}/"]
    exported_before = AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORTED).count()
    answers = {url: client.get(url) for url in pages}
    answers["POST /audit/verify/"] = client.post("/audit/verify/")
    answers["GET /audit/verify/"] = client.get("/audit/verify/")
    statuses = {url: response.status_code for url, response in answers.items()}
    if name == "anonymous":
        assert set(statuses.values()) == {302}
        assert all(response["Location"].startswith("/accounts/login/") for response in answers.values())
    elif name in ("dpo", "superuser"):
        assert statuses == {**{url: 200 for url in pages}, "POST /audit/verify/": 302, "GET /audit/verify/": 405}
        assert 'data-testid="nav-audit"' in answers[TRAIL].content.decode()
    else:
        assert set(statuses.values()) == {404}, statuses
        assert 'data-testid="nav-audit"' not in client.get("/").content.decode()
    # Only the downloads that were handed out were audited, and "Verify now" queued nothing for others.
    handed_out = 2 if name in ("dpo", "superuser") else 0
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORTED).count() == exported_before + handed_out
    assert AuditVerification.objects.count() == (2 if name in ("dpo", "superuser") else 1)


# --- filters --------------------------------------------------------------------------------------

@pytest.fixture
def events(dpo: Any, public_order: Any, spec_vabalninkas: Any, registry: dict[str, list[Camera]]) -> dict[str, Any]:
    """A small trail with known actors, actions and cameras (besides what setting up the personas wrote)."""
    vab, pab = registry["vabalninkas"][0], registry["pabirze"][0]
    made = {
        # the target is the camera
        "still_vab": audit_record(action=AuditAction.STILL_EXPORTED, actor=public_order, target=vab,
                                  details={"camera": str(vab.public_id), "camera_name": vab.name}),
        "changed_vab": audit_record(action=AuditAction.CAMERA_CHANGED, actor=spec_vabalninkas, target=vab),
        # the details name the camera, the target is something else
        "hold_vab": audit_record(action=AuditAction.HOLD_PLACED, actor=public_order, target=spec_vabalninkas,
                                 details={"camera": str(vab.public_id), "reason": "Eismo įvykis"}),
        "request_nocamera": audit_record(action=AuditAction.REQUEST_RECEIVED, actor=dpo, target=dpo,
                                         details={"camera": "", "reference": "PR-2026-001"}),
        "still_pab": audit_record(action=AuditAction.STILL_EXPORTED, actor=public_order, target=pab,
                                  details={"camera": str(pab.public_id), "camera_name": pab.name}),
        "login_dpo": audit_record(action=AuditAction.LOGIN, actor=dpo, target=dpo, ip="192.0.2.7"),
    }
    return {"vab": vab, "pab": pab, **made}


def test_it_lists_events_newest_first_with_time_actor_action_target_address_and_details(
        client_for: Callable[[Any], Client], dpo: Any, events: dict[str, Any]) -> None:
    response = client_for(dpo).get(TRAIL)
    seqs = _seqs(response)
    assert seqs == sorted(seqs, reverse=True)
    assert seqs[0] == AuditEvent.objects.order_by("-seq").first().seq  # the client's own login, then the fixture's
    html = response.content.decode()
    assert "192.0.2.7" in html and "Eismo įvykis" in html and str(events["still_vab"].target_repr) in html
    assert AuditAction.HOLD_PLACED.value in html


def test_it_filters_by_actor_and_by_action(client_for: Callable[[Any], Client], dpo: Any, events: dict[str, Any]) -> None:
    client = client_for(dpo)
    by_officer = set(_seqs(client.get(TRAIL, {"actor": "public_order"})))
    assert by_officer == {events[k].seq for k in ("still_vab", "hold_vab", "still_pab")}
    stills = set(_seqs(client.get(TRAIL, {"action": AuditAction.STILL_EXPORTED})))
    assert stills == {events["still_vab"].seq, events["still_pab"].seq}
    both = set(_seqs(client.get(TRAIL, {"action": AuditAction.HOLD_PLACED, "actor": "public_order"})))
    assert both == {events["hold_vab"].seq}


def test_it_finds_a_cameras_events_by_their_target_and_by_their_details(
        client_for: Callable[[Any], Client], dpo: Any, events: dict[str, Any]) -> None:
    client = client_for(dpo)
    vab = set(_seqs(client.get(TRAIL, {"camera": str(events["vab"].public_id)})))
    # camera.created by the fixture (target: the camera) belongs to it too
    created = AuditEvent.objects.get(action=AuditAction.CAMERA_CREATED, target_id=str(events["vab"].public_id)).seq
    assert vab == {events["still_vab"].seq, events["changed_vab"].seq, events["hold_vab"].seq, created}
    assert events["still_pab"].seq not in vab and events["request_nocamera"].seq not in vab


def test_the_camera_filter_offers_every_camera_to_whoever_reads_the_trail(
        dpo: Any, spec_vabalninkas: Any, registry: dict[str, list[Camera]]) -> None:
    every = {camera.pk for cameras in registry.values() for camera in cameras}
    assert {camera.pk for camera in selectors.audit_cameras(dpo)} == every
    assert not selectors.audit_cameras(spec_vabalninkas).exists()


def test_it_finds_events_by_part_of_the_target_name_or_its_exact_id(
        client_for: Callable[[Any], Client], dpo: Any, events: dict[str, Any]) -> None:
    client = client_for(dpo)
    pab = events["pab"]
    by_name = set(_seqs(client.get(TRAIL, {"q": pab.name[3:12].lower()})))
    assert events["still_pab"].seq in by_name and events["still_vab"].seq not in by_name
    by_id = set(_seqs(client.get(TRAIL, {"q": str(pab.public_id)})))
    assert events["still_pab"].seq in by_id and events["hold_vab"].seq not in by_id


def _written_at(moment: datetime, **fields: Any) -> AuditEvent:
    with time_machine.travel(moment, tick=False):
        return audit_record(**fields)


def test_the_time_range_is_typed_in_vilnius_time_summer_and_winter(
        client_for: Callable[[Any], Client], dpo: Any) -> None:
    # 09:30 UTC is 12:30 in Vilnius in July (EEST, +3) and 11:30 in January (EET, +2).
    summer = _written_at(datetime(2026, 7, 15, 9, 30, tzinfo=UTC), action=AuditAction.CONTROLLER_CHANGED)
    winter = _written_at(datetime(2026, 1, 15, 9, 30, tzinfo=UTC), action=AuditAction.CONTROLLER_CHANGED)
    client = client_for(dpo)
    assert _seqs(client.get(TRAIL, {"start": "2026-07-15T12:00", "end": "2026-07-15T13:00"})) == [summer.seq]
    assert _seqs(client.get(TRAIL, {"start": "2026-07-15T09:00", "end": "2026-07-15T10:00"})) == []
    assert _seqs(client.get(TRAIL, {"start": "2026-01-15T11:30", "end": "2026-01-15T11:31"})) == [winter.seq]
    assert _seqs(client.get(TRAIL, {"start": "2026-01-15T11:30:01", "end": "2026-01-15T12:00"})) == []
    # "until" is exclusive; a date alone means the whole local day; an explicit offset is honoured
    assert _seqs(client.get(TRAIL, {"start": "2026-07-15T12:00", "end": "2026-07-15T12:30"})) == []
    assert _seqs(client.get(TRAIL, {"start": "2026-07-15", "end": "2026-07-15"})) == [summer.seq]
    assert _seqs(client.get(TRAIL, {"start": "2026-07-15T09:30:00+00:00", "end": "2026-07-15T09:31:00Z"})) == [summer.seq]
    # shown in Vilnius time
    html = client.get(TRAIL, {"start": "2026-07-15"}).content.decode()
    assert "2026-07-15 12:30:00" in html
    assert "2026-01-15 11:30:00" in client.get(f"/audit/{winter.seq}/").content.decode()


# --- bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize("query, field", [
    ({"start": "2026-07-15T13:00", "end": "2026-07-15T12:00"}, "end"),
    ({"start": "2026-07-15T12:00", "end": "2026-07-15T12:00"}, "end"),
    ({"start": "rytoj"}, "start"),
    ({"end": "2026-13-45T99:99"}, "end"),
    ({"start": "2026-02-30"}, "start"),
    ({"start": "9" * 500}, "start"),
    ({"action": "footage.stolen"}, "action"),
    ({"camera": "not-a-uuid"}, "camera"),
    ({"camera": "00000000-0000-0000-0000-000000000000"}, "camera"),
    ({"actor": "x" * 200}, "actor"),
])
def test_bad_filters_are_a_form_error_never_a_500(query: dict[str, str], field: str,
                                                  client_for: Callable[[Any], Client], dpo: Any) -> None:
    client = client_for(dpo)
    response = client.get(TRAIL, query)
    assert response.status_code == 200
    assert _errors(response), "the mistake is named on the page"
    assert f'name="{field}"' in response.content.decode()
    assert re.search(rf'<[^>]*name="{field}"[^>]*is-invalid|<[^>]*is-invalid[^>]*name="{field}"',
                     response.content.decode())
    # A download with a mistyped filter would hold more than was asked for: refused, not audited.
    download = client.get("/audit/export.csv", query)
    assert download.status_code == 400 and not download.streaming
    assert not AuditEvent.objects.filter(action=AuditAction.AUDIT_EXPORTED).exists()


@pytest.mark.parametrize("query", [{"before": "9" * 40}, {"after": "9" * 40}, {"before": "-5"}, {"after": "abc"},
                                   {"page": "99999999999"}, {"before": "0"}, {"before": str(2**63)}])
def test_out_of_range_page_bounds_give_a_page_never_a_500(query: dict[str, str], client_for: Callable[[Any], Client],
                                                          dpo: Any, events: dict[str, Any]) -> None:
    assert isinstance(_seqs(client_for(dpo).get(TRAIL, query)), list)


def test_an_event_number_that_does_not_exist_is_a_404(client_for: Callable[[Any], Client], dpo: Any) -> None:
    client = client_for(dpo)
    assert client.get("/audit/999999/").status_code == 404
    assert client.get(f"/audit/{'9' * 30}/").status_code == 404
    assert client.get("/audit/export.xlsx").status_code == 404
    assert client.get("/audit/verify/00000000-0000-0000-0000-000000000000/").status_code == 404


# --- pages ----------------------------------------------------------------------------------------

def test_it_pages_by_sequence_number_without_counting_the_trail(
        client_for: Callable[[Any], Client], dpo: Any, django_assert_max_num_queries: Any) -> None:
    for n in range(selectors.PER_PAGE + 10):
        audit_record(action=AuditAction.CONTROLLER_CHANGED, details={"n": n})
    client = client_for(dpo)  # (its login is an event too)
    every = list(AuditEvent.objects.order_by("-seq").values_list("seq", flat=True))
    client.get(TRAIL)  # the session's first request writes it
    # session, user, permissions (2), the page, the head, the verdict, a running check, the cameras,
    # what the layout asks (storage alert, navigation) and the session's second factor (django-otp):
    # the same for 60 events or millions
    with django_assert_max_num_queries(13):
        first = client.get(TRAIL)
    assert _seqs(first) == every[:selectors.PER_PAGE]
    older = re.search(r'href="\?before=(\d+)"[^>]*data-testid="page-older"', first.content.decode().replace("&amp;", "&"))
    assert older, "a link to older events"
    second = client.get(TRAIL, {"before": older.group(1)})
    assert _seqs(second) == every[selectors.PER_PAGE:selectors.PER_PAGE * 2]
    newer = re.search(r'href="\?after=(\d+)"[^>]*data-testid="page-newer"', second.content.decode())
    assert newer, "a link back to newer events"
    assert _seqs(client.get(TRAIL, {"after": newer.group(1)})) == every[:selectors.PER_PAGE]


def test_the_event_page_shows_its_hashes_and_whether_they_hold(
        client_for: Callable[[Any], Client], dpo: Any, events: dict[str, Any]) -> None:
    event = events["hold_vab"]
    client = client_for(dpo)
    html = client.get(f"/audit/{event.seq}/").content.decode()
    assert event.hash in html and event.prev_hash in html and "Eismo įvykis" in html
    assert 'data-testid="event-tampered"' not in html
    _tamper(event.seq)
    assert 'data-testid="event-tampered"' in client.get(f"/audit/{event.seq}/").content.decode()


# --- downloads ------------------------------------------------------------------------------------

def test_the_csv_holds_exactly_the_filtered_events_and_the_download_is_audited(
        client_for: Callable[[Any], Client], dpo: Any, events: dict[str, Any]) -> None:
    response = client_for(dpo).get("/audit/export.csv", {"actor": "public_order", "camera": str(events["vab"].public_id)})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv_rows(response)
    assert [int(row[next(iter(row))]) for row in rows] == [events["still_vab"].seq, events["hold_vab"].seq]
    assert {cell for row in rows for cell in row.values()} >= {events["hold_vab"].hash, "public_order"}
    exported = AuditEvent.objects.get(action=AuditAction.AUDIT_EXPORTED)
    assert exported.actor == dpo
    assert exported.details == {"format": "csv", "upto_seq": exported.seq - 1,
                                "filters": {"actor": "public_order", "camera": str(events["vab"].public_id)}}


def test_the_csv_defuses_cells_a_spreadsheet_would_run(client_for: Callable[[Any], Client], dpo: Any) -> None:
    audit_record(action=AuditAction.LOGIN_FAILED, details={"username": "=HYPERLINK(\"x\")"})
    rows = _csv_rows(client_for(dpo).get("/audit/export.csv", {"action": AuditAction.LOGIN_FAILED}))
    assert len(rows) == 1
    assert all(not value.startswith("=") for value in rows[0].values())


def test_the_json_lines_download_lets_a_tool_recompute_every_hash(
        client_for: Callable[[Any], Client], dpo: Any, events: dict[str, Any]) -> None:
    response = client_for(dpo).get("/audit/export.jsonl")
    lines = [json.loads(line) for line in _body(response).splitlines()]
    upto = AuditEvent.objects.get(action=AuditAction.AUDIT_EXPORTED).details["upto_seq"]
    assert [line["seq"] for line in lines] == list(range(1, upto + 1))
    for line in lines:
        stored = line.pop("hash")
        assert event_hash(**{**line, "at": datetime.fromisoformat(line["at"])}) == stored


def test_a_large_download_is_read_in_chunks_not_at_once(
        client_for: Callable[[Any], Client], dpo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selectors, "EXPORT_CHUNK", 7)
    for n in range(30):
        audit_record(action=AuditAction.CONTROLLER_CHANGED, details={"n": n})
    rows = _csv_rows(client_for(dpo).get("/audit/export.csv", {"action": AuditAction.CONTROLLER_CHANGED}))
    assert len(rows) == 30


# --- the verdict ----------------------------------------------------------------------------------

def test_the_page_says_when_the_chain_was_never_checked(client_for: Callable[[Any], Client], dpo: Any) -> None:
    assert 'data-testid="verdict-none"' in client_for(dpo).get(TRAIL).content.decode()


def test_the_page_shows_the_scheduled_checks_verdict(client_for: Callable[[Any], Client], dpo: Any,
                                                       events: dict[str, Any]) -> None:
    assert audit_trail_verify() is True
    html = client_for(dpo).get(TRAIL).content.decode()
    assert 'data-testid="verdict-intact"' in html


def test_verify_now_runs_the_chain_check_and_shows_intact(verify_now: Callable[[Any], Any], client_for: Callable[[Any], Client],
                                                          dpo: Any, events: dict[str, Any]) -> None:
    page = verify_now(dpo).content.decode()
    assert 'data-testid="verdict-intact"' in page
    job = AuditVerification.objects.get()
    assert (job.status, job.intact, job.requested_by) == (VerificationStatus.DONE, True, dpo)
    assert job.checked == job.verdict.seq - 1 == audit_chain_verify().checked - 1
    assert job.verdict.actor == dpo and job.verdict.details["intact"] is True
    assert 'data-testid="verdict-intact"' in client_for(dpo).get(TRAIL).content.decode()


def test_verify_now_names_the_first_broken_event_after_a_row_is_tampered_with(
        verify_now: Callable[[Any], Any], client_for: Callable[[Any], Client], dpo: Any, events: dict[str, Any]) -> None:
    broken = events["hold_vab"].seq
    _tamper(broken)
    page = verify_now(dpo).content.decode()
    assert 'data-testid="verdict-broken"' in page and f"#{broken}" in page
    job = AuditVerification.objects.get()
    assert (job.intact, job.broken_seq) == (False, broken)
    trail = client_for(dpo).get(TRAIL).content.decode()
    problem = re.search(r'data-testid="verdict-problem">(.*?)</p>', trail, re.S)
    assert 'data-testid="verdict-broken"' in trail and problem and f"#{broken}" in problem.group(1)
    assert f'href="/audit/{broken}/"' in problem.group(1)


def test_a_second_press_while_a_check_waits_does_not_queue_another(
        client_for: Callable[[Any], Client], dpo: Any, django_capture_on_commit_callbacks: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    queued: list[int] = []
    monkeypatch.setattr("safecam.verification._enqueue", queued.append)
    client = client_for(dpo)
    with django_capture_on_commit_callbacks(execute=True):
        first = client.post("/audit/verify/")
        second = client.post("/audit/verify/")
    assert first["Location"] == second["Location"] and len(queued) == 1
    running = client.get(first["Location"]).content.decode()
    assert 'data-testid="verification-running"' in running and 'http-equiv="refresh"' in running
    assert 'data-testid="verification-running"' in client.get(TRAIL).content.decode()
    assert verification.audit_verification_run(queued[0]) == "done"
    assert verification.audit_verification_run(queued[0]) == "taken"
    assert AuditEvent.objects.filter(action=AuditAction.AUDIT_VERIFIED).count() == 1


def test_the_check_reports_progress_and_ignores_events_written_while_it_walks(
        monkeypatch: pytest.MonkeyPatch, events: dict[str, Any]) -> None:
    monkeypatch.setattr(audit, "VERIFY_CHUNK", 3)
    seen: list[tuple[int, int]] = []

    def progress(checked: int, total: int) -> None:
        seen.append((checked, total))
        audit_record(action=AuditAction.CONTROLLER_CHANGED, details={"while": checked})  # the portal keeps writing

    total = AuditChainHead.objects.get(pk=1).seq
    report = audit_chain_verify(progress=progress)
    assert report.intact and report.checked == total
    assert seen and all(t == total for _, t in seen) and [c for c, _ in seen] == sorted(c for c, _ in seen)
    assert audit_chain_verify().intact


def test_the_check_flags_an_event_written_around_the_chain_head(events: dict[str, Any]) -> None:
    head = AuditChainHead.objects.get(pk=1)
    stray = AuditEvent.objects.create(seq=head.seq + 1, at=events["login_dpo"].at, action=AuditAction.LOGIN,
                                      prev_hash=head.hash, hash="f" * 64)
    report = audit_chain_verify()
    assert not report.intact and report.broken is not None and report.broken.seq == stray.seq


@pytest.mark.django_db(transaction=True)
def test_verify_now_runs_on_a_real_worker_through_the_broker(
        client_for: Callable[[Any], Client], dpo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import time
    import uuid

    from celery.contrib.testing.worker import start_worker

    from safecam.celery import app
    from safecam.tasks import audit_verification_run

    queue = f"test-{uuid.uuid4().hex[:8]}"  # no other worker or leftover message can take it
    monkeypatch.setattr("safecam.verification._enqueue",
                        lambda pk: audit_verification_run.apply_async((pk,), queue=queue))
    client = client_for(dpo)
    with start_worker(app, pool="solo", perform_ping_check=False, queues=[queue], shutdown_timeout=10):
        location = client.post("/audit/verify/")["Location"]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and AuditVerification.objects.get().is_open:
            time.sleep(0.2)
    job = AuditVerification.objects.get()
    assert (job.status, job.intact) == (VerificationStatus.DONE, True), "the worker never finished the check"
    assert 'data-testid="verdict-intact"' in client.get(location).content.decode()


def test_a_check_whose_message_was_lost_does_not_block_verify_now_for_ever(
        client_for: Callable[[Any], Client], dpo: Any, django_capture_on_commit_callbacks: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from datetime import timedelta

    from django.utils import timezone

    lost = AuditVerification.objects.create(requested_by=dpo)
    AuditVerification.objects.filter(pk=lost.pk).update(requested_at=timezone.now() - timedelta(hours=1))
    queued: list[int] = []
    monkeypatch.setattr("safecam.verification._enqueue", queued.append)
    client = client_for(dpo)
    assert 'data-testid="verification-running"' not in client.get(TRAIL).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/audit/verify/")
    assert queued and queued[0] != lost.pk
    assert str(lost.public_id) not in response["Location"]
