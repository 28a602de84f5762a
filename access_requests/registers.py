"""The DPO's registers: the request register, the disclosure log and the Art. 30 record, with their CSVs.

Reads only, except :func:`register_exported`, which writes the one audit event a CSV download
leaves. Every function starts from ``restrict()`` and costs a fixed number of queries however many
rows there are (select_related / prefetch_related; the tests assert it).

The CSV files are UTF-8 with a byte-order mark (so Excel opens ``ą č ę ė į š ų ū ž`` correctly),
comma-separated (Excel in a Lithuanian locale expects ``;``, but LibreOffice asks and every
other tool reads ``,``: comma is the RFC 4180 default), with one header row in the active language.
Times are ISO 8601 in local (Europe/Vilnius) time with their UTC offset, ``2026-03-02T10:15:00+02:00``,
so the repeated hour of the October clock change stays unambiguous; dates are ``2026-03-02``. A
cell that a spreadsheet would take for a formula (``= + - @``) is prefixed with ``'``: requester
names come from a public form.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from access_requests.models import (CLOSED_STATES, AccessRequest, Delivery, DeliveryMethod, Export, RequestFootage,
                                    RequestKind, RequestState)
from cameras.models import Camera, Controller, Site
from safecam.audit import AuditAction, audit_record
from safecam.timeranges import local_day, local_today

REGISTER_EXPORTED = AuditAction.REGISTER_EXPORTED

# The recipient-kind filter's value for footage released to the data subjects themselves.
SUBJECT = "subject"

DISCLOSED_STATES = (RequestState.DISCLOSED, RequestState.PARTIALLY_DISCLOSED)


# --- the request register -------------------------------------------------------------------------

@dataclass(frozen=True)
class RegisterRow:
    """One request as the register shows it, with whether it is overdue today."""

    request: AccessRequest
    today: date

    @property
    def overdue(self) -> bool:
        return self.request.is_open and self.request.due_on < self.today

    @property
    def place(self) -> str:
        request = self.request
        if request.camera_id:
            return f"{request.camera.name} ({request.camera.site.name})"
        return request.site.name if request.site_id else ""


def _site_q(site: Site | None, *paths: str) -> Q:
    query = Q()
    for path in paths:
        query |= Q(**{path: site})
    return query


def register_requests(user: Any, *, kind: str = "", state: str = "", status: str = "",
                      received_from: date | None = None, received_to: date | None = None,
                      site: Site | None = None, q: str = "") -> QuerySet[AccessRequest]:
    """Every request ``user`` may see, filtered, newest first; received dates are local days."""
    rows = (AccessRequest.objects.restrict(user, "view")
            .select_related("site", "camera", "camera__site", "identity_verified_by"))
    if kind:
        rows = rows.filter(kind=kind)
    if state:
        rows = rows.filter(state=state)
    if status == "open":
        rows = rows.exclude(state__in=CLOSED_STATES)
    elif status == "closed":
        rows = rows.filter(state__in=CLOSED_STATES)
    if received_from:
        rows = rows.filter(received_at__gte=local_day(received_from).start)
    if received_to:
        rows = rows.filter(received_at__lt=local_day(received_to).end)
    if site is not None:
        rows = rows.filter(_site_q(site, "site", "camera__site"))
    if q.strip():
        text = q.strip()
        rows = rows.filter(Q(reference__icontains=text) | Q(requester_name__icontains=text)
                           | Q(recipient_organisation__icontains=text))
    return rows.order_by("-received_at", "-pk")


def register_rows(requests: Iterable[AccessRequest], *, today: date | None = None) -> list[RegisterRow]:
    today = today or local_today()
    return [RegisterRow(request, today) for request in requests]


# --- the disclosure log ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FootageRange:
    """A camera's range of footage that left: what the log names as released."""

    camera: str
    site: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Released:
    """An export that was part of what left, with its package's fingerprint."""

    status: str
    package_sha256: str


