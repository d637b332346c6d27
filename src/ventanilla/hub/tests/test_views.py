"""The public Find Help pages: home, results, service, information, alerts and the printable list."""

from __future__ import annotations

import datetime
import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django.utils.translation import gettext

from ventanilla.directory.models import Access, Cost, PublicationStatus, ServicePointText
from ventanilla.directory.services import published_points
from ventanilla.directory.tests.factories import (
    PointFactory,
    ProviderFactory,
    add_exception,
    add_hours,
    add_text,
    at_position,
)
from ventanilla.hub import services as hub_services
from ventanilla.hub import views as hub_views
from ventanilla.hub.models import ContentKind, Sensitivity
from ventanilla.testing.factories import AreaFactory

pytestmark = pytest.mark.django_db

# A Wednesday: noon in Tapachula (UTC-6) and in Malacatán (UTC-6).
NOW = datetime.datetime(2025, 1, 15, 18, 0, tzinfo=datetime.UTC)
MEXICO = "America/Mexico_City"


@pytest.fixture
def frozen(monkeypatch):
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


@pytest.fixture
def areas():
    mexico = AreaFactory(pcode="MX", level=0, name="Mexico", names={"es": "México"})
    chiapas = AreaFactory(pcode="MX07", level=1, name="Chiapas", parent=mexico, country_pcode="MX")
    tapachula = AreaFactory(pcode="MX07089", level=2, name="Tapachula", parent=chiapas, country_pcode="MX")
    AreaFactory(pcode="MX07001", level=2, name="Acacoyagua", parent=chiapas, country_pcode="MX")
    guatemala = AreaFactory(pcode="GT", level=0, name="Guatemala")
    san_marcos = AreaFactory(pcode="GT12", level=1, name="San Marcos", parent=guatemala, country_pcode="GT")
    malacatan = AreaFactory(
        pcode="GT1215", level=2, name="Malacatan", names={"es": "Malacatán"}, parent=san_marcos
    )
    return {"tapachula": tapachula, "malacatan": malacatan}


@pytest.fixture
def directory(frozen, areas):
    """Four published points, a draft and a published point of an unpublished provider."""
    provider = ProviderFactory(name="Casa del Migrante")
    clinic = PointFactory(
        provider=provider,
        name="Clínica Esperanza",
        categories=["medical", "shelter"],
        area=areas["tapachula"],
        address="4a Avenida Norte 12, Tapachula",
        phone="+529621234567",
        whatsapp="+529621234568",
        languages=",es,en,",
        time_zone=MEXICO,
        age_min=18,
        cost=Cost.FREE,
        access=Access.WALK_IN,
        wheelchair_accessible=True,
        last_verified_at=NOW - datetime.timedelta(days=3),
        **at_position(14.9059, -92.2633),
    )
    for weekday in range(5):
        add_hours(clinic, weekday, "09:00", "17:00")
    add_text(
        clinic,
        "en",
        description="Free consultations.",
        directions="Opposite the market.",
        eligibility="Bring any ID if you have one.",
    )
    add_text(clinic, "es", description="Consultas gratuitas.", directions="Frente al mercado.")
    shelter = PointFactory(
        provider=provider,
        name="Albergue Belén",
        categories=["shelter"],
        area=areas["tapachula"],
        languages=",es,",
        time_zone=MEXICO,
        **at_position(14.92, -92.25),
    )
    add_hours(shelter, 5, "09:00", "12:00")  # Saturdays only: closed on this Wednesday
    legal = PointFactory(
        provider=ProviderFactory(name="Abogados sin Fronteras"),
        name="Asesoría Legal Malacatán",
        categories=["legal"],
        area=areas["malacatan"],
        phone="+50277760000",
        languages=",es,mam,",
        time_zone="America/Guatemala",
        **at_position(14.91, -92.06),
    )
    for weekday in range(7):
        add_hours(legal, weekday, "08:00", "20:00")
    desk = PointFactory(provider=provider, name="Information desk", categories=["information"])
    draft = PointFactory(
        provider=provider,
        name="Draft clinic",
        categories=["medical"],
        area=areas["tapachula"],
        status=PublicationStatus.DRAFT,
        **at_position(14.9, -92.26),
    )
    hidden = PointFactory(
        provider=ProviderFactory(name="Not yet public", status=PublicationStatus.DRAFT),
        name="Hidden point",
        categories=["medical"],
        area=areas["tapachula"],
    )
    return {
        "clinic": clinic,
        "shelter": shelter,
        "legal": legal,
        "desk": desk,
        "draft": draft,
        "hidden": hidden,
    }


def names(response):
    return [row["point"].name for row in response.context["rows"]]


def text(response):
    return response.content.decode()


def queries(client, url):
    """Queries of one request computed afresh (kept answers and lists are dropped first)."""
    cache.clear()
    with CaptureQueriesContext(connection) as context:
        response = client.get(url)
    assert response.status_code == 200
    return len(context.captured_queries)


