"""The persona matrix of the project's own routes: accounts, language, liveness, the API's token,
schema, root and audit trail; and every route of the admin, walked (a new admin page is in it the
day it is registered)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.urls import reverse

from safecam import doors
from safecam.models import AuditEvent
from tests.conftest import PASSWORD, totp_now
from tests.matrix import EVERYONE, SIGNED_IN, Door, knock, names

pytestmark = pytest.mark.django_db


def _doors(user: Any) -> list[Door]:
    newest = AuditEvent.objects.order_by("-seq").first()
    username = user.get_username() if user is not None else "nobody"
    return [
        Door("login", "/accounts/login/", EVERYONE),
        Door("logout", "/accounts/logout/", EVERYONE, status=302, method="post", anonymous=302),
        Door("password_change", "/accounts/password_change/", SIGNED_IN),
        Door("password_change_done", "/accounts/password_change/done/", SIGNED_IN),
        Door("set_language", "/i18n/setlang/", EVERYONE, status=302, method="post", data={"language": "en"}),
        Door("healthz", "/healthz", EVERYONE),
        # The second factor's pages: a verified session is sent on from the code page, may set up a new
        # authenticator (a new phone) and make new recovery codes.
        Door("two_factor_verify", "/accounts/two-factor/", SIGNED_IN, status=302),
        Door("two_factor_setup", "/accounts/two-factor/setup/", SIGNED_IN),
        Door("two_factor_codes", "/accounts/two-factor/recovery-codes/", SIGNED_IN),
        # The token: the password and the one-time code are the door (the anonymous visitor has none: 400).
        Door("api:token", "/api/v1/auth/token/", SIGNED_IN, method="post", anonymous=400,
             data={"username": username, "password": PASSWORD,
                   "otp": totp_now(user) if user is not None else ""}),
        Door("api:schema", "/api/v1/schema/?format=json", EVERYONE),
        Door("api:docs", "/api/v1/docs/", EVERYONE),
        Door("api:api-root", "/api/v1/", SIGNED_IN),
        Door("api:audit-event-list", "/api/v1/audit-events/", ("dpo", "superuser")),
        Door("api:audit-event-detail", f"/api/v1/audit-events/{newest.seq}/", ("dpo", "superuser")),
    ]


@pytest.mark.door("login", "logout", "password_change", "password_change_done", "set_language", "healthz",
                  "two_factor_verify", "two_factor_setup", "two_factor_codes", "api:token", "api:schema", "api:docs", "api:api-root", "api:audit-event-list",
                  "api:audit-event-detail")
@pytest.mark.parametrize("name", EVERYONE)
def test_each_persona_meets_the_project_routes_doors(name: str, persona: Any, client_for: Any,
                                                     api_client_for: Any, registry: Any,
                                                     request: pytest.FixtureRequest) -> None:
    user = None if name == "anonymous" else persona(name)
    table = _doors(user)
    assert names(table) == set(request.node.get_closest_marker("door").args)
    assert knock(table, name, lambda: client_for(user), lambda: api_client_for(user)) == []


# --- the admin -------------------------------------------------------------------------------------

SAMPLES = {"app_label": "auth", "url": "nowhere/"}


def _admin_url(route: doors.Route) -> str:
    """A URL that reaches the route's view (objects that do not exist are fine: the door comes first)."""
    if route.name:
        keys = re.findall(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>", route.route)
        kwargs = {a or b: SAMPLES.get(a or b, "1") for a, b in keys}
        return reverse(f"admin:{route.name}", kwargs=kwargs)
    if route.route.endswith("(?P<url>.*)$"):
        return "/admin/nowhere/"
    return "/" + re.sub(r"<(?:\w+:)?\w+>", "1", route.route)


def _admin_routes() -> list[doors.Route]:
    return [route for route in doors.routes() if route.namespace == doors.ADMIN_NAMESPACE]


@pytest.mark.door("admin:*")
@pytest.mark.parametrize("name", EVERYONE)
def test_every_admin_route_lets_in_only_staff(name: str, persona: Any, client_for: Any, registry: Any) -> None:
    user = None if name == "anonymous" else persona(name)
    client = client_for(user)
    routes = _admin_routes()
    assert len(routes) > 100
    wrong = []
    for route in routes:
        url = _admin_url(route)
        response = client.get(url)
        status, location = response.status_code, response.get("Location", "")
        if name == "superuser":
            if status >= 500 or location.startswith("/admin/login/"):
                wrong.append(f"{route}: {status} {location}")
        elif route.name == "login":
            if status != 200:
                wrong.append(f"{url}: {status}, expected the login form")
        elif route.name == "logout" and status == 302 and location == "/admin/":
            continue  # admin_view sends a non-staff visitor's logout to the index (then to the login)
        elif status != 302 or not location.startswith("/admin/login/?next="):
            wrong.append(f"{url}: {status} {location}, expected the admin's login page")
    assert wrong == []
