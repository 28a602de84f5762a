"""Huge fields, huge bodies, huge and fake uploads: a clear 4xx naming the limit, nothing stored."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from access_requests.models import AccessRequest
from footage.models import Hold, Incident
from reports.models import Activity, ActivityKind, ActivityPhoto, Report
from tests.access_requests.conftest import request_make
from tests.hardening.conftest import NoTrace, assert_api_refused, assert_page_refused

pytestmark = pytest.mark.django_db

MEGABYTE_OF_TEXT = "ą" * 500_000 + "a" * 24_288  # 1 MB of UTF-8, a person's "reason"
START, END = "2026-11-25T10:00:00+02:00", "2026-11-25T10:20:00+02:00"


@pytest.fixture
def spec_api(spec_vabalninkas: Any, api_client_for: Any) -> Any:
    return api_client_for(spec_vabalninkas)


@pytest.fixture
def dpo_api(dpo: Any, api_client_for: Any) -> Any:
    return api_client_for(dpo)


@pytest.fixture
def open_request(dpo: Any, vabalninkas_camera: Any) -> AccessRequest:
    return request_make(by=dpo, camera=vabalninkas_camera)


def _limit_named(response: Any, limit: int) -> None:
    assert str(limit) in response.content.decode(), response.content[:400]


# --- one megabyte in a text field: "at most N characters" -----------------------------------------------


def test_a_megabyte_hold_reason_is_refused_by_the_api(spec_api: Any, vabalninkas_camera: Any) -> None:
    body = {"camera": str(vabalninkas_camera.public_id), "start": START, "end": END, "reason": MEGABYTE_OF_TEXT,
            "review_on": "2026-12-31"}
    with NoTrace(Hold):
        response = spec_api.post("/api/v1/holds/", body, format="json")
    assert_api_refused(response)
    _limit_named(response, 2000)


def test_a_megabyte_hold_reason_is_refused_by_the_form(spec_vabalninkas: Any, client_for: Any,
                                                       vabalninkas_camera: Any) -> None:
    page_client = client_for(spec_vabalninkas)
    with NoTrace(Hold):
        response = page_client.post(
            f"/cameras/{vabalninkas_camera.public_id}/holds/new/",
            {"start": "2026-11-25T10:00", "end": "2026-11-25T10:20", "reason": MEGABYTE_OF_TEXT,
             "review_on": "2026-12-31"})
    assert_page_refused(response, (200,))
    _limit_named(response, 2000)


def test_a_megabyte_release_reason_is_refused_and_the_hold_stays(spec_api: Any, spec_vabalninkas: Any,
                                                                 vabalninkas_camera: Any) -> None:
    from footage.services import hold_place
    from safecam.timeranges import parse_instant

    hold = hold_place(camera=vabalninkas_camera, start=parse_instant(START, field="s"),
                      end=parse_instant(END, field="e"), reason="Policija", by=spec_vabalninkas,
                      review_on=date(2026, 12, 31))
    with NoTrace(Hold):
        response = spec_api.post(f"/api/v1/holds/{hold.public_id}/release/", {"reason": MEGABYTE_OF_TEXT},
                                 format="json")
    assert_api_refused(response)
    hold.refresh_from_db()
    assert hold.released_at is None


def test_a_megabyte_incident_note_is_refused(spec_api: Any, vabalninkas_camera: Any) -> None:
    body = {"camera": str(vabalninkas_camera.public_id), "start": START, "end": END, "note": MEGABYTE_OF_TEXT}
    with NoTrace(Incident, Hold):
        response = spec_api.post("/api/v1/incidents/", body, format="json")
    assert_api_refused(response)
    _limit_named(response, 4000)


@pytest.mark.parametrize(("field", "limit"), [("description", 4000), ("legal_basis", 4000),
                                              ("requester_name", 200)])
def test_a_megabyte_request_field_is_refused(field: str, limit: int, dpo_api: Any) -> None:
    body = {"kind": "disclosure", "channel": "official", "requester_name": "Tyrėjas", "description": "Muštynės",
            "recipient_kind": "police", "recipient_organisation": "Biržų policija", "legal_basis": "BPK 97 str.",
            "window_start": START, "window_end": END, field: MEGABYTE_OF_TEXT}
    with NoTrace(AccessRequest):
        response = dpo_api.post("/api/v1/access-requests/", body, format="json")
    assert_api_refused(response)
    _limit_named(response, limit)


@pytest.mark.parametrize(("action", "body", "limit"), [
    ("move", {"to": "identity_verified", "note": MEGABYTE_OF_TEXT}, 2000),
    ("extend", {"months": 1, "reason": MEGABYTE_OF_TEXT, "notified_on": "2026-11-26"}, 2000),
    ("erase", {"reason": MEGABYTE_OF_TEXT}, 2000),
], ids=["move note", "extension reason", "erasure reason"])
def test_a_megabyte_reason_on_a_request_action_is_refused(action: str, body: dict[str, Any], limit: int,
                                                          dpo_api: Any, open_request: AccessRequest) -> None:
    state = open_request.state
    with NoTrace(AccessRequest):
        response = dpo_api.post(f"/api/v1/access-requests/{open_request.public_id}/{action}/", body, format="json")
    assert_api_refused(response)
    _limit_named(response, limit)
    open_request.refresh_from_db()
    assert open_request.state == state and open_request.extension_months == 0


def test_a_megabyte_report_problem_text_is_refused(coordinator: Any, api_client_for: Any) -> None:
    body = {"kind": "progress", "language": "lt", "period_start": "2026-01-01", "period_end": "2026-06-30",
            "problems": MEGABYTE_OF_TEXT}
    api = api_client_for(coordinator)
    with NoTrace(Report):
        response = api.post("/api/v1/reports/", body, format="json")
    assert_api_refused(response)
    _limit_named(response, 8000)


def test_a_megabyte_public_request_is_refused_before_it_is_read(client: Any, vabalninkas: Any) -> None:
    body = {"kind": "access", "requester_name": "Jonas", "requester_email": "jonas@example.lt",
            "site": vabalninkas.slug, "date": "2026-11-25", "time_from": "10:00", "time_to": "10:30",
            "description": MEGABYTE_OF_TEXT}
    with NoTrace(AccessRequest):
        response = client.post("/request/", body)
    assert response.status_code == 413


# --- bodies over the global limits: 413 with the limit named --------------------------------------------


def test_an_api_body_over_the_limit_is_a_413_with_the_limit(spec_api: Any, vabalninkas_camera: Any) -> None:
    body = {"camera": str(vabalninkas_camera.public_id), "start": START, "end": END,
            "reason": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10), "review_on": "2026-12-31"}
    with NoTrace(Hold):
        response = spec_api.post("/api/v1/holds/", body, format="json")
    assert_api_refused(response, (413,))
    assert "MB" in response.json()["detail"]


def test_a_form_body_over_the_limit_is_a_413_page(spec_vabalninkas: Any, client_for: Any,
                                                  vabalninkas_camera: Any) -> None:
    page_client = client_for(spec_vabalninkas)
    with NoTrace(Hold):
        response = page_client.post(
            f"/cameras/{vabalninkas_camera.public_id}/holds/new/",
            {"start": "2026-11-25T10:00", "end": "2026-11-25T10:20", "reason": "x" * 3_000_000,
             "review_on": "2026-12-31"})
    assert response.status_code == 413
    assert "MB" in response.content.decode()


def test_too_many_form_fields_is_a_413(spec_vabalninkas: Any, client_for: Any, vabalninkas_camera: Any) -> None:
    fields = {f"f{n}": "1" for n in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 5)}
    page_client = client_for(spec_vabalninkas)
    with NoTrace(Hold):
        response = page_client.post(f"/cameras/{vabalninkas_camera.public_id}/holds/new/", fields)
    assert response.status_code == 413


def test_an_api_multipart_body_over_the_upload_limit_is_a_413_json(spec_api: Any, vabalninkas_camera: Any,
                                                                   settings: Any) -> None:
    settings.SAFECAM_UPLOAD_MAX_BYTES = 100_000
    upload = SimpleUploadedFile("x.bin", b"\0" * 200_000)
    with NoTrace(Hold):
        response = spec_api.post("/api/v1/holds/", {"camera": str(vabalninkas_camera.public_id), "file": upload},
                                 format="multipart")
    assert_api_refused(response, (413,))


# --- uploads: activity photos ------------------------------------------------------------------------------


@pytest.fixture
def activity(db: None) -> Activity:
    return Activity.objects.create(date=date(2026, 8, 8), kind=ActivityKind.MEETING, place="Papilys",
                                   title_lt="Susitikimas", participants=20)


@pytest.fixture
def photo_storage(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "default"
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(folder)}}}
    return folder


def _png(name: str = "meeting.png") -> SimpleUploadedFile:
    data = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 200)).save(data, format="PNG")
    return SimpleUploadedFile(name, data.getvalue(), content_type="image/png")


def _upload(client: Any, activity: Activity, upload: Any) -> Any:
    return client.post(f"/project/activities/{activity.public_id}/", {"image": upload, "caption": "Susitikimas"})


@pytest.mark.parametrize(("name", "data"), [
    ("report.jpg", b"%PDF-1.4 a PDF renamed .jpg"),
    ("script.jpg", b"#!/bin/sh\nrm -rf /\n"),
    ("empty.jpg", b""),
    ("truncated.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 50),
    ("svg.jpg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>"),
], ids=["pdf", "shell script", "empty", "truncated jpeg", "svg"])
def test_a_file_that_is_not_a_photo_is_a_form_error_and_nothing_is_stored(
        name: str, data: bytes, coordinator: Any, client_for: Any, activity: Activity, photo_storage: Path) -> None:
    coordinator_client = client_for(coordinator)
    with NoTrace(ActivityPhoto, folders=[photo_storage]):
        response = _upload(coordinator_client, activity, SimpleUploadedFile(name, data, content_type="image/jpeg"))
    assert_page_refused(response, (200,))
    assert response.context["form"].errors


def test_a_photo_over_the_upload_limit_is_a_413_and_nothing_is_stored(coordinator: Any, client_for: Any,
                                                                      activity: Activity, photo_storage: Path,
                                                                      settings: Any, tmp_path: Path) -> None:
    settings.SAFECAM_UPLOAD_MAX_BYTES = 300_000  # the same path as 16 MB, without making 16 MB
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "upload-tmp")
    (tmp_path / "upload-tmp").mkdir()
    big = SimpleUploadedFile("huge.jpg", b"\xff\xd8" + b"\0" * 400_000, content_type="image/jpeg")
    coordinator_client = client_for(coordinator)
    with NoTrace(ActivityPhoto, folders=[photo_storage, tmp_path / "upload-tmp"]):
        response = _upload(coordinator_client, activity, big)
    assert response.status_code == 413
    assert "kB" in response.content.decode() or "MB" in response.content.decode()


def test_a_photo_over_the_service_limit_is_refused_naming_15_mb(coordinator: Any, client_for: Any,
                                                                activity: Activity, photo_storage: Path,
                                                                monkeypatch: Any) -> None:
    from reports import project

    monkeypatch.setattr(project, "PHOTO_MAX_BYTES", 1000)
    coordinator_client = client_for(coordinator)
    with NoTrace(ActivityPhoto, folders=[photo_storage]):
        response = _upload(coordinator_client, activity,
                           SimpleUploadedFile("big.jpg", b"\xff\xd8" + b"\0" * 2000, content_type="image/jpeg"))
    assert_page_refused(response, (200,))
    assert "15 MB" in response.content.decode()


def test_an_uploaded_file_name_never_reaches_the_storage_name(coordinator: Any, client_for: Any,
                                                              activity: Activity, photo_storage: Path) -> None:
    response = _upload(client_for(coordinator), activity, _png("../../../../etc/passwd\x00.png"))
    assert response.status_code == 302, response.content[:300]
    photo = ActivityPhoto.objects.get()
    assert photo.storage_name.startswith(f"reports/photos/{activity.public_id}/")
    assert ".." not in photo.storage_name and "passwd" not in photo.storage_name
    stored = {p.relative_to(photo_storage).as_posix() for p in photo_storage.rglob("*") if p.is_file()}
    assert stored == {photo.storage_name}


def test_a_photo_whose_row_cannot_be_written_leaves_no_file(coordinator: Any, activity: Activity,
                                                            photo_storage: Path, monkeypatch: Any) -> None:
    from reports import project

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("the audit trail is unavailable")

    monkeypatch.setattr(project, "audit_record", broken)
    with NoTrace(ActivityPhoto, folders=[photo_storage]), pytest.raises(RuntimeError):
        project.photo_add(activity=activity, upload=_png(), caption="", by=coordinator)
