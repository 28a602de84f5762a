"""The export jobs: render an export's copies, then, once approved, package them.

Both jobs are idempotent and claim their row with a conditional UPDATE (STYLE.md), so a second
delivery of the same Celery message, or the beat job that resumes exports whose worker died
(``exports_resume``), never runs one twice at the same time. Work happens in a private folder on
local disk; files reach the storage server under ``exports/<export uuid>/`` and are named in the
row only when complete, so a crash never leaves a partial file that could be offered for download.
A render resumed after its worker died (heartbeat older than ``SAFECAM_EXPORT_STALE_SECONDS``)
first removes what the dead attempt left: its work folder and any half-uploaded file.

Render (``queued`` → ``running`` → ``ready``):
  1. fetch the stored segments overlapping the range, re-hashing each against the index
     (a segment changed on the storage server stops the export: the chain of custody is broken);
  2. the master: the segments byte for byte (``redaction.master_concat``);
  3. the redacted working copy: only the export's range is decoded and re-encoded
     (``redaction.redacted_render``), with the watermark; the originals are never touched;
  4. both uploaded; the request moves from redaction to review.
Package (``packaging`` → ``done``, after a person approved the copy): manifest, cover letters in
Lithuanian and English, ZIP, upload; its SHA-256 is kept in the row for ``verify_export``.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any, Iterator

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from access_requests import packages
from access_requests.models import Export, ExportStatus, RequestState
from footage.models import Segment, SegmentState
from safecam.audit import AuditAction, audit_record
from safecam.timeranges import local_zone

log = logging.getLogger(__name__)

CHUNK = 1 << 20


def stale() -> timedelta:
    """A running export whose heartbeat is older than this has lost its worker (killed, host down)."""
    return timedelta(seconds=settings.SAFECAM_EXPORT_STALE_SECONDS)

MAX_ATTEMPTS = 3


class ExportError(Exception):
    """A failure a person can act on; the message is shown on the export."""


def _storage() -> Any:
    from footage.services import footage_storage

    return footage_storage()


@contextmanager
def _workdir(export: Export) -> Iterator[Path]:
    root = Path(settings.DATA_DIR) / "exports-work"
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{export.public_id}-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _claim(export_id: int, *, stage: str) -> Export | None:
    """Take the row for this worker; None when another worker has it (its heartbeat is fresh) or it
    is not at this stage. Approval leaves the heartbeat empty, so packaging is claimable once."""
    now = timezone.now()
    lapsed = Q(heartbeat_at__lt=now - stale())
    if stage == "render":
        claimable, to_status = Q(status=ExportStatus.QUEUED) | (Q(status=ExportStatus.RUNNING) & lapsed), \
            ExportStatus.RUNNING
    else:
        claimable, to_status = Q(status=ExportStatus.PACKAGING) & (Q(heartbeat_at__isnull=True) | lapsed), \
            ExportStatus.PACKAGING
    updated = Export.objects.filter(claimable, pk=export_id, attempts__lt=MAX_ATTEMPTS).update(
        status=to_status, attempts=F("attempts") + 1, heartbeat_at=now,
        started_at=now if stage == "render" else F("started_at"))
    if not updated:
        return None
    return Export.objects.select_related("request", "camera", "camera__site", "created_by", "approved_by").get(
        pk=export_id)


class _Progress:
    """Writes progress to the row at most twice a second (also the heartbeat)."""

    def __init__(self, export: Export) -> None:
        self.export, self.last = export, 0.0

    def __call__(self, value: float, stage: str | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        fields: dict[str, Any] = {"progress": round(min(1.0, max(0.0, value)), 4), "heartbeat_at": timezone.now()}
        if stage:
            fields["stage"] = stage
        Export.objects.filter(pk=self.export.pk).update(**fields)

    def part(self, low: float, high: float, stage: str) -> Callable[[float], None]:
        self(low, stage, force=True)
        return lambda value: self(low + (high - low) * value)


def _fetch(name: str, target: Path, *, expect_sha256: str | None = None, also: Any = None) -> tuple[str, int]:
    """Copy a stored file to local disk, hashing it on the way (and feeding ``also``, a running hash)."""
    digest, size = hashlib.sha256(), 0
    with _storage().open(name, "rb") as source, open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            if also is not None:
                also.update(chunk)
            out.write(chunk)
            size += len(chunk)
    if expect_sha256 and digest.hexdigest() != expect_sha256:
        raise ExportError(_("The stored file %(name)s does not match the hash taken when it was recorded "
                            "(expected %(expected)s, found %(found)s); the export is stopped.")
                          % {"name": name, "expected": expect_sha256, "found": digest.hexdigest()})
    return digest.hexdigest(), size


def _upload(path: Path, name: str) -> str:
    storage = _storage()
    if storage.exists(name):
        storage.delete(name)
    with open(path, "rb") as handle:
        saved = storage.save(name, handle)
    if saved != name:
        raise ExportError(_("The storage server saved %(name)s as %(saved)s.") % {"name": name, "saved": saved})
    return saved


def _fail(export: Export, error: str) -> None:
    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED, error=error[:4000],
                                                   finished_at=timezone.now())
        audit_record(action=AuditAction.EXPORT_FAILED, target=export,
                     details={"reference": export.request.reference, "error": error[:500]})


def _segments(export: Export) -> list[Segment]:
    return list(Segment.objects.filter(camera=export.camera, state=SegmentState.STORED)
                .overlapping(export.start, export.end).select_related("run").order_by("start"))


def export_render(export_id: int) -> str:
    """Render an export's master and redacted copies (the Celery task's body)."""
    export = _claim(export_id, stage="render")
    if export is None:
        return "not claimed"
    try:
        _render(export)
    except Exception as error:  # the row must say what went wrong, whatever it was
        log.exception("export %s failed", export.public_id)
        _fail(export, str(error) if isinstance(error, ExportError | ValueError) else f"{type(error).__name__}: {error}")
        return "failed"
    return "ready"


def master_build(export: Export, segments: list[Segment], folder: Path, *,
                 progress: Callable[[float], None] | None = None) -> tuple[Path, list[dict[str, Any]], str, int]:
    """The master copy in ``folder``: each stored segment fetched and re-hashed against the index,
    then the files concatenated byte for byte. Returns the file, the manifest's segment list, and
    the master's SHA-256 and size (hashed while fetching: the master is those bytes in order)."""
    from access_requests import redaction

    stem = f"{export.camera.name}_{timezone.localtime(export.start, local_zone()):%Y%m%d-%H%M%S}"
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in stem)
    files, listed, offset, whole = [], [], 0, hashlib.sha256()
    for number, segment in enumerate(segments):
        path = folder / f"{number:05d}.ts"
        _sha, size = _fetch(segment.storage_name, path, expect_sha256=segment.sha256, also=whole)
        files.append(path)
        listed.append({"sequence": number, "segment": segment.pk, "run": str(segment.run.public_id),
                       "start": segment.start.isoformat(), "end": segment.end.isoformat(),
                       "sha256": segment.sha256, "size": size, "offset": offset,
                       "recorder": segment.run.recorder, "clock_skew_seconds": segment.run.clock_skew})
        offset += size
        if progress:
            progress((number + 1) / len(segments))
    master = folder / f"{stem}.ts"
    if redaction.master_concat(segments=files, out=master) != offset:
        raise ExportError(_("The master copy is not as long as its segments; the local disk may be full."))
    for path in files:
        path.unlink()
    return master, listed, whole.hexdigest(), offset


