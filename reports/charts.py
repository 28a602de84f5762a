"""Charts as SVG, one code path for the statistics page and the PDFs (matplotlib, from PyPI).

The same SVG is inlined in the page (no JavaScript, no CDN, works offline) and in the PDF, where
WeasyPrint keeps it vector graphics. Text stays text (``svg.fonttype = none``) in DejaVu Sans, so
Lithuanian letters render and a PDF's labels are searchable. Numbers on the axes are formatted for
the active language (``12,5`` in Lithuanian, ``12.5`` in English). matplotlib's object API (no
``pyplot``) keeps no global state, so charts may be drawn in several threads at once.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from django.utils import formats
from django.utils.dates import MONTHS_3
from django.utils.html import escape
from django.utils.translation import get_language

BLUE = "#1f5fa8"
LIGHT_BLUE = "#9dbce3"
GOLD = "#f2b705"
GREY = "#8a94a6"
RED = "#c0392b"
GREEN = "#2e8b57"
PALETTE = [BLUE, GOLD, GREEN, RED, "#7b4fa0", "#d9822b", GREY, "#17a2b8"]


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("svg", force=False)
    from matplotlib import rcParams
    from matplotlib.figure import Figure

    rcParams["svg.fonttype"] = "none"
    rcParams["svg.hashsalt"] = "safecam"  # the same figures give the same SVG
    rcParams["font.family"] = "DejaVu Sans"
    rcParams["font.size"] = 9
    fig = Figure(figsize=(width, height))
    ax = fig.add_subplot()
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color("#c7ccd6")
    ax.spines["bottom"].set_color("#c7ccd6")
    ax.tick_params(colors="#333a45")
    return fig, ax


def _number(value: float, decimals: int = 0) -> str:
    value = round(value, decimals) or 0.0  # no "-0"
    return formats.number_format(value, decimals, use_l10n=True, force_grouping=True)


def _ticks(ax, axis: str = "y", decimals: int = 0) -> None:
    from matplotlib.ticker import FuncFormatter

    formatter = FuncFormatter(lambda value, _pos: _number(value, decimals))
    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(formatter)


def _margins(fig, *, horizontal: bool, labels: Sequence[str]) -> None:  # noqa: ANN001
    """Fixed margins, sized for the longest label: ``tight_layout`` measures every text and costs
    half of a chart's time (measured in bench/statistics.py)."""
    width_in, height_in = fig.get_figwidth(), fig.get_figheight()
    if horizontal:
        # About 0.075 in per character at 9 pt, plus the tick.
        left = min(0.45, (max((len(str(label)) for label in labels), default=4) * 0.075 + 0.2) / width_in)
    else:
        left = 0.6 / width_in
    fig.subplots_adjust(left=left, right=1 - 0.25 / width_in, top=1 - 0.38 / height_in,
                        bottom=(0.35 if horizontal else 0.4) / height_in)


def _svg(fig, label: str) -> str:  # noqa: ANN001
    out = io.StringIO()
    fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    svg = out.getvalue()
    svg = svg[svg.index("<svg"):]
    # Several charts share one page: give this one's ids (and the references to them) a prefix of its own.
    prefix = "c" + hashlib.sha1(label.encode()).hexdigest()[:8] + "-"
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}\1"', svg)
    svg = re.sub(r'(href|url\()(=?"?)#([^")]+)', rf'\1\2#{prefix}\3', svg)
    # Scale with its container (the viewBox stays): width 100 %, height from the aspect ratio.
    svg = re.sub(r'<svg([^>]*?) width="[^"]*" height="[^"]*"', r'<svg\1 width="100%"', svg, count=1)
    svg = _presentation_attributes(svg)
    return svg.replace("<svg", f'<svg role="img" aria-label="{escape(label)}"', 1)


_STYLE_ELEMENT = re.compile(r"\s*<style[^>]*>(.*?)</style>", re.S)
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')