# --- Content helpers ---------------------------------------------------------------------------------------


def publish_item(world, key, kind, texts, **options):
    """An item of organisation A with each language's words written, reviewed and published, in order."""
    by = world.user("a", "information_officer")
    areas = options.pop("areas", [])
    categories = options.pop("categories", [])
    item = hub_services.create_item(owner=world.a.organisation, key=key, kind=kind, by=by, **options)
    item.areas.set(areas)
    item.categories.set(categories)
    for language, words in texts.items():
        translation = hub_services.save_translation(item, language=language, by=by, **words)
        hub_services.publish(hub_services.submit_for_review(translation, by=by), by=by)
    return item


@pytest.fixture
def content(world, frozen, areas):
    asylum = publish_item(
        world,
        "asylum",
        ContentKind.PROCEDURE,
        {
            "en": {
                "title": "How to ask for international protection",
                "summary": "You can ask at any migration office.",
                "body": "Asking is free.",
                "steps": ["Go to the COMAR office.", "Fill in the form.", "Wait for your interview."],
                "documents": "Any ID you have.",
                "fees": "None",
                "where": "COMAR, 7a Calle Poniente, Tapachula",
                "duration": "Up to 90 working days",
            },
            "es": {"title": "Cómo pedir protección internacional", "steps": ["Vaya a la COMAR."]},
        },
        categories=["legal"],
    )
    rights = publish_item(
        world, "work-rights", ContentKind.RIGHTS, {"en": {"title": "Your rights at work", "summary": "Pay."}}
    )
    faq = publish_item(world, "cost-faq", ContentKind.FAQ, {"en": {"title": "Do I have to pay?"}})
    sensitive = publish_item(
        world,
        "safe-houses",
        ContentKind.RIGHTS,
        {"en": {"title": "Safe house addresses"}},
        sensitivity=Sensitivity.SENSITIVE,
    )
    draft = hub_services.create_item(
        owner=world.a.organisation,
        key="draft-article",
        kind=ContentKind.RIGHTS,
        by=world.user("a", "administrator"),
    )
    hub_services.save_translation(
        draft, language="en", by=world.user("a", "administrator"), title="Unfinished"
    )
    flood = publish_item(
        world,
        "flood",
        ContentKind.ALERT,
        {"en": {"title": "Flooding on the coast road", "summary": "Use the inland road."}},
        severity="warning",
        valid_from=NOW - datetime.timedelta(days=1),
        areas=[areas["tapachula"]],
    )
    closure = publish_item(
        world,
        "border-closure",
        ContentKind.ALERT,
        {"en": {"title": "Border crossing closed"}, "ar": {"title": "إغلاق المعبر الحدودي"}},
        severity="danger",
        valid_from=NOW - datetime.timedelta(hours=2),
        valid_to=NOW + datetime.timedelta(days=2),
        areas=[areas["malacatan"], areas["tapachula"]],
    )
    expired = publish_item(
        world,
        "old-storm",
        ContentKind.ALERT,
        {"en": {"title": "Old storm"}},
        severity="danger",
        valid_from=NOW - datetime.timedelta(days=10),
        valid_to=NOW - datetime.timedelta(days=5),
    )
    return {
        "asylum": asylum,
        "rights": rights,
        "faq": faq,
        "sensitive": sensitive,
        "draft": draft,
        "flood": flood,
        "closure": closure,
        "expired": expired,
    }


# --- Home --------------------------------------------------------------------------------------------------


def test_home_offers_search_categories_alerts_hotlines_and_links(directory, content, settings):
    # given two hotlines configured
    settings.HUB_HOTLINES = [("Emergencies", "911"), ("Migrant hotline", "+52 800 123 4567")]
    # when a visitor opens the home page
    response = Client().get("/en/")
    page = text(response)
    # then it has the search form, each category as a link to its results, current alerts (most severe
    # first, never expired ones), the hotlines as tap-to-call links and links to information and alerts
    assert response.status_code == 200
    assert '<form class="search" method="get" action="/en/services/" role="search">' in page
    assert '<a href="/en/services/?category=medical">Medical care</a>' in page
    assert page.count('<a href="/en/services/?category=') == 19
    assert [alert.words["title"] for alert in response.context["alerts"]] == [
        "Border crossing closed",
        "Flooding on the coast road",
    ]
    assert "Old storm" not in page
    assert '<a href="tel:911" dir="ltr">911</a>' in page
    assert '<a href="tel:+528001234567" dir="ltr">+52 800 123 4567</a>' in page
    assert 'href="/en/info/"' in page
    assert 'href="/en/alerts/"' in page


def test_home_shows_no_hotline_section_when_none_is_configured(directory, settings):
    settings.HUB_HOTLINES = []
    assert "Call for help" not in text(Client().get("/en/"))


