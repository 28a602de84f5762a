"""Real Chromium (Playwright) against pytest-django's live server, with real H.264 footage.

One browser per test session; each test gets a fresh browser context logged in as its persona (the
session cookie from ``Client.force_login``, no login form) and its own footage storage folder.
Skipped, with the reason, on a machine without /usr/bin/chromium, Playwright or ffmpeg.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.conftest import _logged_in, footage_folder_use

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required"]


def _missing() -> str | None:
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is not installed (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed in this environment (pip install playwright)"
    if shutil.which("ffmpeg") is None:
        return "ffmpeg is not installed (apt-get install ffmpeg)"
    return None


MISSING = _missing()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            if MISSING:
                item.add_marker(pytest.mark.skip(reason=f"browser test: {MISSING}"))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop running on this thread (in a greenlet) while the
    # browser lives, so Django's ORM on this thread (tests, fixtures, the flush, and any test this
    # process runs afterwards) would refuse to run "inside" it. Nothing here is actually async.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def footage_dir(settings: Any, tmp_path: Path) -> Path:
    """Each test's footage in its own folder (the live server's threads read the same settings)."""
    return footage_folder_use(settings, tmp_path)


@pytest.fixture
def page_for(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Callable[..., Any]]:
    """``page_for(user)``: a Chromium page on the live server with ``user``'s session, Lithuanian UI, and
    a browser clock in New York (the player must show Vilnius time whatever the computer's zone)."""
    contexts: list[Any] = []
    violations: list[str] = []

    def open_page(user: Any, *, viewport: dict[str, int] | None = None) -> Any:
        client = _logged_in(Client(), user)
        context = browser.new_context(base_url=live_server.url, locale="lt-LT", timezone_id="America/New_York",
                                      viewport=viewport or {"width": 1280, "height": 900})
        context.add_cookies([{"name": django_settings.SESSION_COOKIE_NAME,
                              "value": client.cookies[django_settings.SESSION_COOKIE_NAME].value,
                              "url": live_server.url}])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.errors = []  # type: ignore[attr-defined]
        page.on("pageerror", lambda error: page.errors.append(str(error)))  # type: ignore[attr-defined]
        # Every browser test also proves the pages satisfy the Content-Security-Policy: Chromium
        # reports each refused script, style, image, media or connection on the console.
        page.on("console", lambda m: violations.append(f"{page.url}: {m.text}")
                if "Content Security Policy" in m.text else None)
        if os.environ.get("SAFECAM_BROWSER_LOG"):  # the browser's console and every request, with times
            began = time.monotonic()
            stamp = lambda: f"{time.monotonic() - began:7.2f}"  # noqa: E731
            page.on("console", lambda m: print(stamp(), "console", m.type, m.text))
            page.on("requestfinished", lambda r: print(stamp(), r.method, r.response().status, r.url[-90:]))
            page.on("requestfailed", lambda r: print(stamp(), r.method, "FAILED", r.failure, r.url[-90:]))
        return page

    yield open_page
    # Leave the pages first and let their closing heartbeats land, so none reaches the live server
    # while the test database is being emptied.
    from playwright.sync_api import Error as PlaywrightError

    from footage.models import ViewingSession

    for context in contexts:
        for page in context.pages:
            try:
                page.goto("about:blank")
            except PlaywrightError:  # closed by the test itself
                pass
    deadline = time.monotonic() + 3
    while ViewingSession.objects.filter(closed_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    for context in contexts:
        context.close()
    assert not violations, "The Content-Security-Policy refused:\n" + "\n".join(violations)
