"""What the funder is shown: daily statistics, the project record, indicators, activities, spending, reports.

Statistics are aggregates only (no person, no footage): :class:`CameraDay` is one camera's local
(Europe/Vilnius) day, rolled up by a beat job from the footage index, the viewing sessions, the
audit trail and the export rows (:mod:`reports.rollup`). A year of 24 cameras is 8 760 of these
rows instead of some 75 million segment rows, so the statistics page and the PDFs read only them.
A day is rolled up while its footage is still stored (today and yesterday, every few minutes);
once retention has deleted the segments the row is the only record, so it is never recomputed
from what is left (``final``).

The project record (:class:`Project`, :class:`Partner`, :class:`BudgetLine`) is seeded with the
figures of the subsidy contract and corrected by the coordinator; :mod:`reports.project` checks that
parts add up to totals. :class:`Indicator` targets come from the application form; their achieved
values are counted from the camera registry and the activity register where SafeCam knows them.
:class:`Report` is a PDF job row (status, progress, timings, error, who asked), like an export.

Rights: ``reports.view_statistics`` (the coordinator) sees every eldership's statistics;
``reports.view_site_statistics`` (specialists, Public Order, the DPO) those of the elderships whose
cameras they may see. ``reports.manage_project``
(the coordinator) keeps the project record and makes the reports. Nobody reaches footage from here.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cameras.models import Camera
from cameras.querysets import SiteScopedQuerySet
from safecam.permissions import RestrictedQuerySet

MONEY = {"max_digits": 12, "decimal_places": 2}
NOT_NEGATIVE = [MinValueValidator(Decimal(0))]


class CameraDayQuerySet(SiteScopedQuerySet):
    """The coordinator sees every eldership's figures; others those of the sites they may view."""

    site_path = "camera__site"

    def _restrict(self, user: Any, action: str) -> CameraDayQuerySet:
        if action == "view" and user.has_perm("reports.view_statistics"):
            return self.all()
        if action != "view" or not user.has_perm("reports.view_site_statistics"):
            return self.none()
        return super()._restrict(user, "view")


class CameraDay(models.Model):
    """One camera's local day in figures: coverage, gaps by reason, storage, viewing, exports, holds."""

    camera = models.ForeignKey(Camera, verbose_name=_("camera"), on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("day"))
    # Seconds the camera should have recorded: the local day (23, 24 or 25 h) from its installation
    # until now; recorded seconds are those of stored segments inside the day.
    expected_seconds = models.FloatField(_("expected (s)"), default=0)
    recorded_seconds = models.FloatField(_("recorded (s)"), default=0)
    # {reason: seconds} for the gaps inside the day (footage.models.EndReason); the rest of the
    # expected time not recorded and not in a gap is "unknown" (no recorder reported anything).
    gap_seconds = models.JSONField(_("gaps (s) by reason"), default=dict, blank=True)
    outages = models.PositiveIntegerField(_("outages"), default=0, help_text=_("Gaps that began that day."))
    segments = models.PositiveIntegerField(_("segments"), default=0)
    bytes_recorded = models.BigIntegerField(_("bytes recorded"), default=0)
    bytes_stored = models.BigIntegerField(_("bytes stored at the end of the day"), default=0)
    playback_sessions = models.PositiveIntegerField(_("playback sessions"), default=0)
    live_sessions = models.PositiveIntegerField(_("near-live sessions"), default=0)
    request_sessions = models.PositiveIntegerField(_("searches for a request"), default=0)
    seconds_viewed = models.FloatField(_("seconds of footage viewed"), default=0)
    stills = models.PositiveIntegerField(_("still frames"), default=0)
    exports = models.PositiveIntegerField(_("exports"), default=0)
    holds = models.PositiveIntegerField(_("holds placed"), default=0)
    incidents = models.PositiveIntegerField(_("incidents marked"), default=0)
    final = models.BooleanField(_("final"), default=False,
                                help_text=_("The day is over and was rolled up while its footage was stored."))
    computed_at = models.DateTimeField(_("computed"), auto_now=True)

    objects = CameraDayQuerySet.as_manager()

    class Meta:
        ordering = ["day", "camera"]
        verbose_name = _("camera day")
        verbose_name_plural = _("camera days")
        permissions = [
            ("view_statistics", _("Can see the statistics of every eldership")),
            ("view_site_statistics", _("Can see the statistics of the elderships whose cameras they may see")),
        ]
        constraints = [models.UniqueConstraint(fields=["camera", "day"], name="camera_day_unique")]
        indexes = [models.Index(fields=["day", "camera"])]

    def __str__(self) -> str:
        return f"{self.camera_id} {self.day:%Y-%m-%d}"