def test_home_offers_near_me_only_as_a_template_for_javascript(directory):
    # when the home page is opened
    page = text(Client().get("/en/"))
    # then the near-me button sits in a <template> (inert without JavaScript), the script is a file,
    # and the page has no inline script or style
    assert '<template id="nearme" data-url="/directory.json" data-detail="/en/services/0/"' in page
    assert page.index('<template id="nearme"') < page.index("Services near me") < page.index("</template>")
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/hub/nearme.js" defer>']
    assert "<style" not in page
    assert " style=" not in page


def test_home_in_arabic_is_right_to_left(directory):
    response = Client().get("/ar/")
    assert response.status_code == 200
    assert '<html lang="ar" dir="rtl">' in text(response)


def test_home_takes_the_same_few_queries_however_much_is_published(directory, content, world):
    # given the home page's query count now
    client = Client()
    before = queries(client, "/en/")
    # when many more points and alerts are published
    for number in range(10):
        PointFactory(categories=["food"], area=directory["clinic"].area)
        publish_item(world, f"alert-{number}", ContentKind.ALERT, {"en": {"title": "Alert"}}, severity="info")
    # then the page takes exactly as many queries
    assert queries(client, "/en/") == before == 5  # with the directory version the area list is kept under


# --- Results ----------------------------------------------------------------------------------------------


def test_results_list_every_published_point_and_nothing_else(directory):
    response = Client().get("/en/services/")
    assert response.status_code == 200
    assert names(response) == [
        "Albergue Belén",
        "Asesoría Legal Malacatán",
        "Clínica Esperanza",
        "Information desk",
    ]
    assert "Draft clinic" not in text(response)
    assert "Hidden point" not in text(response)
    assert "4 services found" in text(response)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"category": "shelter"}, ["Albergue Belén", "Clínica Esperanza"]),
        ({"category": "legal"}, ["Asesoría Legal Malacatán"]),
        ({"area": "MX07089"}, ["Albergue Belén", "Clínica Esperanza"]),
        ({"area": "MX"}, ["Albergue Belén", "Clínica Esperanza"]),
        ({"area": "gt12"}, ["Asesoría Legal Malacatán"]),
        ({"area": "MX07001"}, []),
        ({"language": "mam"}, ["Asesoría Legal Malacatán"]),
        ({"language": "en"}, ["Clínica Esperanza"]),
        ({"q": "consultas"}, ["Clínica Esperanza"]),
        ({"q": "belén"}, ["Albergue Belén"]),
        ({"open": "1"}, ["Asesoría Legal Malacatán", "Clínica Esperanza"]),
        ({"open": "1", "category": "shelter"}, ["Clínica Esperanza"]),
        (
            {"category": "shelter", "area": "MX07089", "language": "es", "q": ""},
            ["Albergue Belén", "Clínica Esperanza"],
        ),
    ],
)
def test_results_filter_by_text_category_area_language_and_open_now(directory, query, expected):
    # when the visitor filters the results
    response = Client().get("/en/services/", query)
    # then only matching points are listed
    assert response.status_code == 200
    assert names(response) == expected


def test_results_near_a_position_are_sorted_by_distance_and_show_it(directory):
    # when the address bar carries a position in Tapachula (the browser's near-me never sends one)
    response = Client().get("/en/services/", {"near": "14.9059,-92.2633"})
    # then the points nearby come nearest first, each with its distance
    assert names(response) == ["Clínica Esperanza", "Albergue Belén", "Asesoría Legal Malacatán"]
    assert [row["distance"] for row in response.context["rows"]] == [0.0, 2.12, 21.85]
    assert "2.1 km" in text(response)


def test_results_show_opening_state_and_phone(directory):
    page = text(Client().get("/en/services/"))
    assert '<span class="state open">Open now, until 17:00</span>' in page
    assert '<span class="state closed">Closed now</span>' in page
    assert '<span class="state unknown">Opening hours not known</span>' in page
    assert '<a href="tel:+529621234567" dir="ltr">+52 962 123 4567</a>' in page


def test_results_area_list_holds_areas_with_published_points_and_those_above_them(directory):
    # when the results page is opened
    response = Client().get("/es/services/")
    # then the area list is the tree of areas that have something published, named in the reader's
    # language (Acacoyagua has no point; the draft's area is there for its published neighbours)
    assert [(a.pcode, a.label, a.depth) for a in response.context["areas"]] == [
        ("GT", "Guatemala", 0),
        ("GT12", "San Marcos", 1),
        ("GT1215", "Malacatán", 2),
        ("MX", "México", 0),
        ("MX07", "Chiapas", 1),
        ("MX07089", "Tapachula", 2),
    ]


