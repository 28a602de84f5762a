"""The two layers of the surveillance notice (GDPR Art. 13; EDPB Guidelines 3/2019, section 7).

The first layer is the printed sign at the place: who watches, why, the main rights, whom to ask,
and a QR code to the second layer. The second layer is the public page ``/privacy/<slug>/`` with
everything Art. 13 asks for, camera by camera. Both are built here from the registry, so the sign
and the page can never tell different stories.

The sign is always Lithuanian with English below, whatever language the person printing it uses.
Its texts go through gettext (English source strings) rendered in each language; a printed sign
must never come out in English only, so where the Lithuanian catalog does not have one of the
sign's strings yet, the Lithuanian written next to it here is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.functional import Promise
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

from cameras.models import Camera, Controller, Site


def controller_current() -> Controller | None:
    """The controller named in notices (one row; None until the administrator enters it)."""
    return Controller.objects.order_by("pk").first()


def notice_cameras(site: Site) -> QuerySet[Camera]:
    """The cameras a notice names: those in operation at the site."""
    return site.cameras.filter(enabled=True).order_by("name")


def retention_text(hours: int) -> str:
    """72 → "3 days", 36 → "36 hours" (in the active language)."""
    if hours % 24 == 0:
        days = hours // 24
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


@dataclass(frozen=True)
class CameraNotice:
    """What a notice says about one camera."""

    name: str
    location: str
    purpose: str
    legal_basis: str
    retention_hours: int

    @property
    def retention(self) -> str:
        return retention_text(self.retention_hours)


def site_notice(site: Site) -> dict[str, Any]:
    """What both layers say about a site: controller, cameras, purposes, the longest retention."""
    controller = controller_current()
    cameras = [CameraNotice(camera.name, camera.location, camera.purpose, camera.legal_basis,
                            camera.retention_hours) for camera in notice_cameras(site)]
    purposes = list(dict.fromkeys(camera.purpose.strip() for camera in cameras if camera.purpose.strip()))
    longest = max((camera.retention_hours for camera in cameras), default=None)
    return {"site": site, "controller": controller, "cameras": cameras, "purposes": purposes,
            "longest_retention_hours": longest, "dpo_email": controller.dpo_email if controller else ""}


def notice_url(request: HttpRequest, site: Site) -> str:
    """The absolute address of the site's second-layer notice (what the sign's QR code holds)."""
    return request.build_absolute_uri(reverse("public-notice", args=[site.slug]))


def request_form_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("public-request"))


def qr_svg(url: str) -> SafeString:
    """The QR code of ``url`` as inline SVG that scales to its box (no fixed size)."""
    import segno

    return mark_safe(segno.make(url, error="m", micro=False).svg_inline(
        scale=1, border=2, omitsize=True, dark="#000", title=url))  # noqa: S308 - segno's own markup


# The sign's texts: (gettext, the Lithuanian to print while the catalog lacks it).
SIGN_TEXTS: dict[str, tuple[Promise, str]] = {
    "title": (pgettext_lazy("information sign", "Video surveillance"), "Vykdomas vaizdo stebėjimas"),
    "controller": (_("Controller"), "Duomenų valdytojas"),
    "controller_unknown": (_("Biržai district municipality administration"),
                           "Biržų rajono savivaldybės administracija"),
    "purposes": (_("Purpose"), "Tikslas"),
    "retention": (_("Footage is kept for %(period)s, then deleted."),
                  "Įrašai saugomi %(period)s, po to ištrinami."),
    "rights": (_("You have the right to access footage of yourself, to ask for its erasure or restriction, to "
                 "object, and to complain to the State Data Protection Inspectorate."),
               "Turite teisę susipažinti su savo vaizdo įrašais, prašyti juos ištrinti ar apriboti jų tvarkymą, "
               "nesutikti su tvarkymu ir pateikti skundą Valstybinei duomenų apsaugos inspekcijai."),
    "dpo": (_("Data protection officer"), "Duomenų apsaugos pareigūnas"),
    "more": (_("More information and requests"), "Daugiau informacijos ir prašymai"),
    "scan": (_("Scan the code or open the address."), "Nuskenuokite kodą arba atidarykite adresą."),
}


def _retention_in(language: str, hours: int) -> str:
    with translation.override(language):
        return retention_text(hours)


def _in_language(language: str, message: Promise) -> str:
    with translation.override(language):
        return str(message)


def sign_texts() -> dict[str, dict[str, str]]:
    """Each of the sign's texts as ``{"lt": …, "en": …}``."""
    texts = {}
    for key, (message, lithuanian) in SIGN_TEXTS.items():
        with translation.override(None):
            source = str(message)
        translated = _in_language("lt", message)
        texts[key] = {"lt": translated if translated != source else lithuanian, "en": _in_language("en", message)}
    return texts


def sign_context(*, site: Site, notice_address: str, request_address: str) -> dict[str, Any]:
    context = site_notice(site)
    texts = sign_texts()
    hours = context["longest_retention_hours"]
    if hours:
        # "kept for 3 days": the catalog's "%(n)d day" is the accusative of duration that this needs.
        texts["retention"] = {language: texts["retention"][language] % {"period": _retention_in(language, hours)}
                              for language in ("lt", "en")}
    else:
        texts.pop("retention")
    return {**context, "t": texts, "notice_url": notice_address, "request_url": request_address,
            "qr": qr_svg(notice_address)}


def sign_html(*, site: Site, notice_address: str, request_address: str) -> str:
    return render_to_string("access_requests/pdf/sign.html", sign_context(
        site=site, notice_address=notice_address, request_address=request_address))


def sign_pdf(*, site: Site, notice_address: str, request_address: str) -> bytes:
    """The printable A4 first-layer sign of ``site`` (Lithuanian with English below)."""
    from weasyprint import HTML

    return HTML(string=sign_html(site=site, notice_address=notice_address,
                                 request_address=request_address)).write_pdf()
