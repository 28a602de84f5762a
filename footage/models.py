"""The footage index: runs, segments, gaps, holds, retention records, recorder leases.

The storage server holds the bytes; these rows say what the bytes are. Every second of a camera's
time is either inside a :class:`Segment` or inside a :class:`Gap` with a reason, so "was this
recorded?" always has an answer a DPO can read. Segments belong to a :class:`Run`, one continuous
connection to the camera (as in Moonfire NVR): within a run, segment *n* ends exactly where
segment *n+1* starts, because both times come from the same stream clock.

All times are UTC. Rows inherit permissions from the camera's site (``site_path =
"camera__site"``), so millions of segment rows need no rows in django-guardian's tables.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera
from cameras.querysets import SiteScopedQuerySet


class FootageQuerySet(SiteScopedQuerySet):
    """Rows visible through the permission held on their camera's site."""

    site_path = "camera__site"


# No segment is longer than this: ffmpeg cuts every SAFECAM_SEGMENT_SECONDS at the next keyframe,
# and cameras send one every few seconds. Range queries use it as a lower bound on ``start``, so
# "segments overlapping [a, b)" is an index range scan of (camera, start) instead of a scan of all
# of the camera's footage before b (30 days: 260 000 rows). Ingest logs any longer segment.
SEGMENT_LONGEST = timedelta(hours=1)


class SegmentQuerySet(FootageQuerySet):
    def overlapping(self, start: timezone.datetime, end: timezone.datetime) -> SegmentQuerySet:
        """Segments with footage in ``[start, end)``, found through the (camera, start) index."""
        return self.filter(start__lt=end, start__gt=start - SEGMENT_LONGEST, end__gt=start)


class EndReason(models.TextChoices):
    """Why a run ended, or why a gap exists: the answer to "why was this not recorded?"."""

    CAMERA_LOST = "camera_lost", _("Camera stopped sending video")
    CAMERA_UNREACHABLE = "camera_unreachable", _("Camera unreachable")
    CAMERA_DISABLED = "camera_disabled", _("Camera disabled")
    RECORDER_STOPPED = "recorder_stopped", _("Recorder stopped")
    RECORDER_LOST = "recorder_lost", _("Recorder stopped unexpectedly")
    ERROR = "error", _("Recording error")
    SEGMENT_LOST = "segment_lost", _("Segment lost before reaching storage")
    # The recorder stopped writing because the local spool was full (the storage server had not
    # taken segments for long): older footage was kept, new footage was not recorded (audited).
    SPOOL_FULL = "spool_full", _("Recording stopped: spool full")