@dataclass(frozen=True)
class DisclosureRow:
    """One time footage left: a download link (counted) or a request closed with a medium or a viewing."""

    request: AccessRequest
    method: str
    delivered_on: date
    delivered_at: datetime | None = None
    link_for: str = ""
    footage: list[FootageRange] = field(default_factory=list)
    released: list[Released] = field(default_factory=list)
    downloads: int | None = None
    max_downloads: int | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def recipient(self) -> str:
        return self.request.recipient_organisation or self.request.requester_name

    @property
    def recipient_kind(self) -> str:
        if self.request.kind != RequestKind.DISCLOSURE:
            return _("The data subject")
        return self.request.get_recipient_kind_display() if self.request.recipient_kind else ""

    @property
    def legal_basis(self) -> str:
        # A data subject's own footage is released under the right they used (Art. 15).
        return self.request.legal_basis or str(self.request.get_kind_display())

    @property
    def method_label(self) -> str:
        return str(DeliveryMethod(self.method).label)

    @property
    def sort_key(self) -> tuple[date, datetime]:
        return self.delivered_on, self.delivered_at or self.request.closed_at or self.request.received_at


def _recipient_q(recipient_kind: str, prefix: str = "") -> Q:
    if recipient_kind == SUBJECT:
        return ~Q(**{f"{prefix}kind": RequestKind.DISCLOSURE})
    return Q(**{f"{prefix}kind": RequestKind.DISCLOSURE, f"{prefix}recipient_kind": recipient_kind})


def _link_rows(user: Any, *, recipient_kind: str, delivered_from: date | None, delivered_to: date | None,
               site: Site | None) -> list[DisclosureRow]:
    links = (Delivery.objects.restrict(user, "view")
             .select_related("export", "export__camera", "export__camera__site", "export__request"))
    if recipient_kind:
        links = links.filter(_recipient_q(recipient_kind, "export__request__"))
    if delivered_from:
        links = links.filter(created_at__gte=local_day(delivered_from).start)
    if delivered_to:
        links = links.filter(created_at__lt=local_day(delivered_to).end)
    if site is not None:
        links = links.filter(export__camera__site=site)
    rows = []
    for link in links:
        export = link.export
        rows.append(DisclosureRow(
            request=export.request, method=DeliveryMethod.LINK, delivered_at=link.created_at,
            delivered_on=local_today(link.created_at), link_for=link.recipient,
            footage=[FootageRange(export.camera.name, export.camera.site.name, export.start, export.end)],
            released=[Released(str(export.get_status_display()), export.package_sha256)],
            downloads=link.downloads, max_downloads=link.max_downloads, expires_at=link.expires_at,
            revoked_at=link.revoked_at))
    return rows


def _handed_over_rows(user: Any, *, recipient_kind: str, delivered_from: date | None, delivered_to: date | None,
                      site: Site | None) -> list[DisclosureRow]:
    """Requests closed as (partially) disclosed on a medium or at a viewing; also one delivered "by link"
    for which no link exists, so that nothing released is missing from the log."""
    has_link = Exists(Delivery.objects.filter(export__request=OuterRef("pk")))
    requests = (AccessRequest.objects.restrict(user, "view")
                .alias(has_link=has_link)
                .filter(state__in=DISCLOSED_STATES)
                .filter(Q(delivery_method__in=[DeliveryMethod.MEDIUM, DeliveryMethod.VIEWING])
                        | Q(delivery_method=DeliveryMethod.LINK, has_link=False))
                .select_related("site", "camera", "camera__site")
                .prefetch_related(Prefetch("footage", queryset=RequestFootage.objects.select_related("camera__site")
                                           .order_by("start")),
                                  Prefetch("exports", queryset=Export.objects.order_by("created_at"))))
    if recipient_kind:
        requests = requests.filter(_recipient_q(recipient_kind))
    if delivered_from:
        requests = requests.filter(delivered_on__gte=delivered_from)
    if delivered_to:
        requests = requests.filter(delivered_on__lte=delivered_to)
    if site is not None:
        requests = requests.filter(_site_q(site, "site", "camera__site")
                                   | Q(pk__in=RequestFootage.objects.filter(camera__site=site).values("request")))
    rows = []
    for request in requests:
        footage = [FootageRange(found.camera.name, found.camera.site.name, found.start, found.end)
                   for found in request.footage.all()]
        released = [Released(str(export.get_status_display()), export.package_sha256)
                    for export in request.exports.all()]
        delivered_on = request.delivered_on or local_today(request.closed_at or request.updated_at)
        rows.append(DisclosureRow(request=request, method=request.delivery_method, delivered_on=delivered_on,
                                  footage=footage, released=released))
    return rows