def test_results_language_list_holds_the_languages_spoken_named_in_the_readers_language(directory):
    response = Client().get("/es/services/")
    assert response.context["languages"] == [("es", "español"), ("en", "inglés"), ("mam", "Mam")]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {"category": "sorcery"},
            "<b>Service</b>: We do not know this service type. Choose one from the list.",
        ),
        ({"area": "ZZ999"}, "<b>Area</b>: We do not know this area. Choose one from the list."),
        (
            {"language": "klingon"},
            "<b>Language spoken</b>: We do not know this language. Choose one from the list.",
        ),
        (
            {"near": "91,-92"},
            "<b>Position</b>: Latitude must be between -90 and 90 and longitude between -180 and 180.",
        ),
        (
            {"near": "north"},
            "<b>Position</b>: Give the position as latitude,longitude (for example 14.9,-92.26).",
        ),
        (
            {"near": "nan,nan"},
            "<b>Position</b>: Latitude must be between -90 and 90 and longitude between -180 and 180.",
        ),
        ({"q": "x" * 101}, "<b>Search</b>: Ensure this value has at most 100 characters (it has 101)."),
    ],
)
def test_results_name_the_filter_that_is_wrong_instead_of_failing(directory, query, message):
    # when the visitor (or a bad link) sends a filter that cannot be understood
    response = Client().get("/en/services/", query)
    # then the page says which filter is wrong and why, and lists nothing rather than a wrong list
    assert response.status_code == 400
    assert message in text(response)
    assert "rows" not in response.context
    assert '<form class="search filters"' in text(response)


def test_results_in_arabic_are_right_to_left(directory):
    response = Client().get("/ar/services/", {"q": "Clínica"})
    assert '<html lang="ar" dir="rtl">' in text(response)
    assert names(response) == ["Clínica Esperanza"]


def test_results_keep_the_search_when_switching_language(directory):
    page = text(Client().get("/en/services/", {"category": "shelter", "area": "MX07089"}))
    assert 'href="/ar/services/?category=shelter&amp;area=MX07089"' in page


def test_results_take_the_same_few_queries_however_many_points_match(directory):
    # given the page's query count now
    client = Client()
    before = queries(client, "/en/services/?category=shelter")
    # when many more matching points are published, with hours, exceptions and several categories
    for _number in range(12):
        point = PointFactory(categories=["shelter", "food"], area=directory["clinic"].area, languages=",fr,")
        add_hours(point, 2, "08:00", "18:00")
        add_exception(point, NOW.date() + datetime.timedelta(days=1))
    # then the page takes exactly as many queries (no query per point)
    assert (
        queries(client, "/en/services/?category=shelter") == before == 9
    )  # with the directory version the answer is kept under


def test_results_show_twenty_a_page_with_links_to_the_others(directory):
    # given 45 food points besides the directory's own (named so their order is known)
    for number in range(45):
        PointFactory(categories=["food"], name=f"Comedor {number:02d}")
    client = Client()
    assert published_points().filter(categories="food").count() == 45
    # when the first page is opened
    first = client.get("/en/services/", {"category": "food"})
    # then it shows 20, says which, and links to the other pages and the next one
    assert len(first.context["rows"]) == 20
    assert "45 services found" in text(first)
    assert "Showing 1–20 of 45." in text(first)
    assert [link.number for link in first.context["page_links"]] == [1, 2, 3]
    assert first.context["next_url"] == "/en/services/?category=food&page=2#results"
    assert first.context["previous_url"] == ""
    assert '<span aria-current="page">1</span>' in text(first)
    # when the visitor follows "Next"
    second = client.get("/en/services/", {"category": "food", "page": "2"})
    # then the next 20 follow on, none repeated, and "Previous" leads back to the plain search
    first_names = [row["point"].name for row in first.context["rows"]]
    second_names = [row["point"].name for row in second.context["rows"]]
    assert second_names == [f"Comedor {number:02d}" for number in range(20, 40)]
    assert first_names == [f"Comedor {number:02d}" for number in range(20)]
    assert "Showing 21–40 of 45." in text(second)
    assert second.context["previous_url"] == "/en/services/?category=food#results"
    # and a page past the end (an old link) shows the last page, not an empty list
    beyond = client.get("/en/services/", {"category": "food", "page": "99"})
    assert (beyond.context["page"], beyond.context["next_url"]) == (3, "")
    assert [row["point"].name for row in beyond.context["rows"]] == [f"Comedor {n}" for n in range(40, 45)]


def test_page_links_show_the_ends_and_two_either_side_with_gaps():
    request = RequestFactory().get("/en/services/", {"q": "casa", "page": "6"})
    links = hub_views._pagination(request, 6, 12)
    assert [link.number for link in links["page_links"]] == [1, None, 4, 5, 6, 7, 8, None, 12]
    assert [link.number for link in links["page_links"] if link.current] == [6]
    assert links["page_links"][0].url == "/en/services/?q=casa#results"
    assert links["next_url"] == "/en/services/?q=casa&page=7#results"


def test_results_with_one_page_have_no_page_links(directory):
    page = Client().get("/en/services/", {"category": "medical"})
    assert page.context["page_links"] == []
    assert "Showing" not in text(page)
    assert 'class="pages"' not in text(page)


def test_results_name_a_wrong_page_number(directory):
    response = Client().get("/en/services/", {"page": "0"})
    assert response.status_code == 400
    assert "<b>Page</b>: Ensure this value is greater than or equal to 1." in text(response)


