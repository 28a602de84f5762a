"""Two-factor authentication: who needs it, enrolment, verification and recovery codes.

The factors are django-otp's devices: a ``TOTPDevice`` (any authenticator app: Aegis, FreeOTP,
Google or Microsoft Authenticator) and a ``StaticDevice`` holding single-use recovery codes. A
password login alone leaves the session *unverified*; ``safecam.middleware.TwoFactorMiddleware``
then lets the user reach only the enrolment (first login) or verification page, logout and the
language switch, until one of the factors matches. The API's token endpoint asks for the same code
(``otp``), so a token is never a way around the second factor.

Who needs it (``SAFECAM_2FA_REQUIRED``): with ``sensitive`` (the default) everyone who may see
footage or personal data, i.e. everyone except a user whose rights are only the coordinator's
aggregate ones (statistics, the project record) and who holds no object permission; with ``all``
every user. Staff and superusers always need it.

Every step is audited: enrolment, a verified login, a wrong code (never the code), new recovery
codes, a recovery code used (with how many are left), and an administrator's reset.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

import segno
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django_otp import login as otp_login, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from safecam.audit import AuditAction, audit_record

# Rights that reveal no footage and no personal data: the coordinator's figures and project record.
AGGREGATE_ONLY_PERMISSIONS = frozenset({"reports.view_statistics", "reports.manage_project",
                                        "reports.view_site_statistics"})
TOTP_NAME = "authenticator"
RECOVERY_NAME = "recovery codes"
SETUP_SESSION_KEY = "safecam_2fa_setup_key"


def required(user: Any) -> bool:
    """Whether ``user`` must pass a second factor before anything else."""
    if not user.is_authenticated or not user.is_active:
        return False
    if settings.SAFECAM_2FA_REQUIRED == "all" or user.is_staff or user.is_superuser:
        return True
    if set(user.get_all_permissions()) - AGGREGATE_ONLY_PERMISSIONS:
        return True
    # A specialist's rights are object permissions on their eldership (django-guardian).
    from safecam.models import AuditedGroupObjectPermission, AuditedUserObjectPermission

    return (AuditedUserObjectPermission.objects.filter(user=user).exists()
            or AuditedGroupObjectPermission.objects.filter(group__user=user).exists())


def enrolled(user: Any) -> bool:
    return user_has_device(user, confirmed=True)


def remaining_recovery_codes(user: Any) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


# --- enrolment -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrolment:
    """What the enrolment page shows: the secret as a QR code and as text for manual entry."""

    device: TOTPDevice
    secret_base32: str
    qr_svg: str


def enrolment_start(request: HttpRequest) -> Enrolment:
    """An unconfirmed authenticator for the signed-in user, kept across reloads of the page (the
    same secret until it is confirmed, so a QR code scanned a minute ago still works)."""
    user = request.user
    device = None
    device_id = request.session.get(SETUP_SESSION_KEY)
    if device_id:
        device = TOTPDevice.objects.filter(pk=device_id, user=user, confirmed=False).first()
    if device is None:
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
        request.session[SETUP_SESSION_KEY] = device.pk
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    qr = segno.make(device.config_url, error="m")
    svg = qr.svg_inline(scale=5, dark="#0b2e4f", light="#ffffff", omitsize=False)
    return Enrolment(device=device, secret_base32=secret, qr_svg=svg)


@transaction.atomic
def enrolment_confirm(request: HttpRequest, code: str) -> list[str] | None:
    """Confirms the pending authenticator when ``code`` matches: replaces any earlier factors, makes
    fresh recovery codes (returned, to show once) and verifies this session. None if it does not."""
    user = request.user
    device = TOTPDevice.objects.select_for_update().filter(
        pk=request.session.get(SETUP_SESSION_KEY), user=user, confirmed=False).first()
    if device is None or not device.verify_token(_digits(code)):
        audit_record(action=AuditAction.TWO_FACTOR_FAILED, actor=user, target=user, details={"step": "enrolment"})
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_new(user)
    request.session.pop(SETUP_SESSION_KEY, None)
    audit_record(action=AuditAction.TWO_FACTOR_ENROLLED, actor=user, target=user,
                 details={"recovery_codes": len(codes)})
    otp_login(request, device)
    return codes


def _recovery_codes_new(user: Any) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [_recovery_code() for _ in range(settings.SAFECAM_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def _recovery_code() -> str:
    """Ten characters from an alphabet without look-alikes, shown as two groups: ``k7m2q-x9c4t``."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def recovery_codes_renew(request: HttpRequest) -> list[str]:
    """New recovery codes for a verified session; the old ones stop working."""
    codes = _recovery_codes_new(request.user)
    audit_record(action=AuditAction.TWO_FACTOR_CODES_RENEWED, actor=request.user, target=request.user,
                 details={"recovery_codes": len(codes)})
    return codes