def _presentation_attributes(svg: str) -> str:
    """matplotlib styles its SVG with ``style`` attributes and a ``<style>`` element; the page's
    Content-Security-Policy refuses both inline. Every property it writes (fill, stroke, stroke-*,
    font-size, font-family, text-anchor) is also an SVG presentation attribute, so the same drawing
    is written with those instead; the ``<style>`` element's rule for every element (``*{…}``)
    becomes attributes of the root, which every element inherits unless it sets its own."""
    def attributes(declarations: str) -> str:
        pairs = [part.split(":", 1) for part in declarations.split(";") if ":" in part]
        return "".join(f' {name.strip()}="{value.strip()}"' for name, value in pairs)

    root_rules = ""
    element = _STYLE_ELEMENT.search(svg)
    if element:
        root_rules = "".join(attributes(body) for body in re.findall(r"\*\s*\{([^}]*)\}", element.group(1)))
        svg = _STYLE_ELEMENT.sub("", svg, count=1)
    svg = _STYLE_ATTRIBUTE.sub(lambda match: attributes(match.group(1)).replace("'", ""), svg)
    return svg.replace("<svg", "<svg" + root_rules, 1)


def month_label(month: date) -> str:
    return f"{MONTHS_3[month.month].capitalize()} {month:%y}" if month.month == 1 else str(
        MONTHS_3[month.month].capitalize())


_drawn: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_drawn_lock = threading.Lock()
DRAWN_MAX = 256


def _remembered(draw: Callable[..., str]) -> Callable[..., str]:
    """The same chart is drawn once per process: a past period's figures never change, so a page seen
    again (or the PDF after the page) reuses the SVG. Keyed by everything that goes into it."""
    @functools.wraps(draw)
    def wrapper(*args: Any, **kwargs: Any) -> str:
        key = (draw.__name__, get_language(), repr(args), repr(sorted(kwargs.items())))
        with _drawn_lock:
            if key in _drawn:
                _drawn.move_to_end(key)
                return _drawn[key]
        svg = draw(*args, **kwargs)
        with _drawn_lock:
            _drawn[key] = svg
            while len(_drawn) > DRAWN_MAX:
                _drawn.popitem(last=False)
        return svg
    return wrapper


@_remembered
def bars(labels: Sequence[str], values: Sequence[float], *, title: str, unit: str = "", decimals: int = 0,
         color: str = BLUE, limit: float | None = None, horizontal: bool = False,
         size: tuple[float, float] = (7.0, 2.6)) -> str:
    """A bar chart with the value printed on each bar."""
    fig, ax = _figure(*size)
    positions = range(len(labels))
    if horizontal:
        drawn = ax.barh(list(positions), values, color=color, height=0.6)
        ax.set_yticks(list(positions), labels)
        ax.invert_yaxis()
        _ticks(ax, "x", decimals if (limit or max(values, default=0)) < 5 else 0)
        ax.set_xlim(0, (limit or max(values, default=0) or 1) * 1.12)
    else:
        drawn = ax.bar(list(positions), values, color=color, width=0.65)
        ax.set_xticks(list(positions), labels)
        _ticks(ax, "y", decimals if (limit or max(values, default=0)) < 5 else 0)
        ax.set_ylim(0, (limit or max(values, default=0) or 1) * 1.12)
    ax.bar_label(drawn, labels=[_number(v, decimals) + unit if v else "" for v in values], padding=2,
                 fontsize=8, color="#333a45")
    ax.set_title(title, loc="left", fontsize=10, color="#1d2430")
    _margins(fig, horizontal=horizontal, labels=labels)
    return _svg(fig, title)


