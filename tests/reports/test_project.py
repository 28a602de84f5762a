"""The project record: seeded from the contract, checked for sums that do not add up, indicators
counted from the registry and the activity register, every change audited, photos cleaned."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from cameras.models import Camera
from reports import project as records
from reports.models import Activity, ActivityKind, BudgetLine, CostCategory, Expenditure, Indicator, Partner
from safecam.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_it_is_seeded_with_the_contracts_figures() -> None:
    project = records.project_current()
    assert (project.number, project.acronym, project.duration_months) == ("LLI-457", "Safe community", 18)
    assert (project.total_budget, project.erdf) == (Decimal("232097.84"), Decimal("197283.16"))
    birzai = project.partners.get(country="LT")
    assert (birzai.budget, birzai.erdf, birzai.own_contribution) == (
        Decimal("114013.88"), Decimal("96911.79"), Decimal("17102.09"))
    assert "Gyvenimo kokybės gerinimas nepasiturinčiame pasienio regione" in project.title_lt
    assert project.programme_site == "www.latlit.eu"
    assert records.budget_check(project) == []


def _messages(project: Any) -> list[str]:
    return [problem.message for problem in records.budget_check(project)]


def test_the_budget_check_catches_partners_that_do_not_add_up_to_the_total() -> None:
    project = records.project_current()
    Partner.objects.filter(country="LV").update(budget=Decimal("117083.96"), own_contribution=Decimal("16712.59"))
    messages = _messages(project)
    assert len(messages) == 1
    assert "231\xa0097,84 EUR" in messages[0] and "232\xa0097,84 EUR" in messages[0]


def test_the_budget_check_catches_a_partners_erdf_and_own_share_that_miss_its_budget() -> None:
    project = records.project_current()
    Partner.objects.filter(country="LT").update(own_contribution=Decimal("17102.00"))
    messages = _messages(project)
    assert any("Biržų rajono savivaldybės administracija" in m and "114\xa0013,79 EUR" in m for m in messages)


def test_the_budget_check_catches_erdf_shares_that_miss_the_projects_erdf() -> None:
    project = records.project_current()
    Partner.objects.filter(country="LT").update(erdf=Decimal("96900.00"), own_contribution=Decimal("17113.88"))
    assert any("197\xa0271,37 EUR" in m and "197\xa0283,16 EUR" in m for m in _messages(project))


def test_the_budget_check_catches_budget_lines_and_overspending() -> None:
    project = records.project_current()
    birzai = project.partners.get(country="LT")
    BudgetLine.objects.create(partner=birzai, category=CostCategory.EQUIPMENT, amount=Decimal("100000.00"))
    BudgetLine.objects.create(partner=birzai, category=CostCategory.STAFF, amount=Decimal("10000.00"))
    Expenditure.objects.create(partner=birzai, category=CostCategory.EQUIPMENT, description="24 kameros",
                               invoice_number="BIR-1", invoice_date=date(2026, 9, 1), payment_date=date(2026, 9, 20),
                               amount=Decimal("100000.00"), vat=Decimal("21000.00"))
    messages = _messages(project)
    assert any("110\xa0000,00 EUR" in m for m in messages)  # lines 110 000 ≠ budget 114 013,88
    assert any("121\xa0000,00 EUR" in m for m in messages)  # paid more than the budget
    lines = {line.category: line for line in records.expenditure_by_category(birzai)}
    assert lines["equipment"].cumulative == Decimal("121000.00")
    assert lines["equipment"].used_percent == pytest.approx(121.0)
    assert lines["staff"].cumulative == 0


def test_unpaid_invoices_are_not_summed_and_periods_count_by_payment_date() -> None:
    birzai = records.project_current().partners.get(country="LT")
    for number, paid, amount in (("A", date(2026, 3, 5), "1000.00"), ("B", date(2026, 7, 1), "2000.00"),
                                 ("C", None, "4000.00")):
        Expenditure.objects.create(partner=birzai, category=CostCategory.EXTERNAL, description="Paslaugos",
                                   invoice_number=number, invoice_date=date(2026, 3, 1), payment_date=paid,
                                   amount=Decimal(amount), vat=Decimal("0"))
    line = records.expenditure_by_category(birzai, first=date(2026, 6, 1), last=date(2026, 12, 31))[0]
    assert (line.period, line.cumulative) == (Decimal("2000.00"), Decimal("3000.00"))


def test_an_invoice_cannot_be_paid_before_its_date(coordinator: Any) -> None:
    birzai = records.project_current().partners.get(country="LT")
    invoice = Expenditure(partner=birzai, category=CostCategory.EQUIPMENT, description="Stulpai", invoice_number="X",
                          invoice_date=date(2026, 5, 2), payment_date=date(2026, 5, 1), amount=Decimal("1"))
    with pytest.raises(ValidationError) as error:
        records.record_save(obj=invoice, by=coordinator)
    assert "negali būti apmokėta anksčiau" in str(error.value)


def test_camera_indicators_are_counted_from_the_registry(registry: dict[str, list[Camera]]) -> None:
    cameras = [camera for site in registry.values() for camera in site]
    Camera.objects.filter(pk=cameras[0].pk).update(installed_on=date(2026, 6, 10))
    Camera.objects.filter(pk__in=[c.pk for c in cameras[1:3]]).update(installed_on=date(2026, 7, 1))
    Camera.objects.filter(pk=cameras[3].pk).update(installed_on=date(2026, 9, 1))
    rows = {row.indicator.code: row for row in records.indicator_rows(first=date(2026, 7, 1), last=date(2026, 8, 31))}
    assert (rows["O1"].previously, rows["O1"].this_period, rows["O1"].achieved) == (1, 2, 3)
    assert (rows["O2"].previously, rows["O2"].achieved) == (1, 2)
    assert rows["O1"].target == 24 and rows["O1"].percent == pytest.approx(12.5)


def test_activity_indicators_are_counted_from_the_activity_register() -> None:
    for day, kind, people in ((date(2026, 5, 5), ActivityKind.MEETING, 30), (date(2026, 8, 8), ActivityKind.MEETING, 25),
                              (date(2026, 8, 20), ActivityKind.EXCHANGE, 12), (date(2026, 9, 1), ActivityKind.OTHER, 3)):
        Activity.objects.create(date=day, kind=kind, place="Vabalninkas", title_lt="Susitikimas", participants=people)
    rows = {row.indicator.code: row for row in records.indicator_rows(first=date(2026, 8, 1), last=date(2026, 8, 31))}
    assert (rows["O3"].previously, rows["O3"].this_period) == (1, 1)
    assert (rows["O4"].previously, rows["O4"].this_period) == (0, 1)
    assert (rows["O5"].previously, rows["O5"].achieved) == (30, 67)
    assert rows["O3"].target is None and rows["O3"].percent is None  # the target is entered, not guessed


def test_a_change_to_the_record_is_audited_with_what_changed(coordinator: Any) -> None:
    partner = records.project_current().partners.get(country="LV")
    partner.note = "Confirmed with the subsidy contract."
    records.record_save(obj=partner, by=coordinator)
    event = AuditEvent.objects.filter(action="project.changed").latest("seq")
    assert event.actor == coordinator and event.details["record"] == "partner"
    assert event.details["changes"]["note"][1] == "Confirmed with the subsidy contract."
    records.record_save(obj=Indicator(code="O9", name_lt="Mokymai", name_en="Trainings", unit_lt="vnt.",
                                      unit_en="trainings", source="manual", manual_value=2), by=coordinator)
    assert AuditEvent.objects.filter(action="project.changed", details__created=True).exists()


def _photo() -> SimpleUploadedFile:
    image = Image.new("RGB", (3000, 2000), (40, 120, 200))
    data = io.BytesIO()
    info = Image.Exif()
    info[0x010F] = "Camera maker"  # Make
    info[0x0110] = "Model with a serial"  # Model
    info[0x9003] = "2026:08:08 10:00:00"  # when it was taken
    image.save(data, format="JPEG", exif=info)
    return SimpleUploadedFile("meeting.jpg", data.getvalue(), content_type="image/jpeg")


def test_a_photo_is_stored_smaller_and_without_its_metadata(coordinator: Any, settings: Any, tmp_path: Any) -> None:
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}
    activity = Activity.objects.create(date=date(2026, 8, 8), kind=ActivityKind.MEETING, place="Papilys",
                                       title_lt="Susitikimas", participants=20)
    photo = records.photo_add(activity=activity, upload=_photo(), caption="Bendruomenės namai", by=coordinator)
    with Image.open(io.BytesIO(records.photo_bytes(photo))) as stored:
        assert max(stored.size) == 1600 and not stored.getexif()
    assert (photo.width, photo.height) == (1600, 1067)


def test_a_file_that_is_not_a_photo_is_refused_with_a_reason(coordinator: Any) -> None:
    activity = Activity.objects.create(date=date(2026, 8, 8), kind=ActivityKind.MEETING, place="Papilys",
                                       title_lt="Susitikimas")
    with pytest.raises(ValidationError) as error:
        records.photo_add(activity=activity, upload=SimpleUploadedFile("x.jpg", b"%PDF-1.4 not a photo"),
                          caption="", by=coordinator)
    assert "JPEG, PNG" in str(error.value)
    assert not activity.photos.exists()