def disclosure_log(user: Any, *, recipient_kind: str = "", delivered_from: date | None = None,
                   delivered_to: date | None = None, site: Site | None = None) -> list[DisclosureRow]:
    """Every time footage left, newest first: each download link, and each request handed over otherwise."""
    filters = {"recipient_kind": recipient_kind, "delivered_from": delivered_from, "delivered_to": delivered_to,
               "site": site}
    rows = _link_rows(user, **filters) + _handed_over_rows(user, **filters)
    return sorted(rows, key=lambda row: row.sort_key, reverse=True)


# --- the record of processing activities (GDPR Art. 30) -------------------------------------------

def processing_data() -> str:
    return _("Video images (no audio)")


def processing_recipients() -> str:
    return _("The police, prosecutors and courts, on a lawful request; the municipality's Public Order "
             "department; the eldership's specialists (their own eldership only).")


def processing_transfers() -> str:
    return _("None (no transfer outside the EU/EEA)")


def processing_security() -> str:
    return _("Camera credentials encrypted at rest; access by role and by eldership; every viewing, export "
             "and disclosure written to an audit trail protected by a hash chain; footage kept on a separate "
             "storage server.")


class _SameForEveryCamera:
    """The parts of the Art. 30 record that the registry does not vary by camera."""

    @property
    def data(self) -> str:
        return processing_data()

    @property
    def recipients(self) -> str:
        return processing_recipients()

    @property
    def transfers(self) -> str:
        return processing_transfers()

    @property
    def security(self) -> str:
        return processing_security()


@dataclass(frozen=True)
class ProcessingRow(_SameForEveryCamera):
    """One camera's entry in the record of processing activities."""

    camera: Camera

    @property
    def subjects(self) -> str:
        return _("People in the public space at %(place)s (residents, visitors, passers-by)") % {
            "place": self.camera.site.name}

    @property
    def needs_justification(self) -> bool:
        return self.camera.retention_hours > settings.SAFECAM_RETENTION_JUSTIFY_ABOVE_HOURS


@dataclass(frozen=True)
class ProcessingRecord(_SameForEveryCamera):
    """The Art. 30 record: the controller and what every camera shares, then each camera."""

    controller: Controller | None
    rows: list[ProcessingRow]


def processing_record(user: Any) -> ProcessingRecord:
    cameras = Camera.objects.restrict(user, "view").select_related("site").order_by("site__name", "name")
    return ProcessingRecord(controller=Controller.objects.order_by("pk").first(),
                            rows=[ProcessingRow(camera) for camera in cameras])


# --- CSV ------------------------------------------------------------------------------------------

