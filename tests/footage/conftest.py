"""Footage tests store files in a private folder per test (the real FileSystemStorage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def footage_dir(settings: Any, tmp_path: Path) -> Path:
    folder = tmp_path / "storage"
    settings.STORAGES = {**settings.STORAGES, "footage": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(folder)}}}
    settings.SPOOL_DIR = tmp_path / "spool"
    return folder
