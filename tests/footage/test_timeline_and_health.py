"""Every second is recorded or explained; health, coverage and alerts follow from the index."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.utils import timezone

from cameras.models import Camera, CameraStatus
from cameras.selectors import camera_status
from cameras.services import health_update
from footage import services, supervise
from footage.models import EndReason, Gap, Run
from footage.selectors import coverage, timeline
from safecam.timeranges import TimeRange, local_day
from tests.conftest import PERSONAS, VISIBLE_SITES, make_user
from tests.factories import footage_index

pytestmark = pytest.mark.django_db

UTC = ZoneInfo("UTC")
VILNIUS = ZoneInfo("Europe/Vilnius")


def test_the_autumn_change_day_in_vilnius_has_25_hours() -> None:
    day = local_day(date(2026, 10, 25), VILNIUS)
    assert day.start == datetime(2026, 10, 24, 21, 0, tzinfo=UTC)  # 00:00 EEST
    assert day.end == datetime(2026, 10, 25, 22, 0, tzinfo=UTC)  # 00:00 EET next day
    assert day.seconds == 25 * 3600
    assert local_day(date(2026, 3, 29), VILNIUS).seconds == 23 * 3600


def test_footage_across_the_autumn_change_is_contiguous_in_utc_and_shown_in_local_time(
    vabalninkas_camera: Camera, spec_vabalninkas: Any, api_client_for: Any
) -> None:
    # 03:55 EEST to 04:05 EET: the clock goes back an hour at 04:00 EEST, so 70 minutes pass.
    start = datetime(2026, 10, 25, 0, 55, tzinfo=UTC)
    footage_index(vabalninkas_camera, start, count=420, seconds=10)  # 70 minutes
    window = TimeRange(datetime(2026, 10, 25, 3, 55, tzinfo=VILNIUS), datetime(2026, 10, 25, 4, 5, tzinfo=VILNIUS))
    assert window.seconds == 70 * 60

    spans = timeline(vabalninkas_camera, window, now=datetime(2026, 10, 26, tzinfo=UTC))

    assert [(s.kind, s.start, s.end) for s in spans] == [("recorded", start, start + timedelta(minutes=70))]
    response = api_client_for(spec_vabalninkas).get(
        f"/api/v1/cameras/{vabalninkas_camera.public_id}/timeline/",
        {"start": "2026-10-25T03:55:00+03:00", "end": "2026-10-25T04:05:00+02:00"})
    assert response.status_code == 200
    body = response.json()
    assert body["coverage"] == 100.0
    # Shown in Vilnius time, each with its own offset on either side of the change.
    assert body["spans"][0]["start"] == "2026-10-25T03:55:00+03:00"
    assert body["spans"][0]["end"] == "2026-10-25T04:05:00+02:00"
    # The hour 03:00–04:00 happens twice; a time typed without an offset is taken as the first.
    ambiguous = api_client_for(spec_vabalninkas).get(
        f"/api/v1/cameras/{vabalninkas_camera.public_id}/timeline/",
        {"start": "2026-10-25T03:55:00", "end": "2026-10-25T04:05:00"})
    assert ambiguous.json()["start"] == "2026-10-25T03:55:00+03:00"
    assert ambiguous.json()["coverage"] == 100.0


def test_every_second_of_a_day_is_recorded_or_explained(vabalninkas_camera: Camera) -> None:
    day = TimeRange(datetime(2026, 11, 20, 8, tzinfo=UTC), datetime(2026, 11, 20, 9, tzinfo=UTC))
    first = footage_index(vabalninkas_camera, day.start, count=90, seconds=10)  # 08:00–08:15
    run = first[0].run
    Run.objects.filter(pk=run.pk).update(ended_at=None)  # the recorder ends it: camera lost at 08:15
    services.run_end(run=run, ended_at=first[-1].end, reason=EndReason.CAMERA_LOST, detail="Kabelis")
    second_start = day.start + timedelta(minutes=20)
    services.run_open(camera_id=vabalninkas_camera.pk, started_at=second_start, recorder="t")  # closes the gap
    footage_index(vabalninkas_camera, second_start, count=240, seconds=10)  # 08:20–09:00
    assert Gap.objects.get().end == second_start

    spans = timeline(vabalninkas_camera, day, now=day.end + timedelta(hours=1))

    assert [(s.kind, s.reason) for s in spans] == [("recorded", ""), ("gap", EndReason.CAMERA_LOST), ("recorded", "")]
    assert sum(s.seconds for s in spans) == day.seconds
    assert round(coverage(spans), 2) == round(100 * 55 / 60, 2)


def test_the_timeline_api_rejects_a_bad_range_with_a_message(
    vabalninkas_camera: Camera, public_order: Any, api_client_for: Any
) -> None:
    url = f"/api/v1/cameras/{vabalninkas_camera.public_id}/timeline/"
    client = api_client_for(public_order)
    for params in ({"start": "yesterday", "end": "2026-11-25T10:00:00"}, {"start": "2026-11-25T10:00:00"},
                   {"start": "2026-11-25T10:00:00", "end": "2026-11-25T09:00:00"}):
        response = client.get(url, params)
        assert response.status_code == 400, params
        assert response.json()["detail"]


@pytest.mark.door("api:camera-timeline")
@pytest.mark.parametrize("name", PERSONAS)
def test_each_persona_reads_timelines_only_of_cameras_they_see(
    name: str, persona: Any, registry: dict[str, list[Camera]], api_client_for: Any
) -> None:
    user = None if name == "anonymous" else persona(name)
    for slug, cameras in registry.items():
        response = api_client_for(user).get(f"/api/v1/cameras/{cameras[0].public_id}/timeline/",
                                            {"start": "2026-11-25T00:00:00", "end": "2026-11-25T01:00:00"})
        if name == "anonymous":
            assert response.status_code in (401, 403)
        else:
            assert response.status_code == (200 if slug in VISIBLE_SITES[name] else 404)


# --- health ------------------------------------------------------------------------------------------


def test_status_follows_what_the_recorder_reports(vabalninkas_camera: Camera) -> None:
    now = timezone.now()
    assert camera_status(Camera.objects.get(pk=vabalninkas_camera.pk), now) == CameraStatus.OFFLINE
    health_update(camera_id=vabalninkas_camera.pk, recorder_state="reconnecting", recorder_heartbeat_at=now)
    assert camera_status(Camera.objects.get(pk=vabalninkas_camera.pk), now) == CameraStatus.RECONNECTING
    health_update(camera_id=vabalninkas_camera.pk, recorder_state="recording", last_segment_end=now)
    assert camera_status(Camera.objects.get(pk=vabalninkas_camera.pk), now) == CameraStatus.RECORDING
    assert camera_status(Camera.objects.get(pk=vabalninkas_camera.pk), now + timedelta(minutes=5)) == CameraStatus.OFFLINE
    Camera.objects.filter(pk=vabalninkas_camera.pk).update(enabled=False)
    assert camera_status(Camera.objects.get(pk=vabalninkas_camera.pk), now) == CameraStatus.DISABLED


def test_it_emails_the_sites_specialists_and_public_order_when_a_camera_is_offline_and_when_it_recovers(
    vabalninkas_camera: Camera, pabirze_camera: Camera, spec_vabalninkas: Any, spec_pabirze: Any,
    public_order: Any, role_groups: Any, settings: Any
) -> None:
    settings.SAFECAM_OFFLINE_ALERT_MINUTES = 5
    for user in (spec_vabalninkas, spec_pabirze, public_order):
        user.email = f"{user.username}@birzai.lt"
        user.save()
    Camera.objects.filter(pk=pabirze_camera.pk).update(enabled=False)
    now = timezone.now()
    health_update(camera_id=vabalninkas_camera.pk, last_segment_end=now - timedelta(minutes=6),
                  recorder_state="reconnecting", recorder_heartbeat_at=now)
    Camera.objects.filter(pk=vabalninkas_camera.pk).update(created_at=now - timedelta(days=1))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("django.db.transaction.on_commit", lambda fn, *a, **k: fn())
        supervise.health_refresh(now)
        supervise.health_refresh(now + timedelta(minutes=1))  # no second email for the same outage
        assert len(mail.outbox) == 1
        offline = mail.outbox[0]
        assert sorted(offline.to) == ["public_order@birzai.lt", "spec_vabalninkas@birzai.lt"]
        assert vabalninkas_camera.name in offline.subject

        health_update(camera_id=vabalninkas_camera.pk, last_segment_end=now + timedelta(minutes=2),
                      recorder_state="recording")
        supervise.health_refresh(now + timedelta(minutes=2))
    assert len(mail.outbox) == 2
    assert sorted(mail.outbox[1].to) == sorted(offline.to)


def test_coverage_today_is_the_share_of_the_local_day_so_far_that_was_recorded(vabalninkas_camera: Camera) -> None:
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 12:00 in Vilnius: 12 hours of the day so far
    Camera.objects.filter(pk=vabalninkas_camera.pk).update(created_at=now - timedelta(days=3))
    footage_index(vabalninkas_camera, now - timedelta(hours=3), count=1080, seconds=10)  # 3 hours

    supervise.health_refresh(now)

    assert round(Camera.objects.get(pk=vabalninkas_camera.pk).health.coverage_today, 1) == 25.0


def test_the_dashboard_shows_storage_per_eldership_and_days_on_hand(
    vabalninkas_camera: Camera, spec_vabalninkas: Any, client_for: Any
) -> None:
    footage_index(vabalninkas_camera, timezone.now() - timedelta(days=2, hours=12), count=10, payload=b"\x47" * 1880)
    page = client_for(spec_vabalninkas).get("/").content.decode()
    assert "18,4" in page or "18.4" in page  # 18 800 bytes = 18,4 KB, formatted for Lithuanian
    assert "2,5" in page  # days of footage on hand


def test_a_storage_outage_shows_a_banner_to_camera_users_only(
    spec_vabalninkas: Any, coordinator: Any, client_for: Any
) -> None:
    services.storage_failed(error="NoValidConnectionsError: Unable to connect to port 22")
    assert 'data-testid="storage-alert"' in client_for(spec_vabalninkas).get("/").content.decode()
    assert 'data-testid="storage-alert"' not in client_for(coordinator).get("/").content.decode()


def test_camera_alert_recipients_skip_users_without_email(vabalninkas_camera: Camera, role_groups: Any) -> None:
    from safecam import roles

    make_user("po-no-mail", group=role_groups[roles.PUBLIC_ORDER_OFFICER])
    make_user("po-mail", group=role_groups[roles.PUBLIC_ORDER_OFFICER], email="po@birzai.lt")
    assert supervise.camera_alert_recipients(vabalninkas_camera) == ["po@birzai.lt"]
