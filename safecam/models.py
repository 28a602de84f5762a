"""The audit trail: an append-only, hash-chained record of what was done, by whom, from where.

Each :class:`AuditEvent` stores ``hash = sha256(canonical content + previous hash)`` and a gapless
sequence number; :class:`AuditChainHead` holds the newest sequence number and hash. Writers lock
the head row (``SELECT ... FOR UPDATE``), so events are chained in commit order even with several
web and worker processes, and an event is written in the same transaction as the change it
records: if the change rolls back, so does its event, and vice versa.

Editing a row breaks its hash; deleting one leaves a gap in ``seq`` (or, for the newest, a head
that no longer matches). ``manage.py verify_audit`` finds both. Rows cannot be changed or deleted
through the ORM, the admin or the API.
"""

from __future__ import annotations

from typing import Any

import uuid

from django.conf import settings
from django.db import models
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _
from guardian.managers import GroupObjectPermissionManager, UserObjectPermissionManager
from guardian.models import GroupObjectPermissionAbstract, UserObjectPermissionAbstract

from safecam.permissions import RestrictedQuerySet

GENESIS_HASH = "0" * 64

CAMERA_TARGET = "cameras.camera"


def audit_camera_key() -> models.Func:
    """The camera an event is about: ``details["camera"]`` (a camera's public id, as footage, holds,
    incidents, exports and requests record it) or else the target when the target is a camera.

    One expression, used both by the index on it and by the audit trail's camera filter, so the
    database matches the filter to the index (an expression index is used only for the same
    expression). It reads existing columns only: no event's content or hash changes.
    """
    return models.functions.Coalesce(
        models.functions.NullIf(KT("details__camera"), models.Value("")),
        models.Case(models.When(target_type=CAMERA_TARGET, then=models.F("target_id")),
                    output_field=models.CharField()),
        output_field=models.CharField(),
    )


class AppendOnlyError(RuntimeError):
    """Raised on an attempt to change or delete an audit event."""


