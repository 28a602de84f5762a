"""The project record: reads (indicators, budget sums, the budget check) and audited writes.

Every change to the record is a service call that writes a ``project.changed`` or
``project.deleted`` audit event in the same transaction, naming the record and the fields that
changed: the figures go to the funder, so who changed a budget line and when is on file.

Indicators are counted, not typed, where SafeCam knows the answer: cameras and elderships from the
camera registry (``cameras.selectors.cameras_installed``), meetings, exchanges and people reached
from the activity register. Expenditure is reported by payment date (a partner report claims what
was paid in its period); unpaid invoices are listed but not summed.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from cameras.selectors import cameras_installed
from reports.models import (
    Activity,
    ActivityKind,
    ActivityPhoto,
    BudgetLine,
    CostCategory,
    Expenditure,
    Indicator,
    IndicatorSource,
    Partner,
    Project,
)
from reports.seed import project_seed
from safecam.audit import AuditAction, audit_record

ZERO = Decimal("0.00")


def project_current() -> Project:
    """The project record (seeded with the contract's figures if it is missing)."""
    return project_seed(Project, Partner, Indicator)


# --- the budget check ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class BudgetProblem:
    """A sum that does not match; the message names both figures."""

    message: str


def _eur(value: Decimal) -> str:
    from django.utils.formats import number_format

    return f"{number_format(value, 2, force_grouping=True)} EUR"


def budget_check(project: Project) -> list[BudgetProblem]:
    """Parts against totals: partners' budgets and ERDF against the project's, each partner's ERDF plus
    own contribution against its budget, budget lines against the partner's budget, and spending
    against the budget. An empty list means everything adds up."""
    problems: list[BudgetProblem] = []
    partners = list(project.partners.all())
    budgets = sum((p.budget for p in partners), ZERO)
    erdf = sum((p.erdf for p in partners), ZERO)
    if budgets != project.total_budget:
        problems.append(BudgetProblem(_("The partners' budgets add up to %(parts)s, not to the project's total "
                                        "budget of %(total)s.") % {"parts": _eur(budgets),
                                                                   "total": _eur(project.total_budget)}))
    if erdf != project.erdf:
        problems.append(BudgetProblem(_("The partners' ERDF shares add up to %(parts)s, not to the project's ERDF "
                                        "of %(total)s.") % {"parts": _eur(erdf), "total": _eur(project.erdf)}))
    if project.erdf > project.total_budget:
        problems.append(BudgetProblem(_("The ERDF (%(erdf)s) is more than the total budget (%(total)s).") % {
            "erdf": _eur(project.erdf), "total": _eur(project.total_budget)}))
    lines = budget_lines_by_partner(partners)
    spent = spent_by_partner(partners)
    for partner in partners:
        parts = partner.erdf + partner.own_contribution
        if parts != partner.budget:
            problems.append(BudgetProblem(_("%(partner)s: ERDF %(erdf)s plus own contribution %(own)s is %(parts)s, "
                                            "not its budget of %(budget)s.") % {
                "partner": partner, "erdf": _eur(partner.erdf), "own": _eur(partner.own_contribution),
                "parts": _eur(parts), "budget": _eur(partner.budget)}))
        planned = lines.get(partner.pk)
        if planned:
            planned_total = sum(planned.values(), ZERO)
            if planned_total != partner.budget:
                problems.append(BudgetProblem(_("%(partner)s: the budget lines add up to %(parts)s, not to its "
                                                "budget of %(budget)s.") % {
                    "partner": partner, "parts": _eur(planned_total), "budget": _eur(partner.budget)}))
        paid = spent.get(partner.pk, ZERO)
        if paid > partner.budget:
            problems.append(BudgetProblem(_("%(partner)s: %(paid)s paid is more than its budget of %(budget)s.") % {
                "partner": partner, "paid": _eur(paid), "budget": _eur(partner.budget)}))
    return problems


def budget_lines_by_partner(partners: Iterable[Partner]) -> dict[int, dict[str, Decimal]]:
    lines: dict[int, dict[str, Decimal]] = {}
    for line in BudgetLine.objects.filter(partner__in=list(partners)):
        lines.setdefault(line.partner_id, {})[line.category] = line.amount
    return lines


def _paid(first: date | None = None, last: date | None = None) -> models.QuerySet[Expenditure]:
    rows = Expenditure.objects.filter(payment_date__isnull=False)
    if first is not None:
        rows = rows.filter(payment_date__gte=first)
    if last is not None:
        rows = rows.filter(payment_date__lte=last)
    return rows


def spent_by_partner(partners: Iterable[Partner], *, last: date | None = None) -> dict[int, Decimal]:
    return {row["partner_id"]: (row["amount"] or ZERO) + (row["vat"] or ZERO) for row in
            _paid(last=last).filter(partner__in=list(partners)).order_by().values("partner_id")
            .annotate(amount=Sum("amount"), vat=Sum("vat"))}


@dataclass(frozen=True)
class CategoryLine:
    """One cost category of a partner: the budget, what was paid in the period and up to its end."""

    category: str
    label: str
    budget: Decimal | None
    period: Decimal
    cumulative: Decimal

    @property
    def used_percent(self) -> float | None:
        return float(100 * self.cumulative / self.budget) if self.budget else None


def expenditure_by_category(partner: Partner, *, first: date | None = None,
                            last: date | None = None) -> list[CategoryLine]:
    """Paid expenditure (amount plus VAT) per cost category, in the period and cumulative up to ``last``."""
    def sums(rows: models.QuerySet[Expenditure]) -> dict[str, Decimal]:
        return {row["category"]: (row["amount"] or ZERO) + (row["vat"] or ZERO) for row in
                rows.filter(partner=partner).order_by().values("category").annotate(amount=Sum("amount"),
                                                                                   vat=Sum("vat"))}

    in_period = sums(_paid(first, last))
    cumulative = sums(_paid(last=last))
    budget = budget_lines_by_partner([partner]).get(partner.pk, {})
    return [CategoryLine(value, str(label), budget.get(value), in_period.get(value, ZERO),
                         cumulative.get(value, ZERO))
            for value, label in CostCategory.choices
            if value in budget or value in cumulative]


# --- indicators -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IndicatorRow:
    """An indicator as a report shows it: target, achieved before the period, in it, and in all."""

    indicator: Indicator
    previously: Decimal
    achieved: Decimal

    @property
    def this_period(self) -> Decimal:
        return self.achieved - self.previously

    @property
    def target(self) -> Decimal | None:
        return self.indicator.target

    @property
    def percent(self) -> float | None:
        return float(100 * self.achieved / self.target) if self.target else None

    @property
    def counted(self) -> bool:
        return self.indicator.source != IndicatorSource.MANUAL


def indicator_value(indicator: Indicator, *, by: date) -> Decimal:
    """The achieved value on the day ``by`` (inclusive)."""
    source = indicator.source
    if source == IndicatorSource.MANUAL:
        return indicator.manual_value or Decimal(0)
    if source in (IndicatorSource.CAMERAS, IndicatorSource.ELDERSHIPS):
        cameras, elderships = cameras_installed(by=by)
        return Decimal(cameras if source == IndicatorSource.CAMERAS else elderships)
    activities = Activity.objects.filter(date__lte=by)
    if source == IndicatorSource.MEETINGS:
        return Decimal(activities.filter(kind=ActivityKind.MEETING).count())
    if source == IndicatorSource.EXCHANGES:
        return Decimal(activities.filter(kind=ActivityKind.EXCHANGE).count())
    return Decimal(activities.aggregate(n=Sum("participants"))["n"] or 0)


def indicator_rows(*, last: date, first: date | None = None) -> list[IndicatorRow]:
    """Every indicator achieved by ``last``; ``previously`` is what was achieved before ``first``.
    A manual value has no history, so it counts wholly as achieved by now."""
    rows = []
    for indicator in Indicator.objects.all():
        achieved = indicator_value(indicator, by=last)
        if first is None or indicator.source == IndicatorSource.MANUAL:
            previously = Decimal(0) if first is None else achieved
        else:
            previously = indicator_value(indicator, by=first - timedelta(days=1))
        rows.append(IndicatorRow(indicator, previously, achieved))
    return rows


# --- audited writes -------------------------------------------------------------------------------------

def _changes(obj: models.Model) -> dict[str, Any]:
    if obj.pk is None:
        return {}
    before = type(obj)._default_manager.filter(pk=obj.pk).values().first() or {}
    return {name: [str(before.get(name)), str(getattr(obj, name))]
            for name in before if name in {f.attname for f in obj._meta.concrete_fields}
            and before.get(name) != getattr(obj, name)}


@transaction.atomic
def record_save(*, obj: models.Model, by: Any) -> models.Model:
    """Validate and save a project record (project, partner, budget line, indicator, activity,
    expenditure), with one audit event naming what changed."""
    obj.full_clean()
    created = obj.pk is None
    changes = _changes(obj)
    obj.save()
    if created or changes:
        audit_record(action=AuditAction.PROJECT_CHANGED, actor=by, target=obj,
                     details={"record": obj._meta.model_name, "created": created,
                              "changes": {} if created else changes})
    return obj


@transaction.atomic
def record_delete(*, obj: models.Model, by: Any) -> None:
    audit_record(action=AuditAction.PROJECT_DELETED, actor=by, target=obj,
                 details={"record": obj._meta.model_name})
    if isinstance(obj, Activity):
        for photo in obj.photos.all():
            photo_delete(photo=photo, by=by, audit=False)
    obj.delete()


# --- photos ---------------------------------------------------------------------------------------------

PHOTO_MAX_BYTES = 15 * 1024 * 1024
PHOTO_MAX_SIDE = 1600


def _storage() -> Any:
    from django.core.files.storage import storages

    return storages["default"]


def photo_add(*, activity: Activity, upload: Any, caption: str, by: Any) -> ActivityPhoto:
    """Store a photo of an activity: decoded and re-encoded as JPEG at most 1 600 px a side, so no
    metadata (GPS position, camera serial) and no hidden payload survives."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if upload.size > PHOTO_MAX_BYTES:
        raise ValidationError({"image": _("The photo is larger than 15 MB; send a smaller one.")})
    try:
        with Image.open(upload) as image:
            image.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            if image.width * image.height > 80_000_000:
                raise ValidationError({"image": _("The photo has too many pixels.")})
            picture = ImageOps.exif_transpose(image).convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError) as error:
        raise ValidationError({"image": _("This file is not a photo SafeCam can read (JPEG, PNG or WebP).")}) \
            from error
    picture.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85, optimize=True)
    data = out.getvalue()
    from django.core.files.base import ContentFile

    name = _storage().save(f"reports/photos/{activity.public_id}/{uuid.uuid4()}.jpg", ContentFile(data))
    try:
        with transaction.atomic():
            photo = ActivityPhoto.objects.create(activity=activity, storage_name=name, width=picture.width,
                                                 height=picture.height, size=len(data), caption=caption[:300],
                                                 uploaded_by=by)
            audit_record(action=AuditAction.PROJECT_CHANGED, actor=by, target=activity,
                         details={"record": "activityphoto", "created": True, "photo": str(photo.public_id)})
    except BaseException:
        _storage().delete(name)  # no row names it: it would be an orphan nobody can see or delete
        raise
    return photo


def photo_bytes(photo: ActivityPhoto) -> bytes:
    with _storage().open(photo.storage_name, "rb") as handle:
        return handle.read()


def photo_delete(*, photo: ActivityPhoto, by: Any, audit: bool = True) -> None:
    with transaction.atomic():
        if audit:
            audit_record(action=AuditAction.PROJECT_DELETED, actor=by, target=photo.activity,
                         details={"record": "activityphoto", "photo": str(photo.public_id)})
        name = photo.storage_name
        photo.delete()
        transaction.on_commit(lambda: _storage().delete(name))
