"""Which recording host gets which camera (footage.hosts), without processes: the rules on rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from footage import hosts, services
from footage.models import RecorderHost, RecorderLease
from tests.factories import CameraFactory, SiteFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cameras():
    site = SiteFactory()
    return [CameraFactory(site=site) for _ in range(6)]


def hold(camera, holder: str) -> None:
    assert services.lease_acquire(camera_id=camera.pk, holder=holder) is not None


def test_a_host_is_up_while_its_heartbeat_is_younger_than_half_the_lease(settings) -> None:
    settings.SAFECAM_RECORDER_LEASE_SECONDS = 30
    now = timezone.now()
    hosts.host_beat("recorder@a", now=now)
    hosts.host_beat("recorder@b", now=now - timedelta(seconds=16))
    assert hosts.hosts_up(now) == ["recorder@a"]
    hosts.host_beat("recorder@b", now=now)
    assert hosts.hosts_up(now) == ["recorder@a", "recorder@b"]
    hosts.host_leave("recorder@a")
    assert hosts.hosts_up(now) == ["recorder@b"]
    assert RecorderHost.objects.count() == 1


def test_lapsed_cameras_go_to_the_host_with_the_fewest(cameras) -> None:
    hosts.host_beat("recorder@a")
    hosts.host_beat("recorder@b")
    for camera in cameras[:2]:
        hold(camera, "recorder@a")
    assigned = dict(hosts.recorders_assign([c.pk for c in cameras[2:]]))
    assert list(assigned.values()).count("recorder@b") == 3
    assert list(assigned.values()).count("recorder@a") == 1


def test_with_no_host_up_cameras_go_to_the_shared_queue(cameras) -> None:
    assert hosts.recorders_assign([cameras[0].pk]) == [(cameras[0].pk, "")]


def test_a_host_that_comes_back_is_handed_cameras_until_the_split_is_even(cameras) -> None:
    hosts.host_beat("recorder@a")
    for camera in cameras:
        hold(camera, "recorder@a")
    hosts.host_beat("recorder@b")  # back after a failure: holds nothing
    requested = hosts.rebalance()
    assert [(src, dst) for _c, src, dst in requested] == [("recorder@a", "recorder@b")] * 3
    leases = RecorderLease.objects.filter(camera__in=cameras)
    assert leases.filter(handover_to="recorder@b").count() == 3
    assert hosts.rebalance() == []  # asked once: the handovers in flight count for the new host
    # The holder hands over (releases); the new host takes the lease: the mark is gone.
    lease = leases.filter(handover_to="recorder@b").first()
    assert hosts.handover_target(camera_id=lease.camera_id, token=lease.token) == "recorder@b"
    services.lease_release(camera_id=lease.camera_id, token=lease.token)
    hold(lease.camera, "recorder@b")
    lease.refresh_from_db()
    assert (lease.holder, lease.handover_to) == ("recorder@b", "")


def test_a_split_within_one_camera_is_left_alone(cameras) -> None:
    hosts.host_beat("recorder@a")
    hosts.host_beat("recorder@b")
    for index, camera in enumerate(cameras[:5]):
        hold(camera, "recorder@a" if index < 3 else "recorder@b")
    assert hosts.rebalance() == []
