"""Writing and verifying the audit trail (see :mod:`safecam.models` for the chain's design).

``audit_record`` is the only way an event is written. Call it inside the transaction that makes
the change it records, passing the acting user explicitly; the request's address is taken from
the request context set by :class:`safecam.middleware.AuditContextMiddleware`.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    """Every action the trail knows. Later apps add theirs here, so the DPO's filter lists them all."""

    LOGIN = "auth.login", _("Logged in")
    LOGIN_FAILED = "auth.login_failed", _("Failed login")
    LOGOUT = "auth.logout", _("Logged out")
    TOKEN_ISSUED = "auth.token_issued", _("API token issued")
    LOCKED_OUT = "auth.locked_out", _("Login refused: locked out after failed attempts")
    SESSION_EXPIRED = "auth.session_expired", _("Signed out after inactivity")
    TWO_FACTOR_ENROLLED = "auth.2fa_enrolled", _("Two-factor authentication set up")
    TWO_FACTOR_VERIFIED = "auth.2fa_verified", _("Second factor verified")
    TWO_FACTOR_FAILED = "auth.2fa_failed", _("Wrong one-time code")
    TWO_FACTOR_CODES_RENEWED = "auth.2fa_codes_renewed", _("New recovery codes made")
    TWO_FACTOR_RESET = "auth.2fa_reset", _("Two-factor authentication reset by an administrator")
    SITE_CREATED = "site.created", _("Site created")
    SITE_CHANGED = "site.changed", _("Site changed")
    SITE_DELETED = "site.deleted", _("Site deleted")
    CAMERA_CREATED = "camera.created", _("Camera created")
    CAMERA_CHANGED = "camera.changed", _("Camera changed")
    CAMERA_DELETED = "camera.deleted", _("Camera deleted")
    CONTROLLER_CHANGED = "controller.changed", _("Controller details changed")
    PERMISSION_GRANTED = "permission.granted", _("Permission granted")
    PERMISSION_REVOKED = "permission.revoked", _("Permission revoked")
    GROUP_JOINED = "permission.group_joined", _("Added to a role group")
    GROUP_LEFT = "permission.group_left", _("Removed from a role group")
    USER_CHANGED = "user.changed", _("User account changed")
    AUDIT_VERIFIED = "audit.verified", _("Audit trail verified")
    AUDIT_EXPORTED = "audit.exported", _("Audit trail downloaded")
    RETENTION_SHORTENED = "camera.retention_shortened", _("Retention shortened (takes effect after notice)")
    HOLD_PLACED = "hold.placed", _("Hold placed")
    HOLD_RELEASED = "hold.released", _("Hold released")
    HOLD_EXPIRED = "hold.expired", _("Hold expired")
    RETENTION_APPLIED = "retention.applied", _("Expired footage deleted")
    FOOTAGE_VERIFIED = "footage.verified", _("Stored footage verified")
    FOOTAGE_ERASED = "footage.erased", _("Footage erased on request")
    FOOTAGE_VIEWED = "footage.viewed", _("Footage viewed")
    STILL_EXPORTED = "footage.still_exported", _("Still frame downloaded")
    INCIDENT_MARKED = "incident.marked", _("Incident marked")
    RECORDING_SPOOL_FULL = "recording.spool_full", _("Recording stopped: spool full")
    REQUEST_RECEIVED = "request.received", _("Request registered")
    REQUEST_CHANGED = "request.changed", _("Request details changed")
    REQUEST_MOVED = "request.moved", _("Request moved to another state")
    REQUEST_EXTENDED = "request.extended", _("Request deadline extended")
    REQUEST_FOOTAGE_ADDED = "request.footage_added", _("Footage attached to a request")
    REQUEST_FOOTAGE_REMOVED = "request.footage_removed", _("Footage detached from a request")
    EXPORT_REQUESTED = "export.requested", _("Export asked for")
    EXPORT_READY = "export.ready", _("Export ready for review")
    EXPORT_FAILED = "export.failed", _("Export failed")
    EXPORT_PREVIEWED = "export.previewed", _("Redacted footage previewed")
    EXPORT_APPROVED = "export.approved", _("Export approved for release")
    EXPORT_PACKAGED = "export.packaged", _("Evidential package built")
    DELIVERY_CREATED = "delivery.created", _("Download link created")
    DELIVERY_DOWNLOADED = "delivery.downloaded", _("Package downloaded")
    DELIVERY_REFUSED = "delivery.refused", _("Download refused (expired, used up or revoked)")
    DELIVERY_REVOKED = "delivery.revoked", _("Download link revoked")
    REGISTER_EXPORTED = "register.exported", _("Register downloaded (CSV)")
    PROJECT_CHANGED = "project.changed", _("Project record changed")
    PROJECT_DELETED = "project.deleted", _("Project record deleted")
    STATISTICS_EXPORTED = "statistics.exported", _("Statistics downloaded (CSV)")
    REPORT_REQUESTED = "report.requested", _("Funder report asked for")
    REPORT_FAILED = "report.failed", _("Funder report failed")
    REPORT_DOWNLOADED = "report.downloaded", _("Funder report downloaded")


@dataclass(frozen=True)
class RequestContext:
    """The request being served, if any: whose session, from which address."""

    request: HttpRequest | None = None
    ip: str | None = None

    @property
    def user(self) -> Any:
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None


request_context: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "safecam_request_context", default=RequestContext()
)


_acting_user: contextvars.ContextVar[Any] = contextvars.ContextVar("safecam_acting_user", default=None)


@contextmanager
def acting(user: Any) -> Iterator[None]:
    """Attribute events recorded by signal receivers inside this block to ``user``."""
    token = _acting_user.set(user)
    try:
        yield
    finally:
        _acting_user.reset(token)