class AuditEventQuerySet(RestrictedQuerySet):
    """Audit events: readable by those holding ``safecam.view_auditevent`` (the DPO), never writable."""

    def _restrict(self, user: Any, action: str) -> AuditEventQuerySet:
        if action == "view" and user.has_perm("safecam.view_auditevent"):
            return self
        return self.none()

    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditEvent(models.Model):
    """One entry of the append-only, hash-chained audit trail."""

    seq = models.BigIntegerField(_("sequence number"), unique=True, editable=False)
    at = models.DateTimeField(_("time"), db_index=True, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+", editable=False,
        help_text=_("Users with audit events are deactivated, never deleted."),
    )
    actor_username = models.CharField(_("actor's username"), max_length=150, blank=True, editable=False)
    action = models.CharField(_("action"), max_length=64, db_index=True, editable=False)
    target_type = models.CharField(_("target type"), max_length=100, blank=True, editable=False)
    target_id = models.CharField(_("target id"), max_length=64, blank=True, db_index=True, editable=False)
    target_repr = models.CharField(_("target"), max_length=200, blank=True, editable=False)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True, editable=False)
    details = models.JSONField(_("details"), default=dict, blank=True, editable=False)
    prev_hash = models.CharField(_("previous hash"), max_length=64, editable=False)
    hash = models.CharField(_("hash"), max_length=64, unique=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            # The DPO's audit trail page filters on these and reads newest first, a page at a time:
            # each index serves "WHERE x = ? ORDER BY seq DESC LIMIT n" without sorting the matches.
            models.Index(fields=["action", "-seq"], name="auditevent_action_seq"),
            models.Index(fields=["actor_username", "-seq"], name="auditevent_actor_seq"),
            models.Index(audit_camera_key(), models.F("seq").desc(), name="auditevent_camera_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_repr}".strip()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Audit events cannot be deleted.")


class AuditChainHead(models.Model):
    """The newest event's sequence number and hash; its row lock orders all audit writes."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    class Meta:
        verbose_name = _("audit chain head")


class VerificationStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Checking")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


VERIFICATION_STALE_SECONDS = 300


def verification_live_q() -> models.Q:
    """A "Verify now" still on its way: queued a moment ago, or running with a recent heartbeat.

    One older than that lost its message or its worker; it no longer blocks a new one (and if its
    message still arrives, that check runs too: a second verdict does no harm)."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now() - timedelta(seconds=VERIFICATION_STALE_SECONDS)
    return (models.Q(status=VerificationStatus.QUEUED, requested_at__gte=since)
            | models.Q(status=VerificationStatus.RUNNING, heartbeat_at__gte=since))


class AuditVerification(models.Model):
    """One "Verify now" run of the hash-chain check, asked for on the audit trail page (a Celery job)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("asked by"), null=True,
                                     on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("asked at"), auto_now_add=True)
    status = models.CharField(_("status"), max_length=10, choices=VerificationStatus.choices,
                              default=VerificationStatus.QUEUED)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    total = models.BigIntegerField(_("events to check"), default=0)
    checked = models.BigIntegerField(_("events checked"), default=0)
    intact = models.BooleanField(_("intact"), null=True)
    broken_seq = models.BigIntegerField(_("first broken event"), null=True, blank=True)
    problem = models.TextField(_("problem"), blank=True)
    error = models.TextField(_("error"), blank=True)
    verdict = models.ForeignKey(AuditEvent, verbose_name=_("verdict event"), null=True, blank=True,
                                on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-requested_at"]
        verbose_name = _("audit trail verification")
        verbose_name_plural = _("audit trail verifications")

    def __str__(self) -> str:
        return f"{self.public_id} {self.status}"

    @property
    def progress(self) -> float:
        """0 … 1 for the progress bar."""
        if self.status == VerificationStatus.DONE:
            return 1.0
        return min(1.0, self.checked / self.total) if self.total else 0.0

    @property
    def is_open(self) -> bool:
        return self.status in (VerificationStatus.QUEUED, VerificationStatus.RUNNING)


class _AuditedBulkCreate:
    """django-guardian writes several grants at once with ``bulk_create``, which sends no ``post_save``.

    Object permissions are SafeCam's own models (``GUARDIAN_*_OBJ_PERMS_MODEL``) so that this one
    place can audit those grants too: every permission row written, by any path, leaves an event.
    """

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> Any:
        from django.db import transaction

        from safecam.receivers import object_permission_record

        objs = list(objs)
        with transaction.atomic():
            created = super().bulk_create(objs, *args, **kwargs)  # type: ignore[misc]
            for obj in objs:
                object_permission_record(obj, granted=True)
        return created


class AuditedUserObjectPermissionManager(_AuditedBulkCreate, UserObjectPermissionManager):
    pass


class AuditedGroupObjectPermissionManager(_AuditedBulkCreate, GroupObjectPermissionManager):
    pass


class AuditedUserObjectPermission(UserObjectPermissionAbstract):
    """A user's permission on one object (django-guardian), audited however it is written."""

    objects = AuditedUserObjectPermissionManager()

    class Meta(UserObjectPermissionAbstract.Meta):
        abstract = False
        indexes = [
            models.Index(fields=["permission", "user", "content_type", "object_pk"]),
            models.Index(fields=["user", "content_type", "object_pk"]),
        ]


class AuditedGroupObjectPermission(GroupObjectPermissionAbstract):
    """A group's permission on one object (django-guardian), audited however it is written."""

    objects = AuditedGroupObjectPermissionManager()

    class Meta(GroupObjectPermissionAbstract.Meta):
        abstract = False
        indexes = [
            models.Index(fields=["permission", "group", "content_type", "object_pk"]),
            models.Index(fields=["group", "content_type", "object_pk"]),
        ]
