"""Filling a multi-page questionnaire in Chromium with JavaScript on: htmx reveals a dependent question
and narrows a cascade without loading the page again, the form completes, and Arabic reads right to left.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation
from playwright.sync_api import expect

from ventanilla.questionnaires import services
from ventanilla.questionnaires.tests.xlsforms import walk_form

pytestmark = pytest.mark.browser


@pytest.fixture
def try_url(world, live_server):
    version = services.upload_form(
        content=walk_form(),
        filename="walk.xlsx",
        owner=world.a.organisation,
        by=world.user("a", "administrator"),
    )
    with translation.override("en"):
        return live_server.url + reverse("questionnaires:try", kwargs={"pk": version.questionnaire_id})


@pytest.fixture
def signed_in(world, live_server, open_page):
    """A page whose browser holds the session of A's caseworker (signed in by Django, not the form)."""

    def make(**options):
        client = Client()
        client.force_login(world.user("a", "caseworker"))
        page = open_page(**options)
        page.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
        return page

    return make


def refresh(page, action):
    """Do `action` and wait for htmx's refresh of the page fragment to be answered and swapped in."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.request.headers.get("hx-request") == "true"
    ):
        action()
    # htmx marks the element that asked (the form itself) until the reply is swapped in; a redraw
    # asked again by fill.js keeps the mark on, so this also waits for that second reply
    # (a locator, not wait_for_function: the page's CSP forbids the eval that one polls with)
    expect(page.locator("#questionnaire.htmx-request, #questionnaire .htmx-request")).to_have_count(0)


def mark_document(page):
    """A flag on the window: a full page load would lose it."""
    page.evaluate("window.__notReloaded = true")


def still_same_document(page):
    return page.evaluate("window.__notReloaded === true")


def test_filling_with_htmx_reveals_narrows_and_completes(signed_in, try_url):
    page = signed_in()
    page.goto(try_url)
    assert page.locator("#questionnaire-page h2").inner_text() == "First page"
    assert page.locator("input[name=pet_name]").count() == 0
    mark_document(page)

    # choosing "Yes" reveals the pet's name without loading the page
    refresh(page, lambda: page.get_by_label("Yes").check())
    assert page.locator("input[name=pet_name]").is_visible()
    assert still_same_document(page)
    # and "No" hides it again
    refresh(page, lambda: page.get_by_label("No").check())
    assert page.locator("input[name=pet_name]").count() == 0
    refresh(page, lambda: page.get_by_label("Yes").check())
    page.fill("input[name=pet_name]", "Rex")
    with page.expect_navigation():
        page.click("button[value=next]")
    assert page.locator("#questionnaire-page h2").inner_text() == "Second page"

    # the cascade: no state until a country is chosen, then only that country's states
    mark_document(page)
    assert page.locator("input[name=state]").count() == 0
    refresh(page, lambda: page.get_by_label("Mexico").check())
    assert page.locator("input[name=state]").evaluate_all("els => els.map(e => e.value)") == [
        "chiapas",
        "oaxaca",
    ]
    refresh(page, lambda: page.get_by_label("Guatemala").check())
    assert page.locator("input[name=state]").evaluate_all("els => els.map(e => e.value)") == ["peten"]
    assert still_same_document(page)
    # typing straight after a choice, before its redraw is back: what was typed must survive the redraw
    held = []

    def hold_first_redraw(route):
        if route.request.headers.get("hx-request") and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/try/", hold_first_redraw)
    page.get_by_label("Petén").check()
    while not held:
        page.wait_for_timeout(20)
    page.fill("input[name=age]", "200")
    refresh(page, held[0].continue_)  # the late reply is dropped and the redraw asked again
    page.unroute("**/try/")
    assert page.input_value("input[name=age]") == "200"
    assert page.locator("input[name=state]:checked").get_attribute("value") == "peten"
    with page.expect_navigation():
        page.click("button[value=next]")
    # the constraint holds the page, with its message
    assert page.locator("#q-age .error").inner_text() == "Too old"
    page.fill("input[name=age]", "41")
    with page.expect_navigation():
        page.click("button[value=next]")

    # a repeat: add an entry, name the child, finish
    assert page.locator("#questionnaire-page h2").inner_text() == "Child"
    with page.expect_navigation():
        page.click("button[value='add:child']")
    page.fill("input[name='child[1].child_name']", "Luis")
    with page.expect_navigation():
        page.click("button[value=finish]")
    assert page.get_by_role("status").inner_text() == "The form accepted these answers. Nothing was stored."
    summary = page.locator("pre").inner_text()
    assert "pet_name: Rex" in summary
    assert "state: peten" in summary
    assert "Luis" in summary


def test_the_same_form_in_arabic_reads_right_to_left(signed_in, try_url):
    page = signed_in(locale="ar")
    page.goto(try_url + "?language=ar")
    fragment = page.locator("#questionnaire-page")
    assert fragment.get_attribute("dir") == "rtl"
    assert fragment.get_attribute("lang") == "ar"
    assert page.locator("#questionnaire-page h2").inner_text() == "الصفحة الأولى"
    mark_document(page)
    refresh(page, lambda: page.get_by_label("نعم").check())
    # the revealed question is in Arabic, in a fragment that is still right to left
    assert page.get_by_label("اسم الحيوان").is_visible()
    assert page.locator("#questionnaire-page").get_attribute("dir") == "rtl"
    assert still_same_document(page)
    # a required answer left out: the form's own Arabic message
    with page.expect_navigation():
        page.click("button[value=next]")
    assert page.locator("#q-pet_name .error").inner_text() == "سمِّ الحيوان"
    # text flows right to left: the question's label sits right of its input's left edge
    label = page.locator("label[for=i-pet_name]").bounding_box()
    box = page.locator("#i-pet_name").bounding_box()
    assert label is not None
    assert box is not None
    assert label["x"] + label["width"] >= box["x"] + box["width"] - 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