# --- One service point ------------------------------------------------------------------------------------


def test_service_page_shows_everything_a_visitor_needs(directory):
    # when a visitor opens the clinic's page
    clinic = directory["clinic"]
    response = Client().get(f"/en/services/{clinic.pk}/")
    page = text(response)
    # then it has tap-to-call and WhatsApp links, where and when, who may come, and when it was checked
    assert response.status_code == 200
    assert (
        '<a class="button" href="tel:+529621234567">Call <span dir="ltr">+52 962 123 4567</span></a>' in page
    )
    assert '<a class="button" href="https://wa.me/529621234568" rel="noopener noreferrer">' in page
    assert "4a Avenida Norte 12, Tapachula" in page
    assert "<p>Opposite the market.</p>" in page
    assert "<p>Free consultations.</p>" in page
    assert '<span class="state open">Open now, until 17:00</span>' in page
    assert "(local time, America/Mexico_City)" in page
    rows = re.findall(r"<tr( class=\"today\")?><th scope=\"row\">(\w+)</th><td>(.*?)</td></tr>", page)
    assert rows == [
        ("", "Monday", '<span dir="ltr">09:00–17:00</span>'),
        ("", "Tuesday", '<span dir="ltr">09:00–17:00</span>'),
        (' class="today"', "Wednesday", '<span dir="ltr">09:00–17:00</span>'),
        ("", "Thursday", '<span dir="ltr">09:00–17:00</span>'),
        ("", "Friday", '<span dir="ltr">09:00–17:00</span>'),
        ("", "Saturday", "Closed"),
        ("", "Sunday", "Closed"),
    ]
    assert "<dt>Age</dt><dd>18 years old and over</dd>" in page
    assert "<dt>For</dt><dd>Everyone</dd>" in page
    assert "<dt>Nationalities</dt><dd>All nationalities</dd>" in page
    assert "<dt>Conditions and what to bring</dt><dd>Bring any ID if you have one.</dd>" in page
    assert "<dt>Cost</dt><dd>Free</dd>" in page
    assert "<dt>How to get the service</dt><dd>Walk in</dd>" in page
    assert "<dt>Languages spoken</dt><dd>Spanish and English</dd>" in page
    assert "<dt>Wheelchair access</dt><dd>Yes</dd>" in page
    assert "<dt>Female staff available</dt><dd>No or not known</dd>" in page
    assert "Last verified on Jan. 12, 2025." in page
    assert "Not verified recently" not in page
    assert "not available in your language" not in page


def test_service_page_links_only_to_whatsapp_outside_the_site(directory):
    page = text(Client().get(f"/en/services/{directory['clinic'].pk}/"))
    external = re.findall(r'(?:href|src|action)="((?:[a-z]+:)?//[^"]*)"', page)
    assert external == ["https://wa.me/529621234568"]


def test_service_page_names_languages_in_the_readers_language(directory):
    page = text(Client().get(f"/es/services/{directory['legal'].pk}/"))
    assert "<dd>español y Mam</dd>" in page


def test_service_page_shows_the_readers_language_without_a_notice(directory):
    page = text(Client().get(f"/es/services/{directory['clinic'].pk}/"))
    assert "<p>Consultas gratuitas.</p>" in page
    assert 'class="notice"' not in page


def test_service_page_says_when_it_falls_back_to_another_language(directory):
    # when an Arabic reader opens a page that has no Arabic text
    page = text(Client().get(f"/ar/services/{directory['clinic'].pk}/"))
    # then the English text is shown, marked as English and left to right, with a notice saying so
    assert '<html lang="ar" dir="rtl">' in page
    assert 'class="notice" role="note"' in page
    assert '<div lang="en" dir="ltr"><p>Free consultations.</p></div>' in page
    assert response_context_text_language(directory["clinic"].pk) == "الإنجليزية"


def response_context_text_language(pk):
    return Client().get(f"/ar/services/{pk}/").context["text_language"]


def test_service_page_says_when_a_translation_is_outdated(directory):
    # given the Spanish text was made before the English source changed
    ServicePointText.objects.filter(point=directory["clinic"], language="es").update(is_outdated=True)
    # when a Spanish reader opens the page
    response = Client().get(f"/es/services/{directory['clinic'].pk}/")
    # then the Spanish text is shown with a notice that it may be out of date
    assert "<p>Consultas gratuitas.</p>" in text(response)
    assert response.context["text"].is_outdated is True
    assert 'class="notice" role="note"' in text(response)


@pytest.mark.parametrize(
    ("last_verified", "flagged"),
    [(None, True), (datetime.timedelta(days=91), True), (datetime.timedelta(days=89), False)],
)
def test_service_page_flags_points_not_verified_recently(directory, last_verified, flagged):
    point = directory["shelter"]
    point.last_verified_at = None if last_verified is None else NOW - last_verified
    point.save()
    page = text(Client().get(f"/en/services/{point.pk}/"))
    assert ("Not verified recently: call before you go." in page) is flagged