def current_actor() -> Any:
    """The user a receiver should record: set by ``acting()``, else the request's user, else None."""
    return _acting_user.get() or request_context.get().user


def _normalise(details: dict[str, Any] | None) -> dict[str, Any]:
    """JSON-round-trip details so the hash is computed over exactly what the database returns."""
    return json.loads(json.dumps(details or {}, cls=DjangoJSONEncoder))


def event_hash(*, seq: int, at: datetime, actor_id: int | None, actor_username: str, action: str,
               target_type: str, target_id: str, target_repr: str, ip: str | None,
               details: dict[str, Any], prev_hash: str) -> str:
    """SHA-256 over the event's canonical JSON form and the previous event's hash."""
    content = [seq, at.astimezone(UTC).isoformat(timespec="microseconds"), actor_id,
               actor_username, action, target_type, target_id, target_repr, ip, details, prev_hash]
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _clean_ip(ip: str | None) -> str | None:
    """The address as the database will return it (IPv6 normalised), or None when not an address."""
    if not ip:
        return None
    try:
        return models.GenericIPAddressField().to_python(ip)
    except ValidationError:
        return None


def _target_fields(target: models.Model | None) -> tuple[str, str, str]:
    if target is None:
        return "", "", ""
    meta = target._meta
    public_id = getattr(target, "public_id", None)
    return meta.label_lower, str(public_id or target.pk), str(target)[:200]


def audit_record(*, action: str, actor: Any = None, target: models.Model | None = None,
                 details: dict[str, Any] | None = None, ip: str | None = None) -> Any:
    """Append one event to the chain, inside the caller's transaction."""
    from safecam.models import AuditChainHead, AuditEvent

    context = request_context.get()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    target_type, target_id, target_repr = _target_fields(target)
    details = _normalise(details)
    ip = _clean_ip(ip if ip is not None else context.ip)
    with transaction.atomic():
        head = AuditChainHead.objects.select_for_update().get(pk=1)
        seq = head.seq + 1
        at = timezone.now()
        username = actor.get_username() if actor is not None else ""
        digest = event_hash(seq=seq, at=at, actor_id=actor.pk if actor else None, actor_username=username,
                            action=str(action), target_type=target_type, target_id=target_id,
                            target_repr=target_repr, ip=ip, details=details, prev_hash=head.hash)
        event = AuditEvent.objects.create(
            seq=seq, at=at, actor=actor, actor_username=username, action=str(action),
            target_type=target_type, target_id=target_id, target_repr=target_repr, ip=ip,
            details=details, prev_hash=head.hash, hash=digest,
        )
        head.seq, head.hash = seq, digest
        head.save(update_fields=["seq", "hash"])
    return event


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the chain is not intact."""

    seq: int
    event_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"event #{self.seq}" + (f" (id {self.event_id})" if self.event_id else "")
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class ChainReport:
    """What ``audit_chain_verify`` found."""

    checked: int
    broken: ChainBreak | None

    @property
    def intact(self) -> bool:
        return self.broken is None


VERIFY_CHUNK = 2000


def _events(upto: int) -> Iterator[Any]:
    from safecam.models import AuditEvent

    return AuditEvent.objects.filter(seq__lte=upto).order_by("seq").iterator(chunk_size=VERIFY_CHUNK)


def audit_chain_verify(*, progress: Callable[[int, int], None] | None = None) -> ChainReport:
    """Walk the whole chain; report the first edited, missing or reordered event.

    The walk stops at the head as read when it starts: events appended while a long walk runs (the
    portal keeps writing) are not mistaken for an inconsistent head. ``progress(checked, total)``
    is called every ``VERIFY_CHUNK`` events, for a job's progress bar.
    """
    from safecam.models import GENESIS_HASH, AuditChainHead, AuditEvent

    head = AuditChainHead.objects.get(pk=1)
    expected_seq, prev_hash, checked = 1, GENESIS_HASH, 0
    for event in _events(head.seq):
        if progress is not None and checked and checked % VERIFY_CHUNK == 0:
            progress(checked, head.seq)
        if event.seq != expected_seq:
            return ChainReport(checked, ChainBreak(
                expected_seq, None,
                f"missing: the next stored event is #{event.seq} (id {event.pk}); "
                f"{event.seq - expected_seq} event(s) were deleted"))
        if event.prev_hash != prev_hash:
            return ChainReport(checked, ChainBreak(event.seq, event.pk, "does not link to the event before it"))
        digest = event_hash(seq=event.seq, at=event.at, actor_id=event.actor_id,
                            actor_username=event.actor_username, action=event.action,
                            target_type=event.target_type, target_id=event.target_id,
                            target_repr=event.target_repr, ip=event.ip, details=event.details,
                            prev_hash=event.prev_hash)
        if digest != event.hash:
            return ChainReport(checked, ChainBreak(event.seq, event.pk, "its content was changed after it was written"))
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    if head.seq != expected_seq - 1 or head.hash != prev_hash:
        return ChainReport(checked, ChainBreak(
            head.seq, None, f"the newest event(s) after #{expected_seq - 1} were deleted "
                            f"(the chain head records #{head.seq})"))
    # An event beyond the head as it is *now* was written around the chain (not by audit_record).
    now = AuditChainHead.objects.get(pk=1).seq
    stray = AuditEvent.objects.filter(seq__gt=now).order_by("seq").first()
    if stray is not None:
        return ChainReport(checked, ChainBreak(
            stray.seq, stray.pk, f"it lies beyond the chain head (#{now}): written around the chain"))
    return ChainReport(checked, None)
