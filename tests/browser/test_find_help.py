"""Find Help in a phone-sized Chromium: Arabic right to left, near me without sending the position, and
the whole search without JavaScript."""

from __future__ import annotations

from pathlib import Path

import pytest

from ventanilla.directory.services import ensure_categories
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory, add_text, at_position
from ventanilla.testing.factories import AreaFactory

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")  # noqa: S108 - a fixed place to look at after a run
# The simulated phone stands in Malacatán, next to the legal aid office.
HERE = {"latitude": 14.9112, "longitude": -92.0613}


@pytest.fixture
def directory(db):
    # The live server's tests run in committed transactions, flushed after each: the category rows a
    # migration made may be gone, so they are made again here.
    ensure_categories()
    mexico = AreaFactory(pcode="MX", level=0, name="Mexico")
    # A long name: the area list must still fit a phone's width.
    tapachula = AreaFactory(
        pcode="MX07089",
        level=2,
        name="Tapachula de Córdova y Ordóñez (Soconusco, Chiapas)",
        parent=mexico,
        country_pcode="MX",
    )
    malacatan = AreaFactory(pcode="GT1215", level=2, name="Malacatan", country_pcode="GT")
    provider = ProviderFactory(name="Casa del Migrante")
    clinic = PointFactory(
        provider=provider,
        name="Clínica Esperanza",
        categories=["medical", "shelter"],
        area=tapachula,
        **at_position(14.9059, -92.2633),
    )
    add_text(clinic, "ar", description="استشارات طبية مجانية")
    shelter = PointFactory(
        provider=provider,
        name="Albergue Belén",
        categories=["shelter"],
        area=tapachula,
        **at_position(14.92, -92.25),
    )
    legal = PointFactory(
        provider=provider,
        name="Asesoría Legal Malacatán",
        categories=["legal"],
        area=malacatan,
        **at_position(14.91, -92.06),
    )
    PointFactory(provider=provider, name="Information desk", categories=["information"])  # no coordinates
    return {"clinic": clinic, "shelter": shelter, "legal": legal}


def html_attributes(page):
    html = page.locator("html")
    return html.get_attribute("lang"), html.get_attribute("dir")


def result_names(page):
    return page.locator("ol.results h3 a").all_inner_texts()


def test_searching_in_arabic_gives_a_right_to_left_results_page(directory, live_server, open_page):
    # given the Arabic home page on a phone
    page = open_page(locale="ar")
    page.goto(live_server.url + "/ar/")
    assert html_attributes(page) == ("ar", "rtl")
    # when the visitor searches for words in Arabic
    page.fill("#q", "مجانية")
    with page.expect_navigation():
        page.click("form.search button[type=submit]")
    # then the results page is Arabic, right to left, fits the phone, and lists the clinic
    assert page.url.startswith(live_server.url + "/ar/services/?q=")
    assert html_attributes(page) == ("ar", "rtl")
    assert result_names(page) == ["Clínica Esperanza"]
    assert page.evaluate("getComputedStyle(document.querySelector('main h1')).direction") == "rtl"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "find_help_ar_results.png"), full_page=True)


def test_near_me_lists_the_nearest_point_first_and_never_sends_the_position(
    directory, live_server, open_page
):
    # given a phone that knows where it is, and a record of every request it makes, with its body
    page = open_page(geolocation=HERE, permissions=["geolocation"])
    sent: list[tuple[str, str]] = []
    page.on("request", lambda request: sent.append((request.url, request.post_data or "")))
    page.goto(live_server.url + "/en/services/")
    # when the visitor asks for services near them
    page.get_by_role("button", name="Services near me").click()
    page.wait_for_selector(".nearme ol li")
    # then the nearest points are listed, nearest first, each linking to its page (distances measured
    # on the phone; the point without coordinates cannot be placed and is left out)
    items = page.locator(".nearme ol li")
    assert items.all_inner_texts() == [
        "Asesoría Legal Malacatán · 0.2 km",
        "Albergue Belén · 20.3 km",
        "Clínica Esperanza · 21.7 km",
    ]
    assert items.first.locator("a").get_attribute("href") == f"/en/services/{directory['legal'].pk}/"
    assert page.locator(".nearme [role=status]").inner_text() == "Nearest services, measured on your phone:"
    # and the position went nowhere: the only data request was the whole, anonymous dataset
    assert (live_server.url + "/directory.json", "") in sent
    for url, body in sent:
        for fragment in ("14.911", "92.061", "14.91", "92.06"):
            assert fragment not in url, url
            assert fragment not in body, url
    # and following the link opens the service page
    with page.expect_navigation():
        items.first.locator("a").click()
    assert page.locator("h1").inner_text() == "Asesoría Legal Malacatán"


