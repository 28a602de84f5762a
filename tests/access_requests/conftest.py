"""Requests for the access_requests tests: registered through the service, as the DPO would."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from access_requests.models import AccessRequest, Channel, RequestKind
from access_requests.services import request_register
from tests.conftest import footage_folder_use


def request_make(*, by: Any = None, kind: str = RequestKind.ACCESS, camera: Any = None, site: Any = None,
                 start: Any = None, minutes: int = 30, **fields: Any) -> AccessRequest:
    start = start or timezone.now() - timedelta(hours=3)
    defaults: dict[str, Any] = {"channel": Channel.EMAIL, "requester_name": "Jonas Jonaitis",
                                "requester_email": "jonas@example.lt",
                                "description": "I walked past the eldership office in a red jacket."}
    if kind == RequestKind.DISCLOSURE:
        defaults.update(requester_name="Tyrėjas Petraitis", recipient_kind="police",
                        recipient_organisation="Panevėžio apskrities VPK Biržų r. policijos komisariatas",
                        legal_basis="BPK 97 str.; Policijos veiklos įstatymo 23 str.", channel=Channel.OFFICIAL)
    defaults.update(fields)
    return request_register(kind=kind, by=by, camera=camera, site=site, window_start=start,
                            window_end=start + timedelta(minutes=minutes), **defaults)


@pytest.fixture
def access_request(dpo: Any, vabalninkas_camera: Any) -> AccessRequest:
    return request_make(by=dpo, camera=vabalninkas_camera)


@pytest.fixture
def footage_storage_dir(settings: Any, tmp_path: Any) -> Any:
    """Footage and exports in a private folder per test (the real FileSystemStorage)."""
    return footage_folder_use(settings, tmp_path)