class Run(models.Model):
    """One continuous connection to a camera; its segments are contiguous."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    camera = models.ForeignKey(Camera, verbose_name=_("camera"), on_delete=models.PROTECT, related_name="runs")
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=32, choices=EndReason.choices, blank=True)
    end_detail = models.TextField(_("details"), blank=True)
    recorder = models.CharField(_("recorder"), max_length=200, help_text=_("Worker host that recorded it."))
    video_codec = models.CharField(_("video codec"), max_length=40, blank=True)
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    # Largest difference seen between the stream clock and the host clock (camera clock drift).
    clock_skew = models.FloatField(_("largest clock skew (s)"), default=0.0)

    objects = FootageQuerySet.as_manager()

    class Meta:
        ordering = ["camera", "started_at"]
        verbose_name = _("recording run")
        verbose_name_plural = _("recording runs")
        indexes = [models.Index(fields=["camera", "started_at"])]

    def __str__(self) -> str:
        return f"{self.camera} {self.started_at:%Y-%m-%d %H:%M:%S}"


class SegmentState(models.TextChoices):
    STORED = "stored", _("Stored")
    # Claimed by a retention run: the file may already be gone; never played or exported.
    DELETING = "deleting", _("Being deleted")


class Segment(models.Model):
    """A few seconds of one camera's video, stored on the storage server and hashed."""

    # No single-column indexes on these: (camera, start) and (run, sequence) serve every lookup, and
    # on a month of 24 cameras (6 M rows) each extra index costs ~150 MB and slows ingest and retention.
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="segments", db_index=False)
    run = models.ForeignKey(Run, on_delete=models.PROTECT, related_name="segments", db_index=False)
    sequence = models.PositiveIntegerField(_("number in run"))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    duration = models.FloatField(_("duration (s)"))
    size = models.BigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    storage_name = models.CharField(_("file on the storage server"), max_length=300)
    state = models.CharField(_("state"), max_length=10, choices=SegmentState.choices, default=SegmentState.STORED)
    retention_run = models.ForeignKey("RetentionRun", null=True, blank=True, on_delete=models.SET_NULL,
                                      related_name="+")
    # A preview picture of the segment's first frame is stored beside it (``.ts`` → ``.jpg``, footage.thumbnails).
    thumbnail = models.BooleanField(_("has a preview picture"), default=False, db_default=False)
    indexed_at = models.DateTimeField(_("indexed"), auto_now_add=True)

    objects = SegmentQuerySet.as_manager()

    class Meta:
        ordering = ["camera", "start"]
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        constraints = [
            models.UniqueConstraint(fields=["run", "sequence"], name="segment_unique_in_run"),
            # A constraint, not unique=True: no extra LIKE index (1.2 GB on 6 M rows) nothing uses.
            models.UniqueConstraint(fields=["storage_name"], name="segment_storage_name_unique"),
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="segment_end_after_start"),
        ]
        indexes = [
            # Covering (PostgreSQL): a day's timeline and an hour's playlist are index-only scans.
            # Segments of 24 cameras interleave on the heap, so fetching 8 640 rows of one camera
            # would read ~3 600 heap pages; the extra columns cost ~150 MB per month of 24 cameras.
            models.Index(fields=["camera", "start"], include=["end", "run", "duration", "state"],
                         name="segment_camera_start"),
            models.Index(fields=["camera", "end"]),
            models.Index(fields=["state", "retention_run"]),
            # The preview strip: a few segments per hour have a picture, so this index stays tiny.
            models.Index(fields=["camera", "start"], include=["id", "state"], condition=Q(thumbnail=True),
                         name="segment_thumbnails"),
        ]

    def __str__(self) -> str:
        return self.storage_name