Column = tuple[str, Callable[[Any], Any]]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_value(value: Any) -> str:
    """A cell: local ISO times, ISO dates, display text; formula-looking text defused."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_START) else text


def csv_bytes(columns: Sequence[Column], rows: Iterable[Any]) -> bytes:
    """UTF-8 with BOM, comma-separated, a header row, CRLF line ends (RFC 4180)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _value in columns])
    for row in rows:
        writer.writerow([csv_value(value(row)) for _header, value in columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _user_name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def register_columns() -> list[Column]:
    def r(row: RegisterRow) -> AccessRequest:
        return row.request

    return [
        (_("Reference"), lambda row: r(row).reference),
        (_("Type"), lambda row: r(row).get_kind_display()),
        (_("Received"), lambda row: r(row).received_at),
        (_("Channel"), lambda row: r(row).get_channel_display()),
        (_("Requester"), lambda row: r(row).requester_name),
        (_("Recipient organisation"), lambda row: r(row).recipient_organisation),
        (_("Place"), lambda row: r(row).site.name if r(row).site_id else ""),
        (_("Camera"), lambda row: r(row).camera.name if r(row).camera_id else ""),
        (_("Window from"), lambda row: r(row).window_start),
        (_("Window until"), lambda row: r(row).window_end),
        (_("State"), lambda row: r(row).get_state_display()),
        (_("Due"), lambda row: r(row).due_on),
        (_("Overdue"), lambda row: row.overdue),
        (_("Identity checked by"), lambda row: r(row).get_identity_method_display() if r(row).identity_method else ""),
        (_("Identity verified by"), lambda row: _user_name(r(row).identity_verified_by)),
        (_("Identity verified"), lambda row: r(row).identity_verified_at),
        (_("Outcome"), lambda row: r(row).outcome),
        (_("Reasons for refusal"), lambda row: r(row).refusal_reasons),
        (_("Delivered by"), lambda row: r(row).get_delivery_method_display() if r(row).delivery_method else ""),
        (_("Delivered"), lambda row: r(row).delivered_on),
        (_("Closed"), lambda row: r(row).closed_at),
    ]


def _ranges(row: DisclosureRow) -> str:
    return "; ".join(f"{item.camera} ({item.site}) {csv_value(item.start)} – {csv_value(item.end)}"
                     for item in row.footage)


def disclosure_columns() -> list[Column]:
    return [
        (_("Reference"), lambda row: row.request.reference),
        (_("Recipient"), lambda row: row.recipient),
        (_("Recipient kind"), lambda row: row.recipient_kind),
        (_("Link for"), lambda row: row.link_for),
        (_("Legal basis"), lambda row: row.legal_basis),
        (_("Footage"), _ranges),
        (_("Export status"), lambda row: "; ".join(item.status for item in row.released)),
        (_("Package SHA-256"), lambda row: "; ".join(item.package_sha256 for item in row.released
                                                     if item.package_sha256)),
        (_("Delivered by"), lambda row: row.method_label),
        (_("Delivered"), lambda row: row.delivered_at or row.delivered_on),
        (_("Downloads"), lambda row: row.downloads),
        (_("Download limit"), lambda row: row.max_downloads),
        (_("Link expires"), lambda row: row.expires_at),
        (_("Link revoked"), lambda row: row.revoked_at),
    ]


def processing_columns(record: ProcessingRecord) -> list[Column]:
    controller = record.controller

    def of(name: str) -> Callable[[Any], str]:
        return lambda _row: getattr(controller, name, "") if controller else ""

    return [
        (_("Controller"), of("name")),
        (_("Legal entity code"), of("code")),
        (_("Controller's address"), of("address")),
        (_("Controller's email"), of("email")),
        (_("Controller's phone"), of("phone")),
        (_("Data protection officer"), of("dpo_email")),
        (_("Site"), lambda row: row.camera.site.name),
        (_("Camera"), lambda row: row.camera.name),
        (_("Location"), lambda row: row.camera.location),
        (_("Purpose"), lambda row: row.camera.purpose),
        (_("Legal basis"), lambda row: row.camera.legal_basis),
        (_("Categories of data subjects"), lambda row: row.subjects),
        (_("Categories of personal data"), lambda row: row.data),
        (_("Recipients"), lambda row: row.recipients),
        (_("Transfers outside the EU"), lambda row: row.transfers),
        (_("Retention (hours)"), lambda row: row.camera.retention_hours),
        (_("Justification for longer retention"), lambda row: row.camera.retention_justification
         if row.needs_justification else ""),
        (_("Security measures"), lambda row: row.security),
        (_("Recording"), lambda row: row.camera.enabled),
        (_("Information sign put up on"), lambda row: row.camera.sign_installed_on),
    ]


@transaction.atomic
def register_exported(*, by: Any, register: str, filters: dict[str, Any], rows: int) -> None:
    """The one audit event a CSV download leaves: which register, with which filters, how many rows."""
    shown = {name: (value.slug if isinstance(value, Site) else value) for name, value in filters.items() if value}
    audit_record(action=REGISTER_EXPORTED, actor=by,
                 details={"register": register, "filters": shown, "rows": rows})