def test_service_page_shows_closed_on_an_exceptional_day(directory):
    # given the clinic is closed today (a holiday) and opens late in ten days
    clinic = directory["clinic"]
    add_exception(clinic, datetime.date(2025, 1, 15))
    add_exception(clinic, datetime.date(2025, 1, 25), "10:00", "13:00")
    # when its page is opened
    page = text(Client().get(f"/en/services/{clinic.pk}/"))
    # then it says closed now, and lists the special days
    assert '<span class="state closed">Closed now</span>' in page
    assert "<li>Jan. 15, 2025: Closed</li>" in page
    assert '<li>Jan. 25, 2025: <span dir="ltr">10:00–13:00</span></li>' in page


def test_service_page_takes_a_fixed_number_of_queries(directory, django_assert_num_queries):
    with django_assert_num_queries(5):
        assert Client().get(f"/en/services/{directory['clinic'].pk}/").status_code == 200


@pytest.mark.parametrize("name", ["draft", "hidden"])
def test_service_page_of_an_unpublished_point_is_not_found(directory, name):
    assert Client().get(f"/en/services/{directory[name].pk}/").status_code == 404


def test_service_page_of_an_archived_or_unknown_point_is_not_found(directory):
    directory["clinic"].status = PublicationStatus.ARCHIVED
    directory["clinic"].save()
    assert Client().get(f"/en/services/{directory['clinic'].pk}/").status_code == 404
    assert Client().get("/en/services/999999/").status_code == 404


# --- Information --------------------------------------------------------------------------------------------


def test_information_lists_published_articles_grouped_by_kind(content):
    # when the information page is opened
    response = Client().get("/en/info/")
    # then published, public articles are grouped by kind; sensitive and unpublished ones are absent,
    # and so are alerts
    groups = [(str(kind), [t.item.key for t in entries]) for kind, entries in response.context["groups"]]
    assert groups == [
        ("Rights", ["work-rights"]),
        ("Step-by-step procedure", ["asylum"]),
        ("Frequently asked question", ["cost-faq"]),
    ]
    page = text(response)
    assert '<a href="/en/info/asylum/">How to ask for international protection</a>' in page
    assert "Safe house addresses" not in page
    assert "Unfinished" not in page
    assert "Flooding" not in page


def test_information_shows_titles_in_the_readers_language(content):
    page = text(Client().get("/es/info/"))
    assert '<a href="/es/info/asylum/">Cómo pedir protección internacional</a>' in page


def test_information_marks_titles_not_yet_in_the_readers_language(content):
    page = text(Client().get("/fr/info/"))
    assert '<a href="/fr/info/work-rights/" lang="en" dir="auto">Your rights at work</a>' in page


def test_article_shows_steps_documents_fees_place_duration_and_verification(content):
    response = Client().get("/en/info/asylum/")
    page = text(response)
    assert response.status_code == 200
    assert "<h1>How to ask for international protection</h1>" in page
    assert (
        '<ol class="steps"><li>Go to the COMAR office.</li><li>Fill in the form.</li>'
        "<li>Wait for your interview.</li></ol>" in page
    )
    assert "<h2>Documents you need</h2><p>Any ID you have.</p>" in page
    assert "<h2>Fees</h2><p>None</p>" in page
    assert "<h2>Where to go</h2><p>COMAR, 7a Calle Poniente, Tapachula</p>" in page
    assert "<h2>How long it takes</h2><p>Up to 90 working days</p>" in page
    assert "Last verified on Jan. 15, 2025." in page
    assert '<a href="/en/services/?category=legal">Legal aid</a>' in page
    assert 'class="notice"' not in page


def test_article_in_arabic_falls_back_to_english_and_says_so(content):
    response = Client().get("/ar/info/asylum/")
    page = text(response)
    assert '<html lang="ar" dir="rtl">' in page
    assert response.context["text"].language == "en"
    assert 'class="notice" role="note"' in page
    assert '<article lang="en" dir="ltr">' in page


def test_article_says_when_its_translation_is_outdated(content, world):
    # given the English source was edited and republished after the Spanish translation
    by = world.user("a", "information_officer")
    source = hub_services.save_translation(content["asylum"], language="en", by=by, fees="Free of charge")
    hub_services.publish(hub_services.submit_for_review(source, by=by), by=by)
    # when a Spanish reader opens it
    response = Client().get("/es/info/asylum/")
    # then the Spanish words are shown with a notice that they may be out of date
    assert response.context["text"].is_outdated is True
    assert "Cómo pedir protección internacional" in text(response)
    with translation.override("es"):
        notice = gettext("This translation may be out of date: the original text has changed since.")
    assert notice in text(response)


def test_article_flags_content_not_verified_recently(content):
    content["asylum"].last_verified_at = NOW - datetime.timedelta(days=120)
    content["asylum"].save()
    assert "Not verified recently" in text(Client().get("/en/info/asylum/"))


