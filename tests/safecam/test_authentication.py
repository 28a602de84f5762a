"""Signing in: the password, the second factor (enrolled at the first login), lockout, idle sessions,
the password policy and the security headers, each through the real login pages and the token API."""

from __future__ import annotations

import base64
import datetime as dt
import re
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from cameras.models import Camera
from safecam import twofactor
from safecam.audit import AuditAction
from safecam.models import AuditEvent
from tests.conftest import PASSWORD, _logged_in, otp_device, totp_now

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def _code(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def _password_login(username: str, *, address: str = "192.0.2.50", password: str = PASSWORD) -> tuple[Client, Any]:
    client = Client(REMOTE_ADDR=address)
    response = client.post("/accounts/login/", {"username": username, "password": password, "next": "/"})
    return client, response


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- enrolment at the first login ----------------------------------------------------------------


def test_a_specialists_first_login_enrols_an_authenticator_and_shows_recovery_codes_once(
        spec_vabalninkas: Any, vabalninkas_camera: Camera) -> None:
    client, response = _password_login("spec_vabalninkas")
    assert response.status_code == 302
    # Nothing but the enrolment page until it is done: pages redirect, the API refuses.
    assert client.get("/").url.startswith("/accounts/two-factor/setup/")
    assert client.get(f"/cameras/{vabalninkas_camera.public_id}/").status_code == 302
    client.cookies["django_language"] = "en"  # the message checked below in English
    api = client.get("/api/v1/cameras/")
    assert api.status_code == 403 and "Two-factor" in api.json()["detail"]

    page = client.get("/accounts/two-factor/setup/")
    assert page.status_code == 200
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page.content.decode()).group(1)
    assert "<svg" in page.content.decode()  # the QR code, drawn inline (no external service)
    device = TOTPDevice.objects.get(user=spec_vabalninkas, confirmed=False)
    assert device.bin_key == base64.b32decode(secret + "=" * (-len(secret) % 8))
    # Reloading keeps the same secret (a QR code scanned a minute ago still works).
    assert secret in client.get("/accounts/two-factor/setup/").content.decode()

    wrong = client.post("/accounts/two-factor/setup/", {"code": "000000", "next": "/"})
    assert wrong.status_code == 200 and 'data-testid="code-error"' in wrong.content.decode()
    assert client.get("/").status_code == 302
    assert _events(AuditAction.TWO_FACTOR_FAILED)[-1].details == {"step": "enrolment"}

    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3)):  # a wrong code makes the next wait 1 s
        done = client.post("/accounts/two-factor/setup/", {"code": _code(device), "next": "/"})
    assert done.status_code == 200
    codes = re.findall(r"<span class=\"border rounded px-2 py-1 d-inline-block\">([a-z0-9-]+)</span>",
                       done.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/cameras/").status_code == 200
    enrolled = _events(AuditAction.TWO_FACTOR_ENROLLED)
    assert len(enrolled) == 1 and enrolled[0].actor == spec_vabalninkas
    assert not any(code in str(enrolled[0].details) for code in codes)  # never the codes themselves


def test_a_later_login_asks_for_the_code_and_returns_to_the_page_asked_for(
        spec_vabalninkas: Any, vabalninkas_camera: Camera) -> None:
    device = otp_device(spec_vabalninkas)
    client, _response = _password_login("spec_vabalninkas")
    camera_page = f"/cameras/{vabalninkas_camera.public_id}/"
    redirect = client.get(camera_page)
    assert redirect.status_code == 302 and redirect.url.startswith("/accounts/two-factor/?next=")
    assert client.post("/accounts/two-factor/", {"code": _code(device, offset_steps=5),
                                                 "next": camera_page}).status_code == 200
    too_soon = client.post("/accounts/two-factor/", {"code": _code(device), "next": camera_page})
    assert too_soon.status_code == 429  # a wrong code makes the next try wait (django-otp's throttling)
    assert 'data-testid="code-error"' in too_soon.content.decode()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3)):
        response = client.post("/accounts/two-factor/", {"code": _code(device), "next": camera_page})
    assert response.status_code == 302 and response.url == camera_page
    assert client.get(camera_page).status_code == 200
    verified = _events(AuditAction.TWO_FACTOR_VERIFIED)
    assert verified[-1].details == {"factor": "authenticator"}
    assert _events(AuditAction.TWO_FACTOR_FAILED)[-1].details["step"] == "login"