@_remembered
def stacked(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float]]], *, title: str,
            horizontal: bool = True, size: tuple[float, float] = (7.0, 2.8), decimals: int = 1) -> str:
    """Stacked bars, one colour per series, with a legend."""
    fig, ax = _figure(*size)
    positions = list(range(len(labels)))
    base = [0.0] * len(labels)
    for index, (name, values) in enumerate(series):
        color = PALETTE[index % len(PALETTE)]
        if horizontal:
            ax.barh(positions, values, left=base, color=color, height=0.6, label=name)
        else:
            ax.bar(positions, values, bottom=base, color=color, width=0.65, label=name)
        base = [b + v for b, v in zip(base, values)]
    top = (max(base, default=0) or 1) * 1.12
    if horizontal:
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()
        ax.set_xlim(0, top)
        _ticks(ax, "x", decimals)
    else:
        ax.set_xticks(positions, labels)
        ax.set_ylim(0, top)
        _ticks(ax, "y", decimals)
    if series:
        ax.legend(frameon=False, fontsize=8, loc="lower right" if horizontal else "upper left")
    ax.set_title(title, loc="left", fontsize=10, color="#1d2430")
    _margins(fig, horizontal=horizontal, labels=labels)
    return _svg(fig, title)


@_remembered
def paired(labels: Sequence[str], first: tuple[str, Sequence[float]], second: tuple[str, Sequence[float]], *,
           title: str, size: tuple[float, float] = (7.0, 2.8)) -> str:
    """Two bars per label (e.g. budget and paid, target and achieved), horizontal."""
    fig, ax = _figure(*size)
    positions = list(range(len(labels)))
    ax.barh([p - 0.18 for p in positions], first[1], height=0.34, color=LIGHT_BLUE, label=first[0])
    drawn = ax.barh([p + 0.18 for p in positions], second[1], height=0.34, color=BLUE, label=second[0])
    ax.bar_label(drawn, labels=[_number(v, 0) for v in second[1]], padding=2, fontsize=8)
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    _ticks(ax, "x", 0)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    ax.set_title(title, loc="left", fontsize=10, color="#1d2430")
    _margins(fig, horizontal=True, labels=labels)
    return _svg(fig, title)


def statistics_charts(stats) -> dict[str, str]:
    """The charts of a statistics period, by name (empty when there is nothing to draw)."""
    from django.utils.translation import gettext as _

    if stats.empty:
        return {}
    months = [month_label(month) for month, _figures in stats.by_month]
    charts = {
        "coverage_month": bars(months, [f.coverage or 0 for _m, f in stats.by_month], decimals=1, unit=" %",
                               limit=100, title=_("Recording coverage by month (%)")),
        "coverage_site": bars([name for name, _slug, _f in stats.by_site],
                              [f.coverage or 0 for _n, _s, f in stats.by_site], decimals=1, unit=" %", limit=100,
                              horizontal=True, size=(7.0, 0.45 * len(stats.by_site) + 0.9),
                              title=_("Recording coverage by eldership (%)")),
        "viewing_month": stacked(months, [
            (_("Recorded footage"), [f.playback_sessions for _m, f in stats.by_month]),
            (_("Near-live"), [f.live_sessions for _m, f in stats.by_month]),
            (_("Searches for requests"), [f.request_sessions for _m, f in stats.by_month]),
        ], horizontal=False, decimals=0, title=_("Viewing sessions by month")),
        "hours_month": bars(months, [f.hours_viewed for _m, f in stats.by_month], decimals=1, color=GOLD,
                            title=_("Hours of footage viewed by month")),
    }
    reasons = stats.total.gaps_by_reason()
    unknown = stats.total.unknown_seconds
    if reasons or unknown > 60:
        labels = [label for _r, label, _s in reasons] + ([_("No information")] if unknown > 60 else [])
        hours = [seconds / 3600 for _r, _l, seconds in reasons] + ([unknown / 3600] if unknown > 60 else [])
        charts["gaps"] = bars(labels, hours, decimals=1, color=RED, horizontal=True,
                              size=(7.0, 0.45 * len(labels) + 0.9), title=_("Time not recorded, by reason (hours)"))
    if stats.requests is not None and stats.requests.total["received"]:
        kinds = [(label, n) for _v, label, n in stats.requests.kinds() if n]
        charts["requests"] = bars([label for label, _n in kinds], [n for _l, n in kinds], horizontal=True,
                                  size=(7.0, 0.45 * len(kinds) + 0.9), color=GREEN,
                                  title=_("Requests received by type"))
    return charts