@pytest.mark.parametrize("key", ["safe-houses", "draft-article", "flood", "no-such-article"])
def test_sensitive_unpublished_alert_and_unknown_articles_are_not_found(content, key):
    assert Client().get(f"/en/info/{key}/").status_code == 404


# --- Alerts -------------------------------------------------------------------------------------------------


def test_alerts_page_lists_current_alerts_most_severe_first_with_their_areas(content):
    response = Client().get("/en/alerts/")
    page = text(response)
    assert [row["text"].item.key for row in response.context["rows"]] == ["border-closure", "flood"]
    assert '<p class="meta"><b>Danger</b> · Malacatan, Tapachula · until Jan. 17, 2025</p>' in page
    assert '<p class="meta"><b>Warning</b> · Tapachula</p>' in page
    assert "Old storm" not in page


def test_alerts_page_in_arabic_uses_arabic_words_where_there_are_some(content):
    response = Client().get("/ar/alerts/")
    page = text(response)
    assert '<html lang="ar" dir="rtl">' in page
    assert "<h2>إغلاق المعبر الحدودي</h2>" in page
    assert '<h2 lang="en" dir="ltr">Flooding on the coast road</h2>' in page


def test_alerts_page_says_when_there_is_none(db):
    assert "There is no alert at the moment." in text(Client().get("/en/alerts/"))


# --- Printable list -----------------------------------------------------------------------------------------


def test_printable_list_groups_an_areas_services_by_category_with_phone_numbers(directory, settings):
    settings.HUB_HOTLINES = [("Hotline", "+528001234567")]
    response = Client().get("/en/services/print/", {"area": "MX07"})
    page = text(response)
    assert response.status_code == 200
    assert "<h1>Services in Chiapas</h1>" in page
    assert [(label, [row["point"].name for row in rows]) for label, rows in response.context["groups"]] == [
        ("Medical care", ["Clínica Esperanza"]),
        ("Shelter", ["Albergue Belén", "Clínica Esperanza"]),
    ]
    assert '<span dir="ltr">+52 962 123 4567</span>' in page
    assert 'Hotline: <span dir="ltr">+52 800 123 4567</span>' in page


def test_printable_list_without_an_area_asks_for_one(directory):
    response = Client().get("/en/services/print/")
    assert response.status_code == 200
    assert response.context["groups"] is None
    assert '<select id="area" name="area">' in text(response)


def test_printable_list_of_an_unknown_area_says_so(directory):
    response = Client().get("/en/services/print/", {"area": "ZZ1"})
    assert response.status_code == 400
    assert "<b>Area</b>: We do not know this area. Choose one from the list." in text(response)


def test_printable_list_of_an_area_without_services_says_so(directory):
    page = text(Client().get("/en/services/print/", {"area": "MX07001"}))
    assert "No published service in this area." in page


# --- Every public page ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es", "fr", "ar"])
def test_every_public_page_opens_in_every_language_for_anonymous_visitors(directory, content, language):
    paths = [
        f"/{language}/",
        f"/{language}/services/",
        f"/{language}/services/{directory['clinic'].pk}/",
        f"/{language}/services/print/?area=MX07089",
        f"/{language}/info/",
        f"/{language}/info/asylum/",
        f"/{language}/alerts/",
    ]
    direction = "rtl" if language == "ar" else "ltr"
    for path in paths:
        response = Client().get(path)
        assert response.status_code == 200, path
        assert f'<html lang="{language}" dir="{direction}">' in text(response), path


def test_public_pages_are_compressed_for_browsers_that_accept_it(directory):
    response = Client().get("/en/services/", HTTP_ACCEPT_ENCODING="gzip")
    assert response["Content-Encoding"] == "gzip"


# --- The optional map ----------------------------------------------------------------------------------


def test_no_map_is_offered_unless_a_tile_server_is_configured(directory, settings):
    # given no tile server (the default)
    settings.MAP_TILE_URL = ""
    # when the results and a service page are opened
    pages = [
        text(Client().get("/en/services/")),
        text(Client().get(f"/en/services/{directory['clinic'].pk}/")),
    ]
    # then neither loads Leaflet nor has a map
    for page in pages:
        assert "leaflet" not in page
        assert 'id="map"' not in page
        assert "data-lat" not in page


def test_map_is_offered_with_the_points_when_a_tile_server_is_configured(directory, settings):
    # given a tile server
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    # when the shelters are listed
    page = text(Client().get("/en/services/", {"category": "shelter"}))
    # then Leaflet and the map script come from our own static files, the map is hidden until the
    # script shows it, and each listed point carries its coordinates
    assert '<link rel="stylesheet" href="/static/vendor/leaflet/leaflet.css">' in page
    assert '<script src="/static/vendor/leaflet/leaflet.js" defer></script>' in page
    assert '<script src="/static/hub/map.js" defer></script>' in page
    assert '<div id="map" class="map" hidden data-tiles="https://tiles.example.org/{z}/{x}/{y}.png">' in page
    assert re.findall(r'data-lat="([-\d.]+)" data-lon="([-\d.]+)"', page) == [
        ("14.92000", "-92.25000"),
        ("14.90590", "-92.26330"),
    ]


