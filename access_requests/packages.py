"""The evidential package: a ZIP a recipient can check without SafeCam, and a server can check fully.

Layout::

    SC-2026-0007-1/
        manifest.json                  what is inside, SHA-256 of every other file, who and when
        master/<camera>_<from>.ts      the recorded MPEG-TS segments, byte for byte, one after another
        redacted/<camera>_<from>.mp4   the working copy: H.264, redacted, watermarked
        cover_letter_lt.pdf            the letter (Lithuanian), listing the files and their hashes
        cover_letter_en.pdf            the same in English

The master is not re-muxed: it is the segments exactly as recorded, so each segment's slice of it
(``manifest.master.segments[*].offset/size``) hashes to the SHA-256 taken when the segment was
recorded and indexed. That carries the chain of custody from the camera to the recipient.

``package_verify`` checks, offline: the ZIP is readable (CRC), every file is listed with the right
size and SHA-256, nothing unlisted is inside, and every master slice matches its segment hash.
Run on the server (``manage.py verify_export``) it also compares the whole ZIP's SHA-256 with the
one recorded when it was built, so a change to any byte, even in ZIP headers, is caught.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHUNK = 1 << 20
MANIFEST = "manifest.json"
FORMAT = "safecam-evidence/1"


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def package_write(*, out: Path, root: str, manifest: dict[str, Any], files: dict[str, Path]) -> None:
    """Write the ZIP: ``files`` maps archive names (under ``root/``) to local paths. Video is stored
    as is (it does not compress); the manifest and letters are deflated."""
    listed = {entry["name"] for entry in manifest["files"]}
    if listed != set(files):
        raise ValueError(f"manifest lists {sorted(listed)}, package holds {sorted(files)}")
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        archive.writestr(zipfile.ZipInfo(f"{root}/{MANIFEST}", date_time=_zip_time(manifest)),
                         json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n",
                         compress_type=zipfile.ZIP_DEFLATED)
        for name, path in files.items():
            compress = zipfile.ZIP_STORED if path.suffix in (".ts", ".mp4") else zipfile.ZIP_DEFLATED
            info = zipfile.ZipInfo(f"{root}/{name}", date_time=_zip_time(manifest))
            info.compress_type = compress
            with open(path, "rb") as source, archive.open(info, "w", force_zip64=True) as target:
                while chunk := source.read(CHUNK):
                    target.write(chunk)


def _zip_time(manifest: dict[str, Any]) -> tuple[int, int, int, int, int, int]:
    from datetime import datetime

    moment = datetime.fromisoformat(manifest["built_at"])
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


@dataclass
class VerifyReport:
    """What ``package_verify`` found: ``problems`` is empty when the package is intact."""

    manifest: dict[str, Any] = field(default_factory=dict)
    checked: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    sha256: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def _member_sha256(archive: zipfile.ZipFile, name: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with archive.open(name) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _master_slices(archive: zipfile.ZipFile, name: str, segments: list[dict[str, Any]]) -> list[str]:
    problems = []
    with archive.open(name) as handle:
        position = 0
        for segment in sorted(segments, key=lambda s: s["offset"]):
            if segment["offset"] != position:
                problems.append(f"{name}: segment {segment['sequence']} is listed at byte {segment['offset']}, "
                                f"expected {position}")
                return problems
            digest, left = hashlib.sha256(), segment["size"]
            while left:
                chunk = handle.read(min(CHUNK, left))
                if not chunk:
                    break
                digest.update(chunk)
                left -= len(chunk)
            position += segment["size"] - left
            if left or digest.hexdigest() != segment["sha256"]:
                problems.append(f"{name}: the bytes of recorded segment {segment['sequence']} "
                                f"({segment['start']}) do not match the hash taken when it was recorded")
    return problems


def package_verify(path: Path, *, expected_sha256: str | None = None) -> VerifyReport:
    """Check a package; see the module docstring for what is checked."""
    report = VerifyReport()
    try:
        report.sha256, _size = sha256_file(path)
    except OSError as error:
        report.problems.append(f"cannot read {path}: {error.strerror or error}")
        return report
    if expected_sha256 and report.sha256 != expected_sha256:
        report.problems.append(f"the package's SHA-256 is {report.sha256}, but {expected_sha256} was recorded "
                               f"when it was built: the file was changed")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            manifests = [n for n in names if n.endswith(f"/{MANIFEST}") and n.count("/") == 1]
            if len(manifests) != 1:
                report.problems.append("the package has no manifest.json (or more than one)")
                return report
            root = manifests[0].split("/")[0]
            try:
                report.manifest = json.loads(archive.read(manifests[0]))
            except (ValueError, zipfile.BadZipFile) as error:
                report.problems.append(f"manifest.json cannot be read: {error}")
                return report
            if report.manifest.get("format") != FORMAT:
                report.problems.append(f"unknown package format {report.manifest.get('format')!r}")
                return report
            listed = {entry["name"]: entry for entry in report.manifest.get("files", [])}
            present = {n.removeprefix(f"{root}/") for n in names if n != manifests[0] and not n.endswith("/")}
            for extra in sorted(present - set(listed)):
                report.problems.append(f"{extra}: in the package but not in the manifest")
            for name, entry in sorted(listed.items()):
                if name not in present:
                    report.problems.append(f"{name}: listed in the manifest but missing")
                    continue
                digest, size = _member_sha256(archive, f"{root}/{name}")
                if size != entry["size"] or digest != entry["sha256"]:
                    report.problems.append(f"{name}: SHA-256 {digest} ({size} bytes) does not match the manifest "
                                           f"({entry['sha256']}, {entry['size']} bytes)")
                else:
                    report.checked.append(name)
            master = report.manifest.get("master", {})
            if master.get("name") in present:
                report.problems += _master_slices(archive, f"{root}/{master['name']}", master.get("segments", []))
    except zipfile.BadZipFile as error:
        report.problems.append(f"the ZIP is damaged: {error}")
    except (KeyError, TypeError) as error:
        report.problems.append(f"the manifest is incomplete: {error}")
    return report
