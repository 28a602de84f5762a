"""Who may open the redaction editor of a range attached to a request: the DPO, and nobody else."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from access_requests.models import RequestFootage
from access_requests.services import footage_attach, request_move
from footage.models import ViewingSession
from tests.access_requests.conftest import request_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def found(dpo: Any, vabalninkas_camera: Any) -> RequestFootage:
    start = (timezone.now() - timedelta(hours=3)).replace(microsecond=0)
    item = request_make(by=dpo, camera=vabalninkas_camera, start=start)
    return footage_attach(request=item, camera=vabalninkas_camera, start=start + timedelta(minutes=5),
                          end=start + timedelta(minutes=6), by=dpo)


def editor_url(found: RequestFootage) -> str:
    return f"/requests/{found.request.public_id}/footage/{found.public_id}/redact/"


@pytest.mark.parametrize("name", ["coordinator", "spec_vabalninkas", "spec_pabirze", "public_order"])
def test_it_answers_404_to_everyone_but_the_dpo(name: str, persona: Any, client_for: Any,
                                                found: RequestFootage) -> None:
    response = client_for(persona(name)).get(editor_url(found))
    assert response.status_code == 404
    assert not ViewingSession.objects.exists()


def test_it_sends_an_anonymous_visitor_to_log_in(client_for: Any, found: RequestFootage) -> None:
    response = client_for(None).get(editor_url(found))
    assert response.status_code == 302 and "login" in response["Location"]


def test_it_gives_the_dpo_the_editor_with_its_config(client_for: Any, dpo: Any, found: RequestFootage) -> None:
    response = client_for(dpo).get(editor_url(found))
    assert response.status_code == 200
    html = response.content.decode()
    config = json.loads(html.split('<script id="sc-redaction-config" type="application/json">')[1]
                        .split("</script>")[0])
    assert config["footage"] == str(found.public_id) and config["duration"] == 60.0
    assert "start=" in config["playlist"] and config["preview_url"] and config["export_url"] == "/api/v1/exports/"
    assert "vendor/hls/hls.min.js" in html and "safecam/redaction.js" in html and "data-sc-strings" in html
    assert "//cdn" not in html
    # The page opened a viewing session for this request, which the heartbeat keeps alive.
    session = ViewingSession.objects.get()
    assert session.user == dpo and session.purpose == f"access_request:{found.request.public_id}"


def test_it_answers_404_for_a_closed_request(client_for: Any, dpo: Any, found: RequestFootage) -> None:
    from access_requests.models import RequestState
    from access_requests.workflow import allowed

    item = found.request
    if RequestState.WITHDRAWN not in allowed(item.state):
        pytest.skip("this workflow cannot withdraw a request from its first state")
    request_move(request=item, to=RequestState.WITHDRAWN, by=dpo, note="Withdrawn by the requester.")
    assert client_for(dpo).get(editor_url(found)).status_code == 404
