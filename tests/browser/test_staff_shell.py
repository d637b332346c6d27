"""The staff shell in a browser: sign-in on a phone, Arabic right to left, no JavaScript, no third parties."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from tests.pages import page_paths

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/ar_dashboard.png")  # noqa: S108 - a fixed place to look at after a run


def url(live_server, name, language="en", **kwargs):
    with translation.override(language):
        return live_server.url + reverse(name, kwargs=kwargs or None)


def html_attributes(page):
    html = page.locator("html")
    return html.get_attribute("lang"), html.get_attribute("dir")


def sign_in(page, user, password):
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


def test_caseworker_signs_in_on_a_phone_in_english(world, live_server, open_page):
    # given a caseworker on a phone-sized screen at the sign-in page
    page = open_page()
    page.goto(url(live_server, "accounts:login"))
    assert html_attributes(page) == ("en", "ltr")
    # when they sign in
    sign_in(page, world.user("a", "caseworker"), world.password)
    # then they land on their dashboard, in English, and nothing is wider than the screen
    assert page.url == url(live_server, "core:dashboard")
    assert page.locator("h1").inner_text() == "Welcome, a_caseworker"
    assert html_attributes(page) == ("en", "ltr")
    assert page.locator("main").get_by_role("link", name=str(world.a.organisation)).count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_arabic_is_right_to_left_and_sign_in_still_works(world, live_server, open_page):
    # given the sign-in page in English
    page = open_page()
    page.goto(url(live_server, "accounts:login"))
    # when the user picks Arabic from the language links
    with page.expect_navigation():
        page.click("nav.languages a[hreflang=ar]")
    # then the page is Arabic, right to left
    assert page.url == url(live_server, "accounts:login", "ar")
    assert html_attributes(page) == ("ar", "rtl")
    assert page.locator("nav.languages [aria-current]").get_attribute("lang") == "ar"
    # and signing in from it works
    sign_in(page, world.user("a", "caseworker"), world.password)
    assert page.locator("h1").inner_text().endswith("a_caseworker")
    # and the dashboard in Arabic is right to left and fits the phone
    page.goto(url(live_server, "core:dashboard", "ar"))
    assert html_attributes(page) == ("ar", "rtl")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SCREENSHOT.unlink(missing_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 1000


def test_sign_in_and_language_links_work_without_javascript(world, live_server, open_page):
    # given a browser with JavaScript turned off
    page = open_page(java_script_enabled=False)
    page.goto(url(live_server, "accounts:login"))
    # when the user switches to Spanish, then to Arabic, with plain links
    with page.expect_navigation():
        page.click("nav.languages a[hreflang=es]")
    assert html_attributes(page) == ("es", "ltr")
    with page.expect_navigation():
        page.click("nav.languages a[hreflang=ar]")
    assert html_attributes(page) == ("ar", "rtl")
    # and signs in with the plain form
    sign_in(page, world.user("a", "caseworker"), world.password)
    # then they reach the dashboard, and its language links work too
    assert page.locator("h1").inner_text().endswith("a_caseworker")
    with page.expect_navigation():
        page.click("nav.languages a[hreflang=fr]")
    assert page.url == url(live_server, "core:dashboard", "fr")
    assert html_attributes(page) == ("fr", "ltr")
    assert page.locator("h1").inner_text().endswith("a_caseworker")


def test_signing_in_from_the_arabic_page_lands_on_the_arabic_dashboard(world, live_server, open_page):
    # given the sign-in page in Arabic, in a browser whose language is English
    page = open_page(locale="en-GB")
    page.goto(url(live_server, "accounts:login", "ar"))
    # when the caseworker signs in
    sign_in(page, world.user("a", "caseworker"), world.password)
    # then the dashboard stays in Arabic
    assert page.url == url(live_server, "core:dashboard", "ar")


def test_no_page_loads_anything_from_another_host(world, live_server, open_page, requests_seen):
    # given an administrator signed in, with JavaScript on (scripts may fetch more)
    page = open_page()
    page.goto(url(live_server, "accounts:login"))
    sign_in(page, world.user("a", "administrator"), world.password)
    # when they open every GET page of the URLconf that renders for them (in Arabic, the least usual shell)
    paths = page_paths(world, language="ar")
    statuses = {}
    for path in paths:
        probe = page.request.get(live_server.url + path, max_redirects=0, headers={"Accept": "text/html"})
        if probe.status != 200 or not probe.headers.get("content-type", "").startswith("text/html"):
            continue  # redirects, refusals and JSON/YAML (a browser downloads those rather than render them)
        response = page.goto(live_server.url + path)
        # API documentation pages fetch the schema with scripts after the load event
        page.wait_for_load_state("networkidle" if path in ("/api/docs/", "/api/redoc/") else "load")
        statuses[path] = response.status if response else None
    # then every request went to the live server only
    assert requests_seen.external(live_server.url) == []
    assert len(requests_seen.urls) > 2 * len(statuses)  # each page also loads its stylesheet and script
    assert statuses[url(live_server, "core:dashboard", "ar").removeprefix(live_server.url)] == 200
    assert {"/api/docs/", "/api/redoc/", "/api/v1/", "/ar/organisations/"} <= {
        p for p, s in statuses.items() if s == 200
    }