# --- the project record -------------------------------------------------------------------------------


class ProjectQuerySet(RestrictedQuerySet):
    """The project record and everything hanging off it: the coordinator's (and the superuser's)."""

    def _restrict(self, user: Any, action: str) -> ProjectQuerySet:
        return self.all() if user.has_perm("reports.manage_project") else self.none()


class Bilingual:
    """``obj.tr("title")`` is ``title_lt`` or ``title_en`` by the active language (LT when EN is empty)."""

    def tr(self, field: str) -> str:
        if (get_language() or "lt").startswith("en"):
            return getattr(self, f"{field}_en") or getattr(self, f"{field}_lt")
        return getattr(self, f"{field}_lt") or getattr(self, f"{field}_en")


class Project(Bilingual, models.Model):
    """The funded project as the subsidy contract names it (one row)."""

    number = models.CharField(_("project number"), max_length=20)
    acronym = models.CharField(_("short name"), max_length=100)
    title_lt = models.CharField(_("title (Lithuanian)"), max_length=300)
    title_en = models.CharField(_("title (English)"), max_length=300)
    programme_lt = models.CharField(_("programme (Lithuanian)"), max_length=300)
    programme_en = models.CharField(_("programme (English)"), max_length=300)
    fund_lt = models.CharField(_("fund (Lithuanian)"), max_length=200)
    fund_en = models.CharField(_("fund (English)"), max_length=200)
    programme_site = models.CharField(_("programme web site"), max_length=100)
    start_date = models.DateField(_("start"), null=True, blank=True)
    end_date = models.DateField(_("end"), null=True, blank=True)
    duration_months = models.PositiveSmallIntegerField(_("duration (months)"))
    total_budget = models.DecimalField(_("total budget (EUR)"), **MONEY, validators=NOT_NEGATIVE)
    erdf = models.DecimalField(_("of which ERDF (EUR)"), **MONEY, validators=NOT_NEGATIVE)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    disclaimer_lt = models.TextField(_("funding disclaimer (Lithuanian)"))
    disclaimer_en = models.TextField(_("funding disclaimer (English)"))
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("project")
        verbose_name_plural = _("project")
        permissions = [("manage_project", _("Can keep the project record and make the funder's reports"))]

    def __str__(self) -> str:
        return f"{self.number} {self.acronym}"


class PartnerRole(models.TextChoices):
    LEAD = "lead", _("Lead partner")
    PARTNER = "partner", _("Partner")


