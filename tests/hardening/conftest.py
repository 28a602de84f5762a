"""Bad input everywhere: shared checks that a refusal is a clear 4xx and leaves nothing behind."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from django.db import models

from tests.conftest import footage_folder_use


@pytest.fixture(autouse=True)
def storage_dir(settings: Any, tmp_path: Path) -> Path:
    """Footage, spool and work folders in the test's own folder, so "no file left" can be checked."""
    return footage_folder_use(settings, tmp_path)


def files_under(*folders: Path) -> set[str]:
    found: set[str] = set()
    for folder in folders:
        if folder.exists():
            for root, _dirs, names in os.walk(folder):
                found.update(os.path.join(root, name) for name in names)
    return found


class NoTrace:
    """Counts rows of the given models (and the audit trail, and files under the data folders)
    before and after a refused request: a refusal must leave all of them as they were."""

    def __init__(self, *model_classes: type[models.Model], folders: Iterable[Path] = ()) -> None:
        from safecam.models import AuditEvent

        self.models = (*model_classes, AuditEvent)
        self.folders = tuple(folders)

    def _state(self) -> tuple[dict[str, int], set[str]]:
        return ({m.__name__: m.objects.count() for m in self.models}, files_under(*self.folders))

    def __enter__(self) -> NoTrace:
        self.before = self._state()
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:
            after = self._state()
            assert after[0] == self.before[0], f"rows changed: {self.before[0]} -> {after[0]}"
            assert after[1] == self.before[1], f"files left: {sorted(after[1] - self.before[1])}"


def assert_api_refused(response: Any, statuses: Iterable[int] = (400,)) -> str:
    """An API refusal: the status, and JSON ``{"detail": ...}`` a person can act on."""
    statuses = tuple(statuses)
    assert response.status_code in statuses, (response.status_code, response.content[:500])
    body = response.json()
    assert isinstance(body, dict) and body.get("detail"), body
    return str(body)


def assert_page_refused(response: Any, statuses: Iterable[int] = (200, 400)) -> str:
    """A page refusal: the form again with its error (200 or 400), or a 4xx; never a 5xx."""
    statuses = tuple(statuses)
    assert response.status_code in statuses, (response.status_code, response.content[:500])
    return response.content.decode("utf-8", "replace")
