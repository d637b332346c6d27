"""The message counts page in a browser: the chart draws from the page's own numbers under the
Content-Security-Policy (no inline code), in Arabic too; without JavaScript the tables are all there."""

from __future__ import annotations

from pathlib import Path

import pytest

from ventanilla.testing.message_insights import make_areas, make_known

pytestmark = pytest.mark.browser

SCREENSHOT = Path("/tmp/ar_message_insights.png")  # noqa: S108 - a fixed place to look at after a run
QUERY = "?date_from=2026-03-02&date_to=2026-03-29"


def sign_in(page, live_server, user, password, language="en"):
    page.goto(f"{live_server.url}/{language}/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("main form button[type=submit]")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_each_table_gets_its_chart_and_nothing_is_refused(world, live_server, open_page, language):
    # given the known set of conversations and a site manager signed in
    make_known(world, make_areas())
    page = open_page(locale="ar" if language == "ar" else "en-GB", viewport={"width": 1024, "height": 900})
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    sign_in(page, live_server, world.user("a", "site_manager"), world.password, language)
    # when the counts page is opened
    page.goto(f"{live_server.url}/{language}/staff/insights/messages/{QUERY}")
    # then a chart is drawn above each table, with no script error or CSP refusal; not above the two
    # area tables, whose counts are all hidden as small numbers
    page.wait_for_selector(".insights-chart canvas")
    assert page.locator(".insights-chart canvas").count() == 5
    assert page.locator("section[data-chart=admin1] .insights-chart").count() == 0
    assert page.locator("section.insights-table table").count() == 7
    assert problems == []
    if language == "ar":
        assert page.locator("html").get_attribute("dir") == "rtl"
        page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_without_javascript_the_tables_are_the_page(world, live_server, open_page):
    make_known(world, make_areas())
    page = open_page(java_script_enabled=False)
    sign_in(page, live_server, world.user("a", "data_analyst"), world.password)
    page.goto(f"{live_server.url}/en/staff/insights/messages/{QUERY}")
    assert page.locator(".insights-chart").count() == 0
    week = page.locator("section[data-chart=week] tbody tr")
    assert week.count() == 4
    assert week.first.locator("td").all_inner_texts() == ["1", "2"]
