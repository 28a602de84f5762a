"""A camera's stream password never leaves the encrypted field: not to a page, the API, the admin,
the audit trail, a log line, or the database in plain text."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from cameras.models import Camera, Site
from safecam.audit import AuditAction
from safecam.logging import RedactCredentialsFilter, redact
from safecam.models import AuditEvent
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

URL = "rtsp://admin:S3cr3t-Pa55@10.0.0.5:554/stream1"
CLEAN_URL = "rtsp://10.0.0.5:554/stream1"
SECRET = "S3cr3t-Pa55"


def _raw_credentials(camera: Camera) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT stream_credentials FROM cameras_camera WHERE id = %s", [camera.pk])
        return cursor.fetchone()[0]


@pytest.fixture
def sql_logged() -> Iterator[None]:
    """Log every SQL statement with its parameters (as with DEBUG=True), so the logs see the writes too."""
    connection.force_debug_cursor = True
    try:
        yield
    finally:
        connection.force_debug_cursor = False


def test_it_never_shows_the_stream_password_anywhere(
    vabalninkas: Site, public_order: Any, superuser: Any, client_for: Callable[[Any], Client],
    api_client_for: Callable[[Any], APIClient], caplog: pytest.LogCaptureFixture, sql_logged: None,
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django")  # Django's own default config stops "django" at INFO
    camera = CameraFactory(site=vabalninkas, name="Kamera su slaptažodžiu", stream_url=URL, by=superuser)

    answers: dict[str, bytes] = {}
    for user in (public_order, superuser):
        client = client_for(user)
        for path in ("/", "/sites/vabalninkas/", f"/cameras/{camera.public_id}/"):
            response = client.get(path)
            assert response.status_code == 200, path
            answers[f"{user.username} {path}"] = response.content
        api = api_client_for(user)
        for path in ("/api/v1/cameras/", f"/api/v1/cameras/{camera.public_id}/", "/api/v1/sites/",
                     "/api/v1/schema/", "/api/v1/schema/?format=json", "/api/v1/audit-events/"):
            response = api.get(path)
            # The audit trail is the DPO's (and the superuser's): to Public Order it does not exist.
            expected = 404 if path == "/api/v1/audit-events/" and user == public_order else 200
            assert response.status_code == expected, path
            answers[f"{user.username} {path}"] = response.content
        for path in ("/api/v1/cameras/", f"/api/v1/cameras/{camera.public_id}/", "/api/v1/docs/"):
            response = api.get(path, HTTP_ACCEPT="text/html")  # the browsable API and Swagger UI
            assert response.status_code == 200, path
            answers[f"{user.username} {path} (HTML)"] = response.content
    admin = client_for(superuser)
    for path in ("/admin/cameras/camera/", f"/admin/cameras/camera/{camera.pk}/change/",
                 "/admin/cameras/camera/?q=Kamera", "/admin/safecam/auditevent/"):
        response = admin.get(path)
        assert response.status_code == 200, path
        answers[f"admin {path}"] = response.content

    # The pages really are about this camera (the test would prove nothing on empty pages).
    assert CLEAN_URL.encode() in answers[f"public_order /api/v1/cameras/{camera.public_id}/"]
    assert "Kamera su slaptažodžiu".encode() in answers[f"public_order /cameras/{camera.public_id}/"]
    assert CLEAN_URL.encode() in answers[f"admin /admin/cameras/camera/{camera.pk}/change/"]
    for where, content in answers.items():
        assert SECRET.encode() not in content, where

    events = list(AuditEvent.objects.all())
    assert any(event.action == AuditAction.CAMERA_CREATED for event in events)
    for event in events:
        assert SECRET not in json.dumps(event.details, ensure_ascii=False)
        assert SECRET not in event.target_repr

    assert caplog.records, "nothing was logged, so the log check below would prove nothing"
    assert any(record.name == "django.db.backends" for record in caplog.records)
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in (record.exc_text or "")


def test_it_keeps_credentials_encrypted_in_the_database(vabalninkas: Site) -> None:
    camera = CameraFactory(site=vabalninkas, stream_url=URL)

    raw = _raw_credentials(camera)
    assert raw
    assert SECRET not in raw
    assert "admin" not in raw
    with connection.cursor() as cursor:
        cursor.execute("SELECT stream_url FROM cameras_camera WHERE id = %s", [camera.pk])
        assert cursor.fetchone()[0] == CLEAN_URL

    stored = Camera.objects.get(pk=camera.pk)
    assert stored.stream_url == CLEAN_URL
    assert stored.has_credentials
    assert stored.credentials.username == "admin"
    assert stored.credentials.password == SECRET
    assert stored.stream_url_with_credentials() == URL
    assert SECRET not in repr(stored.credentials)


def test_it_records_only_that_credentials_changed_in_the_audit_trail(vabalninkas: Site) -> None:
    camera = CameraFactory(site=vabalninkas, stream_url=URL)
    event = AuditEvent.objects.get(action=AuditAction.CAMERA_CREATED, target_id=str(camera.public_id))
    assert event.details["changes"]["stream_credentials"] == "changed"
    assert event.details["changes"]["stream_url"] == CLEAN_URL


# --- the admin form ------------------------------------------------------------------------------


def _admin_form(site: Site, **overrides: Any) -> dict[str, Any]:
    data = {
        "site": site.pk, "name": "Pagrindinė gatvė", "location": "Stulpas prie seniūnijos",
        "latitude": "", "longitude": "", "stream_url": URL,
        "purpose": "Viešosios tvarkos palaikymas.", "legal_basis": "BDAR 6 str. 1 d. e p.",
        "retention_hours": "72", "retention_justification": "", "enabled": "on", "sign_installed_on": "",
        "privacy_masking_notes": "", "stream_username": "", "stream_password": "", "_save": "Save",
    }
    data.update(overrides)
    return data


def test_it_stores_credentials_posted_in_the_admin_encrypted(vabalninkas: Site, superuser: Any,
                                                             client_for: Callable[[Any], Client]) -> None:
    client = client_for(superuser)
    response = client.post("/admin/cameras/camera/add/", _admin_form(vabalninkas))
    assert response.status_code == 302, response.content.decode()[:2000]

    camera = Camera.objects.get(name="Pagrindinė gatvė")
    assert camera.stream_url == CLEAN_URL
    assert camera.stream_url_with_credentials() == URL
    assert SECRET not in _raw_credentials(camera)
    event = AuditEvent.objects.get(action=AuditAction.CAMERA_CREATED, target_id=str(camera.public_id))
    assert event.actor == superuser

    change_form = client.get(f"/admin/cameras/camera/{camera.pk}/change/").content.decode()
    assert CLEAN_URL in change_form
    assert SECRET not in change_form


def test_it_rerenders_an_invalid_admin_form_without_the_credentials(vabalninkas: Site, superuser: Any,
                                                                    client_for: Callable[[Any], Client]) -> None:
    # Another field is wrong, so the form comes back with the URL the user typed.
    response = client_for(superuser).post("/admin/cameras/camera/add/",
                                          _admin_form(vabalninkas, purpose="", stream_password=SECRET))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors.keys() == {"purpose"}
    page = response.content.decode()
    assert f'value="{CLEAN_URL}"' in page
    assert SECRET not in page
    assert not Camera.objects.exists()


def test_it_keeps_stored_credentials_when_the_admin_leaves_them_empty(vabalninkas: Site, superuser: Any,
                                                                      client_for: Callable[[Any], Client]) -> None:
    camera = CameraFactory(site=vabalninkas, stream_url=URL)
    response = client_for(superuser).post(
        f"/admin/cameras/camera/{camera.pk}/change/",
        _admin_form(vabalninkas, name=camera.name, stream_url=CLEAN_URL, location="Nauja vieta"),
    )
    assert response.status_code == 302
    camera.refresh_from_db()
    assert camera.location == "Nauja vieta"
    assert camera.stream_url_with_credentials() == URL


def test_it_removes_stored_credentials_when_asked(vabalninkas: Site, superuser: Any,
                                                  client_for: Callable[[Any], Client]) -> None:
    camera = CameraFactory(site=vabalninkas, stream_url=URL)
    response = client_for(superuser).post(
        f"/admin/cameras/camera/{camera.pk}/change/",
        _admin_form(vabalninkas, name=camera.name, stream_url=CLEAN_URL, clear_credentials="on"),
    )
    assert response.status_code == 302
    camera.refresh_from_db()
    assert not camera.has_credentials
    assert camera.stream_url_with_credentials() == CLEAN_URL
    event = AuditEvent.objects.filter(action=AuditAction.CAMERA_CHANGED).get()
    assert event.details["changes"]["stream_credentials"] == "removed"


# --- log lines -----------------------------------------------------------------------------------


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler (settings.LOGGING, with its redaction filter) writes."""
    handlers = [h for h in logging.getLogger().handlers
                if any(isinstance(f, RedactCredentialsFilter) for f in h.filters)]
    assert handlers, "settings.LOGGING configures no handler with RedactCredentialsFilter"
    stream = io.StringIO()
    old = handlers[0].setStream(stream)
    try:
        yield stream
    finally:
        handlers[0].setStream(old)