def test_the_next_parameter_cannot_send_a_user_elsewhere(spec_vabalninkas: Any) -> None:
    device = otp_device(spec_vabalninkas)
    client, _response = _password_login("spec_vabalninkas")
    response = client.post("/accounts/two-factor/", {"code": _code(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/"


def test_a_recovery_code_works_once_and_the_user_can_make_new_ones(spec_vabalninkas: Any) -> None:
    otp_device(spec_vabalninkas)
    client = _logged_in(Client(), spec_vabalninkas)
    codes_page = client.post("/accounts/two-factor/recovery-codes/")
    codes = re.findall(r">([a-z0-9]{5}-[a-z0-9]{5})<", codes_page.content.decode())
    assert len(codes) == 10
    assert _events(AuditAction.TWO_FACTOR_CODES_RENEWED)

    first, _r = _password_login("spec_vabalninkas")
    assert first.post("/accounts/two-factor/", {"code": codes[0].upper().replace("-", " ")}).status_code == 302
    assert first.get("/").status_code == 200
    assert _events(AuditAction.TWO_FACTOR_VERIFIED)[-1].details == {"factor": "recovery code",
                                                                    "recovery_codes_left": 9}
    again, _r = _password_login("spec_vabalninkas", address="192.0.2.51")
    assert again.post("/accounts/two-factor/", {"code": codes[0]}).status_code == 200
    assert again.get("/").status_code == 302
    assert StaticToken.objects.filter(device__user=spec_vabalninkas).count() == 9


def test_an_administrator_resets_a_lost_phone_and_the_user_enrols_again(spec_vabalninkas: Any) -> None:
    otp_device(spec_vabalninkas)
    out = StringIO()
    call_command("twofactor_reset", "spec_vabalninkas", "--reason", "phone lost, ticket 42", stdout=out)
    assert "reset" in out.getvalue()
    assert not twofactor.enrolled(spec_vabalninkas)
    assert _events(AuditAction.TWO_FACTOR_RESET)[-1].details == {"reason": "phone lost, ticket 42"}
    client, _r = _password_login("spec_vabalninkas")
    assert client.get("/").url.startswith("/accounts/two-factor/setup/")


@pytest.mark.parametrize("name", ["spec_vabalninkas", "public_order", "dpo", "superuser"])
def test_every_role_that_sees_footage_or_personal_data_needs_the_second_factor(name: str, persona: Any) -> None:
    assert twofactor.required(persona(name))


def test_the_coordinator_who_sees_only_aggregates_may_sign_in_with_the_password(coordinator: Any,
                                                                                settings: Any) -> None:
    client, _response = _password_login("coordinator")
    assert client.get("/statistics/").status_code == 200
    settings.SAFECAM_2FA_REQUIRED = "all"
    assert client.get("/statistics/").status_code == 302


def test_a_specialist_without_a_site_grant_yet_is_asked_once_a_grant_arrives(role_groups: Any, vabalninkas: Any) -> None:
    from cameras import services
    from safecam import roles
    from tests.conftest import make_user

    user = make_user("naujas", group=role_groups[roles.ELDERSHIP_SPECIALIST])
    assert not twofactor.required(user)  # no right to anything personal yet
    services.site_access_grant(user=user, site=vabalninkas, actions=roles.SPECIALIST_SITE_ACTIONS, by=None)
    assert twofactor.required(user)


# --- the token API -------------------------------------------------------------------------------


def test_the_token_api_asks_for_the_one_time_code(public_order: Any) -> None:
    api = APIClient()
    missing = api.post("/api/v1/auth/token/", {"username": "public_order", "password": PASSWORD}, format="json")
    assert missing.status_code == 400 and "otp" in missing.json()["errors"]
    otp_device(public_order)
    wrong = api.post("/api/v1/auth/token/", {"username": "public_order", "password": PASSWORD, "otp": "123"},
                     format="json")
    assert wrong.status_code == 400 and "token" not in wrong.json()
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=3)):  # past the wrong code's wait
        right = api.post("/api/v1/auth/token/", {"username": "public_order", "password": PASSWORD,
                                                 "otp": totp_now(public_order)}, format="json")
    assert right.status_code == 200 and right.json()["token"]


# --- lockout -------------------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_user_name_and_the_lockout_is_audited(spec_vabalninkas: Any) -> None:
    for attempt in range(5):
        _client, response = _password_login("spec_vabalninkas", address=f"192.0.2.{60 + attempt}",
                                            password="Wrong-pass-2026")
    assert response.status_code == 429
    client, response = _password_login("spec_vabalninkas", address="192.0.2.99")  # the right password
    assert response.status_code == 429
    assert 'data-testid="locked-out"' in response.content.decode()
    assert client.get("/").status_code == 302 and "/accounts/login/" in client.get("/").url
    locked = _events(AuditAction.LOCKED_OUT)
    assert locked and all(e.details == {"locked": "username", "username": "spec_vabalninkas"} for e in locked)
    assert locked[-1].ip == "192.0.2.99"
    # The token API is the same door.
    english = APIClient()
    english.cookies["django_language"] = "en"
    api = english.post("/api/v1/auth/token/", {"username": "spec_vabalninkas", "password": PASSWORD}, format="json")
    assert api.status_code == 429 and "Too many failed logins" in api.json()["detail"]
    # After the cool-off the right password works again.
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        _client, response = _password_login("spec_vabalninkas")
        assert response.status_code == 302


def test_many_failures_from_one_address_lock_that_address_for_everyone(spec_vabalninkas: Any, spec_pabirze: Any,
                                                                      settings: Any) -> None:
    settings.SAFECAM_LOCKOUT_ADDRESS_FAILURES = 3
    for name in ("jonas", "petras", "ona"):  # guessing user names
        _password_login(name, address="203.0.113.9", password="Guess-2026-guess")
    _client, response = _password_login("spec_pabirze", address="203.0.113.9")
    assert response.status_code == 429
    event = _events(AuditAction.LOCKED_OUT)[-1]
    assert event.details == {"locked": "address", "username": "spec_pabirze"} and event.ip == "203.0.113.9"
    _client, elsewhere = _password_login("spec_pabirze", address="198.51.100.4")
    assert elsewhere.status_code == 302


# --- idle sessions -------------------------------------------------------------------------------


def test_a_session_ends_after_thirty_idle_minutes_and_activity_keeps_it(spec_vabalninkas: Any) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        client = _logged_in(Client(), spec_vabalninkas)
        assert client.get("/").status_code == 200
        for _ in range(3):  # active every 20 minutes: an hour later still signed in
            traveller.shift(dt.timedelta(minutes=20))
            assert client.get("/").status_code == 200
        traveller.shift(dt.timedelta(minutes=31))
        response = client.get("/")
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")
        expired = _events(AuditAction.SESSION_EXPIRED)
        assert len(expired) == 1 and expired[0].actor == spec_vabalninkas
        assert expired[0].details == {"idle_minutes": 31}
        login_page = client.get(response.url)
        assert "30" in login_page.content.decode()  # the page says why


# --- passwords -----------------------------------------------------------------------------------


@pytest.mark.parametrize("password, reason", [
    ("Short-2026", "at least 12"), ("123456789012345", "entirely numeric"), ("password1234", "too common"),
    ("spec_vabalninkas1", "too similar")])
def test_the_password_policy_refuses_weak_passwords(spec_vabalninkas: Any, password: str, reason: str) -> None:
    client = _logged_in(Client(), spec_vabalninkas)
    client.cookies["django_language"] = "en"
    response = client.post("/accounts/password_change/", {"old_password": PASSWORD, "new_password1": password,
                                                          "new_password2": password})
    assert response.status_code == 200
    assert reason in response.content.decode()


# --- headers and pages ---------------------------------------------------------------------------


def test_every_page_carries_a_strict_content_security_policy(spec_vabalninkas: Any) -> None:
    response = _logged_in(Client(), spec_vabalninkas).get("/")
    policy = response.headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'self'" and directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'" and directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_inline_script_style_or_event_handlers() -> None:
    """The policy refuses them, so they would silently not work; PDFs (WeasyPrint) are exempt."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "pdf" in path.parts:
            continue
        text = path.read_text()
        for pattern in (r"<script(?![^>]*\bsrc=)[^>]*>", r"<style\b", r"\sstyle=\"", r"\son[a-z]+=\""):
            if re.search(pattern, text):
                offenders.append(f"{path.relative_to(ROOT)}: {pattern}")
    assert not offenders, offenders


def test_session_and_csrf_cookies_are_http_only_and_same_site(spec_vabalninkas: Any) -> None:
    client, response = _password_login("spec_vabalninkas")
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_an_api_token_expires_and_a_new_one_retires_the_old(public_order: Any, settings: Any) -> None:
    def token() -> str:
        response = APIClient().post("/api/v1/auth/token/", {"username": "public_order", "password": PASSWORD,
                                                            "otp": totp_now(public_order)}, format="json")
        assert response.status_code == 200
        return response.json()["token"]

    def status(key: str) -> int:
        caller = APIClient()
        caller.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return caller.get("/api/v1/cameras/").status_code

    start = timezone.now()
    with time_machine.travel(start, tick=False) as traveller:
        first = token()
        assert status(first) == 200
        traveller.shift(dt.timedelta(minutes=1))  # the next code
        second = token()
        assert status(first) == 401 and status(second) == 200
        traveller.shift(dt.timedelta(hours=settings.SAFECAM_TOKEN_HOURS, minutes=1))
        assert status(second) == 401