def _leftovers_remove(export: Export) -> None:
    """A render that claimed the row starts clean: an earlier attempt whose worker was killed left its
    work folder on this host and perhaps a half-uploaded file under ``exports/<uuid>/``. Neither is
    named in the row (so neither was ever offered), and this attempt writes both afresh."""
    root = Path(settings.DATA_DIR) / "exports-work"
    for folder in root.glob(f"{export.public_id}-*"):
        shutil.rmtree(folder, ignore_errors=True)
    storage, base = _storage(), f"exports/{export.public_id}"
    try:
        _dirs, names = storage.listdir(base)
    except (FileNotFoundError, OSError):
        return
    for name in names:
        log.warning("export %s: removing %s/%s left by an interrupted attempt", export.public_id, base, name)
        storage.delete(f"{base}/{name}")


def _render(export: Export) -> None:
    from access_requests import redaction

    if export.attempts > 1:
        _leftovers_remove(export)
    progress = _Progress(export)
    timings: dict[str, float] = {}
    segments = _segments(export)
    if not segments:
        raise ExportError(_("No recorded footage of this camera is stored for the range any more "
                            "(see the retention records on the request)."))
    gaps = [(a.end, b.start) for a, b in zip(segments, segments[1:]) if (b.start - a.end).total_seconds() > 1]
    with _workdir(export) as folder:
        started = time.monotonic()
        master, listed, master_sha, master_size = master_build(export, segments, folder,
                                                               progress=progress.part(0.0, 0.2, "fetch"))
        timings["master"] = time.monotonic() - started

        started = time.monotonic()
        redacted = master.with_suffix(".mp4")
        clip_offset = max(0.0, (export.start - segments[0].start).total_seconds())
        duration = (min(export.end, segments[-1].end) - max(export.start, segments[0].start)).total_seconds()
        rendered = redaction.redacted_render(master=master, out=redacted, offset=clip_offset, duration=duration,
                                             spec=export.redaction, watermark=export.watermark,
                                             progress=progress.part(0.25, 0.95, "redact"))
        redacted_sha, redacted_size = packages.sha256_file(redacted)
        timings["redact"] = time.monotonic() - started
        timings["clip_seconds"] = duration

        started = time.monotonic()
        progress(0.95, "upload", force=True)
        base = f"exports/{export.public_id}"
        master_name = _upload(master, f"{base}/{master.name}")
        timings["upload_master"] = time.monotonic() - started
        redacted_name = _upload(redacted, f"{base}/{redacted.name}")
        timings["upload"] = time.monotonic() - started

    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.READY, progress=1.0, stage="", finished_at=timezone.now(), timings=timings,
            segments=listed, master_name=master_name, master_sha256=master_sha, master_size=master_size,
            redacted_name=redacted_name, redacted_sha256=redacted_sha, redacted_size=redacted_size, error="")
        export.refresh_from_db()
        audit_record(action=AuditAction.EXPORT_READY, target=export,
                     details={"reference": export.request.reference, "segments": len(listed),
                              "master_sha256": master_sha, "redacted_sha256": redacted_sha,
                              "clip_seconds": round(duration, 3), "width": rendered["width"],
                              "height": rendered["height"],
                              "gaps": [[a.isoformat(), b.isoformat()] for a, b in gaps]})
        request = export.request
        if request.state == RequestState.REDACTION:
            from access_requests.services import request_move

            request_move(request=request, to=RequestState.REVIEW, by=None,
                         note=_("The export of %(camera)s is ready for review.") % {"camera": export.camera.name})


