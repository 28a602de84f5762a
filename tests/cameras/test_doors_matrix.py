"""The persona matrix of every registry route: pages and API, by URL name (see tests/safecam/test_doors.py)."""

from __future__ import annotations

from typing import Any

import pytest

from cameras.models import Camera
from tests.matrix import SIGNED_IN, Door, knock, names

pytestmark = pytest.mark.django_db

SEE_VABALNINKAS = ("spec_vabalninkas", "public_order", "dpo", "superuser")


def _doors(registry: dict[str, list[Camera]]) -> list[Door]:
    camera = registry["vabalninkas"][0]
    return [
        Door("dashboard", "/", SIGNED_IN),
        Door("site-detail", "/sites/vabalninkas/", SEE_VABALNINKAS),
        Door("camera-detail", f"/cameras/{camera.public_id}/", SEE_VABALNINKAS),
        Door("api:site-list", "/api/v1/sites/", SIGNED_IN),
        Door("api:site-detail", "/api/v1/sites/vabalninkas/", SEE_VABALNINKAS),
        Door("api:site-detail", "/api/v1/sites/vabalninkas.json", SEE_VABALNINKAS),  # the format suffix
        Door("api:camera-list", "/api/v1/cameras/", SIGNED_IN),
        Door("api:camera-detail", f"/api/v1/cameras/{camera.public_id}/", SEE_VABALNINKAS),
    ]


@pytest.mark.door("dashboard", "site-detail", "camera-detail", "api:site-list", "api:site-detail", "api:camera-list",
                  "api:camera-detail")
@pytest.mark.parametrize("name", [*SIGNED_IN, "anonymous"])
def test_each_persona_meets_the_registry_doors(name: str, persona: Any, registry: dict[str, list[Camera]],
                                               client_for: Any, api_client_for: Any,
                                               request: pytest.FixtureRequest) -> None:
    user = None if name == "anonymous" else persona(name)
    table = _doors(registry)
    assert names(table) == set(request.node.get_closest_marker("door").args)
    assert knock(table, name, lambda: client_for(user), lambda: api_client_for(user)) == []
