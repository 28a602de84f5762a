"""Integrity of stored footage: every indexed segment's file is there, with its recorded hash."""

from __future__ import annotations

from dataclasses import dataclass, field

from cameras.models import Camera
from footage.models import Segment, SegmentState
from footage.services import file_sha256, footage_storage
from safecam.audit import AuditAction, audit_record


@dataclass(frozen=True)
class Problem:
    kind: str  # "missing", "altered", "unreadable"
    storage_name: str
    detail: str


@dataclass
class VerifyReport:
    checked: int = 0
    bytes: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


def footage_verify(*, camera: Camera | None = None) -> VerifyReport:
    """Re-read and hash each stored segment (segments being deleted by retention are skipped)."""
    storage = footage_storage()
    report = VerifyReport()
    segments = Segment.objects.filter(state=SegmentState.STORED).order_by("camera_id", "start")
    if camera is not None:
        segments = segments.filter(camera=camera)
    for name, expected, size in segments.values_list("storage_name", "sha256", "size").iterator(chunk_size=2000):
        report.checked += 1
        try:
            with storage.open(name, "rb") as handle:
                digest, actual_size = file_sha256(handle)
        except FileNotFoundError:
            report.problems.append(Problem("missing", name, "no such file on the storage server"))
            continue
        except Exception as exc:  # noqa: BLE001  SFTP/S3 report absence and outages differently
            kind = "missing" if not _exists(storage, name) else "unreadable"
            report.problems.append(Problem(kind, name, f"{type(exc).__name__}: {exc}"))
            continue
        report.bytes += actual_size
        if digest != expected or actual_size != size:
            report.problems.append(Problem("altered", name, f"SHA-256 {digest}, index says {expected}"))
    audit_record(action=AuditAction.FOOTAGE_VERIFIED, target=camera,
                 details={"checked": report.checked, "bytes": report.bytes, "intact": report.intact,
                          "problems": [f"{p.kind}: {p.storage_name}" for p in report.problems[:50]]})
    return report


def _exists(storage: object, name: str) -> bool:
    try:
        return bool(storage.exists(name))  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return True  # unknown: call it unreadable, not missing