def test_it_masks_credentials_in_log_lines(console: io.StringIO) -> None:
    logging.getLogger("safecam").warning("Cannot connect to %s, retrying", URL)
    written = console.getvalue()
    assert "Cannot connect to rtsp://***@10.0.0.5:554/stream1, retrying" in written
    assert SECRET not in written
    assert "admin:" not in written


def test_it_masks_credentials_in_logged_tracebacks(console: io.StringIO) -> None:
    try:
        raise ConnectionError(f"ffmpeg could not open {URL}")
    except ConnectionError:
        logging.getLogger("safecam.recorder").exception("Recording stopped")
    written = console.getvalue()
    assert "Recording stopped" in written
    assert "ConnectionError: ffmpeg could not open rtsp://***@10.0.0.5:554/stream1" in written
    assert SECRET not in written


def _configured_handlers(logger: logging.Logger) -> list[logging.Handler]:
    """The handlers a record from ``logger`` reaches, leaving out pytest's own capturing handlers."""
    found: list[logging.Handler] = []
    current: logging.Logger | None = logger
    while current is not None:
        found += [h for h in current.handlers if not type(h).__module__.startswith("_pytest")]
        current = current.parent if current.propagate else None
    return found


def test_it_masks_credentials_in_every_handler_a_django_error_reaches(settings: Any) -> None:
    # With DEBUG on, Django's default logging config adds its own console handler to the "django" logger.
    settings.DEBUG = True
    logger = logging.getLogger("django.request")
    streams = [h for h in _configured_handlers(logger) if isinstance(h, logging.StreamHandler)]
    assert streams
    swapped = [(handler, handler.setStream(io.StringIO())) for handler in streams]
    try:
        try:
            raise ConnectionError(f"ffmpeg could not open {URL}")
        except ConnectionError:
            logger.error("Internal Server Error: /cameras/ (%s)", URL, exc_info=True)
        written = [handler.stream.getvalue() for handler, _old in swapped]
    finally:
        for handler, old in swapped:
            handler.setStream(old)
    assert any(written)
    for text in written:
        assert SECRET not in text


@pytest.mark.parametrize(("text", "expected"), [
    (URL, "rtsp://***@10.0.0.5:554/stream1"),
    ("rtsp://operator@cam.local/live", "rtsp://***@cam.local/live"),
    ("rtsp://u:p%40ss@[fe80::1]:554/a and http://x:y@host/b", "rtsp://***@[fe80::1]:554/a and http://***@host/b"),
    ("postgres://safecam:db-pass@127.0.0.1:5432/safecam", "postgres://***@127.0.0.1:5432/safecam"),
    ("rtsp://10.0.0.5:554/stream1 user@example.com", "rtsp://10.0.0.5:554/stream1 user@example.com"),
    # split_stream_url accepts a literal "@" in the password (the last "@" ends the user info).
    ("rtsp://admin:Pa@ss-w0rd@10.0.0.5:554/s", "rtsp://***@10.0.0.5:554/s"),
    ("failed: rtsp://admin:p@ss@cam/s (timeout)", "failed: rtsp://***@cam/s (timeout)"),
])
def test_it_redacts_the_user_info_of_every_url(text: str, expected: str) -> None:
    assert redact(text) == expected