# --- verification --------------------------------------------------------------------------------


def _digits(code: str) -> str:
    return "".join(ch for ch in str(code) if not ch.isspace())[:32]


def _normalised_recovery(code: str) -> str:
    raw = "".join(ch for ch in str(code).lower() if ch.isalnum())[:32]
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else raw


@dataclass(frozen=True)
class Verdict:
    ok: bool
    throttled_seconds: int = 0
    used_recovery_code: bool = False
    recovery_codes_left: int = 0


def code_check(user: Any, code: str) -> tuple[Any, Verdict]:
    """The device ``code`` belongs to (authenticator first, then a recovery code, which is used up),
    or None; with django-otp's throttling (a wrong code makes the next try wait longer)."""
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    digits = _digits(code)
    if totp is not None and digits.isdigit():
        allowed, info = totp.verify_is_allowed()
        if not allowed:
            return None, Verdict(ok=False, throttled_seconds=_wait_seconds(info))
        if totp.verify_token(digits):
            return totp, Verdict(ok=True)
        return None, Verdict(ok=False)
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if recovery is not None:
        allowed, info = recovery.verify_is_allowed()
        if not allowed:
            return None, Verdict(ok=False, throttled_seconds=_wait_seconds(info))
        if recovery.verify_token(_normalised_recovery(code)):
            left = recovery.token_set.count()
            return recovery, Verdict(ok=True, used_recovery_code=True, recovery_codes_left=left)
    return None, Verdict(ok=False)


def _wait_seconds(info: dict | None) -> int:
    from django.utils import timezone

    until = (info or {}).get("locked_until")
    return max(1, int((until - timezone.now()).total_seconds()) + 1) if until else 1


def verify(request: HttpRequest, code: str) -> Verdict:
    """Checks a code for the signed-in user's session; verifies the session when it matches."""
    user = request.user
    device, verdict = code_check(user, code)
    if device is None:
        audit_record(action=AuditAction.TWO_FACTOR_FAILED, actor=user, target=user,
                     details={"step": "login", "throttled": bool(verdict.throttled_seconds)})
        return verdict
    otp_login(request, device)
    details: dict[str, Any] = {"factor": "recovery code" if verdict.used_recovery_code else "authenticator"}
    if verdict.used_recovery_code:
        details["recovery_codes_left"] = verdict.recovery_codes_left
    audit_record(action=AuditAction.TWO_FACTOR_VERIFIED, actor=user, target=user, details=details)
    return verdict


@transaction.atomic
def reset(user: Any, *, by: Any, reason: str) -> int:
    """An administrator's reset for a user who lost their phone and codes: all factors removed, the
    user enrols afresh at the next login. Returns the number of devices removed."""
    removed = TOTPDevice.objects.filter(user=user).count() + StaticDevice.objects.filter(user=user).count()
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    audit_record(action=AuditAction.TWO_FACTOR_RESET, actor=by, target=user, details={"reason": reason[:500]})
    return removed
