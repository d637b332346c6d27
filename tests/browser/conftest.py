"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Every page a test opens records every request the browser makes; a test fails if any of them leaves the
live server, so a CDN, web font or tracker slipping into a template is caught here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="package")
def browser() -> Iterator[Any]:
    """One Chromium for the browser tests, closed when they are done.

    Package scope, not session: while Playwright runs, its event loop lives in this thread and Django's
    async-safety check must be turned off; both end with the browser tests, so later tests (and the
    processes they start, which inherit the environment) keep the check.
    """
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"Chromium not found at {CHROMIUM}: run `make chromium` (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an asyncio event loop in this thread; Django refuses ORM calls from a
    # thread with a running loop unless told that this is deliberate (fixtures create rows here).
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class PageRequests:
    """Every URL the browser asked for, from every page opened through `open_page`."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def external(self, origin: str) -> list[str]:
        allowed = urlsplit(origin).netloc
        return [
            url
            for url in self.urls
            if urlsplit(url).scheme not in ("data", "blob", "about") and urlsplit(url).netloc != allowed
        ]


@pytest.fixture
def requests_seen() -> PageRequests:
    return PageRequests()


@pytest.fixture
def open_page(browser: Any, live_server: Any, requests_seen: PageRequests) -> Iterator[Callable[..., Any]]:
    """Open a page in a fresh context (own cookies); `open_page(locale="ar", java_script_enabled=False)`."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        options.setdefault("viewport", PHONE)
        options.setdefault("locale", "en-GB")
        context = browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("request", lambda request: requests_seen.urls.append(request.url))
        return page

    yield make
    for context in contexts:
        context.close()
    # then: nothing the pages asked for left the live server
    assert requests_seen.urls, "no request was recorded: the request listener is not working"
    assert requests_seen.external(live_server.url) == []
