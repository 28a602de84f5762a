"""Registry rules: how long footage may be kept, and how stream URLs are split from credentials."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from cameras import services
from cameras.models import Camera, Site
from cameras.streams import StreamCredentials, StreamURLError, join_stream_url, split_stream_url
from safecam.audit import AuditAction
from safecam.models import AuditEvent
from tests.factories import CameraFactory

# --- retention -----------------------------------------------------------------------------------


def _camera(site: Site, **fields: object) -> Camera:
    defaults = {"name": "Aikštė", "stream_url": "rtsp://10.0.0.9/stream1", "purpose": "Viešoji tvarka.",
                "legal_basis": "BDAR 6 str. 1 d. e p."}
    return Camera(site=site, **{**defaults, **fields})


@pytest.mark.django_db
def test_it_keeps_footage_72_hours_by_default(vabalninkas: Site) -> None:
    assert Camera().retention_hours == 72
    camera = services.camera_create(site=vabalninkas, name="Aikštė", stream_url="rtsp://10.0.0.9/s",
                                    purpose="Viešoji tvarka.", legal_basis="BDAR", by=None)
    camera.refresh_from_db()
    assert camera.retention_hours == 72


@pytest.mark.django_db
def test_it_refuses_more_than_72_hours_without_a_justification(vabalninkas: Site) -> None:
    with pytest.raises(ValidationError) as caught:
        _camera(vabalninkas, retention_hours=73).full_clean()
    assert set(caught.value.message_dict) == {"retention_justification"}
    _camera(vabalninkas, retention_hours=72).full_clean()


@pytest.mark.django_db
def test_it_refuses_a_blank_justification(vabalninkas: Site) -> None:
    with pytest.raises(ValidationError) as caught:
        _camera(vabalninkas, retention_hours=96, retention_justification="   \n").full_clean()
    assert "retention_justification" in caught.value.message_dict


@pytest.mark.django_db
def test_it_accepts_more_than_72_hours_with_a_justification(vabalninkas: Site) -> None:
    camera = services.camera_create(site=vabalninkas, name="Turgus", stream_url="rtsp://10.0.0.9/s",
                                    purpose="Viešoji tvarka.", legal_basis="BDAR", retention_hours=168,
                                    retention_justification="Turgus veikia kartą per savaitę.", by=None)
    camera.refresh_from_db()
    assert camera.retention_hours == 168


@pytest.mark.django_db
def test_it_writes_nothing_when_the_service_refuses_a_retention(vabalninkas: Site) -> None:
    events = AuditEvent.objects.count()
    with pytest.raises(ValidationError):
        services.camera_create(site=vabalninkas, name="Turgus", stream_url="rtsp://10.0.0.9/s",
                               purpose="Viešoji tvarka.", legal_basis="BDAR", retention_hours=100, by=None)
    assert not Camera.objects.filter(name="Turgus").exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
def test_it_has_the_database_refuse_an_unjustified_long_retention_saved_without_validation(vabalninkas: Site) -> None:
    camera = _camera(vabalninkas, retention_hours=73)
    with pytest.raises(IntegrityError), transaction.atomic():
        camera.save()
    assert not Camera.objects.exists()


@pytest.mark.django_db
def test_it_has_the_database_refuse_an_update_that_drops_the_justification(vabalninkas: Site) -> None:
    camera = CameraFactory(site=vabalninkas, retention_hours=100, retention_justification="Renginys.")
    with pytest.raises(IntegrityError), transaction.atomic():
        Camera.objects.filter(pk=camera.pk).update(retention_justification="")
    camera.refresh_from_db()
    assert camera.retention_justification == "Renginys."


@pytest.mark.django_db
def test_it_has_the_database_refuse_a_zero_retention(vabalninkas: Site) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        _camera(vabalninkas, retention_hours=0).save()


@pytest.mark.django_db
def test_it_refuses_more_than_the_configured_maximum_even_with_a_justification(vabalninkas: Site,
                                                                                settings: object) -> None:
    settings.SAFECAM_RETENTION_MAX_HOURS = 240
    justified = {"retention_justification": "Dažni pažeidimai; prašo policija."}
    _camera(vabalninkas, retention_hours=240, **justified).full_clean()
    with pytest.raises(ValidationError) as caught:
        _camera(vabalninkas, retention_hours=241, **justified).full_clean()
    assert set(caught.value.message_dict) == {"retention_hours"}
    assert "240" in caught.value.message_dict["retention_hours"][0]


@pytest.mark.django_db
def test_it_caps_retention_at_30_days_unless_configured_otherwise(vabalninkas: Site) -> None:
    justified = {"retention_justification": "Ilgas tyrimas."}
    _camera(vabalninkas, retention_hours=720, **justified).full_clean()
    with pytest.raises(ValidationError):
        _camera(vabalninkas, retention_hours=721, **justified).full_clean()


# --- stream URLs ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "clean", "username", "password"), [
    ("rtsp://admin:S3cr3t@10.0.0.5:554/stream1", "rtsp://10.0.0.5:554/stream1", "admin", "S3cr3t"),
    ("rtsp://10.0.0.5/stream1", "rtsp://10.0.0.5/stream1", "", ""),
    ("rtsp://viewer@cam.local/live", "rtsp://cam.local/live", "viewer", ""),
    ("rtsp://user:pw@[fe80::1]:554/s", "rtsp://[fe80::1]:554/s", "user", "pw"),
    ("rtsp://[2001:db8::7]/s", "rtsp://[2001:db8::7]/s", "", ""),
    ("rtsp://user:p%40ss%3Aw%2Frd@cam.local/s", "rtsp://cam.local/s", "user", "p@ss:w/rd"),
    ("RTSP://Cam.Local:8554/Path?channel=1&subtype=0#frag", "rtsp://cam.local:8554/Path?channel=1&subtype=0",
     "", ""),
    ("  https://u:p@cam.local/mjpg  ", "https://cam.local/mjpg", "u", "p"),
])
def test_it_splits_credentials_out_of_a_stream_url(url: str, clean: str, username: str, password: str) -> None:
    assert split_stream_url(url) == (clean, StreamCredentials(username, password))


@pytest.mark.parametrize(("clean", "credentials"), [
    ("rtsp://10.0.0.5:554/stream1", StreamCredentials("admin", "S3cr3t")),
    ("rtsp://[fe80::1]:554/s", StreamCredentials("user", "p@ss:w/rd %")),
    ("rtsp://cam.local/s", StreamCredentials("viewer", "")),
    ("rtsp://cam.local/s", StreamCredentials()),
])
def test_it_joins_credentials_back_so_they_split_out_again(clean: str, credentials: StreamCredentials) -> None:
    joined = join_stream_url(clean, credentials)
    assert split_stream_url(joined) == (clean, credentials)


def test_it_percent_encodes_a_password_when_joining() -> None:
    joined = join_stream_url("rtsp://cam.local/s", StreamCredentials("us er", "p@ss:w/rd"))
    assert joined == "rtsp://us%20er:p%40ss%3Aw%2Frd@cam.local/s"


@pytest.mark.parametrize("url", [
    "ftp://admin:S3cr3t@cam.local/s", "file:///etc/passwd", "cam.local/stream1", "rtsp:///stream1",
    "rtsp://admin:S3cr3t@cam.local:99999/s", "rtsp://admin:S3cr3t@cam.local:port/s",
    "rtsp://cam.local/stream 1", "rtsp://cam.local/s\nHost: evil", "rtsp://cam.local/\x00",
])
def test_it_refuses_an_unusable_stream_url_without_quoting_the_password(url: str) -> None:
    with pytest.raises(StreamURLError) as caught:
        split_stream_url(url)
    assert "S3cr3t" not in str(caught.value)


def test_it_never_shows_a_password_in_the_credentials_repr() -> None:
    credentials = StreamCredentials("admin", "S3cr3t")
    assert "S3cr3t" not in repr(credentials)
    assert "S3cr3t" not in str(credentials)
    assert not StreamCredentials()


@pytest.mark.django_db
def test_it_refuses_to_create_a_camera_with_a_bad_scheme(vabalninkas: Site) -> None:
    with pytest.raises(StreamURLError):
        CameraFactory(site=vabalninkas, stream_url="ftp://10.0.0.5/stream1")
    assert not Camera.objects.exists()


@pytest.mark.django_db
def test_it_writes_an_audit_event_for_every_new_camera(vabalninkas: Site) -> None:
    camera = CameraFactory(site=vabalninkas)
    event = AuditEvent.objects.get(action=AuditAction.CAMERA_CREATED)
    assert event.target_id == str(camera.public_id)
    assert event.details["site"] == "vabalninkas"
    assert event.details["changes"]["name"] == camera.name


def test_it_refuses_a_stream_url_whose_password_would_be_read_as_a_port_and_path() -> None:
    from cameras.streams import StreamURLError, split_stream_url

    with pytest.raises(StreamURLError) as error:
        split_stream_url("rtsp://admin:1234/abcd@10.0.0.5/stream1")
    assert "1234/abcd" not in str(error.value)
    assert "%2F" in str(error.value)