def recorded_spans(export: Export) -> list[tuple[Any, Any]]:
    """The parts of the export's range covered by its segments, clipped to the range."""
    from datetime import datetime

    spans: list[list[Any]] = []
    for segment in export.segments:
        start = max(datetime.fromisoformat(segment["start"]), export.start)
        end = min(datetime.fromisoformat(segment["end"]), export.end)
        if end <= start:
            continue
        if spans and (start - spans[-1][1]).total_seconds() <= 1:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([start, end])
    return [(a, b) for a, b in spans]


def manifest_make(export: Export, *, files: dict[str, Path], master_name: str) -> dict[str, Any]:
    request, camera = export.request, export.camera
    entries = []
    for name, path in sorted(files.items()):
        digest, size = packages.sha256_file(path)
        entries.append({"name": name, "sha256": digest, "size": size})
    skews = [s.get("clock_skew_seconds") for s in export.segments if s.get("clock_skew_seconds") is not None]
    recorded = recorded_spans(export)
    return {
        "format": packages.FORMAT,
        "built_at": timezone.now().astimezone(local_zone()).replace(microsecond=0).isoformat(),
        "request": {"reference": request.reference, "kind": request.kind,
                    "recipient": request.recipient_organisation or request.requester_name,
                    "legal_basis": request.legal_basis},
        "export": str(export.public_id),
        "camera": {"id": str(camera.public_id), "name": camera.name, "site": camera.site.name,
                   "location": camera.location},
        "range": {"start": export.start.isoformat(), "end": export.end.isoformat(), "time_zone": "UTC"},
        # What of the range was actually recorded: the spans the segments cover (a gap between them,
        # or before or after them, is time with no footage: the camera or recorder was not recording).
        "recorded": [{"start": a.isoformat(), "end": b.isoformat()} for a, b in recorded],
        "recorder_clock_offset_seconds": max(skews, key=abs) if skews else None,
        "master": {"name": master_name, "container": "MPEG-TS (segments as recorded, concatenated)",
                   "segments": export.segments},
        "redaction": export.redaction,
        "watermark": export.watermark,
        "prepared_by": export.created_by.get_username(),
        "prepared_at": export.created_at.isoformat(),
        "approved_by": export.approved_by.get_username() if export.approved_by else None,
        "approved_at": export.approved_at.isoformat() if export.approved_at else None,
        "files": entries,
    }