class Gap(models.Model):
    """A stretch of a camera's time with no footage, and why. ``end`` is empty while it lasts."""

    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="gaps")
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=32, choices=EndReason.choices)
    detail = models.TextField(_("details"), blank=True)
    after_run = models.ForeignKey(Run, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    objects = FootageQuerySet.as_manager()

    class Meta:
        ordering = ["camera", "start"]
        verbose_name = _("gap in recording")
        verbose_name_plural = _("gaps in recording")
        indexes = [models.Index(fields=["camera", "start"])]
        constraints = [
            # At most one open gap per camera: the recorder closes it when footage resumes.
            models.UniqueConstraint(fields=["camera"], condition=Q(end__isnull=True), name="gap_one_open_per_camera"),
        ]

    def __str__(self) -> str:
        return f"{self.camera} {self.start:%Y-%m-%d %H:%M:%S} ({self.reason})"


class HoldQuerySet(FootageQuerySet):
    def active(self, now: timezone.datetime | None = None) -> HoldQuerySet:
        now = now or timezone.now()
        return self.filter(released_at__isnull=True).filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


class Hold(models.Model):
    """An evidence lock: footage of a camera in a time range that retention must not delete."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    camera = models.ForeignKey(Camera, verbose_name=_("camera"), on_delete=models.PROTECT, related_name="holds")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    reason = models.TextField(_("reason"))
    review_on = models.DateField(_("review by"), null=True, blank=True,
                                 help_text=_("When someone must decide whether the hold is still needed."))
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True,
                                      help_text=_("After this the footage follows normal retention again."))
    # What caused the hold (an access request, an incident…), when a later part of SafeCam made it.
    cause_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT)
    cause_id = models.CharField(max_length=64, blank=True)
    cause = GenericForeignKey("cause_type", "cause_id")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("placed by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("placed"), auto_now_add=True)
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("released by"), null=True,
                                    blank=True, on_delete=models.PROTECT, related_name="+")
    release_reason = models.TextField(_("reason for release"), blank=True)

    objects = HoldQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        indexes = [models.Index(fields=["camera", "start", "end"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="hold_end_after_start",
                                   violation_error_message=_("The end of a hold must be after its start.")),
            models.CheckConstraint(condition=Q(review_on__isnull=False) | Q(expires_at__isnull=False),
                                   name="hold_has_review_or_expiry",
                                   violation_error_message=_("Give a review date or an expiry time, so the hold "
                                                             "does not last for ever.")),
        ]

    def __str__(self) -> str:
        return f"{self.camera}: {self.start:%Y-%m-%d %H:%M} – {self.end:%Y-%m-%d %H:%M}"

    def is_active(self, now: timezone.datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.released_at is None and (self.expires_at is None or self.expires_at > now)


class RecorderLease(models.Model):
    """Which worker records a camera. Exactly one holder at a time, kept by a heartbeat."""

    camera = models.OneToOneField(Camera, primary_key=True, on_delete=models.CASCADE, related_name="lease")
    holder = models.CharField(max_length=200, blank=True)
    token = models.UUIDField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # When the supervisor last queued a recording task; stops it queuing one per tick.
    requested_at = models.DateTimeField(null=True, blank=True)
    # The supervisor asks the holder to hand the camera to this recording host (to spread the
    # cameras after a host came back); the holder does so at its next heartbeat (footage.hosts).
    handover_to = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name = _("recorder lease")
        verbose_name_plural = _("recorder leases")

    def __str__(self) -> str:
        return f"{self.camera_id}: {self.holder or '-'}"

    def is_live(self, now: timezone.datetime | None = None) -> bool:
        return bool(self.holder and self.expires_at and self.expires_at > (now or timezone.now()))


class RecorderHost(models.Model):
    """A recording worker that is up (its Celery node name), kept by a heartbeat: see footage.hosts."""

    name = models.CharField(max_length=200, primary_key=True)
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField()

    class Meta:
        verbose_name = _("recording host")
        verbose_name_plural = _("recording hosts")

    def __str__(self) -> str:
        return self.name


class JobStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class DeletionKind(models.TextChoices):
    RETENTION = "retention", _("Retention period ended")
    ERASURE = "erasure", _("Erased on request (GDPR Art. 17)")


class RetentionRun(models.Model):
    """One pass of the retention job, or one erasure on request: the proof that footage was deleted."""

    kind = models.CharField(_("why"), max_length=10, choices=DeletionKind.choices, default=DeletionKind.RETENTION,
                            db_default=DeletionKind.RETENTION)
    note = models.TextField(_("reason"), blank=True, db_default="")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("requested by"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    heartbeat_at = models.DateTimeField(_("last sign of life"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=JobStatus.choices, default=JobStatus.RUNNING)
    segments_deleted = models.PositiveIntegerField(_("segments deleted"), default=0)
    bytes_deleted = models.BigIntegerField(_("bytes deleted"), default=0)
    segments_held = models.PositiveIntegerField(_("expired segments kept by holds"), default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.status}"

    def is_stale(self, now: timezone.datetime | None = None) -> bool:
        """A running run that stopped beating has crashed; its claimed segments are up for grabs."""
        now = now or timezone.now()
        return self.status != JobStatus.RUNNING or self.heartbeat_at < now - timedelta(minutes=5)


class RetentionRecord(models.Model):
    """What one retention run removed from one camera: time range, segments, bytes."""

    run = models.ForeignKey(RetentionRun, on_delete=models.PROTECT, related_name="records")
    camera = models.ForeignKey(Camera, on_delete=models.PROTECT, related_name="retention_records")
    removed_from = models.DateTimeField(_("footage removed from"))
    removed_until = models.DateTimeField(_("footage removed until"))
    segments = models.PositiveIntegerField(_("segments"), default=0)
    bytes = models.BigIntegerField(_("bytes"), default=0)
    retention_hours = models.PositiveIntegerField(_("retention applied (hours)"))

    objects = FootageQuerySet.as_manager()

    class Meta:
        ordering = ["-run__started_at", "camera"]
        verbose_name = _("retention record")
        verbose_name_plural = _("retention records")
        constraints = [models.UniqueConstraint(fields=["run", "camera"], name="retention_record_once_per_run")]


class StorageStatus(models.Model):
    """Whether the storage server takes segments, and how full the local spool is (one row, pk=1)."""

    reachable = models.BooleanField(default=True)
    error = models.TextField(blank=True)
    failing_since = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    backoff_seconds = models.PositiveIntegerField(default=0)
    spool_bytes = models.BigIntegerField(default=0)
    spool_files = models.PositiveIntegerField(default=0)
    spool_alerted_at = models.DateTimeField(null=True, blank=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("storage status")
        verbose_name_plural = _("storage status")

    @classmethod
    def get(cls) -> StorageStatus:
        return cls.objects.get_or_create(pk=1)[0]


class Incident(models.Model):
    """A time range a viewer marked as worth attention, with a note; it may have placed a hold."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    camera = models.ForeignKey(Camera, verbose_name=_("camera"), on_delete=models.PROTECT, related_name="incidents")
    start = models.DateTimeField(_("from"))
    end = models.DateTimeField(_("until"))
    note = models.TextField(_("note"), max_length=4000)
    hold = models.ForeignKey(Hold, verbose_name=_("hold"), null=True, blank=True, on_delete=models.PROTECT,
                             related_name="incidents")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("marked by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("marked"), auto_now_add=True)

    objects = FootageQuerySet.as_manager()

    class Meta:
        ordering = ["-start"]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        indexes = [models.Index(fields=["camera", "start"])]
        constraints = [
            models.CheckConstraint(condition=Q(end__gt=models.F("start")), name="incident_end_after_start",
                                   violation_error_message=_("The end of an incident must be after its start.")),
        ]

    def __str__(self) -> str:
        return f"{self.camera}: {self.start:%Y-%m-%d %H:%M:%S}"


class ViewingMode(models.TextChoices):
    RECORDED = "recorded", _("Recorded footage")
    LIVE = "live", _("Near-live")


class ViewingSession(models.Model):
    """One person watching one camera: what was served and watched, aggregated into few audit events.

    The row exists from the first request, so a trace exists at once; an audit event is written
    for each stretch of viewing when the session closes (or every hour while it stays open).
    """

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("viewer"), on_delete=models.PROTECT,
                             related_name="+")
    camera = models.ForeignKey(Camera, verbose_name=_("camera"), on_delete=models.PROTECT,
                               related_name="viewing_sessions")
    mode = models.CharField(_("mode"), max_length=10, choices=ViewingMode.choices)
    ip = models.GenericIPAddressField(_("address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)
    opened_at = models.DateTimeField(_("opened"))
    last_seen_at = models.DateTimeField(_("last activity"))
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The stretch not yet written to the audit trail.
    chunk_started_at = models.DateTimeField(_("stretch started"))
    segments_served = models.PositiveIntegerField(default=0)
    bytes_served = models.BigIntegerField(default=0)
    thumbnails_served = models.PositiveIntegerField(default=0)
    served_from = models.DateTimeField(null=True, blank=True)
    served_to = models.DateTimeField(null=True, blank=True)
    # Footage actually on screen, as [[start, end], ...] in ISO 8601 UTC, merged (reported by the player).
    watched = models.JSONField(default=list, blank=True)
    events_written = models.PositiveIntegerField(default=0)
    # Watching for a purpose instead of by a site right (e.g. "access_request:<uuid>": the DPO searching
    # for a requester's footage). The purpose's owner (a higher app) decides at every request whether
    # it still allows the viewing, and the footage reachable is confined to [scope_start, scope_end).
    purpose = models.CharField(_("purpose"), max_length=100, blank=True, db_default="")
    scope_start = models.DateTimeField(null=True, blank=True)
    scope_end = models.DateTimeField(null=True, blank=True)

    objects = FootageQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at"]
        verbose_name = _("viewing session")
        verbose_name_plural = _("viewing sessions")
        indexes = [models.Index(fields=["closed_at", "last_seen_at"]), models.Index(fields=["camera", "opened_at"])]

    def __str__(self) -> str:
        return f"{self.user} · {self.camera} · {self.opened_at:%Y-%m-%d %H:%M}"