# --- Kept answers (directory.answer_cache) -------------------------------------------------------------


def rename_behind_the_services(point, name):
    """A change the services never make (no new directory version): shows whether an answer was kept."""
    type(point).objects.filter(pk=point.pk).update(name=name)


def test_a_repeated_anonymous_search_is_answered_from_the_cache(directory):
    client = Client()
    first = client.get("/en/services/?category=medical")
    # when the data changes without the directory's version moving
    rename_behind_the_services(directory["clinic"], "Renamed quietly")
    second = client.get("/en/services/?category=medical")
    # then the same answer is given (kept), byte for byte
    assert "Clínica Esperanza" in text(first)
    assert second.content == first.content
    assert second.status_code == 200


def test_a_staff_edit_shows_in_the_next_search_at_once(directory, world):
    from ventanilla.directory import services as directory_services

    # given a search answered (and kept) for anonymous readers
    client = Client()
    assert "Clínica Esperanza" in text(client.get("/en/services/?category=medical"))
    # when staff of the organisation keeping the point rename it through the service
    clinic = directory["clinic"]
    clinic.owner = clinic.provider.owner = world.a.organisation
    type(clinic).objects.filter(pk=clinic.pk).update(owner=world.a.organisation)
    clinic.name = "Clínica Esperanza Norte"
    directory_services.save_point(clinic, by=world.user("a", "information_officer"), changed=["name"])
    # then the very next anonymous search shows the new name, in the same minute
    assert "Clínica Esperanza Norte" in text(client.get("/en/services/?category=medical"))


def test_publishing_a_draft_shows_in_the_next_search_at_once(directory, world):
    from ventanilla.directory import services as directory_services

    client = Client()
    assert "Draft clinic" not in text(client.get("/en/services/?category=medical"))
    draft = directory["draft"]
    type(draft).objects.filter(pk=draft.pk).update(owner=world.a.organisation)
    draft.refresh_from_db()
    directory_services.set_point_status(draft, status="published", by=world.user("a", "information_officer"))
    assert "Draft clinic" in text(client.get("/en/services/?category=medical"))


def test_signed_in_staff_never_get_a_kept_answer_nor_leave_one(directory, world, client_for):
    url = "/en/services/?category=medical"
    anonymous, staff = Client(), client_for(world.user("a", "information_officer"))
    # given an anonymous answer kept, and the data changed behind the services
    anonymous.get(url)
    rename_behind_the_services(directory["clinic"], "Renamed quietly")
    # when staff search
    answer = staff.get(url)
    # then they get the data as it is now, never to be stored anywhere
    assert "Renamed quietly" in text(answer)
    assert answer["Cache-Control"] == "no-store"
    # and what they got was not kept for the next reader either: a search only staff asked is
    # computed afresh for an anonymous reader
    staff_only = "/en/services/?category=medical&area=MX07"
    staff.get(staff_only)
    rename_behind_the_services(directory["clinic"], "Renamed again")
    assert "Renamed again" in text(anonymous.get(staff_only))


def test_open_now_is_worked_out_again_each_minute(directory, monkeypatch):
    # given a point that closes at 17:00 in Tapachula (UTC-6), searched for "open now" at 16:59:30
    before = datetime.datetime(2025, 1, 15, 22, 59, 30, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: before)
    client = Client()
    assert "Clínica Esperanza" in text(client.get("/en/services/?open=1"))
    # when 40 seconds later (the next minute) the same search is asked
    monkeypatch.setattr(timezone, "now", lambda: before + datetime.timedelta(seconds=40))
    # then the answer is computed again, and the clinic has closed
    assert "Clínica Esperanza" not in text(client.get("/en/services/?open=1"))


def test_within_the_minute_the_kept_answer_is_reused(directory, monkeypatch):
    moment = datetime.datetime(2025, 1, 15, 18, 0, 5, tzinfo=datetime.UTC)
    monkeypatch.setattr(timezone, "now", lambda: moment)
    client = Client()
    first = client.get("/en/services/?open=1")
    rename_behind_the_services(directory["clinic"], "Renamed quietly")
    monkeypatch.setattr(timezone, "now", lambda: moment + datetime.timedelta(seconds=50))
    assert client.get("/en/services/?open=1").content == first.content


def test_each_language_and_compression_has_its_own_kept_answer(directory):
    client = Client()
    english = client.get("/en/services/?category=medical")
    spanish = client.get("/es/services/?category=medical")
    zipped = client.get("/en/services/?category=medical", headers={"Accept-Encoding": "gzip"})
    assert (english["Content-Language"], spanish["Content-Language"]) == ("en", "es")
    assert (zipped["Content-Encoding"], english.has_header("Content-Encoding")) == ("gzip", False)
    assert client.get("/en/services/?category=medical").content == english.content