def export_package(export_id: int) -> str:
    """Build and store the approved export's ZIP (the Celery task's body)."""
    export = _claim(export_id, stage="package")
    if export is None or export.package_name:
        return "not claimed"
    try:
        _package(export)
    except Exception as error:
        log.exception("packaging export %s failed", export.public_id)
        _fail(export, str(error) if isinstance(error, ExportError | ValueError) else f"{type(error).__name__}: {error}")
        return "failed"
    return "done"


def _package(export: Export) -> None:
    from access_requests.letters import cover_letter_pdf

    progress = _Progress(export)
    started = time.monotonic()
    with _workdir(export) as folder:
        progress(0.05, "fetch", force=True)
        master = folder / Path(export.master_name).name
        redacted = folder / Path(export.redacted_name).name
        _fetch(export.master_name, master, expect_sha256=export.master_sha256)
        _fetch(export.redacted_name, redacted, expect_sha256=export.redacted_sha256)
        progress(0.5, "letters", force=True)
        files = {f"master/{master.name}": master, f"redacted/{redacted.name}": redacted}
        first = manifest_make(export, files=files, master_name=f"master/{master.name}")
        for language in ("lt", "en"):
            letter = folder / f"cover_letter_{language}.pdf"
            letter.write_bytes(cover_letter_pdf(export=export, manifest=first, language=language))
            files[letter.name] = letter
        manifest = manifest_make(export, files=files, master_name=f"master/{master.name}")
        progress(0.7, "zip", force=True)
        number = Export.objects.filter(request=export.request, pk__lte=export.pk).count()
        root = f"{export.request.reference}-{number}"
        package = folder / f"{root}.zip"
        packages.package_write(out=package, root=root, manifest=manifest, files=files)
        report = packages.package_verify(package)
        if not report.ok:
            raise ExportError(_("The package failed its own check: %(problems)s") % {"problems": "; ".join(report.problems)})
        package_sha, package_size = packages.sha256_file(package)
        progress(0.9, "upload", force=True)
        name = _upload(package, f"exports/{export.public_id}/{package.name}")
    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(
            status=ExportStatus.DONE, progress=1.0, stage="", package_name=name, package_sha256=package_sha,
            package_size=package_size, finished_at=timezone.now(),
            timings={**export.timings, "package": time.monotonic() - started})
        export.refresh_from_db()
        audit_record(action=AuditAction.EXPORT_PACKAGED, target=export,
                     details={"reference": export.request.reference, "package": name, "sha256": package_sha,
                              "size": package_size, "files": manifest["files"]})


def exports_resume(now: Any = None) -> int:
    """Re-queue exports whose worker died (heartbeat stale); give up after MAX_ATTEMPTS."""
    from access_requests import tasks

    now = now or timezone.now()
    lapsed = Export.objects.filter(status__in=[ExportStatus.RUNNING, ExportStatus.PACKAGING],
                                   heartbeat_at__lt=now - stale())
    count = 0
    for export in lapsed.select_related("request"):
        if export.attempts >= MAX_ATTEMPTS:
            _fail(export, _("The export was interrupted three times; ask for it again."))
            continue
        if export.status == ExportStatus.RUNNING:
            Export.objects.filter(pk=export.pk, status=ExportStatus.RUNNING).update(status=ExportStatus.QUEUED)
            tasks.export_render.delay(export.pk)
        else:
            tasks.export_package.delay(export.pk)
        count += 1
    # Queued rows whose message was lost (broker restart) are sent again.
    for export_id in Export.objects.filter(status=ExportStatus.QUEUED, created_at__lt=now - stale()).values_list(
            "pk", flat=True):
        tasks.export_render.delay(export_id)
        count += 1
    return count
