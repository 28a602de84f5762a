"""The project coordinator reaches no footage and no personal data by any URL.

Walks every route of the footage and requests apps (pages and API), the registry's camera and
eldership pages and the audit trail, fills each route with real objects (a camera, a hold, a
request, its footage, an export, a delivery link, another user's signed playback link, a segment)
and asks as the coordinator: every one answers 404, for GET and for POST, exactly as a page that
does not exist. A new route added to those apps is walked automatically.

Left out on purpose: the residents' public pages (the request form, its confirmation, the privacy
notices), which are open to anyone and show no footage and no personal data.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from access_requests.models import Export, RequestFootage
from access_requests.services import delivery_create
from footage import playback
from footage.models import RetentionRecord, RetentionRun
from safecam.models import AuditEvent
from footage.services import hold_place
from tests.access_requests.conftest import request_make
from tests.factories import footage_index

pytestmark = pytest.mark.django_db

PUBLIC = {"public-request", "public-request-sent", "public-notice-index", "public-notice"}
APPS = ("footage.", "access_requests.", "cameras.views")
AUDIT = {"api:audit-event-list", "api:audit-event-detail"}  # the audit trail (safecam.api)
OVERVIEW = {"dashboard"}  # the overview page: says "your role gives you no access to cameras"


def _routes() -> list[tuple[str, str, list[str]]]:
    """(name, regex-ish route, kwarg names) of every route whose view lives in one of ``APPS``."""
    found: list[tuple[str, str, list[str]]] = []

    def walk(patterns: list[Any], prefix: str, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + str(entry.pattern),
                     f"{namespace}{entry.namespace}:" if entry.namespace else namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                callback = entry.callback
                module = getattr(callback, "__module__", "")
                view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
                if view_class is not None:
                    module = view_class.__module__
                name = f"{namespace}{entry.name}"
                if ((module.startswith(APPS) or name in AUDIT) and entry.name not in PUBLIC | OVERVIEW
                        and "format" not in str(entry.pattern)):
                    params = [p for p in entry.pattern.regex.groupindex if p != "format"]
                    found.append((name, prefix + str(entry.pattern), params))

    walk(get_resolver().url_patterns, "/", "")
    return sorted(set((n, r, tuple(k)) for n, r, k in found))  # type: ignore[arg-type]


@pytest.fixture
def world(registry: Any, dpo: Any, public_order: Any, vabalninkas: Any) -> dict[str, str]:
    """One of everything a coordinator must not reach, keyed by the URL kwarg it fills."""
    camera = registry["vabalninkas"][0]
    start = timezone.now() - timedelta(hours=1)
    segment = footage_index(camera, start, count=3, with_files=False)[0]
    hold = hold_place(camera=camera, start=start, end=start + timedelta(minutes=5), reason="Theft",
                      by=public_order, review_on=(timezone.now() + timedelta(days=7)).date())
    access_request = request_make(by=dpo, camera=camera, start=start - timedelta(minutes=10))
    found = RequestFootage.objects.create(request=access_request, camera=camera, start=start,
                                          end=start + timedelta(seconds=20), added_by=dpo)
    export = Export.objects.create(request=access_request, footage=found, camera=camera, start=found.start,
                                   end=found.end, created_by=dpo, status="done", package_name="x.zip")
    delivery = delivery_create(export=export, recipient="Jonas", by=dpo)
    session = playback.session_open(user=public_order, camera=camera, mode="recorded")
    run = RetentionRun.objects.create(status="done")
    record = RetentionRecord.objects.create(run=run, camera=camera, removed_from=start - timedelta(days=4),
                                            removed_until=start - timedelta(days=3), retention_hours=72)
    return {"camera_uuid": str(camera.public_id), "site_slug": vabalninkas.slug, "hold": str(hold.public_id),
            "request": str(access_request.public_id), "footage": str(found.public_id), "export": str(export.public_id),
            "delivery": str(delivery.public_id), "delivery_token": "not-a-token",
            "play_token": playback.session_token(session), "segment": str(segment.pk),
            "retention_record": str(record.pk), "audit_seq": str(AuditEvent.objects.order_by("-seq")[0].seq)}


def _kwargs(name: str, params: tuple[str, ...], world: dict[str, str]) -> dict[str, str]:
    base = name.split(":")[-1]
    values: dict[str, str] = {}
    for param in params:
        if param == "public_id":
            values[param] = (world["hold"] if base.startswith("hold-release") else
                             world["export"] if base.startswith(("export-", "delivery-create")) else
                             world["delivery"] if base.startswith("delivery-") else
                             world["request"] if base.startswith("request-") else world["camera_uuid"])
        elif param == "uuid":
            values[param] = (world["hold"] if base.startswith("hold") else
                             world["request"] if base.startswith(("access-request", "request-playback")) else
                             world["footage"] if base.startswith("request-footage") else
                             world["export"] if base.startswith("export") else world["camera_uuid"])
        elif param == "camera":
            values[param] = world["camera_uuid"]
        elif param == "footage_id":
            values[param] = world["footage"]
        elif param == "slug":
            values[param] = world["site_slug"]
        elif param == "token":
            values[param] = world["delivery_token"] if base.startswith("delivery") else world["play_token"]
        elif param == "segment_id":
            values[param] = world["segment"]
        elif param == "language":
            values[param] = "lt"
        elif param == "seq":
            values[param] = world["audit_seq"]
        elif param == "pk":
            values[param] = world["retention_record"]
        else:
            raise AssertionError(f"route {name} has a parameter {param!r} this test cannot fill: teach it")
    return values


ROUTES = _routes()


def test_it_walks_the_footage_and_request_routes() -> None:
    names = {name for name, _route, _params in ROUTES}
    assert {"hold-list", "still-frame", "play-segment", "request-detail", "export-redacted", "delivery-download",
            "api:hold-list", "api:camera-timeline", "api:access-request-list", "api:export-list",
            "api:audit-event-list", "camera-detail", "request-register", "sign-pdf"} <= names


@pytest.mark.parametrize("name,route,params", ROUTES, ids=[name for name, _r, _p in ROUTES])
def test_the_coordinator_finds_nothing_there(name: str, route: str, params: tuple[str, ...], world: dict[str, str],
                                             coordinator: Any, client_for: Any) -> None:
    from django.urls import reverse

    url = reverse(name, kwargs=_kwargs(name, params, world))
    client = client_for(coordinator)
    answers = {method: getattr(client, method)(url).status_code for method in ("get", "post")}
    # A method the route does not serve may say so (405): that is the same for every UUID, real or not.
    served = {method: status for method, status in answers.items() if status != 405}
    assert served and set(served.values()) == {404}, f"{url} ({name}) answered {answers}"