class Partner(Bilingual, models.Model):
    """A project partner and its share of the budget: ERDF plus its own (municipal) contribution."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="partners")
    role = models.CharField(_("role"), max_length=10, choices=PartnerRole.choices)
    name_lt = models.CharField(_("name (Lithuanian)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    country = models.CharField(_("country"), max_length=2, help_text=_("ISO code, e.g. LT or LV."))
    budget = models.DecimalField(_("budget (EUR)"), **MONEY, validators=NOT_NEGATIVE)
    erdf = models.DecimalField(_("ERDF (EUR)"), **MONEY, validators=NOT_NEGATIVE)
    own_contribution = models.DecimalField(_("own contribution (EUR)"), **MONEY, validators=NOT_NEGATIVE)
    note = models.TextField(_("note"), blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.tr("name")


class CostCategory(models.TextChoices):
    """The Interreg cost categories (Commission Delegated Regulation (EU) No 481/2014)."""

    STAFF = "staff", _("Staff costs")
    OFFICE = "office", _("Office and administrative expenditure")
    TRAVEL = "travel", _("Travel and accommodation")
    EXTERNAL = "external", _("External expertise and services")
    EQUIPMENT = "equipment", _("Equipment")
    WORKS = "works", _("Infrastructure and works")


class BudgetLine(models.Model):
    """A partner's budget for one cost category, against which its expenditure is summed."""

    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.CASCADE,
                                related_name="budget_lines")
    category = models.CharField(_("cost category"), max_length=12, choices=CostCategory.choices)
    amount = models.DecimalField(_("budget (EUR)"), **MONEY, validators=NOT_NEGATIVE)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["partner", "category"]
        verbose_name = _("budget line")
        verbose_name_plural = _("budget lines")
        constraints = [models.UniqueConstraint(fields=["partner", "category"], name="budget_line_once")]

    def __str__(self) -> str:
        return f"{self.partner}: {self.get_category_display()}"


class IndicatorSource(models.TextChoices):
    """Where an indicator's achieved value comes from: counted by SafeCam, or entered."""

    MANUAL = "manual", _("Entered by the coordinator")
    CAMERAS = "cameras", _("Cameras installed (camera registry)")
    ELDERSHIPS = "elderships", _("Elderships with cameras (camera registry)")
    MEETINGS = "meetings", _("Community meetings (activity register)")
    EXCHANGES = "exchanges", _("Good-practice exchanges (activity register)")
    PARTICIPANTS = "participants", _("People reached (participants in the activity register)")


class Indicator(Bilingual, models.Model):
    """An output indicator: its target and how its achieved value is known."""

    code = models.CharField(_("code"), max_length=20)
    name_lt = models.CharField(_("name (Lithuanian)"), max_length=300)
    name_en = models.CharField(_("name (English)"), max_length=300)
    unit_lt = models.CharField(_("unit (Lithuanian)"), max_length=50)
    unit_en = models.CharField(_("unit (English)"), max_length=50)
    # Empty until the coordinator enters it from the application form (SafeCam does not guess targets).
    target = models.DecimalField(_("target value"), max_digits=10, decimal_places=0, null=True, blank=True,
                                 validators=NOT_NEGATIVE)
    source = models.CharField(_("achieved value from"), max_length=15, choices=IndicatorSource.choices)
    manual_value = models.DecimalField(_("achieved (when entered)"), max_digits=10, decimal_places=0, null=True,
                                       blank=True, validators=NOT_NEGATIVE)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("output indicator")
        verbose_name_plural = _("output indicators")
        constraints = [models.UniqueConstraint(fields=["code"], name="indicator_code_unique")]

    def __str__(self) -> str:
        return f"{self.code} {self.tr('name')}"


class ActivityKind(models.TextChoices):
    MEETING = "meeting", _("Community meeting")
    EXCHANGE = "exchange", _("Good-practice exchange with Aizkraukle")
    TRAINING = "training", _("Training")
    PUBLICITY = "publicity", _("Publicity event")
    OTHER = "other", _("Other")


