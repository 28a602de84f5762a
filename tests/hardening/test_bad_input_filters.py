"""Junk in the query string of every page and API list with filters: a form error or an empty
list, never a 500 (days at the calendar's ends used to overflow the local-day arithmetic)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

pytestmark = pytest.mark.django_db

# Each parameter alone gets the values that reach parsing; all of them at once get every value.
ONE_BY_ONE = ["0001-01-01", "9999-12-31"]
JUNK = ["0001-01-01", "9999-12-31", "2026-02-30", "٢٠٢٦-١١-٢٥", "' OR 1=1 --", "a\x00b", "x" * 1000, "-1",
        "99999999999999999999", "..%2F..%2Fetc%2Fpasswd", "NaN"]

# (persona, path, the query parameters to fill with junk)
FILTERED = [
    ("dpo", "/requests/register/", ["kind", "state", "status", "site", "q", "from", "until", "received_from",
                                    "received_until", "due_from", "due_until", "page", "format"]),
    ("dpo", "/requests/disclosures/", ["recipient_kind", "site", "from", "until", "page", "format"]),
    ("dpo", "/records/processing/", ["site", "format"]),
    ("dpo", "/viewing/", ["camera", "actor", "day"]),
    ("dpo", "/requests/", ["page"]),
    ("spec_vabalninkas", "/holds/", ["show"]),
    ("spec_vabalninkas", "/sites/vabalninkas/playback/", ["t", "live", "cameras", "layout"]),
    ("spec_vabalninkas", "/sites/vabalninkas/", ["page"]),
    ("spec_vabalninkas", "/", ["site"]),
    ("coordinator", "/statistics/", ["start", "end", "site", "camera", "format", "table"]),
    ("coordinator", "/project/expenditure/", ["format"]),
    ("coordinator", "/project/", ["format"]),
    ("coordinator", "/reports/", ["page"]),
    ("anonymous", "/request/", ["site"]),
]


def _filter_fields(path: str, names: list[str]) -> list[str]:
    # Every field the page's filter form really has, besides the ones listed.
    from access_requests import views_registers

    forms = {"/requests/register/": views_registers.RegisterFilterForm,
             "/requests/disclosures/": views_registers.DisclosureFilterForm}
    extra = list(forms[path].base_fields) if path in forms else []
    return sorted({*names, *extra})


@pytest.mark.parametrize(("name", "path", "params"), FILTERED, ids=[p for _n, p, _q in FILTERED])
def test_junk_filters_are_refused_or_ignored_never_a_500(name: str, path: str, params: list[str], persona: Any,
                                                         client_for: Any, registry: Any) -> None:
    client = client_for(None if name == "anonymous" else persona(name))
    for value in ONE_BY_ONE:
        for param in _filter_fields(path, params):
            response = client.get(f"{path}?{urlencode({param: value})}")
            assert response.status_code in (200, 400, 404), (param, value, response.status_code)
    for value in JUNK:
        response = client.get(f"{path}?{urlencode({p: value for p in _filter_fields(path, params)})}")
        assert response.status_code in (200, 400, 404), ("all", value, response.status_code)


API_FILTERED = [
    ("spec_vabalninkas", "/api/v1/cameras/", ["site", "enabled", "search", "ordering", "page"]),
    ("spec_vabalninkas", "/api/v1/holds/", ["camera__public_id", "active", "ordering", "page"]),
    ("spec_vabalninkas", "/api/v1/incidents/", ["camera__public_id", "page"]),
    ("spec_vabalninkas", "/api/v1/retention-records/", ["camera__public_id", "page"]),
    ("dpo", "/api/v1/access-requests/", ["kind", "state", "ordering", "page"]),
    ("dpo", "/api/v1/exports/", ["status", "page"]),
    ("dpo", "/api/v1/audit-events/", ["action", "actor", "target_type", "target_id", "page", "since", "until"]),
    ("coordinator", "/api/v1/reports/", ["kind", "status", "language", "page"]),
    ("coordinator", "/api/v1/statistics/", ["start", "end", "site", "camera"]),
]


@pytest.mark.parametrize(("name", "path", "params"), API_FILTERED, ids=[p for _n, p, _q in API_FILTERED])
def test_junk_api_filters_answer_json_never_a_500(name: str, path: str, params: list[str], persona: Any,
                                                  api_client_for: Any, registry: Any) -> None:
    client = api_client_for(persona(name))
    for value in [*ONE_BY_ONE, "a\x00b", "x" * 1000]:  # a NUL in a text query is a DataError on PostgreSQL
        for param in params:
            response = client.get(f"{path}?{urlencode({param: value})}")
            assert response.status_code in (200, 400, 404), (param, value, response.status_code, response.content[:200])
            if response.status_code != 200:
                assert response.json()["detail"]
