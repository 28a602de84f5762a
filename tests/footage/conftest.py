"""Footage tests store files in a private folder per test (the real FileSystemStorage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import footage_folder_use


@pytest.fixture(autouse=True)
def footage_dir(settings: Any, tmp_path: Path) -> Path:
    return footage_folder_use(settings, tmp_path)
