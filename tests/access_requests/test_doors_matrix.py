"""The persona matrix of every requests route: the public pages and signs, the registers, a request from
intake to delivery, and the requests API, by URL name (see tests/safecam/test_doors.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from access_requests import services
from access_requests.models import AccessRequest, Delivery, Export, RequestFootage, RequestKind, RequestState
from access_requests.public import _sent_token
from footage.services import footage_storage
from tests.access_requests.conftest import request_make
from tests.matrix import EVERYONE, Door, knock, names

pytestmark = pytest.mark.django_db

DPO = ("dpo", "superuser")  # who handles requests
FILERS = ("dpo", "public_order", "superuser")  # who may file one (Public Order: police disclosure requests)


def _doors(dpo: Any, public_order: Any, vabalninkas_camera: Any, pabirze_camera: Any) -> list[Door]:
    access = request_make(by=dpo, camera=vabalninkas_camera)
    police = request_make(by=public_order, kind=RequestKind.DISCLOSURE, camera=pabirze_camera)
    closed = request_make(by=dpo, camera=vabalninkas_camera)
    AccessRequest.objects.filter(pk=closed.pk).update(state=RequestState.WITHDRAWN, closed_at=timezone.now())
    found = RequestFootage.objects.create(request=access, camera=vabalninkas_camera, start=access.window_start,
                                          end=access.window_start + timedelta(minutes=1), added_by=dpo)
    storage = footage_storage()
    export = Export.objects.create(request=access, footage=found, camera=vabalninkas_camera, start=found.start,
                                   end=found.end, created_by=dpo,
                                   redacted_name=storage.save("exports/redacted.mp4", ContentFile(b"mp4")),
                                   package_name=storage.save("exports/package.zip", ContentFile(b"PK")))
    soon = timezone.now() + timedelta(days=3)
    to_revoke = Delivery.objects.create(export=export, recipient="Jonas", created_by=dpo, expires_at=soon)
    to_download = Delivery.objects.create(export=export, recipient="Jonas", created_by=dpo, expires_at=soon)
    sent = _sent_token(access.reference, access.due_on.isoformat())
    a, e = access.public_id, export.public_id
    return [
        # Residents: no account needed.
        Door("public-request", "/request/", EVERYONE),
        Door("public-request-sent", f"/request/sent/{sent}/", EVERYONE),
        Door("public-notice-index", "/privacy/", EVERYONE),
        Door("public-notice", "/privacy/vabalninkas/", EVERYONE),
        # The recipient of a delivery has no account either: the link is the permission.
        Door("delivery-download", f"/download/{services.delivery_token(to_download)}/", EVERYONE),
        # The DPO's signs and registers.
        Door("sign-index", "/signs/", DPO),
        Door("sign-pdf", "/signs/vabalninkas.pdf", DPO),
        Door("request-register", "/requests/register/", DPO),
        Door("disclosure-log", "/requests/disclosures/", DPO),
        Door("processing-record", "/records/processing/", DPO),
        # A request, from intake to delivery (an empty POST: refused with a message, then redirected).
        Door("request-dashboard", "/requests/", FILERS),
        Door("request-new", "/requests/new/", FILERS),
        Door("request-detail", f"/requests/{a}/", DPO),
        Door("request-detail", f"/requests/{police.public_id}/", FILERS),  # Public Order follows their own
        Door("request-move", f"/requests/{a}/move/", DPO, status=302, method="post"),
        Door("request-move", f"/requests/{police.public_id}/move/", DPO, status=302, method="post"),  # read only
        Door("request-extend", f"/requests/{a}/extend/", DPO, status=302, method="post"),
        Door("request-erase", f"/requests/{a}/erase/", DPO, status=302, method="post"),
        Door("request-search", f"/requests/{a}/search/", DPO),
        Door("request-letter", f"/requests/{closed.public_id}/letter-lt.pdf", DPO),
        Door("request-footage-attach", f"/requests/{a}/footage/", DPO, status=302, method="post"),
        Door("request-footage-detach", f"/requests/{a}/footage/{found.public_id}/detach/", DPO, status=302,
             method="post"),
        Door("request-redact", f"/requests/{a}/footage/{found.public_id}/redact/", DPO),
        Door("export-detail", f"/exports/{e}/", DPO),
        Door("export-redacted", f"/exports/{e}/redacted.mp4", DPO),
        Door("export-approve", f"/exports/{e}/approve/", DPO, status=302, method="post"),
        Door("delivery-create", f"/exports/{e}/deliver/", DPO, status=302, method="post"),
        Door("delivery-revoke", f"/deliveries/{to_revoke.public_id}/revoke/", DPO, status=302, method="post"),
        # The API (an empty POST: 400 with the fields' messages to the DPO, 404 to everyone else).
        Door("api:access-request-list", "/api/v1/access-requests/", FILERS),
        Door("api:access-request-detail", f"/api/v1/access-requests/{a}/", DPO),
        Door("api:access-request-detail", f"/api/v1/access-requests/{police.public_id}/", FILERS),
        Door("api:access-request-move", f"/api/v1/access-requests/{a}/move/", DPO, status=400, method="post"),
        Door("api:access-request-extend", f"/api/v1/access-requests/{a}/extend/", DPO, status=400, method="post"),
        Door("api:access-request-erase", f"/api/v1/access-requests/{a}/erase/", DPO, status=400, method="post"),
        Door("api:access-request-footage", f"/api/v1/access-requests/{a}/footage/", DPO, status=400,
             method="post"),
        Door("api:request-playback", f"/api/v1/access-requests/{a}/cameras/{vabalninkas_camera.public_id}/playback/",
             DPO, status=201, method="post"),
        Door("api:request-footage-preview", f"/api/v1/request-footage/{found.public_id}/preview/", DPO, status=400,
             method="post"),
        Door("api:export-list", "/api/v1/exports/", FILERS),
        Door("api:export-detail", f"/api/v1/exports/{e}/", DPO),
        Door("api:export-approve", f"/api/v1/exports/{e}/approve/", DPO, status=400, method="post"),
    ]


@pytest.mark.door("public-request", "public-request-sent", "public-notice-index", "public-notice",
                  "delivery-download", "sign-index", "sign-pdf", "request-register", "disclosure-log",
                  "processing-record", "request-dashboard", "request-new", "request-detail", "request-move",
                  "request-extend", "request-erase", "request-search", "request-letter", "request-footage-attach",
                  "request-footage-detach", "request-redact", "export-detail", "export-redacted", "export-approve",
                  "delivery-create", "delivery-revoke", "api:access-request-list", "api:access-request-detail",
                  "api:access-request-move", "api:access-request-extend", "api:access-request-erase",
                  "api:access-request-footage", "api:request-playback", "api:request-footage-preview",
                  "api:export-list", "api:export-detail", "api:export-approve")
@pytest.mark.parametrize("name", EVERYONE)
def test_each_persona_meets_the_requests_doors(name: str, persona: Any, dpo: Any, public_order: Any,
                                               vabalninkas_camera: Any, pabirze_camera: Any,
                                               footage_storage_dir: Any, client_for: Any, api_client_for: Any,
                                               request: pytest.FixtureRequest) -> None:
    user = None if name == "anonymous" else persona(name)
    table = _doors(dpo, public_order, vabalninkas_camera, pabirze_camera)
    assert names(table) == set(request.node.get_closest_marker("door").args)
    assert knock(table, name, lambda: client_for(user), lambda: api_client_for(user)) == []
