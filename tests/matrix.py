"""Door matrices: a table of routes with the status each persona gets, checked in one pass per persona.

Each ``tests/<app>/test_doors_matrix.py`` lists every route of its app (by URL name, for
``@pytest.mark.door``) with who gets in; everyone else gets a 404, the anonymous visitor the login
page (pages) or a 401 (API) unless the row says otherwise. A failure lists every route that answered
differently, not just the first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tests.conftest import PERSONAS

EVERYONE = (*PERSONAS, "superuser")
SIGNED_IN = tuple(p for p in EVERYONE if p != "anonymous")
LOGIN = 302  # to /accounts/login/?next=...


@dataclass(frozen=True)
class Door:
    """One route, how to knock (method, URL, body), and who gets in with which status."""

    name: str
    url: str
    allowed: Iterable[str]
    status: int = 200
    method: str = "get"
    data: dict[str, Any] | None = None
    anonymous: int | None = None  # default: LOGIN for a page, 401 for the API (unless allowed)
    others: int = 404
    api: bool = field(default=False)

    def expected(self, persona: str) -> int:
        if persona in set(self.allowed):
            return self.status
        if persona == "anonymous":
            if self.anonymous is not None:
                return self.anonymous
            return 401 if self.api or self.url.startswith("/api/") else LOGIN
        return self.others


def knock(doors: Iterable[Door], persona: str, client_for: Callable[[], Any],
          api_client_for: Callable[[], Any]) -> list[str]:
    """Every door the persona finds different from the table (empty: the matrix holds)."""
    wrong = []
    for door in doors:
        is_api = door.api or door.url.startswith("/api/")
        client = api_client_for() if is_api else client_for()
        call = getattr(client, door.method)
        kwargs: dict[str, Any] = {"format": "json"} if is_api and door.method != "get" else {}
        response = call(door.url, door.data or {}, **kwargs)
        expected = door.expected(persona)
        got = response.status_code
        sent_to_login = persona == "anonymous" and persona not in set(door.allowed) and door.anonymous is None
        if got == LOGIN and expected == LOGIN and sent_to_login:
            if not response["Location"].startswith("/accounts/login/?next="):
                wrong.append(f"{door.name} {door.method.upper()} {door.url}: redirected to {response['Location']}, "
                             "not to the login page")
            continue
        if got != expected:
            wrong.append(f"{door.name} {door.method.upper()} {door.url}: {got}, expected {expected}")
    return wrong


def names(doors: Iterable[Door]) -> set[str]:
    return {door.name for door in doors}
