"""List pages and endpoints cost a fixed number of queries, however many cameras there are."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cameras.models import Site
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db

PATHS = ["/", "/sites/vabalninkas/", "/api/v1/cameras/", "/api/v1/sites/"]
# Generous ceilings; the equality with 3 and 30 cameras is what catches an N+1.
# The eldership page asks once more: may the user watch any camera (the link to the grid)? Every page
# asks once whether the user may see any camera (the menu's Holds link), and loads the session's
# second factor (django-otp's middleware).
MAX_QUERIES = {"/": 12, "/sites/vabalninkas/": 13, "/api/v1/cameras/": 11, "/api/v1/sites/": 11}


def _queries(client: Client, path: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def _shown(client: Client, path: str) -> int:
    response = client.get(path)
    if path == "/":
        return response.context["camera_total"]
    if path.startswith("/sites/"):
        return len(response.context["cameras"])
    if path == "/api/v1/sites/":
        return sum(site["camera_count"] for site in response.json()["results"])
    return response.json()["count"]


@pytest.mark.parametrize("name", ["spec_vabalninkas", "public_order"])
@pytest.mark.parametrize("path", PATHS)
def test_it_does_not_grow_the_query_count_with_the_number_of_cameras(
    path: str, name: str, vabalninkas: Site, pabirze: Site, persona: Callable[[str], Any],
    client_for: Callable[[Any], Client], django_assert_max_num_queries: Any,
) -> None:
    CameraFactory.create_batch(2, site=vabalninkas)
    CameraFactory.create_batch(1, site=pabirze)
    client = client_for(persona(name))
    client.get(path)  # warm caches that are per process, not per page (content types, translations)
    shown_before = _shown(client, path)
    few = _queries(client, path)

    CameraFactory.create_batch(14, site=vabalninkas)
    CameraFactory.create_batch(13, site=pabirze)
    assert _shown(client, path) > shown_before  # the page really lists more now
    with django_assert_max_num_queries(MAX_QUERIES[path]):
        many = _queries(client, path)

    assert len(many) == len(few), "\n".join(many)