class Activity(Bilingual, models.Model):
    """A community meeting, exchange visit or other project activity, with its participants and photos."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    date = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=200)
    kind = models.CharField(_("type"), max_length=12, choices=ActivityKind.choices)
    title_lt = models.CharField(_("title (Lithuanian)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200, blank=True)
    participants = models.PositiveIntegerField(_("participants"), default=0)
    description_lt = models.TextField(_("description (Lithuanian)"), max_length=4000, blank=True)
    description_en = models.TextField(_("description (English)"), max_length=4000, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("entered"), auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "-pk"]
        verbose_name = _("activity")
        verbose_name_plural = _("activities")

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.tr('title')}"


class ActivityPhoto(models.Model):
    """A photo of an activity, stored re-encoded without its metadata (no camera serial, no GPS)."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="photos")
    storage_name = models.CharField(max_length=300)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    caption = models.CharField(_("caption"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["activity", "pk"]
        verbose_name = _("activity photo")
        verbose_name_plural = _("activity photos")

    def __str__(self) -> str:
        return self.caption or self.storage_name


class Expenditure(models.Model):
    """One paid invoice, in the partner report's terms: category, invoice, payment, amount and VAT."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    partner = models.ForeignKey(Partner, verbose_name=_("partner"), on_delete=models.PROTECT,
                                related_name="expenditure")
    category = models.CharField(_("cost category"), max_length=12, choices=CostCategory.choices)
    description = models.CharField(_("what was bought"), max_length=300)
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    invoice_number = models.CharField(_("invoice number"), max_length=60)
    invoice_date = models.DateField(_("invoice date"))
    payment_date = models.DateField(_("payment date"), null=True, blank=True)
    amount = models.DecimalField(_("amount without VAT (EUR)"), **MONEY, validators=NOT_NEGATIVE)
    vat = models.DecimalField(_("VAT (EUR)"), **MONEY, default=Decimal(0), validators=NOT_NEGATIVE)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("entered"), auto_now_add=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-invoice_date", "-pk"]
        verbose_name = _("expenditure")
        verbose_name_plural = _("expenditure")
        constraints = [
            models.UniqueConstraint(fields=["partner", "invoice_number"], name="expenditure_invoice_once",
                                    violation_error_message=_("This partner already has an invoice with this "
                                                              "number.")),
            models.CheckConstraint(condition=Q(payment_date__isnull=True) | Q(payment_date__gte=models.F("invoice_date")),
                                   name="expenditure_paid_after_invoice",
                                   violation_error_message=_("An invoice cannot be paid before its date.")),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_number} {self.description}"

    @property
    def total(self) -> Decimal:
        return (self.amount or Decimal(0)) + (self.vat or Decimal(0))


# --- PDF reports -------------------------------------------------------------------------------------


class ReportKind(models.TextChoices):
    PUBLICITY = "publicity", _("Publicity report")
    PROGRESS = "progress", _("Progress report (partner report)")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Being prepared")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


# The steps of the report job (reports.jobs), as the progress bar names them.
REPORT_STAGES = {
    "statistics": _("Reading the statistics"), "charts": _("Drawing the charts"),
    "activities": _("Adding the activities and photos"), "layout": _("Laying out the pages"),
    "pdf": _("Writing the PDF"), "storing": _("Storing it"), "done": _("Done"),
}


class Report(models.Model):
    """A PDF for the funder, made by a Celery job; the file is named here only once it is complete."""

    public_id = models.UUIDField(_("public ID"), default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("type"), max_length=10, choices=ReportKind.choices)
    language = models.CharField(_("language"), max_length=2, choices=settings.LANGUAGES)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("until"))
    problems = models.TextField(_("problems and deviations"), blank=True, max_length=8000)
    status = models.CharField(_("status"), max_length=10, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.FloatField(_("progress"), default=0.0)
    stage = models.CharField(_("stage"), max_length=40, blank=True)
    error = models.TextField(_("error"), blank=True)
    timings = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(max_length=300, blank=True)
    file_size = models.BigIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64, blank=True)
    pages = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("asked by"), on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(_("asked"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        indexes = [models.Index(fields=["status", "heartbeat_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")),
                                   name="report_period_end_after_start",
                                   violation_error_message=_("The period must not end before it starts.")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d} ({self.language})"

    @property
    def stage_label(self) -> str:
        return str(REPORT_STAGES.get(self.stage, self.stage))
