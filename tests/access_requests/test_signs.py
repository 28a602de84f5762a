"""The printable information signs: who may print them, and what the PDF says."""

from __future__ import annotations

import re
import shutil
import subprocess
import zlib
from typing import Any

import pytest
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from access_requests import signs
from cameras.models import Controller
from tests.factories import CameraFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def controller(db: None) -> Controller:
    return Controller.objects.create(name="Biržų rajono savivaldybės administracija", code="188753243",
                                     address="Vytauto g. 38, LT-41143 Biržai", dpo_email="dap@birzai.lt")


def pdf_text(data: bytes) -> str:
    """The text of a PDF, whitespace collapsed: poppler's pdftotext where installed, else the
    ToUnicode maps of WeasyPrint's fonts applied to its text operators (enough for WeasyPrint's output)."""
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True,
                              check=True).stdout.decode()
        return " ".join(text.split())
    objects: dict[int, bytes] = {}
    streams: dict[int, bytes] = {}
    for number, body in re.findall(rb"(\d+) 0 obj\s*(.*?)endobj", data, re.S):
        found = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S)
        if not found:
            objects[int(number)] = body
            continue
        head, content = body[:found.start()], found.group(1)
        content = zlib.decompress(content) if b"/FlateDecode" in head else content
        objects[int(number)], streams[int(number)] = head, content
        if b"/ObjStm" in head:  # objects packed into a stream: "number offset" pairs, then the objects
            first = int(re.search(rb"/First (\d+)", head).group(1))
            pairs = [int(value) for value in content[:first].split()]
            offsets = [*pairs[1::2], len(content) - first]
            for index, packed in enumerate(pairs[::2]):
                objects[packed] = content[first + offsets[index]:first + offsets[index + 1]]
    unicode_of: dict[int, dict[int, str]] = {}
    for number, body in objects.items():
        to_unicode = re.search(rb"/Subtype /Type0.*?/ToUnicode (\d+) 0 R", body, re.S)
        if to_unicode:
            cmap = streams[int(to_unicode.group(1))].decode("latin-1")
            table: dict[int, str] = {}
            for section in re.findall(r"beginbfchar(.*?)endbfchar", cmap, re.S):
                for code, target in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", section):
                    table[int(code, 16)] = bytes.fromhex(target).decode("utf-16-be")
            for section in re.findall(r"beginbfrange(.*?)endbfrange", cmap, re.S):
                for low, high, target in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>",
                                                    section):
                    for offset in range(int(high, 16) - int(low, 16) + 1):
                        table[int(low, 16) + offset] = chr(int(target, 16) + offset)
            unicode_of[number] = table
    font_names = {name.decode(): unicode_of[int(ref)] for body in objects.values()
                  for name, ref in re.findall(rb"/([\w.+-]+) (\d+) 0 R", body) if int(ref) in unicode_of}
    pieces, font = [], {}
    for content in streams.values():
        for name, array, single in re.findall(rb"/([\w.+-]+) [\d.]+ Tf|\[(.*?)\]\s*TJ|<([0-9a-fA-F]*)>\s*Tj",
                                              content, re.S):
            if name:
                font = font_names.get(name.decode(), {})
                continue
            codes = "".join(re.findall(r"<([0-9a-fA-F]*)>", (array or b"").decode("latin-1"))) or single.decode()
            pieces.append("".join(font.get(int(codes[i:i + 4], 16), "") for i in range(0, len(codes), 4)))
    return " ".join(" ".join(pieces).split())


# --- who may print them --------------------------------------------------------------------------

SIGN_MATRIX = [("dpo", 200), ("superuser", 200), ("spec_vabalninkas", 404), ("spec_pabirze", 404),
               ("public_order", 404), ("coordinator", 404), ("anonymous", 302)]


