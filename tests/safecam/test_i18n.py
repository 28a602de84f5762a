"""Lithuanian is the users' language; English only when a user chooses it. Times show in Vilnius."""

import datetime as dt
from typing import Any

import pytest
from django.utils import formats, timezone, translation

pytestmark = pytest.mark.django_db


def test_it_speaks_lithuanian_even_to_an_english_browser(client_for: Any, spec_vabalninkas: Any) -> None:
    response = client_for(spec_vabalninkas).get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert response["Content-Language"] == "lt"
    assert "Apžvalga" in response.content.decode()


def test_it_switches_to_english_when_the_user_chooses_it_and_back(client_for: Any, spec_vabalninkas: Any) -> None:
    client = client_for(spec_vabalninkas)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    assert "Overview" in response.content.decode()
    assert "Apžvalga" not in response.content.decode()
    response = client.post("/i18n/setlang/", {"language": "lt", "next": "/"}, follow=True)
    assert "Apžvalga" in response.content.decode()


def test_it_ignores_a_language_cookie_it_does_not_offer(client_for: Any, spec_vabalninkas: Any) -> None:
    client = client_for(spec_vabalninkas)
    client.cookies["django_language"] = "de"
    assert client.get("/")["Content-Language"] == "lt"


def test_it_writes_numbers_and_dates_the_lithuanian_way() -> None:
    with translation.override("lt"):
        assert formats.number_format(1234567.5, 1, use_l10n=True, force_grouping=True) == "1\xa0234\xa0567,5"
        assert formats.date_format(dt.date(2026, 11, 25), "SHORT_DATE_FORMAT") == "2026-11-25"
        assert formats.date_format(dt.date(2026, 11, 25)) == "2026 m. lapkričio 25 d."


def test_it_stores_utc_and_shows_vilnius_time(settings: Any) -> None:
    assert settings.USE_TZ is True
    moment = dt.datetime(2026, 7, 1, 9, 0, tzinfo=dt.UTC)
    assert timezone.localtime(moment).strftime("%H:%M") == "12:00"  # EEST, UTC+3 in summer
    winter = dt.datetime(2026, 1, 15, 9, 0, tzinfo=dt.UTC)
    assert timezone.localtime(winter).strftime("%H:%M") == "11:00"
