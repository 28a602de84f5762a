"""A subject-access request on real footage, from intake to a verified package, and what guards it:
holds against retention, the workflow's refusals, the package check and the counted download link."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from access_requests import exporting, services
from access_requests.models import AccessRequest, Delivery, Export, ExportStatus, RequestState
from footage.models import Hold, Segment
from footage.retention import retention_apply
from safecam.audit import audit_chain_verify
from safecam.models import AuditEvent
from tests.access_requests.conftest import request_make
from tests.media import ffmpeg_available, media_index, media_segments

pytestmark = [pytest.mark.django_db, pytest.mark.skipif(not ffmpeg_available(), reason="needs ffmpeg")]

BOX = {"mode": "regions", "regions": [{"effect": "blur", "keyframes": [{"t": 0, "x": 0.1, "y": 0.1, "w": 0.4, "h": 0.4}]}]}


@pytest.fixture
def recorded(footage_storage_dir: Path, vabalninkas_camera: Any) -> dict[str, Any]:
    """Three minutes of real H.264 footage of a Vabalninkas camera, recorded two hours ago."""
    start = (timezone.now() - timedelta(hours=2)).replace(microsecond=0)
    segments = media_index(vabalninkas_camera, start, media_segments())
    return {"camera": vabalninkas_camera, "start": start, "segments": segments}


def _actions(request: AccessRequest) -> list[str]:
    return list(AuditEvent.objects.filter(target_id=str(request.public_id)).order_by("seq")
                .values_list("action", flat=True))


def _to_found(request: AccessRequest, dpo: Any, recorded: dict[str, Any], *, seconds: int = 30) -> Any:
    services.request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="id_document",
                          identity_notes="Passport shown at the eldership")
    services.request_move(request=request, to=RequestState.SEARCHING, by=dpo)
    start = recorded["start"] + timedelta(seconds=25)
    found = services.footage_attach(request=request, camera=recorded["camera"], start=start,
                                    end=start + timedelta(seconds=seconds), by=dpo, note="Red jacket, by the door")
    services.request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=dpo)
    return found


def _package(export: Export, target: Path) -> Path:
    from footage.services import footage_storage

    with footage_storage().open(export.package_name, "rb") as handle:
        target.write_bytes(handle.read())
    return target


def test_it_carries_a_request_from_intake_to_a_verified_package(recorded: dict[str, Any], dpo: Any,
                                                                 client_for: Any, tmp_path: Path) -> None:
    request = request_make(by=dpo, camera=recorded["camera"], start=recorded["start"], minutes=3)
    found = _to_found(request, dpo, recorded)
    hold = found.hold
    assert hold.is_active() and hold.expires_at is None and hold.cause == request

    export = services.export_create(found=found, by=dpo, redaction=BOX)
    request.refresh_from_db()
    assert request.state == RequestState.REDACTION
    assert exporting.export_render(export.pk) == "ready"
    export.refresh_from_db()
    request.refresh_from_db()
    assert export.status == ExportStatus.READY and export.progress == 1.0, export.error
    assert request.state == RequestState.REVIEW
    # The master is the recorded segments, byte for byte: 30 s from +25 s touches segments 2, 3, 4 and 5.
    assert [s["segment"] for s in export.segments] == [s.pk for s in recorded["segments"][2:6]]
    assert export.timings["clip_seconds"] == pytest.approx(30, abs=0.01)
    assert exporting.export_render(export.pk) == "not claimed"  # a second delivery of the task does nothing

    services.export_approve(export=export, by=dpo)
    assert exporting.export_package(export.pk) == "done"
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.package_sha256

    package = _package(export, tmp_path / "package.zip")
    out, err = io.StringIO(), io.StringIO()
    call_command("verify_export", str(package), stdout=out, stderr=err)
    assert "is intact" in out.getvalue() and "4 recorded segments" in out.getvalue()
    with zipfile.ZipFile(package) as archive:
        names = sorted(n.split("/", 1)[1] for n in archive.namelist())
        import json
        manifest = json.loads(archive.read(f"{request.reference}-1/manifest.json"))
    assert names == sorted(["manifest.json", "cover_letter_lt.pdf", "cover_letter_en.pdf",
                            f"master/{Path(export.master_name).name}", f"redacted/{Path(export.redacted_name).name}"])
    assert manifest["prepared_by"] == manifest["approved_by"] == dpo.username
    assert manifest["camera"]["id"] == str(recorded["camera"].public_id)
    assert manifest["request"]["reference"] == request.reference
    assert manifest["recorded"] == [{"start": found.start.isoformat(), "end": found.end.isoformat()}]

    delivery = services.delivery_create(export=export, by=dpo, recipient="Jonas Jonaitis", max_downloads=2)
    link = f"/download/{services.delivery_token(delivery)}/"
    anonymous = client_for(None)
    first = anonymous.get(link)
    assert first.status_code == 200 and first["Content-Type"] == "application/zip"
    assert b"".join(first.streaming_content) == package.read_bytes()
    assert anonymous.get(link).status_code == 200
    used_up = anonymous.get(link)
    assert used_up.status_code == 410 and "leidžiamą kartų skaičių" in used_up.content.decode()
    delivery.refresh_from_db()
    assert delivery.downloads == 2
    assert list(AuditEvent.objects.filter(target_id=str(delivery.public_id)).order_by("seq")
                .values_list("action", flat=True)) == [
        "delivery.created", "delivery.downloaded", "delivery.downloaded", "delivery.refused"]

    services.request_move(request=request, to=RequestState.DISCLOSED, by=dpo, delivery_method="link")
    hold.refresh_from_db()
    assert hold.expires_at is not None  # released SAFECAM_REQUEST_HOLD_DAYS after closure
    assert _actions(request) == ["request.received", "request.moved", "request.moved", "request.footage_added",
                                 "request.moved", "request.moved", "request.moved", "request.moved"]
    assert audit_chain_verify().intact


def test_verify_export_fails_when_any_byte_changes(recorded: dict[str, Any], dpo: Any, tmp_path: Path) -> None:
    request = request_make(by=dpo, camera=recorded["camera"], start=recorded["start"], minutes=3)
    found = _to_found(request, dpo, recorded, seconds=12)
    export = services.export_create(found=found, by=dpo)
    exporting.export_render(export.pk)
    services.export_approve(export=Export.objects.get(pk=export.pk), by=dpo)
    exporting.export_package(export.pk)
    export.refresh_from_db()
    package = _package(export, tmp_path / "package.zip")
    original = package.read_bytes()

    def verdict(data: bytes, *extra: str) -> tuple[int, str]:
        package.write_bytes(data)
        err = io.StringIO()
        try:
            call_command("verify_export", str(package), *extra, stdout=io.StringIO(), stderr=err)
        except SystemExit as exit_:
            return int(exit_.code), err.getvalue()
        return 0, err.getvalue()

    assert verdict(original)[0] == 0
    # A byte inside the master copy's recorded data: caught offline, by the file's and the segment's hashes.
    at = original.index(b"G@", original.index(b".ts") + 200)  # an MPEG-TS packet of the master
    changed = bytearray(original)
    changed[at + 40] ^= 0xFF
    code, message = verdict(bytes(changed), "--offline")
    assert code == 1 and ("do not match" in message or "damaged" in message), message
    # A byte of a ZIP header the content checks do not read (the first file's modification time):
    # caught by the package hash recorded when it was built.
    changed = bytearray(original)
    changed[10] ^= 0x01
    assert verdict(bytes(changed), "--offline")[0] == 0
    code, message = verdict(bytes(changed))
    assert code == 1 and "was changed" in message


def test_held_footage_survives_retention_and_release_after_closure_lets_it_go(
        recorded: dict[str, Any], dpo: Any, settings: Any) -> None:
    settings.SAFECAM_REQUEST_HOLD_DAYS = 10
    camera = recorded["camera"]
    request = request_make(by=dpo, camera=camera, start=recorded["start"], minutes=3)
    found = _to_found(request, dpo, recorded, seconds=20)
    held = set(Segment.objects.filter(camera=camera).overlapping(found.start, found.end).values_list("pk", flat=True))
    later = timezone.now() + timedelta(days=camera.retention_hours / 24 + 1)

    retention_apply(now=later)
    assert set(Segment.objects.filter(camera=camera).values_list("pk", flat=True)) == held

    services.request_move(request=request, to=RequestState.REFUSED, by=dpo,
                          refusal_reasons="The footage shows other people who cannot be hidden.")
    request.refresh_from_db()
    assert "State Data Protection Inspectorate" in request.outcome or "Valstybinė" in request.outcome
    retention_apply(now=later)  # the hold lasts ten more days after closure
    assert Segment.objects.filter(pk__in=held).count() == len(held)
    retention_apply(now=timezone.now() + timedelta(days=11))
    assert not Segment.objects.filter(camera=camera).exists()
    assert Hold.objects.get(pk=found.hold.pk).expires_at is not None


def test_a_request_shows_the_retention_record_that_proves_footage_was_deleted(
        recorded: dict[str, Any], dpo: Any, client_for: Any) -> None:
    camera = recorded["camera"]
    retention_apply(now=timezone.now() + timedelta(hours=camera.retention_hours + 3))
    request = request_make(by=dpo, camera=camera, start=recorded["start"], minutes=3)
    page = client_for(dpo).get(f"/requests/{request.public_id}/")
    assert page.status_code == 200
    assert 'data-testid="retention-proof"' in page.content.decode()


def test_the_workflow_refuses_illegal_moves_with_a_message(recorded: dict[str, Any], dpo: Any) -> None:
    request = request_make(by=dpo, camera=recorded["camera"], start=recorded["start"])
    with pytest.raises(ValidationError) as refused:
        services.request_move(request=request, to=RequestState.DISCLOSED, by=dpo, delivery_method="link")
    assert "negalima perkelti" in refused.value.message_dict["to"][0]  # Lithuanian, the users' language
    with pytest.raises(ValidationError) as needs:
        services.request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo)
    assert "identity_method" in needs.value.message_dict
    with pytest.raises(ValidationError) as reasons:
        services.request_move(request=request, to=RequestState.REFUSED, by=dpo)
    assert "refusal_reasons" in reasons.value.message_dict
    services.request_move(request=request, to=RequestState.WITHDRAWN, by=dpo, note="Requester withdrew by phone")
    with pytest.raises(ValidationError) as closed:
        services.request_move(request=request, to=RequestState.SEARCHING, by=dpo)
    assert "užbaigtas" in closed.value.message_dict["to"][0]
    request.refresh_from_db()
    assert request.state == RequestState.WITHDRAWN and request.closed_at
    assert _actions(request) == ["request.received", "request.moved"]


def test_an_export_stops_when_a_stored_segment_no_longer_matches_its_hash(recorded: dict[str, Any], dpo: Any,
                                                                         footage_storage_dir: Path) -> None:
    request = request_make(by=dpo, camera=recorded["camera"], start=recorded["start"], minutes=3)
    found = _to_found(request, dpo, recorded, seconds=12)
    victim = recorded["segments"][3]
    path = footage_storage_dir / victim.storage_name
    data = bytearray(path.read_bytes())
    data[500] ^= 0xFF
    path.write_bytes(bytes(data))
    export = services.export_create(found=found, by=dpo)
    assert exporting.export_render(export.pk) == "failed"
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and "neatitinka įrašymo metu" in export.error
    assert not export.master_name and not export.redacted_name
    assert AuditEvent.objects.filter(action="export.failed", target_id=str(export.public_id)).exists()


def test_a_download_link_expires(recorded: dict[str, Any], dpo: Any, client_for: Any) -> None:
    request = request_make(by=dpo, camera=recorded["camera"], start=recorded["start"], minutes=3)
    found = _to_found(request, dpo, recorded, seconds=12)
    export = services.export_create(found=found, by=dpo)
    exporting.export_render(export.pk)
    services.export_approve(export=Export.objects.get(pk=export.pk), by=dpo)
    exporting.export_package(export.pk)
    delivery = services.delivery_create(export=Export.objects.get(pk=export.pk), by=dpo, recipient="Jonas", days=1)
    Delivery.objects.filter(pk=delivery.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client_for(None).get(f"/download/{services.delivery_token(delivery)}/")
    assert response.status_code == 410 and "nebegalioja" in response.content.decode()
    assert client_for(None).get("/download/not-a-token/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.downloads == 0


def _pdf_text(data: bytes) -> str:
    import subprocess

    done = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(done.stdout.decode().split())


def test_the_cover_letters_are_real_text_in_both_languages(recorded: dict[str, Any], dpo: Any,
                                                           tmp_path: Path) -> None:
    request = request_make(by=dpo, camera=recorded["camera"], start=recorded["start"], minutes=3,
                           requester_name="Jonas Žemaitis")
    found = _to_found(request, dpo, recorded, seconds=12)
    export = services.export_create(found=found, by=dpo, redaction=BOX)
    exporting.export_render(export.pk)
    services.export_approve(export=Export.objects.get(pk=export.pk), by=dpo)
    exporting.export_package(export.pk)
    export.refresh_from_db()
    with zipfile.ZipFile(_package(export, tmp_path / "p.zip")) as archive:
        root = f"{request.reference}-1"
        lt = _pdf_text(archive.read(f"{root}/cover_letter_lt.pdf"))
        en = _pdf_text(archive.read(f"{root}/cover_letter_en.pdf"))
    for text in (lt, en):
        assert request.reference in text and "Jonas Žemaitis" in text and recorded["camera"].name in text
        assert export.master_sha256 in text.replace(" ", "") and export.redacted_sha256 in text.replace(" ", "")
    assert "Answer to your request" in en and "Approved by" in en
    assert "Atsakymas į jūsų prašymą" in lt and "Patvirtino" in lt


def test_an_export_whose_worker_died_is_taken_up_again(recorded: dict[str, Any], dpo: Any) -> None:
    request = request_make(by=dpo, camera=recorded["camera"], start=recorded["start"], minutes=3)
    found = _to_found(request, dpo, recorded, seconds=12)
    export = services.export_create(found=found, by=dpo)
    # A worker claimed it and died: the row says running, its heartbeat stopped ten minutes ago.
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING, attempts=1,
                                               heartbeat_at=timezone.now() - timedelta(minutes=10))
    assert exporting.exports_resume() == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.QUEUED and not export.master_name  # nothing half-made is offered
    assert exporting.export_render(export.pk) == "ready"
    export.refresh_from_db()
    assert export.status == ExportStatus.READY and export.attempts == 2


@pytest.mark.parametrize("name", ["dpo", "public_order", "spec_vabalninkas", "coordinator"])
def test_a_refusal_letter_gives_the_reasons_and_the_right_to_complain(name: str, persona: Any, dpo: Any,
                                                                      client_for: Any, vabalninkas_camera: Any) -> None:
    request = request_make(by=dpo, camera=vabalninkas_camera)
    url = f"/requests/{request.public_id}/letter-lt.pdf"
    assert client_for(dpo).get(url).status_code == 404  # nothing decided yet
    services.request_move(request=request, to=RequestState.REFUSED, by=dpo,
                          refusal_reasons="Prašymas akivaizdžiai nepagrįstas: tas pats prašymas teiktas penktą kartą.")
    response = client_for(persona(name)).get(url)
    if name != "dpo":
        assert response.status_code == 404
        return
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = _pdf_text(response.content)
    assert request.reference in text and "penktą kartą" in text
    assert "Valstybinė duomenų apsaugos inspekcija" in text and "teismą" in text
    english = _pdf_text(client_for(dpo).get(f"/requests/{request.public_id}/letter-en.pdf").content)
    assert "right to lodge a complaint" in english and "Your request is refused" in english


def test_a_package_says_which_part_of_the_range_was_recorded(recorded: dict[str, Any], dpo: Any,
                                                             tmp_path: Path) -> None:
    import json

    start = recorded["start"]
    request = request_make(by=dpo, camera=recorded["camera"], start=start - timedelta(minutes=1), minutes=3)
    services.request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="official")
    services.request_move(request=request, to=RequestState.SEARCHING, by=dpo)
    # The camera started recording 20 s into the attached range.
    found = services.footage_attach(request=request, camera=recorded["camera"], by=dpo,
                                    start=start - timedelta(seconds=20), end=start + timedelta(seconds=15))
    services.request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=dpo)
    export = services.export_create(found=found, by=dpo)
    assert exporting.export_render(export.pk) == "ready"
    services.export_approve(export=Export.objects.get(pk=export.pk), by=dpo)
    exporting.export_package(export.pk)
    export.refresh_from_db()
    assert export.timings["clip_seconds"] == pytest.approx(15, abs=0.01)
    with zipfile.ZipFile(_package(export, tmp_path / "p.zip")) as archive:
        manifest = json.loads(archive.read(f"{request.reference}-1/manifest.json"))
        letter = _pdf_text(archive.read(f"{request.reference}-1/cover_letter_lt.pdf"))
    assert manifest["recorded"] == [{"start": start.isoformat(), "end": (start + timedelta(seconds=15)).isoformat()}]
    assert "kamera neįrašinėjo" in letter
