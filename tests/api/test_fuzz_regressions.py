"""What the API fuzz (test_fuzz.py) found, each kept as a plain test of the behaviour users rely on."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from access_requests.models import AccessRequest, RequestState
from access_requests.services import footage_attach, request_move
from cameras.models import Camera
from tests.access_requests.conftest import request_make
from tests.conftest import footage_folder_use
from tests.factories import footage_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def found_request(settings: Any, tmp_path: Path, dpo: Any, vabalninkas_camera: Camera) -> AccessRequest:
    """An access request in "footage found", with a minute of the Vabalninkas camera attached."""
    footage_folder_use(settings, tmp_path)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    footage_index(vabalninkas_camera, start, count=6)
    request = request_make(by=dpo, camera=vabalninkas_camera, start=start - timedelta(minutes=5))
    request_move(request=request, to=RequestState.IDENTITY_VERIFIED, by=dpo, identity_method="id_document")
    request_move(request=request, to=RequestState.SEARCHING, by=dpo)
    footage_attach(request=request, camera=vabalninkas_camera, start=start, end=start + timedelta(seconds=60), by=dpo)
    request_move(request=request, to=RequestState.FOOTAGE_FOUND, by=dpo)
    return request


def test_it_reports_zero_bytes_stored_for_a_camera_that_never_recorded(
        api_client_for: Any, public_order: Any, vabalninkas_camera: Camera) -> None:
    answer = api_client_for(public_order).get(f"/api/v1/cameras/{vabalninkas_camera.public_id}/")

    assert answer.status_code == 200
    body = answer.json()
    assert body["stored_bytes"] == 0  # was null: DRF skips a field's default when the related row is missing
    assert body["latest_footage"] is None and body["oldest_footage"] is None and body["coverage_today"] is None


@pytest.mark.parametrize("path", ["/api/v1/exports/{bad}/approve/", "/api/v1/access-requests/{bad}/move/",
                                  "/api/v1/holds/{bad}/release/"])
def test_it_answers_404_to_an_action_on_a_malformed_id(api_client_for: Any, dpo: Any, path: str) -> None:
    answer = api_client_for(dpo).post(path.format(bad="not-a-uuid"), {"to": "searching", "reason": "x"},
                                      format="json")

    assert answer.status_code == 404  # was 400 "“not-a-uuid” is not a valid UUID." from the database lookup
    assert "detail" in answer.json()


@pytest.mark.parametrize("method", ["passport", "x" * 30])
def test_it_refuses_an_identity_method_it_does_not_know(api_client_for: Any, dpo: Any, vabalninkas_camera: Camera,
                                                        method: str) -> None:
    request = request_make(by=dpo, camera=vabalninkas_camera)

    answer = api_client_for(dpo).post(f"/api/v1/access-requests/{request.public_id}/move/",
                                      {"to": "identity_verified", "identity_method": method}, format="json")

    # Was stored as given (a value the request's own answer then did not allow, or, longer than the
    # column, a database error and a 500 on PostgreSQL).
    assert answer.status_code == 400
    assert "identity_method" in answer.json()["errors"]
    request.refresh_from_db()
    assert request.state == RequestState.RECEIVED


def test_it_refuses_a_delivery_method_it_does_not_know(api_client_for: Any, dpo: Any,
                                                       found_request: AccessRequest) -> None:
    answer = api_client_for(dpo).post(f"/api/v1/access-requests/{found_request.public_id}/move/",
                                      {"to": "review", "delivery_method": "carrier pigeon"}, format="json")

    assert answer.status_code == 400
    assert "delivery_method" in answer.json()["errors"]


def test_it_refuses_a_preview_moment_far_past_the_attached_range(api_client_for: Any, dpo: Any,
                                                                 found_request: AccessRequest) -> None:
    found = found_request.footage.get()

    answer = api_client_for(dpo).post(f"/api/v1/request-footage/{found.public_id}/preview/",
                                      {"at": 1e300, "redaction": {"mode": "regions", "regions": []}}, format="json")

    assert answer.status_code == 400  # was a 500: OverflowError building the timedelta
    assert "at" in answer.json()["errors"]


def test_its_schema_is_valid_and_generated_without_warnings(tmp_path: Path) -> None:
    from openapi_spec_validator import validate

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))

    import yaml

    validate(yaml.safe_load(out.read_text()))


def test_it_documents_the_error_answers_of_every_operation(api_client_for: Any, dpo: Any) -> None:
    schema = api_client_for(None).get("/api/v1/schema/?format=json").json()

    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            if path == "/api/v1/auth/token/":
                assert {"400", "429"} <= codes
                continue
            assert {"401", "404"} <= codes, f"{method.upper()} {path}"
            if method == "post":
                assert {"400", "403"} <= codes, f"{method.upper()} {path}"
            error = operation["responses"]["404"]["content"]["application/json"]["schema"]
            assert error == {"$ref": "#/components/schemas/Error"}
