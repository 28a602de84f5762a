"""Preview pictures for the timeline, made by real ffmpeg from real H.264 segments."""

from __future__ import annotations

import io
import logging
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from cameras.models import Camera
from footage.models import Segment, SegmentState
from footage.retention import retention_apply
from footage.thumbnails import thumbnail_make, thumbnail_name, thumbnails_due, thumbnails_make_pass
from tests.factories import footage_index

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def h264_segment() -> bytes:
    """Ten seconds of 320×180 H.264 in MPEG-TS, as a camera's recorder would store it."""
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=5",
         "-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-pix_fmt", "yuv420p",
         "-f", "mpegts", "pipe:"], check=True, capture_output=True).stdout


@pytest.fixture(autouse=True)
def every_30_seconds(settings: Any) -> None:
    settings.SAFECAM_THUMBNAIL_SECONDS = 30


@pytest.fixture
def an_hour_ago() -> Any:
    return timezone.now().replace(microsecond=0) - timedelta(hours=1)


def _pictures(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*.jpg")}


def test_it_names_the_picture_after_its_segment() -> None:
    assert thumbnail_name("c0ffee/2026/11/25/10/20261125T100000Z-ab12cd34-000001.ts") == (
        "c0ffee/2026/11/25/10/20261125T100000Z-ab12cd34-000001.jpg")


def test_it_makes_a_picture_every_30_seconds_of_footage_and_nothing_twice(
    vabalninkas_camera: Camera, footage_dir: Path, h264_segment: bytes, an_hour_ago: Any
) -> None:
    segments = footage_index(vabalninkas_camera, an_hour_ago, count=6, payload=h264_segment)

    assert thumbnails_make_pass() == 2

    pictured = [segments[0], segments[3]]  # at 0 s and 30 s
    assert set(Segment.objects.filter(thumbnail=True).values_list("pk", flat=True)) == {s.pk for s in pictured}
    assert _pictures(footage_dir) == {thumbnail_name(s.storage_name) for s in pictured}
    picture = Image.open(io.BytesIO((footage_dir / thumbnail_name(segments[0].storage_name)).read_bytes()))
    assert (picture.format, picture.size) == ("JPEG", (160, 90))

    assert thumbnails_make_pass() == 0

    # The next minute of footage arrives: the spacing continues from the last picture.
    later = footage_index(vabalninkas_camera, an_hour_ago + timedelta(seconds=60), count=3, payload=h264_segment)
    assert thumbnails_make_pass() == 1
    assert Segment.objects.get(pk=later[0].pk).thumbnail


def test_it_skips_damaged_and_missing_segments_once_and_goes_on(
    vabalninkas_camera: Camera, pabirze_camera: Camera, footage_dir: Path, h264_segment: bytes, an_hour_ago: Any,
    caplog: pytest.LogCaptureFixture
) -> None:
    damaged = footage_index(vabalninkas_camera, an_hour_ago, count=1, payload=b"not a video" * 1000)
    good = footage_index(vabalninkas_camera, an_hour_ago + timedelta(seconds=10), count=5, payload=h264_segment)
    missing = footage_index(pabirze_camera, an_hour_ago, count=1, with_files=False)
    others = footage_index(pabirze_camera, an_hour_ago + timedelta(seconds=10), count=5, payload=h264_segment)

    with caplog.at_level(logging.WARNING, logger="footage.thumbnails"):
        made = thumbnails_make_pass()

    # The broken first segments count as done without a picture; the spacing goes on from them.
    assert made == 2
    assert set(Segment.objects.filter(thumbnail=True).values_list("pk", flat=True)) == {good[2].pk, others[2].pk}
    assert {r.getMessage().split(":")[0] for r in caplog.records} == {
        f"No preview picture for {damaged[0].storage_name}", f"No preview picture for {missing[0].storage_name}"}

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="footage.thumbnails"):
        assert thumbnails_make_pass() == 0
    assert caplog.records == []  # not tried again


def test_it_makes_no_picture_for_a_segment_retention_has_claimed(
    vabalninkas_camera: Camera, footage_dir: Path, h264_segment: bytes, an_hour_ago: Any
) -> None:
    claimed_before, claimed_during = footage_index(vabalninkas_camera, an_hour_ago, count=2, seconds=30,
                                                   payload=h264_segment)
    Segment.objects.filter(pk=claimed_before.pk).update(state=SegmentState.DELETING)
    assert [s.pk for s in thumbnails_due()] == [claimed_during.pk]

    # Retention claims it while its picture is being made.
    Segment.objects.filter(pk=claimed_during.pk).update(state=SegmentState.DELETING)
    assert thumbnail_make(segment=claimed_during) is False

    assert not Segment.objects.filter(thumbnail=True).exists()
    assert _pictures(footage_dir) == set()


def test_retention_deletes_the_picture_with_its_segment(
    vabalninkas_camera: Camera, footage_dir: Path, h264_segment: bytes
) -> None:
    now = timezone.now()
    recorded = now - timedelta(hours=80)  # beyond the camera's 72 h
    segments = footage_index(vabalninkas_camera, recorded, count=9, payload=h264_segment)
    assert thumbnails_make_pass(now=recorded + timedelta(minutes=2)) == 3
    (footage_dir / thumbnail_name(segments[3].storage_name)).unlink()  # one already gone counts as deleted

    retention_apply(now=now)

    assert not Segment.objects.exists()
    assert list(footage_dir.rglob("*.*")) == []


def test_it_replaces_a_picture_left_by_a_killed_pass(
    vabalninkas_camera: Camera, footage_dir: Path, h264_segment: bytes, an_hour_ago: Any
) -> None:
    (segment,) = footage_index(vabalninkas_camera, an_hour_ago, count=1, payload=h264_segment)
    leftover = footage_dir / thumbnail_name(segment.storage_name)
    leftover.write_bytes(b"half a picture")

    assert thumbnails_make_pass() == 1

    assert _pictures(footage_dir) == {thumbnail_name(segment.storage_name)}
    assert leftover.read_bytes().startswith(b"\xff\xd8")


def test_it_considers_only_recent_footage_and_shares_a_pass_between_cameras(
    vabalninkas_camera: Camera, pabirze_camera: Camera, an_hour_ago: Any
) -> None:
    footage_index(vabalninkas_camera, an_hour_ago - timedelta(hours=6), count=6, with_files=False)
    assert thumbnails_due() == []

    first = footage_index(vabalninkas_camera, an_hour_ago, count=12, with_files=False)
    second = footage_index(pabirze_camera, an_hour_ago, count=12, with_files=False)

    assert [s.pk for s in thumbnails_due(limit=3)] == [first[0].pk, second[0].pk, first[3].pk]
