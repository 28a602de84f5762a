"""GDPR requests for footage, from intake to delivery, and the record of what left the building.

An :class:`AccessRequest` is one entry in the DPO's register: a data subject's request (access,
erasure, objection, restriction) or a third party's request for disclosure (police, prosecutor,
court, insurer). Its ``state`` moves along the workflow in :mod:`access_requests.workflow`; every
move is a service call that writes an audit event. Footage the DPO finds is attached as
:class:`RequestFootage` ranges, each kept by a ``footage.Hold`` whose cause is the request.

An :class:`Export` is the evidential package for one attached range: the master copy (the recorded
bytes), the redacted working copy, the manifest and the cover letter, built by a Celery job whose
row is the progress bar. A :class:`Delivery` is an expiring, counted download link to a package.

Rights: only the DPO (``access_requests.handle_request``) sees requests; the Public Order officer
may file and follow police disclosure requests (``access_requests.file_disclosure``). Specialists
and the coordinator see none of it. :class:`AccessRequestQuerySet` is the one door.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera, Site
from safecam.permissions import RestrictedQuerySet


class RequestKind(models.TextChoices):
    ACCESS = "access", _("Subject access (Art. 15)")
    ERASURE = "erasure", _("Erasure (Art. 17)")
    RESTRICTION = "restriction", _("Restriction of processing (Art. 18)")
    OBJECTION = "objection", _("Objection (Art. 21)")
    DISCLOSURE = "disclosure", _("Disclosure to a third party")


class RecipientKind(models.TextChoices):
    POLICE = "police", _("Police")
    PROSECUTOR = "prosecutor", _("Prosecutor")
    COURT = "court", _("Court")
    INSURER = "insurer", _("Insurer")
    OTHER = "other", _("Other organisation")


class Channel(models.TextChoices):
    WEB = "web", _("Public web form")
    EMAIL = "email", _("Email")
    POST = "post", _("Post")
    IN_PERSON = "in_person", _("In person")
    PHONE = "phone", _("Phone")
    OFFICIAL = "official", _("Official letter (institution)")


class IdentityMethod(models.TextChoices):
    ID_DOCUMENT = "id_document", _("Identity document shown in person")
    E_SIGNATURE = "e_signature", _("Qualified electronic signature")
    E_GOVERNMENT = "e_government", _("Electronic government gateway (epaslaugos.lt)")
    SIGNED_LETTER = "signed_letter", _("Signed letter with a copy of an identity document")
    OFFICIAL = "official", _("Official request of an institution, checked with it")
    OTHER = "other", _("Other (described in the notes)")


class RequestState(models.TextChoices):
    RECEIVED = "received", _("Received")
    IDENTITY_VERIFIED = "identity_verified", _("Identity verified")
    SEARCHING = "searching", _("Searching footage")
    FOOTAGE_FOUND = "footage_found", _("Footage found")
    FOOTAGE_NOT_FOUND = "footage_not_found", _("No footage found")
    REDACTION = "redaction", _("Redaction")
    REVIEW = "review", _("Review before release")
    DISCLOSED = "disclosed", _("Disclosed")
    PARTIALLY_DISCLOSED = "partially_disclosed", _("Partially disclosed")
    COMPLETED = "completed", _("Completed (erased, restricted or objection upheld)")
    REFUSED = "refused", _("Refused")
    WITHDRAWN = "withdrawn", _("Withdrawn")


CLOSED_STATES = frozenset({RequestState.FOOTAGE_NOT_FOUND, RequestState.DISCLOSED,
                           RequestState.PARTIALLY_DISCLOSED, RequestState.COMPLETED, RequestState.REFUSED,
                           RequestState.WITHDRAWN})


class DeliveryMethod(models.TextChoices):
    LINK = "link", _("Expiring download link")
    MEDIUM = "medium", _("Handed over on a physical medium")
    VIEWING = "viewing", _("Viewed at the municipality")
    NONE = "none", _("Nothing delivered")


class AccessRequestQuerySet(RestrictedQuerySet):
    """Requests: the DPO sees all; the Public Order officer sees the disclosure requests they filed."""

    def _restrict(self, user: Any, action: str) -> AccessRequestQuerySet:
        if user.has_perm("access_requests.handle_request"):
            return self.all()
        if action == "view" and user.has_perm("access_requests.file_disclosure"):
            return self.filter(kind=RequestKind.DISCLOSURE, created_by=user)
        return self.none()

    def open(self) -> AccessRequestQuerySet:
        return self.exclude(state__in=CLOSED_STATES)


class AccessRequest(models.Model):
    """One GDPR request or third-party disclosure request, as the register records it."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(_("reference"), max_length=20, unique=True, editable=False)
    kind = models.CharField(_("type"), max_length=20, choices=RequestKind.choices)
    state = models.CharField(_("state"), max_length=24, choices=RequestState.choices, default=RequestState.RECEIVED)
    channel = models.CharField(_("received by"), max_length=20, choices=Channel.choices)
    received_at = models.DateTimeField(_("received"))
    # Requester (the data subject, or the person acting for the institution).
    requester_name = models.CharField(_("requester"), max_length=200)
    requester_email = models.EmailField(_("email"), blank=True)
    requester_phone = models.CharField(_("phone"), max_length=40, blank=True)
    requester_address = models.CharField(_("postal address"), max_length=300, blank=True)
    # Third-party disclosure.
    recipient_kind = models.CharField(_("recipient"), max_length=20, choices=RecipientKind.choices, blank=True)
    recipient_organisation = models.CharField(_("recipient organisation"), max_length=200, blank=True)
    recipient_reference = models.CharField(_("their case number"), max_length=100, blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True,
                                   help_text=_("The law and article under which the recipient asks."))
    # What is asked for.
    description = models.TextField(_("description"), max_length=4000,
                                   help_text=_("What the requester says: where they were, what they wore, what happened."))
    site = models.ForeignKey(Site, verbose_name=_("place"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    camera = models.ForeignKey(Camera, verbose_name=_("camera"), null=True, blank=True, on_delete=models.PROTECT,
                               related_name="+")
    window_start = models.DateTimeField(_("from"))
    window_end = models.DateTimeField(_("until"))
    # Identity check.
    identity_method = models.CharField(_("identity checked by"), max_length=20, choices=IdentityMethod.choices,
                                       blank=True)
    identity_notes = models.TextField(_("identity check notes"), blank=True)
    identity_verified_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("identity verified by"),
                                             null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    identity_verified_at = models.DateTimeField(_("identity verified"), null=True, blank=True)
    # Deadline (GDPR Art. 12(3)).
    due_on = models.DateField(_("due"))
    extension_months = models.PositiveSmallIntegerField(_("extended by (months)"), default=0)
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extension_notified_on = models.DateField(_("requester told of the extension"), null=True, blank=True)
    # Outcome and delivery.
    outcome = models.TextField(_("outcome"), blank=True)
    refusal_reasons = models.TextField(_("reasons for refusal"), blank=True)
    delivery_method = models.CharField(_("delivered by"), max_length=20, choices=DeliveryMethod.choices, blank=True)
    delivered_on = models.DateField(_("delivered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Where a public submission came from (a keyed hash, not the address): for abuse handling only.
    submitted_from = models.CharField(max_length=64, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("registered by"), null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = AccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "received_at"]
        verbose_name = _("request")
        verbose_name_plural = _("requests")
        permissions = [
            ("handle_request", _("Can handle GDPR requests, disclosures and exports")),
            ("file_disclosure", _("Can file a police disclosure request")),
        ]
        indexes = [models.Index(fields=["state", "due_on"]), models.Index(fields=["received_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(window_end__gt=models.F("window_start")),
                                   name="request_window_end_after_start",
                                   violation_error_message=_("The end of the time window must be after its start.")),
            models.CheckConstraint(condition=Q(extension_months__lte=2), name="request_extension_at_most_two_months"),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.state not in CLOSED_STATES


class ReferenceCounter(models.Model):
    """The last reference number given out in a year (SC-2026-0001, SC-2026-0002, …)."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class RequestRowQuerySet(RestrictedQuerySet):
    """Rows of a request, visible with the request."""

    def _restrict(self, user: Any, action: str) -> RequestRowQuerySet:
        return self.filter(request__in=AccessRequest.objects.restrict(user, action).values("pk"))


class RequestFootage(models.Model):
    """A range of one camera's footage found for a request, kept by a hold while the request is open."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="footage")
    camera = models.ForeignKey(Camera, verbose_name=_("camera"), on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    note = models.TextField(_("note"), blank=True, max_length=2000)
    hold = models.ForeignKey("footage.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(_("added"), auto_now_add=True)

    objects = RequestRowQuerySet.as_manager()

    class Meta:
        ordering = ["request", "camera", "start"]
        verbose_name = _("footage found")
        verbose_name_plural = _("footage found")
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="request_footage_end_after_start",
                                   violation_error_message=_("The end must be after the start.")),
        ]

    def __str__(self) -> str:
        return f"{self.camera}: {self.start:%Y-%m-%d %H:%M:%S} – {self.end:%H:%M:%S}"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Preparing")
    READY = "ready", _("Ready for review")
    PACKAGING = "packaging", _("Packaging")
    DONE = "done", _("Approved and packaged")
    FAILED = "failed", _("Failed")


class Export(models.Model):
    """An evidential export of one found range: master copy, redacted copy, manifest, cover letter.

    The job renders the copies (status ``running`` → ``ready``); a person reviews the redacted copy
    and approves it, which packages the ZIP (``packaging`` → ``done``). Files live on the footage
    storage server under ``exports/``; a file is named in this row only once it is complete.
    """

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="exports")
    footage = models.ForeignKey(RequestFootage, on_delete=models.PROTECT, related_name="exports")
    camera = models.ForeignKey(Camera, verbose_name=_("camera"), on_delete=models.PROTECT, related_name="+")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    redaction = models.JSONField(_("redaction"), default=dict, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.FloatField(_("progress"), default=0.0)
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    error = models.TextField(_("error"), blank=True)
    timings = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Files on the storage server (empty until complete).
    master_name = models.CharField(max_length=300, blank=True)
    master_sha256 = models.CharField(max_length=64, blank=True)
    master_size = models.BigIntegerField(default=0)
    redacted_name = models.CharField(max_length=300, blank=True)
    redacted_sha256 = models.CharField(max_length=64, blank=True)
    redacted_size = models.BigIntegerField(default=0)
    package_name = models.CharField(max_length=300, blank=True)
    package_sha256 = models.CharField(max_length=64, blank=True)
    package_size = models.BigIntegerField(default=0)
    segments = models.JSONField(default=list, blank=True)
    watermark = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("prepared by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("approved by"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)

    objects = RequestRowQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        indexes = [models.Index(fields=["status", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.request.reference} · {self.camera} {self.start:%Y-%m-%d %H:%M:%S}"


class DeliveryQuerySet(RestrictedQuerySet):
    def _restrict(self, user: Any, action: str) -> DeliveryQuerySet:
        return self.filter(export__request__in=AccessRequest.objects.restrict(user, action).values("pk"))


class Delivery(models.Model):
    """An expiring download link to a package, with a download limit; each download is audited."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    export = models.ForeignKey(Export, on_delete=models.PROTECT, related_name="deliveries")
    recipient = models.CharField(_("recipient"), max_length=200)
    expires_at = models.DateTimeField(_("expires"))
    max_downloads = models.PositiveSmallIntegerField(_("download limit"), default=3)
    downloads = models.PositiveSmallIntegerField(_("downloads"), default=0)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("delivery link")
        verbose_name_plural = _("delivery links")
        constraints = [models.CheckConstraint(condition=Q(downloads__lte=models.F("max_downloads")),
                                              name="delivery_downloads_within_limit")]

    def __str__(self) -> str:
        return f"{self.export} → {self.recipient}"
