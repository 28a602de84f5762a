"""An erasure request (GDPR Art. 17) deletes the attached footage now, with proof, except what another
case's hold keeps; only the DPO may do it."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from access_requests import services
from access_requests.models import AccessRequest, RequestKind, RequestState
from footage.models import DeletionKind, RetentionRecord, RetentionRun, Segment
from footage.services import hold_place
from safecam.models import AuditEvent
from tests.access_requests.conftest import request_make
from tests.conftest import PERSONAS
from tests.media import ffmpeg_available, media_index, media_segments

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not ffmpeg_available(), reason="needs ffmpeg")]


@pytest.fixture
def erasure(footage_storage_dir: Path, dpo: Any, vabalninkas_camera: Any) -> dict[str, Any]:
    start = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    segments = media_index(vabalninkas_camera, start, media_segments())
    request = request_make(by=dpo, kind=RequestKind.ERASURE, camera=vabalninkas_camera, start=start, minutes=3)
    services.request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="id_document")
    services.request_move(request=request, to=RequestState.SEARCHING, by=dpo)
    found = services.footage_attach(request=request, camera=vabalninkas_camera, by=dpo,
                                    start=start + timedelta(seconds=25), end=start + timedelta(seconds=55))
    services.request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=dpo)
    return {"request": request, "found": found, "segments": segments, "storage": footage_storage_dir,
            "camera": vabalninkas_camera}


def test_it_erases_the_footage_found_now_and_keeps_the_proof(erasure: dict[str, Any], dpo: Any,
                                                            public_order: Any) -> None:
    camera, segments = erasure["camera"], erasure["segments"]
    # Another case (a police incident) holds the sixth segment: that footage must stay.
    police = hold_place(camera=camera, start=segments[5].start + timedelta(seconds=1),
                        end=segments[5].end, reason="Eismo įvykis", by=public_order,
                        review_on=date.today() + timedelta(days=30))
    request = services.request_erase(request=erasure["request"], by=dpo, reason="Art. 17(1)(c): nesutinka")
    assert request.state == RequestState.COMPLETED and request.closed_at
    gone = [s for s in segments[2:6] if not (s.end > police.start and s.start < police.end)]
    kept = [s for s in segments[2:6] if s not in gone]
    assert len(gone) == 3 and len(kept) == 1
    remaining = set(Segment.objects.filter(camera=camera).values_list("pk", flat=True))
    assert not remaining & {s.pk for s in gone} and {s.pk for s in kept} <= remaining
    assert all(not (erasure["storage"] / s.storage_name).exists() for s in gone)
    assert all((erasure["storage"] / s.storage_name).exists() for s in kept)
    run = RetentionRun.objects.get(kind=DeletionKind.ERASURE)
    assert (run.requested_by, run.segments_deleted, run.segments_held) == (dpo, 3, 1)
    assert request.reference in run.note
    record = RetentionRecord.objects.get(run=run)
    assert (record.removed_from, record.removed_until) == (gone[0].start, gone[-1].end)
    assert "3" in request.outcome and "1" in request.outcome
    assert AuditEvent.objects.filter(action="footage.erased", actor=dpo).count() == 1
    assert erasure["found"].hold.__class__.objects.get(pk=erasure["found"].hold.pk).released_at is not None


def test_only_an_erasure_request_with_footage_found_erases(erasure: dict[str, Any], dpo: Any,
                                                           vabalninkas_camera: Any) -> None:
    from django.core.exceptions import ValidationError

    access = request_make(by=dpo, camera=vabalninkas_camera)
    with pytest.raises(ValidationError):
        services.request_erase(request=access, by=dpo, reason="x")
    with pytest.raises(ValidationError) as no_reason:
        services.request_erase(request=erasure["request"], by=dpo, reason=" ")
    assert "reason" in no_reason.value.message_dict
    assert Segment.objects.count() == len(erasure["segments"])


@pytest.mark.parametrize("name", PERSONAS)
def test_only_the_dpo_erases(name: str, persona: Any, client_for: Any, api_client_for: Any,
                             erasure: dict[str, Any]) -> None:
    request = erasure["request"]
    user = None if name == "anonymous" else persona(name)
    page = client_for(user).post(f"/requests/{request.public_id}/erase/", {"reason": "Art. 17"})
    if name == "dpo":
        assert page.status_code == 302
        assert AccessRequest.objects.get(pk=request.pk).state == RequestState.COMPLETED
        assert Segment.objects.count() == len(erasure["segments"]) - 4
    else:
        assert page.status_code == (302 if name == "anonymous" else 404)
        api = api_client_for(user).post(f"/api/v1/access-requests/{request.public_id}/erase/", {"reason": "x"},
                                        format="json")
        assert api.status_code in ((401, 403) if name == "anonymous" else (404,))
        assert Segment.objects.count() == len(erasure["segments"])
