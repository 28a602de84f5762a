"""The persona matrix of every footage route: holds, stills, the site grid, the viewing log, the signed
playback links (opened by Public Order, tried by everyone) and the footage API, by URL name."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from cameras.models import Camera
from footage import playback, services
from footage.models import RetentionRecord, RetentionRun, Segment
from footage.thumbnails import thumbnail_name
from tests.factories import footage_index
from tests.matrix import EVERYONE, SIGNED_IN, Door, knock, names

pytestmark = pytest.mark.django_db

SEE = ("spec_vabalninkas", "public_order", "dpo", "superuser")  # see the Vabalninkas camera
HOLD = SEE  # place and release holds on it (the DPO too)
PLAY = ("spec_vabalninkas", "public_order", "superuser")  # play its footage (the DPO only through a request)
EXPORT = ("public_order", "superuser")  # take stills of it
REACH = tuple(p for p in SIGNED_IN if p != "coordinator")  # someone with a camera


def _doors(camera: Camera, public_order: Any) -> list[Door]:
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    segments = footage_index(camera, start, count=3)
    Segment.objects.filter(pk=segments[0].pk).update(thumbnail=True)
    services.footage_storage().save(thumbnail_name(segments[0].storage_name), ContentFile(b"\xff\xd8jpeg"))
    hold = services.hold_place(camera=camera, start=start, end=start + timedelta(minutes=5), reason="Vandalism",
                               by=public_order, review_on=date.today() + timedelta(days=30))
    incident = services.incident_mark(camera=camera, start=start, end=start + timedelta(minutes=1), note="Bench",
                                      by=public_order)
    run = RetentionRun.objects.create()
    record = RetentionRecord.objects.create(run=run, camera=camera, removed_from=start - timedelta(days=4),
                                            removed_until=start - timedelta(days=3), retention_hours=72)
    recorded = playback.session_links(playback.session_open(user=public_order, camera=camera, mode="recorded"))
    live = playback.session_links(playback.session_open(user=public_order, camera=camera, mode="live"))
    base = recorded["playlist"].rsplit("/", 1)[0]
    window = (f"start={(start - timedelta(minutes=1)).isoformat().replace('+', '%2B')}"
              f"&end={(start + timedelta(minutes=2)).isoformat().replace('+', '%2B')}")
    owner = ("public_order",)
    return [
        Door("hold-list", "/holds/", REACH),
        Door("hold-place", f"/cameras/{camera.public_id}/holds/new/", HOLD),
        Door("hold-release", f"/holds/{hold.public_id}/release/", HOLD),
        # A malformed moment: 400 to whoever may take stills, 404 to the rest.
        Door("still-frame", f"/cameras/{camera.public_id}/still.jpg?at=yesterday", EXPORT, status=400),
        Door("viewing-log", "/viewing/", ("dpo", "superuser")),
        Door("site-playback", "/sites/vabalninkas/playback/", PLAY),
        # A signed link works for the user who opened the session only, the superuser included.
        Door("play-playlist", f"{recorded['playlist']}?{window}", owner, anonymous=404),
        Door("play-live", live["live_playlist"], owner, anonymous=404),
        Door("play-segment", f"{base}/seg/{segments[0].pk}.ts", owner, anonymous=404),
        Door("play-thumbnail", recorded["thumbnail"].replace("{segment}", str(segments[0].pk)), owner,
             anonymous=404),
        Door("play-beat", recorded["beat"], owner, status=204, method="post", anonymous=404, api=True),  # JSON
        Door("api:hold-list", "/api/v1/holds/", REACH),
        Door("api:hold-detail", f"/api/v1/holds/{hold.public_id}/", SEE),
        Door("api:hold-release", f"/api/v1/holds/{hold.public_id}/release/", HOLD, status=400, method="post"),
        Door("api:retention-record-list", "/api/v1/retention-records/", REACH),
        Door("api:retention-record-detail", f"/api/v1/retention-records/{record.pk}/", SEE),
        Door("api:incident-list", "/api/v1/incidents/", REACH),
        Door("api:incident-detail", f"/api/v1/incidents/{incident.public_id}/", PLAY),
        Door("api:camera-timeline", f"/api/v1/cameras/{camera.public_id}/timeline/?{window}", SEE),
        Door("api:camera-playback", f"/api/v1/cameras/{camera.public_id}/playback/", PLAY, status=201,
             method="post", data={"mode": "recorded"}),
    ]


@pytest.mark.door("hold-list", "hold-place", "hold-release", "still-frame", "viewing-log", "site-playback",
                  "play-playlist", "play-live", "play-segment", "play-thumbnail", "play-beat", "api:hold-list",
                  "api:hold-detail", "api:hold-release", "api:retention-record-list", "api:retention-record-detail",
                  "api:incident-list", "api:incident-detail", "api:camera-timeline", "api:camera-playback")
@pytest.mark.parametrize("name", EVERYONE)
def test_each_persona_meets_the_footage_doors(name: str, persona: Any, registry: dict[str, list[Camera]],
                                              public_order: Any, client_for: Any, api_client_for: Any,
                                              request: pytest.FixtureRequest) -> None:
    user = None if name == "anonymous" else persona(name)
    table = _doors(registry["vabalninkas"][0], public_order)
    assert names(table) == set(request.node.get_closest_marker("door").args)
    assert knock(table, name, lambda: client_for(user), lambda: api_client_for(user)) == []
