"""Retention is a legal maximum: expired footage goes, held footage stays, crashes are finished."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from cameras import services as camera_services
from cameras.models import Camera, CameraHealth
from footage import services
from footage.models import JobStatus, RetentionRecord, RetentionRun, Segment, SegmentState
from footage.retention import retention_apply
from safecam.models import AuditEvent
from tests.factories import footage_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def now() -> Any:
    return timezone.now().replace(microsecond=0)


def _files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*.ts")}


def test_it_deletes_expired_segments_and_their_files_and_keeps_the_rest(
    vabalninkas_camera: Camera, footage_dir: Path, now: Any
) -> None:
    # 72 h retention: two old hours expire, the last hour stays.
    old = footage_index(vabalninkas_camera, now - timedelta(hours=75), count=12, seconds=600)
    recent = footage_index(vabalninkas_camera, now - timedelta(hours=1), count=6, seconds=600)

    run = retention_apply(now=now)

    assert run.status == JobStatus.DONE
    expired = [s for s in old if s.end <= now - timedelta(hours=72)]
    kept = [s for s in old if s.end > now - timedelta(hours=72)] + recent
    assert set(Segment.objects.values_list("pk", flat=True)) == {s.pk for s in kept}
    assert _files(footage_dir) == {s.storage_name for s in kept}
    record = RetentionRecord.objects.get(run=run, camera=vabalninkas_camera)
    assert (record.segments, record.bytes) == (len(expired), sum(s.size for s in expired))
    assert record.removed_from == min(s.start for s in expired)
    assert record.removed_until == max(s.end for s in expired)
    assert record.retention_hours == 72
    health = CameraHealth.objects.get(camera=vabalninkas_camera)
    assert health.stored_segments == len(kept)
    assert health.stored_bytes == sum(s.size for s in kept)
    assert health.oldest_footage == min(s.start for s in kept)
    event = AuditEvent.objects.get(action="retention.applied")
    assert event.details["segments"] == len(expired)


def test_it_never_deletes_footage_under_an_active_hold(
    vabalninkas_camera: Camera, public_order: Any, footage_dir: Path, now: Any
) -> None:
    old = footage_index(vabalninkas_camera, now - timedelta(hours=80), count=6, seconds=600)
    held = old[2:4]
    services.hold_place(camera=vabalninkas_camera, start=held[0].start + timedelta(seconds=30),
                        end=held[1].end - timedelta(seconds=30), reason="Policijos prašymas", by=public_order,
                        review_on=(now + timedelta(days=30)).date())

    run = retention_apply(now=now)

    assert set(Segment.objects.values_list("pk", flat=True)) == {s.pk for s in held}
    assert _files(footage_dir) == {s.storage_name for s in held}
    assert run.segments_held == 2


def test_it_deletes_footage_once_its_hold_is_released_or_expired(
    vabalninkas_camera: Camera, public_order: Any, now: Any
) -> None:
    footage_index(vabalninkas_camera, now - timedelta(hours=80), count=2, seconds=600)
    released = services.hold_place(camera=vabalninkas_camera, start=now - timedelta(hours=81),
                                   end=now - timedelta(hours=79), reason="Incidentas", by=public_order,
                                   review_on=now.date())
    services.hold_place(camera=vabalninkas_camera, start=now - timedelta(hours=81), end=now - timedelta(hours=79),
                        reason="Trumpam", by=public_order, expires_at=now + timedelta(minutes=5))
    services.hold_release(hold=released, by=public_order, reason="Tyrimas baigtas")

    retention_apply(now=now)
    assert Segment.objects.count() == 2  # the second hold is still active

    retention_apply(now=now + timedelta(minutes=6))
    assert Segment.objects.count() == 0
    assert AuditEvent.objects.filter(action="hold.expired").count() == 1


def test_it_finishes_a_pass_that_crashed_between_deleting_files_and_rows(
    vabalninkas_camera: Camera, footage_dir: Path, now: Any
) -> None:
    old = footage_index(vabalninkas_camera, now - timedelta(hours=80), count=5, seconds=600)

    def crash(_claimed: Any) -> None:
        raise OSError("power cut")

    with pytest.raises(OSError):
        retention_apply(now=now, after_files_deleted=crash)

    # The files are gone but the rows remain, marked: never played, never left behind.
    assert _files(footage_dir) == set()
    assert set(Segment.objects.values_list("state", flat=True)) == {SegmentState.DELETING}
    crashed = RetentionRun.objects.get()
    assert crashed.status == JobStatus.FAILED

    run = retention_apply(now=now)

    assert Segment.objects.count() == 0
    record = RetentionRecord.objects.get(run=run)
    assert record.segments == len(old)


def test_a_crashed_pass_that_stopped_beating_is_taken_over(vabalninkas_camera: Camera, now: Any) -> None:
    footage_index(vabalninkas_camera, now - timedelta(hours=80), count=3, seconds=600)
    # A pass killed outright (no chance to mark itself failed): still "running", silent for 10 min.
    dead = RetentionRun.objects.create(heartbeat_at=now - timedelta(minutes=10))
    Segment.objects.update(state=SegmentState.DELETING, retention_run=dead)

    retention_apply(now=now)

    assert Segment.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_retention_passes_at_once_do_not_conflict(vabalninkas_camera: Camera, footage_dir: Path) -> None:
    now = timezone.now()
    old = footage_index(vabalninkas_camera, now - timedelta(hours=100), count=40, seconds=60)
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def one_pass() -> None:
        try:
            barrier.wait()
            retention_apply(now=now, batch=5)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_pass) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert errors == []
    assert Segment.objects.count() == 0
    assert _files(footage_dir) == set()
    # Each segment is accounted for exactly once across both passes.
    assert sum(RetentionRecord.objects.values_list("segments", flat=True)) == len(old)


def test_a_shortened_retention_deletes_nothing_for_24_hours(
    vabalninkas_camera: Camera, public_order: Any, now: Any
) -> None:
    footage_index(vabalninkas_camera, now - timedelta(hours=30), count=3, seconds=600)
    vabalninkas_camera.retention_hours = 24
    camera_services.camera_save(camera=vabalninkas_camera, by=public_order)

    retention_apply(now=timezone.now())
    assert Segment.objects.count() == 3  # the notice period protects it

    retention_apply(now=timezone.now() + timedelta(hours=24, minutes=1))
    assert Segment.objects.count() == 0
    assert AuditEvent.objects.filter(action="camera.retention_shortened").exists()


def test_a_shortened_retention_is_shown_to_those_who_will_lose_footage(
    vabalninkas_camera: Camera, spec_vabalninkas: Any, spec_pabirze: Any, public_order: Any, client_for: Any
) -> None:
    vabalninkas_camera.retention_hours = 24
    camera_services.camera_save(camera=vabalninkas_camera, by=public_order)

    for user, sees in ((spec_vabalninkas, True), (public_order, True), (spec_pabirze, False)):
        page = client_for(user).get("/")
        assert ('data-testid="retention-notice"' in page.content.decode()) is sees, user
    page = client_for(spec_vabalninkas).get(f"/cameras/{vabalninkas_camera.public_id}/")
    assert 'data-testid="retention-notice"' in page.content.decode()


@pytest.mark.parametrize("name", ["spec_vabalninkas", "spec_pabirze", "public_order", "dpo", "coordinator"])
def test_each_persona_sees_the_retention_records_of_cameras_they_see(
    name: str, persona: Any, registry: dict[str, list[Camera]], api_client_for: Any, now: Any
) -> None:
    from tests.conftest import VISIBLE_SITES

    user = persona(name)
    for cameras in registry.values():
        footage_index(cameras[0], now - timedelta(hours=80), count=2, seconds=600)
    retention_apply(now=now)

    response = api_client_for(user).get("/api/v1/retention-records/")

    if name == "coordinator":  # sees no camera: to them the footage collections do not exist
        assert response.status_code == 404
        return
    assert response.status_code == 200
    seen = {item["camera"] for item in response.json()["results"]}
    assert seen == {str(cameras[0].public_id) for slug, cameras in registry.items() if slug in VISIBLE_SITES[name]}
    for item in response.json()["results"]:
        assert item["segments"] == 2 and item["retention_hours"] == 72
