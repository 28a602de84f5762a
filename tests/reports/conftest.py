"""A known month (November 2026) of footage, gaps, viewing and requests, for the statistics tests.

Every record is made at the time it would really have been made (``time_machine`` moves the clock),
so ``created_at`` stamps, audit events and deadlines are what they would be in production, and the
roll-up reads them through the same selectors it uses every night.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from access_requests.models import AccessRequest, Export, RequestFootage, RequestKind, RequestState
from cameras.models import Camera, CameraHealth
from footage.models import EndReason, Gap, Run, Segment, ViewingMode, ViewingSession
from footage.services import hold_place, incident_mark
from reports.rollup import days_rollup
from safecam.audit import AuditAction, audit_record
from tests.access_requests.conftest import request_make

VILNIUS = ZoneInfo("Europe/Vilnius")
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
# After the month ended: every day of it is over, and within 72 h retention of none of them.
ROLLED_UP_AT = datetime(2026, 12, 1, 0, 30, tzinfo=VILNIUS)


def at(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=VILNIUS)


def segments_index(camera: Camera, start: datetime, *, count: int, seconds: float = 10.0, size: int = 1000) -> None:
    """A run of contiguous segments, indexed as ingest does (no files: statistics never read them)."""
    run = Run.objects.create(camera=camera, started_at=start, recorder="test",
                             ended_at=start + timedelta(seconds=count * seconds))
    Segment.objects.bulk_create([
        Segment(camera=camera, run=run, sequence=n, start=start + timedelta(seconds=n * seconds),
                end=start + timedelta(seconds=(n + 1) * seconds), duration=seconds, size=size,
                sha256=hashlib.sha256(f"{run.pk}-{n}".encode()).hexdigest(),
                storage_name=f"test/{camera.pk}/{run.pk}/{n}.ts") for n in range(count)])


def viewing(camera: Camera, user: Any, opened: datetime, *, watched: list[tuple[datetime, datetime]],
            mode: str = ViewingMode.RECORDED, served: int = 5, purpose: str = "") -> ViewingSession:
    iso = [[a.astimezone(UTC).isoformat(), b.astimezone(UTC).isoformat()] for a, b in watched]
    return ViewingSession.objects.create(user=user, camera=camera, mode=mode, opened_at=opened, last_seen_at=opened,
                                         closed_at=opened + timedelta(minutes=10), chunk_started_at=opened,
                                         segments_served=served, bytes_served=served * 1000, watched=iso,
                                         purpose=purpose)


@pytest.fixture(autouse=True)
def _project_record(db: None) -> None:
    """The seeded project record (a data migration), again if a transactional test flushed it."""
    from reports.project import project_current

    project_current()


@dataclass
class KnownMonth:
    """What was built, for the assertions."""

    vabalninkas: Camera
    pabirze: Camera


@pytest.fixture
def known_month(registry: dict[str, list[Camera]], spec_vabalninkas: Any, public_order: Any, dpo: Any) -> KnownMonth:
    """November 2026 for two cameras (both installed on 1 November; the others later, in December):

    Vabalninkas camera:
    - 10 Nov 10:00–11:00: 360 segments of 10 s (1 000 bytes each);
    - 11 Nov 23:59:55: a run of 2 segments across midnight (5 s on the 11th, 15 s on the 12th);
    - gaps: 10 Nov 11:00–11:30 camera unreachable; 12 Nov 23:00 – 13 Nov 01:00 camera lost;
    - viewing on 10 Nov: a recorded session (300 s on screen), a near-live one (60 s), one that
      served nothing (not counted), and the DPO's search for a request (120 s);
    - on 10 Nov a hold, an incident, a still frame; on 20 Nov an export for a request.
    Pabiržė camera: 5 Nov 08:00, 180 segments of 10 s (30 min); a specialist's session of 45 s.
    Requests received in November: an access request answered on time, a police disclosure request
    disclosed late, an erasure request still open; and one received in October (not counted).
    """
    cameras = registry
    vab, pab = cameras["vabalninkas"][0], cameras["pabirze"][0]
    Camera.objects.filter(pk__in=[vab.pk, pab.pk]).update(installed_on=date(2026, 11, 1))
    Camera.objects.exclude(pk__in=[vab.pk, pab.pk]).update(installed_on=date(2026, 12, 2))
    vab.refresh_from_db()
    pab.refresh_from_db()

    segments_index(vab, at(10, 10), count=360)
    segments_index(vab, at(11, 23, 59, 55), count=2)
    segments_index(pab, at(5, 8), count=180)
    Gap.objects.create(camera=vab, start=at(10, 11), end=at(10, 11, 30), reason=EndReason.CAMERA_UNREACHABLE)
    Gap.objects.create(camera=vab, start=at(12, 23), end=at(13, 1), reason=EndReason.CAMERA_LOST)

    viewing(vab, spec_vabalninkas, at(10, 12), watched=[(at(10, 10), at(10, 10, 5))])
    viewing(vab, public_order, at(10, 13), watched=[(at(10, 12, 59), at(10, 13))], mode=ViewingMode.LIVE)
    viewing(vab, public_order, at(10, 14), watched=[], served=0)
    viewing(vab, dpo, at(10, 15), watched=[(at(10, 10, 10), at(10, 10, 12))], purpose="access_request:x")
    viewing(pab, public_order, at(5, 9), watched=[(at(5, 8), at(5, 8, 0, 45))])

    with time_machine.travel(at(10, 16), tick=False):
        hold_place(camera=vab, start=at(10, 10), end=at(10, 10, 30), reason="Vandalism", by=public_order,
                   review_on=date(2026, 12, 10))
        incident_mark(camera=vab, start=at(10, 10, 1), end=at(10, 10, 2), note="Broken bench", by=public_order)
        audit_record(action=AuditAction.STILL_EXPORTED, actor=public_order, target=vab,
                     details={"camera": str(vab.public_id)})
    with time_machine.travel(at(3, 9), tick=False):
        on_time = request_make(by=dpo, camera=vab, start=at(2, 10))
    with time_machine.travel(at(4, 9), tick=False):
        police = request_make(by=public_order, kind=RequestKind.DISCLOSURE, camera=vab, start=at(3, 20))
    with time_machine.travel(at(25, 9), tick=False):
        request_make(by=dpo, kind=RequestKind.ERASURE, site=vab.site, start=at(24, 10))
    with time_machine.travel(at(30, 9, month=10), tick=False):
        request_make(by=dpo, camera=pab, start=at(29, 10, month=10))
    AccessRequest.objects.filter(pk=on_time.pk).update(state=RequestState.FOOTAGE_NOT_FOUND, closed_at=at(20, 12))
    # Due 4 December (4 Nov + one month); answered on 7 December: late.
    AccessRequest.objects.filter(pk=police.pk).update(state=RequestState.DISCLOSED, closed_at=at(7, 12, month=12))
    with time_machine.travel(at(20, 11), tick=False):
        found = RequestFootage.objects.create(request=on_time, camera=vab, start=at(10, 10), end=at(10, 10, 5),
                                              added_by=dpo)
        Export.objects.create(request=on_time, footage=found, camera=vab, start=found.start, end=found.end,
                              created_by=dpo)

    # What the storage counters read when November's last day was rolled up.
    CameraHealth.objects.update_or_create(camera=vab, defaults={"stored_bytes": 362_000})
    days_rollup(*NOVEMBER, now=ROLLED_UP_AT)
    return KnownMonth(vabalninkas=vab, pabirze=pab)
