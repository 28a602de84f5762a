"""SafeCam may run on machines without internet: no page may load anything from another host."""

import re
from typing import Any

import pytest

pytestmark = pytest.mark.django_db

ASSET = re.compile(r"""<(?:script|link|img)\b[^>]*\b(?:src|href)=["']([^"']+)["']""", re.I)


@pytest.mark.parametrize("path", ["/accounts/login/", "/", "/sites/vabalninkas/", "camera", "/api/v1/docs/"])
def test_it_loads_every_script_style_and_image_from_its_own_server(
    path: str, public_order: Any, client_for: Any, vabalninkas_camera: Any
) -> None:
    url = f"/cameras/{vabalninkas_camera.public_id}/" if path == "camera" else path
    response = client_for(public_order).get(url)
    assert response.status_code == 200
    assets = ASSET.findall(response.content.decode())
    assert assets, "the page should load its styles and scripts"
    external = [a for a in assets if re.match(r"^(https?:)?//", a)]
    assert external == [], f"{url} loads assets from other hosts: {external}"
