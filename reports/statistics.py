"""The usage statistics: per eldership, camera and month, read from the daily roll-ups only.

``statistics(user, first=…, last=…)`` is the one selector behind the page, the CSV, the API and the
PDFs. It starts from ``CameraDay.objects.restrict(user, "view")`` (the coordinator: every
eldership; anyone else: the elderships whose cameras they may see) and sums in Python: a year of
24 cameras is 8 760 small rows, and the gaps by reason are a JSON column no two databases sum alike.

Request figures are counted from the request register itself (``access_requests.selectors
.request_figures``: a few hundred rows a year, no names): a request's outcome changes after the day
it arrived, so a roll-up by day would go stale. Only those who may see every request's existence
(the coordinator, the DPO) get them.

Nothing here is personal data: counts, seconds and bytes per camera.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from access_requests.models import RequestKind, RequestState
from access_requests.registers import Column, csv_bytes
from access_requests.selectors import RequestFigure, request_figures
from cameras.models import Camera, Site
from footage.models import EndReason
from reports.models import CameraDay
from safecam.timeranges import local_days, month_start, months_between

FIELDS = ("expected_seconds", "recorded_seconds", "gap_seconds", "outages", "segments", "bytes_recorded",
          "bytes_stored", "playback_sessions", "live_sessions", "request_sessions", "seconds_viewed", "stills",
          "exports", "holds", "incidents")
COUNTS = ("outages", "segments", "bytes_recorded", "playback_sessions", "live_sessions", "request_sessions",
          "stills", "exports", "holds", "incidents")


@dataclass
class Figures:
    """Sums over camera-days. ``bytes_stored`` is a reading, not a flow: the latest one per camera."""

    expected_seconds: float = 0.0
    recorded_seconds: float = 0.0
    gap_seconds: dict[str, float] = field(default_factory=dict)
    outages: int = 0
    segments: int = 0
    bytes_recorded: int = 0
    bytes_stored: int = 0
    playback_sessions: int = 0
    live_sessions: int = 0
    request_sessions: int = 0
    seconds_viewed: float = 0.0
    stills: int = 0
    exports: int = 0
    holds: int = 0
    incidents: int = 0
    cameras: int = 0
    # camera id → (day, reading) of its latest storage reading in these figures
    _stored: dict[int, tuple[date, int]] = field(default_factory=dict, repr=False)

    def add_day(self, camera_id: int, day: date, values: dict[str, Any]) -> None:
        self.expected_seconds += values["expected_seconds"]
        self.recorded_seconds += values["recorded_seconds"]
        self.seconds_viewed += values["seconds_viewed"]
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + values[name])
        for reason, seconds in (values["gap_seconds"] or {}).items():
            self.gap_seconds[reason] = self.gap_seconds.get(reason, 0.0) + seconds
        if values["bytes_stored"] and (camera_id not in self._stored or self._stored[camera_id][0] < day):
            self._stored[camera_id] = (day, values["bytes_stored"])
            self.bytes_stored = sum(reading for _day, reading in self._stored.values())

    def add(self, camera_id: int, other: Figures) -> None:
        """Add one camera's figures (its storage reading is that camera's latest)."""
        self.expected_seconds += other.expected_seconds
        self.recorded_seconds += other.recorded_seconds
        self.seconds_viewed += other.seconds_viewed
        for name in COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for reason, seconds in other.gap_seconds.items():
            self.gap_seconds[reason] = self.gap_seconds.get(reason, 0.0) + seconds
        reading = other._stored.get(camera_id)
        if reading and (camera_id not in self._stored or self._stored[camera_id][0] < reading[0]):
            self._stored[camera_id] = reading
            self.bytes_stored = sum(value for _day, value in self._stored.values())

    @property
    def coverage(self) -> float | None:
        """Recorded over expected, in per cent (None when nothing was expected)."""
        return 100.0 * self.recorded_seconds / self.expected_seconds if self.expected_seconds else None

    @property
    def gap_total_seconds(self) -> float:
        return sum(self.gap_seconds.values())

    @property
    def unknown_seconds(self) -> float:
        """Expected time neither recorded nor explained by a gap (no recorder reported anything)."""
        return max(0.0, self.expected_seconds - self.recorded_seconds - self.gap_total_seconds)

    @property
    def sessions(self) -> int:
        return self.playback_sessions + self.live_sessions + self.request_sessions

    @property
    def hours_viewed(self) -> float:
        return self.seconds_viewed / 3600

    def gaps_by_reason(self) -> list[tuple[str, str, float]]:
        """(reason, label, seconds) for every reason with time, longest first."""
        return sorted(((reason, _reason_label(reason), seconds) for reason, seconds in self.gap_seconds.items()
                       if seconds > 0), key=lambda item: -item[2])


def _reason_label(reason: str) -> str:
    return str(EndReason(reason).label) if reason in EndReason.values else reason


@dataclass
class CameraMonth:
    """One camera in one month."""

    site: str
    site_slug: str
    camera: str
    camera_id: str
    month: date
    figures: Figures


@dataclass
class RequestStats:
    """Requests received in the period, counted (never listed)."""

    figures: list[RequestFigure]
    months: list[date]

    def _of(self, month: date | None) -> list[RequestFigure]:
        return [f for f in self.figures if month is None or month_start(f.received_on) == month]

    def summary(self, month: date | None = None) -> dict[str, Any]:
        items = self._of(month)
        closed = [f for f in items if f.closed]
        on_time = [f for f in closed if f.on_time]
        return {
            "month": month, "received": len(items), "closed": len(closed), "open": len(items) - len(closed),
            "on_time": len(on_time), "on_time_rate": 100.0 * len(on_time) / len(closed) if closed else None,
            "by_kind": Counter(f.kind for f in items), "by_outcome": Counter(f.state for f in closed),
            "police": sum(1 for f in items if f.police),
            "police_disclosed": sum(1 for f in items if f.police and f.disclosed),
        }

    @property
    def total(self) -> dict[str, Any]:
        return self.summary()

    @property
    def per_month(self) -> list[dict[str, Any]]:
        return [self.summary(month) for month in self.months]

    def kinds(self) -> list[tuple[str, str, int]]:
        counts = self.total["by_kind"]
        return [(value, str(label), counts.get(value, 0)) for value, label in RequestKind.choices]

    def outcomes(self) -> list[tuple[str, str, int]]:
        counts = self.total["by_outcome"]
        return [(value, str(label), counts[value]) for value, label in RequestState.choices if counts.get(value)]


@dataclass
class Statistics:
    """Everything the statistics page, its CSV, the API and the PDFs show for a period."""

    first: date
    last: date
    months: list[date]
    rows: list[CameraMonth]
    by_site: list[tuple[str, str, Figures]]
    by_month: list[tuple[date, Figures]]
    total: Figures
    requests: RequestStats | None
    computed_at: Any = None

    @property
    def empty(self) -> bool:
        return not self.rows


def statistics_sites(user: Any) -> QuerySet[Site]:
    """The elderships whose statistics ``user`` may see (for filters)."""
    if user.has_perm("reports.view_statistics"):
        return Site.objects.order_by("name")
    if not user.has_perm("reports.view_site_statistics"):
        return Site.objects.none()
    return Site.objects.restrict(user, "view").order_by("name")


def statistics_cameras(user: Any) -> QuerySet[Camera]:
    cameras = Camera.objects.select_related("site").order_by("site__name", "name")
    return cameras.filter(site__in=statistics_sites(user))


def may_see_request_figures(user: Any) -> bool:
    return user.has_perm("reports.view_statistics") or user.has_perm("access_requests.handle_request")


def may_see_statistics(user: Any) -> bool:
    """Whether the statistics exist for ``user`` at all (a permission check, no query: the menu asks
    it on every page); which elderships' figures they get is ``CameraDay.objects.restrict``'s to say."""
    return bool(user.is_authenticated and (
        user.has_perm("reports.view_statistics") or user.has_perm("reports.view_site_statistics")))


def statistics(user: Any, *, first: date, last: date, site: Site | None = None,
               camera: Camera | None = None) -> Statistics:
    """The figures ``user`` may see for the days ``first`` … ``last``, by camera and month (the roll-ups,
    the cameras' names, the requests: a few queries whatever the period)."""
    days = CameraDay.objects.restrict(user, "view").filter(day__gte=first, day__lte=last)
    if site is not None:
        days = days.filter(camera__site=site)
    if camera is not None:
        days = days.filter(camera=camera)
    months = months_between(first, last)
    # Each row is added once, to its camera-month; sites, months and the total are sums of those.
    cells: dict[tuple[int, date], Figures] = {}
    latest = None
    for values in (days.exclude(expected_seconds=0, recorded_seconds=0, segments=0, playback_sessions=0,
                                live_sessions=0, request_sessions=0, stills=0, exports=0, holds=0, incidents=0)
                   .order_by().values_list("camera_id", "day", *FIELDS, "computed_at")):
        camera_id, day = values[0], values[1]
        cell = cells.get((camera_id, month_start(day)))
        if cell is None:
            cell = cells[(camera_id, month_start(day))] = Figures()
        cell.add_day(camera_id, day, dict(zip(FIELDS, values[2:-1])))
        if latest is None or values[-1] > latest:
            latest = values[-1]
    names = {camera.pk: camera for camera in
             Camera.objects.filter(pk__in={camera_id for camera_id, _month in cells}).select_related("site")}
    rows = sorted((CameraMonth(names[camera_id].site.name, names[camera_id].site.slug, names[camera_id].name,
                               str(names[camera_id].public_id), month, figures)
                   for (camera_id, month), figures in cells.items()),
                  key=lambda row: (row.site, row.camera, row.month))
    by_site: dict[str, Figures] = {}
    by_month: dict[date, Figures] = {month: Figures() for month in months}
    total = Figures()
    site_names: dict[str, str] = {}
    for (camera_id, month), cell in cells.items():
        slug = names[camera_id].site.slug
        site_names[slug] = names[camera_id].site.name
        for figures in (by_site.setdefault(slug, Figures()), by_month.setdefault(month, Figures()), total):
            figures.add(camera_id, cell)
    total.cameras = len(names)
    for slug, figures in by_site.items():
        figures.cameras = len({row.camera_id for row in rows if row.site_slug == slug})
    requests = None
    if may_see_request_figures(user):
        site_ids = None
        if camera is not None:
            site_ids = [camera.site_id]
        elif site is not None:
            site_ids = [site.pk]
        requests = RequestStats(request_figures(local_days(first, last), site_ids=site_ids), months)
    return Statistics(first=first, last=last, months=months, rows=rows,
                      by_site=sorted(((site_names[slug], slug, f) for slug, f in by_site.items()),
                                     key=lambda item: item[0]),
                      by_month=[(month, by_month[month]) for month in months], total=total, requests=requests,
                      computed_at=latest)


# --- CSV -----------------------------------------------------------------------------------------

def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.2f}"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def camera_month_columns() -> list[Column]:
    columns: list[Column] = [
        (_("Eldership"), lambda r: r.site),
        (_("Camera"), lambda r: r.camera),
        (_("Month"), lambda r: f"{r.month:%Y-%m}"),
        (_("Expected (h)"), lambda r: _hours(r.figures.expected_seconds)),
        (_("Recorded (h)"), lambda r: _hours(r.figures.recorded_seconds)),
        (_("Coverage (%)"), lambda r: _percent(r.figures.coverage)),
    ]
    for reason, label in EndReason.choices:
        columns.append((_("Gap: %(reason)s (h)") % {"reason": label},
                        lambda r, reason=reason: _hours(r.figures.gap_seconds.get(reason, 0.0))))
    columns += [
        (_("No information (h)"), lambda r: _hours(r.figures.unknown_seconds)),
        (_("Outages"), lambda r: r.figures.outages),
        (_("Segments"), lambda r: r.figures.segments),
        (_("Bytes recorded"), lambda r: r.figures.bytes_recorded),
        (_("Bytes stored (latest reading)"), lambda r: r.figures.bytes_stored),
        (_("Playback sessions"), lambda r: r.figures.playback_sessions),
        (_("Near-live sessions"), lambda r: r.figures.live_sessions),
        (_("Searches for requests"), lambda r: r.figures.request_sessions),
        (_("Hours viewed"), lambda r: _hours(r.figures.seconds_viewed)),
        (_("Still frames"), lambda r: r.figures.stills),
        (_("Exports"), lambda r: r.figures.exports),
        (_("Holds placed"), lambda r: r.figures.holds),
        (_("Incidents marked"), lambda r: r.figures.incidents),
    ]
    return columns


def request_month_columns() -> list[Column]:
    columns: list[Column] = [(_("Month"), lambda m: f"{m['month']:%Y-%m}"), (_("Received"), lambda m: m["received"])]
    for kind, label in RequestKind.choices:
        columns.append((str(label), lambda m, kind=kind: m["by_kind"].get(kind, 0)))
    columns += [
        (_("Closed"), lambda m: m["closed"]),
        (_("Answered on time"), lambda m: m["on_time"]),
        (_("On time (%)"), lambda m: _percent(m["on_time_rate"])),
        (_("Refused"), lambda m: m["by_outcome"].get(RequestState.REFUSED, 0)),
        (_("Police requests"), lambda m: m["police"]),
        (_("Police disclosures"), lambda m: m["police_disclosed"]),
    ]
    return columns


def statistics_csv(stats: Statistics, *, table: str = "cameras") -> bytes:
    if table == "requests":
        return csv_bytes(request_month_columns(), stats.requests.per_month if stats.requests else [])
    return csv_bytes(camera_month_columns(), stats.rows)
