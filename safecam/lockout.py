"""Lockout after repeated failed logins, per user name and per address, both audited.

Per user name: django-axes (``AXES_FAILURE_LIMIT`` failures, ``SAFECAM_LOCKOUT_MINUTES`` cool-off,
reset by a successful login; an administrator unlocks early with ``manage.py axes_reset_username``).
Per address: a larger allowance (``SAFECAM_LOCKOUT_ADDRESS_FAILURES`` in the same window), since a
whole eldership office may reach SafeCam from one address; counted by django-ratelimit in the
shared cache (Redis in production), so it holds across gunicorn workers. ``AddressLockoutBackend``
sits right after axes' backend and refuses before any password is checked; the refusal goes through
django-axes' lockout answer (``safecam.views_accounts.locked_out``, a 429 page or JSON).

Audit: every failed or refused attempt is an ``auth.login_failed`` event (safecam/receivers.py);
the lockout itself, and every attempt refused while it lasts, is an ``auth.locked_out`` event naming
what is locked (the user name or the address).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django_ratelimit.core import get_usage

from safecam.audit import AuditAction, audit_record
from safecam.middleware import client_ip

GROUP = "safecam.login-failures"


def _rate() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return f"{settings.SAFECAM_LOCKOUT_ADDRESS_FAILURES}/{minutes}m"


def _usage(request: HttpRequest, *, increment: bool) -> dict | None:
    if not settings.AXES_ENABLED or client_ip(request) is None:
        return None
    return get_usage(request, group=GROUP, key=lambda _group, req: client_ip(req) or "", rate=_rate(),
                     increment=increment)


def address_failure_count(request: HttpRequest) -> None:
    """Counts one failed login from the request's address (called for every failed login)."""
    _usage(request, increment=True)


def address_locked(request: HttpRequest) -> bool:
    usage = _usage(request, increment=False)
    return bool(usage and usage["count"] >= usage["limit"])


class AddressLockoutBackend:
    """Refuses every login from an address that failed too often (before the password is checked)."""

    def authenticate(self, request: HttpRequest | None, username: str | None = None, password: str | None = None,
                     **kwargs: Any) -> None:
        if request is None or not hasattr(request, "META"):
            return None
        http_request = getattr(request, "_request", request)
        if address_locked(http_request):
            http_request.axes_locked_out = True
            audit_record(action=AuditAction.LOCKED_OUT, ip=client_ip(http_request),
                         details={"locked": "address", "username": str(username or "")[:150]})
            raise PermissionDenied("address locked out")
        return None

    def get_user(self, user_id: int) -> None:
        return None


def user_locked_out_record(request: HttpRequest | None, username: str | None, ip_address: str | None) -> None:
    """django-axes' ``user_locked_out`` signal: the user name is locked (or a try during the lockout)."""
    audit_record(action=AuditAction.LOCKED_OUT, ip=ip_address,
                 details={"locked": "username", "username": str(username or "")[:150]})