@pytest.mark.parametrize(("who", "status"), SIGN_MATRIX)
def test_it_lets_only_the_dpo_print_signs(who: str, status: int, persona: Any, client_for: Any,
                                          registry: Any) -> None:
    client = client_for(persona(who))
    index = client.get(reverse("sign-index"))
    pdf = client.get(reverse("sign-pdf", args=["vabalninkas"]))
    assert (index.status_code, pdf.status_code) == (status, status)
    if status == 302:
        assert pdf["Location"].startswith(f"{settings.LOGIN_URL}?next=")
    if status == 200:
        assert pdf["Content-Type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF-")
        assert reverse("sign-pdf", args=["pabirze"]).encode() in index.content


def test_it_answers_an_unknown_place_with_404(client_for: Any, dpo: Any, registry: Any) -> None:
    assert client_for(dpo).get("/signs/nowhere.pdf").status_code == 404


# --- what the sign says --------------------------------------------------------------------------

def test_it_prints_the_sign_in_lithuanian_with_english_below(client_for: Any, dpo: Any, registry: Any,
                                                               controller: Any) -> None:
    response = client_for(dpo).get(reverse("sign-pdf", args=["pabirze"]))
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "Pabiržė" in text
    assert "Vykdomas vaizdo stebėjimas" in text and "Video surveillance" in text
    assert text.index("Vykdomas vaizdo stebėjimas") < text.index("Video surveillance")
    assert "Biržų rajono savivaldybės administracija" in text
    assert "Viešosios tvarkos palaikymas seniūnijos centre." in text
    assert "dap@birzai.lt" in text
    assert "Valstybinei duomenų apsaugos inspekcijai" in text and "State Data Protection Inspectorate" in text
    assert "http://testserver/privacy/pabirze/" in text
    assert "Footage is kept for 3 days" in text


def test_it_fits_the_sign_on_one_a4_page_even_with_several_purposes(registry: Any, controller: Any) -> None:
    from weasyprint import HTML

    site = registry["vabalninkas"][0].site
    for number in range(4):
        CameraFactory(site=site, name=f"Papildoma {number}", purpose=f"Tikslas nr. {number}: " + "žodis " * 20)
    html = signs.sign_html(site=site, notice_address="https://safecam.birzai.lt/privacy/vabalninkas/",
                           request_address="https://safecam.birzai.lt/request/")
    pages = HTML(string=html).render().pages
    assert len(pages) == 1
    assert (round(pages[0].width * 25.4 / 96), round(pages[0].height * 25.4 / 96)) == (210, 297)


def test_it_points_the_qr_code_at_the_places_public_notice(registry: Any, settings: Any) -> None:
    settings.ALLOWED_HOSTS = ["safecam.birzai.lt"]
    site = registry["pabirze"][0].site
    request = RequestFactory().get("/signs/pabirze.pdf", HTTP_HOST="safecam.birzai.lt", secure=True)
    url = signs.notice_url(request, site)
    assert url == "https://safecam.birzai.lt/privacy/pabirze/"
    context = signs.sign_context(site=site, notice_address=url, request_address=signs.request_form_url(request))
    assert context["qr"] == signs.qr_svg(url)
    assert context["qr"].startswith("<svg") and f"<title>{url}</title>" in context["qr"]
    assert context["request_url"] == "https://safecam.birzai.lt/request/"


def test_it_keeps_the_sign_lithuanian_whatever_the_users_language(client_for: Any, dpo: Any, registry: Any) -> None:
    client = client_for(dpo)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    text = pdf_text(client.get(reverse("sign-pdf", args=["vabalninkas"])).content)
    assert "Vykdomas vaizdo stebėjimas" in text and "Video surveillance" in text
    assert "Turite teisę" in text and "You have the right" in text


def test_it_says_hours_or_whole_days() -> None:
    with translation.override("en"):
        assert [signs.retention_text(hours) for hours in (72, 24, 36, 1)] == ["3 days", "1 day", "36 hours", "1 hour"]
