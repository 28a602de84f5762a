"""The registry: elderships (sites), cameras, and the data controller.

Permissions are granted on a :class:`Site` (see ``cameras.querysets``); a camera inherits them
through its ``site`` foreign key. Camera credentials are encrypted at rest with a key derived from
the secret key, which lives outside the database.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from encrypted_fields.fields import EncryptedTextField

from cameras.querysets import SiteScopedQuerySet
from cameras.streams import StreamCredentials, join_stream_url

LATITUDE = [MinValueValidator(-90), MaxValueValidator(90)]
LONGITUDE = [MinValueValidator(-180), MaxValueValidator(180)]


class SiteQuerySet(SiteScopedQuerySet):
    """Sites, scoped by the permission held on each site."""

    site_path = ""


class Site(models.Model):
    """An eldership (seniūnija) whose centre has cameras; permissions are granted here."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                   validators=LATITUDE)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                    validators=LONGITUDE)
    contact_name = models.CharField(_("responsible contact"), max_length=150, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("site (eldership)")
        verbose_name_plural = _("sites (elderships)")
        permissions = [
            ("view_live", _("Can watch live video of the site's cameras")),
            ("view_recorded", _("Can play recorded footage of the site's cameras")),
            ("export_footage", _("Can export footage and still frames of the site's cameras")),
            ("place_hold", _("Can place a hold on footage of the site's cameras")),
        ]

    def __str__(self) -> str:
        return self.name


class CameraStatus(models.TextChoices):
    """What a camera is doing now, as a person would say it."""

    RECORDING = "recording", _("Recording")
    RECONNECTING = "reconnecting", _("Reconnecting")
    OFFLINE = "offline", _("Not recording")
    DISABLED = "disabled", _("Disabled")


class CameraQuerySet(SiteScopedQuerySet):
    """Cameras, visible through the permission held on their site."""

    site_path = "site"


class Camera(models.Model):
    """A camera at a site, with the purpose, legal basis and retention the law asks for."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="cameras")
    name = models.CharField(_("name"), max_length=100)
    location = models.TextField(_("location description"), blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                   validators=LATITUDE)
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
                                    validators=LONGITUDE)
    stream_url = models.CharField(
        _("stream URL"), max_length=500,
        help_text=_("Without user name and password; those are kept encrypted, separately."),
    )
    stream_credentials = EncryptedTextField(_("stream credentials (encrypted)"), blank=True, null=True,
                                            editable=False)
    purpose = models.TextField(_("purpose of processing"))
    legal_basis = models.TextField(_("legal basis"))
    retention_hours = models.PositiveIntegerField(
        _("retention (hours)"), default=72, validators=[MinValueValidator(1)],
        help_text=_("Footage older than this is deleted. Above 72 hours a written justification is required."),
    )
    retention_justification = models.TextField(_("justification for longer retention"), blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    # From this day the camera is expected to record: the base of coverage figures and of the
    # funder's "cameras installed" indicator. Empty means the day it was entered in the registry.
    installed_on = models.DateField(_("installed on"), null=True, blank=True,
                                    help_text=_("The day the camera was handed over and began recording."))
    sign_installed_on = models.DateField(_("information sign put up on"), null=True, blank=True)
    privacy_masking_notes = models.TextField(_("privacy masking notes"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CameraQuerySet.as_manager()

    class Meta:
        ordering = ["site__name", "name"]
        verbose_name = _("camera")
        verbose_name_plural = _("cameras")
        constraints = [
            models.UniqueConstraint(fields=["site", "name"], name="camera_name_unique_per_site"),
            models.CheckConstraint(condition=models.Q(retention_hours__gte=1), name="camera_retention_positive"),
            models.CheckConstraint(
                condition=models.Q(retention_hours__lte=72) | ~models.Q(retention_justification=""),
                name="camera_retention_above_72h_justified",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        limit = settings.SAFECAM_RETENTION_MAX_HOURS
        if self.retention_hours and self.retention_hours > limit:
            errors["retention_hours"] = _("Retention cannot exceed %(limit)s hours (the configured maximum).") % {
                "limit": limit}
        if (self.retention_hours and self.retention_hours > settings.SAFECAM_RETENTION_JUSTIFY_ABOVE_HOURS
                and not self.retention_justification.strip()):
            errors["retention_justification"] = _(
                "Retention above 72 hours needs a written justification.")
        if errors:
            raise ValidationError(errors)

    # Credentials: stored as encrypted JSON, never rendered.
    @property
    def credentials(self) -> StreamCredentials:
        if not self.stream_credentials:
            return StreamCredentials()
        data = json.loads(self.stream_credentials)
        return StreamCredentials(data.get("username", ""), data.get("password", ""))

    @credentials.setter
    def credentials(self, value: StreamCredentials) -> None:
        self.stream_credentials = (
            json.dumps({"username": value.username, "password": value.password}) if value else ""
        )

    @property
    def has_credentials(self) -> bool:
        return bool(self.stream_credentials)

    def stream_url_with_credentials(self) -> str:
        """The URL the recorder connects to. Never display or log it."""
        return join_stream_url(self.stream_url, self.credentials)


class Controller(models.Model):
    """The data controller named in notices and reports (one row)."""

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(_("legal entity code"), max_length=20)
    address = models.CharField(_("address"), max_length=200)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    dpo_email = models.EmailField(_("data protection officer's email"), blank=True)

    class Meta:
        verbose_name = _("data controller")
        verbose_name_plural = _("data controller")

    def __str__(self) -> str:
        return self.name


class CameraHealth(models.Model):
    """What the recorder last reported about a camera, and what it has stored (one row per camera).

    The recorder and ingest (``footage``) write these fields; pages read them, so a dashboard of
    24 cameras needs no aggregate over millions of segment rows. The supervisor recomputes the
    counters from the index now and then, so a crash can only make them briefly wrong.
    """

    camera = models.OneToOneField(Camera, primary_key=True, on_delete=models.CASCADE, related_name="health")
    recorder_state = models.CharField(_("recorder"), max_length=20, blank=True,
                                      help_text=_("connecting, recording, waiting to reconnect or stopped"))
    recorder_heartbeat_at = models.DateTimeField(_("recorder last seen"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_segment_end = models.DateTimeField(_("latest footage"), null=True, blank=True)
    down_since = models.DateTimeField(_("not recording since"), null=True, blank=True)
    alert_sent_at = models.DateTimeField(_("offline alert sent"), null=True, blank=True)
    coverage_day = models.DateField(_("coverage of day"), null=True, blank=True)
    coverage_today = models.FloatField(_("recorded today (%)"), null=True, blank=True)
    stored_bytes = models.BigIntegerField(_("bytes stored"), default=0)
    stored_seconds = models.FloatField(_("seconds stored"), default=0)
    stored_segments = models.PositiveIntegerField(_("segments stored"), default=0)
    oldest_footage = models.DateTimeField(_("oldest footage"), null=True, blank=True)

    class Meta:
        verbose_name = _("camera health")
        verbose_name_plural = _("camera health")

    def __str__(self) -> str:
        return f"{self.camera_id}: {self.recorder_state or '-'}"


class CameraRowQuerySet(SiteScopedQuerySet):
    """Rows about a camera, visible through the permission held on the camera's site."""

    site_path = "camera__site"


class RetentionChange(models.Model):
    """A shortened retention, which takes effect only after a notice period (24 hours)."""

    camera = models.ForeignKey(Camera, on_delete=models.CASCADE, related_name="retention_changes")
    old_hours = models.PositiveIntegerField(_("previous retention (hours)"))
    new_hours = models.PositiveIntegerField(_("new retention (hours)"))
    changed_at = models.DateTimeField(_("changed"), auto_now_add=True)
    effective_at = models.DateTimeField(_("takes effect"))
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = CameraRowQuerySet.as_manager()

    class Meta:
        ordering = ["-changed_at"]
        verbose_name = _("retention change")
        verbose_name_plural = _("retention changes")

    def __str__(self) -> str:
        return f"{self.camera}: {self.old_hours} h → {self.new_hours} h from {self.effective_at:%Y-%m-%d %H:%M}"
