"""Figures as people read them, in the active language: money, hours, per cent, bytes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats

register = template.Library()


def _number(value: Any, decimals: int) -> str:
    return formats.number_format(value, decimals, use_l10n=True, force_grouping=True)


@register.filter
def eur(value: Any) -> str:
    """``232 097,84 EUR`` in Lithuanian, ``232,097.84 EUR`` in English."""
    if value in (None, ""):
        return "—"
    return f"{_number(Decimal(value), 2)}\xa0EUR"


@register.filter
def hours(seconds: Any, decimals: int = 1) -> str:
    if seconds in (None, ""):
        return "—"
    return _number(round(float(seconds) / 3600, int(decimals)), int(decimals))


@register.filter
def percent(value: Any, decimals: int = 1) -> str:
    if value is None:
        return "—"
    return f"{_number(round(float(value), int(decimals)), int(decimals))}\xa0%"


@register.filter
def number(value: Any, decimals: int = 0) -> str:
    if value in (None, ""):
        return "—"
    return _number(value, int(decimals))


@register.filter
def get(mapping: Any, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def statistics_visible(user: Any) -> bool:
    """Whether the menu offers the statistics (asks the same rule as the page)."""
    from reports.statistics import may_see_statistics

    return may_see_statistics(user)


@register.filter
def project_visible(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_perm("reports.manage_project"))


@register.filter
def tr(obj: Any, field: str) -> str:
    """``{{ project|tr:"title" }}``: the field in the active language (reports.models.Bilingual)."""
    return obj.tr(field) if obj is not None else ""


@register.filter
def words(text: str) -> list[str]:
    return str(text or "").split()


@register.filter
def svg_uri(svg: str) -> str:
    """An SVG as a data URI, for the PDFs: WeasyPrint draws it as vector graphics with its own SVG
    renderer (inline SVG would be parsed as HTML, its styles warned about, its ids clash)."""
    import base64

    return "data:image/svg+xml;base64," + base64.b64encode(str(svg).encode("utf-8")).decode("ascii")
