"""How full the spool may get: its limit, or its disk's free space less the reserve (``footage.spool.fill``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from footage import spool


def _segment(folder: Path, name: str, size: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(b"\x47" * size)


def test_it_measures_the_spool_against_its_limit(settings: Any) -> None:
    settings.SAFECAM_SPOOL_LIMIT_MB = 1
    settings.SAFECAM_SPOOL_RESERVE_MB = 0
    settings.SAFECAM_SPOOL_ALERT_PERCENT = 50
    run = Path(settings.SPOOL_DIR) / "camera" / "run"
    _segment(run, "000000.ts", 300_000)
    measured = spool.fill()
    assert (measured.used, measured.files, measured.capacity) == (300_000, 1, 1024 * 1024)
    assert not measured.alerting and not measured.full
    _segment(run, "000001.ts", 300_000)
    assert spool.fill().alerting and not spool.fill().full
    _segment(run, "000002.ts", 500_000)
    assert spool.fill().full


def test_it_leaves_the_reserve_free_on_the_spool_disk_whatever_the_limit(settings: Any) -> None:
    settings.SAFECAM_SPOOL_LIMIT_MB = 10_000_000  # far more than the disk
    settings.SAFECAM_SPOOL_RESERVE_MB = 64
    root = Path(settings.SPOOL_DIR)
    _segment(root / "camera" / "run", "000000.ts", 1000)
    measured = spool.fill()
    free = shutil.disk_usage(root).free
    assert abs(measured.capacity - (1000 + free - 64 * 1024 * 1024)) < 1024 * 1024
    settings.SAFECAM_SPOOL_RESERVE_MB = free // 2**20 + 1  # less free than the reserve: full at once
    assert spool.fill().full


def test_it_reuses_a_recent_measure_only_when_asked(settings: Any) -> None:
    settings.SAFECAM_SPOOL_RESERVE_MB = 0
    run = Path(settings.SPOOL_DIR) / "camera" / "run"
    _segment(run, "000000.ts", 1000)
    assert spool.fill().used == 1000
    _segment(run, "000001.ts", 1000)
    assert spool.fill(max_age=60).used == 1000
    assert spool.fill().used == 2000