def test_near_me_keeps_to_the_chosen_service_type(directory, live_server, open_page):
    # given the results for shelters, on a phone in Malacatán
    page = open_page(geolocation=HERE, permissions=["geolocation"])
    page.goto(live_server.url + "/en/services/?category=shelter")
    # when the visitor asks for services near them
    page.get_by_role("button", name="Services near me").click()
    page.wait_for_selector(".nearme ol li")
    # then only shelters are listed
    assert page.locator(".nearme ol li a").all_inner_texts() == ["Albergue Belén", "Clínica Esperanza"]


def test_near_me_says_what_to_do_when_the_phone_does_not_share_its_position(
    directory, live_server, open_page
):
    # given a phone whose owner refused to share the position
    page = open_page()
    page.goto(live_server.url + "/en/")
    page.context.clear_permissions()
    # when the visitor asks for services near them
    page.get_by_role("button", name="Services near me").click()
    # then the page says so and points to the area list, and nothing was downloaded
    status = page.locator(".nearme [role=status]")
    status.filter(has_text="did not share").wait_for()
    assert (
        status.inner_text() == "Your phone did not share its position. Choose your area in the list instead."
    )
    assert page.locator(".nearme ol li").count() == 0


def test_without_javascript_search_by_category_and_area_works(
    directory, live_server, open_page, requests_seen
):
    # given a phone with JavaScript turned off, on the home page
    page = open_page(java_script_enabled=False)
    page.goto(live_server.url + "/en/")
    # then there is no near-me button (it needs JavaScript), but the area list is there
    assert page.get_by_role("button", name="Services near me").count() == 0
    assert page.locator("#area option").all_inner_texts()[0] == "Everywhere"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # when the visitor picks a category from the home page
    with page.expect_navigation():
        page.get_by_role("link", name="Shelter", exact=True).click()
    # then the shelters are listed
    assert result_names(page) == ["Albergue Belén", "Clínica Esperanza"]
    # when they narrow the search to an area with the plain form
    page.select_option("#area", "GT1215")
    page.select_option("#category", "")
    with page.expect_navigation():
        page.click("form.search button[type=submit]")
    # then only that area's services are listed, and the page fits the phone
    assert page.url == live_server.url + "/en/services/?q=&category=&area=GT1215&language="
    assert result_names(page) == ["Asesoría Legal Malacatán"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # and a service page opens from the list
    with page.expect_navigation():
        page.get_by_role("link", name="Asesoría Legal Malacatán").click()
    assert page.locator("h1").inner_text() == "Asesoría Legal Malacatán"
    assert not any(url.endswith("/directory.json") for url in requests_seen.urls)


def test_map_falls_back_to_the_list_when_tiles_cannot_load(directory, live_server, open_page, settings):
    # given a map configured with a tile server that does not answer (here: a missing path on the same
    # host, so the test itself never reaches another host)
    settings.MAP_TILE_URL = live_server.url + "/no-tiles/{z}/{x}/{y}.png"
    page = open_page()
    # when the results page opens
    page.goto(live_server.url + "/en/services/?category=shelter")
    # then the map gives up, says so, and the list of services is all there
    page.locator(".map-failed").wait_for(state="visible")
    assert page.locator("#map").is_hidden()
    assert result_names(page) == ["Albergue Belén", "Clínica Esperanza"]
