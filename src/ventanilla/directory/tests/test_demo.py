"""The Find Help demo: about 50 fictional service points, 10 articles and 2 alerts, safe to load twice.

Loading the demo takes seconds, so it is loaded once for this module, inside a transaction that is rolled
back after the last test; each test runs in its own savepoint within it, as usual.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import math
import zoneinfo
from collections.abc import Iterator
from unittest import mock

import phonenumbers
import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from pytest_django import DjangoDbBlocker

from ventanilla.accounts.models import User
from ventanilla.core.audit import verify_chain
from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.directory import demo
from ventanilla.directory.geo import Position
from ventanilla.directory.hours import opening_state
from ventanilla.directory.models import (
    Category,
    OpeningException,
    OpeningHours,
    PublicationStatus,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
)
from ventanilla.directory.services import SearchQuery, WeeklyPeriod, search_points, text_for
from ventanilla.hub import demo as hub_demo
from ventanilla.hub import services as hub_services
from ventanilla.hub.models import ContentItem, ContentKind, ContentRevision, ContentTranslation, Sensitivity

# A Wednesday, 09:00 in Tapachula and in Tecún Umán (both UTC-6 all year).
NOW = datetime.datetime(2026, 3, 4, 15, 0, tzinfo=datetime.UTC)
MEXICO = zoneinfo.ZoneInfo("America/Mexico_City")
LANGUAGES = {"en", "es", "fr", "ar"}
POINTS = demo.demo_data()["points"]


@pytest.fixture(scope="module")
def demo_once(django_db_setup: None, django_db_blocker: DjangoDbBlocker) -> Iterator[str]:
    """`ventanilla load-demo` run once at NOW for the whole module; its output."""
    with django_db_blocker.unblock(), transaction.atomic():
        output = io.StringIO()
        with mock.patch.object(timezone, "now", return_value=NOW), contextlib.redirect_stdout(output):
            call_command("load_demo")
        yield output.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def loaded(demo_once: str, db: None) -> str:
    return demo_once


def _point(name: str) -> ServicePoint:
    return ServicePoint.objects.prefetch_related("hours", "exceptions").get(name=name)


def _snapshot() -> dict[str, object]:
    return {
        "providers": list(ServiceProvider.objects.order_by("pk").values_list("pk", "updated_at")),
        "points": list(
            ServicePoint.objects.order_by("pk").values_list("pk", "updated_at", "last_verified_at")
        ),
        "texts": list(ServicePointText.objects.order_by("pk").values_list("pk", "updated_at", "is_outdated")),
        "hours": OpeningHours.objects.count(),
        "exceptions": list(OpeningException.objects.order_by("pk").values_list("pk", "date")),
        "items": list(ContentItem.objects.order_by("pk").values_list("pk", "valid_from", "valid_to")),
        "translations": list(
            ContentTranslation.objects.order_by("pk").values_list("pk", "updated_at", "revision", "status")
        ),
        "history": ContentRevision.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


# --- Loading ----------------------------------------------------------------------------------------


def test_loading_the_demo_twice_creates_nothing_new_and_changes_nothing(loaded, capsys):
    # given the demo loaded once by the command
    before = _snapshot()

    # when it is loaded again
    call_command("load_demo")
    second = capsys.readouterr().out

    # then nothing was added or touched, and both runs report what is there
    assert _snapshot() == before
    assert (ServicePoint.objects.count(), ServiceProvider.objects.count()) == (53, 19)
    assert ContentItem.objects.filter(kind=ContentKind.ALERT).count() == 2
    assert ContentItem.objects.exclude(kind=ContentKind.ALERT).count() == 10
    assert "Find Help: 53 new service points" in loaded
    assert "Find Help: 0 new service points" in second
    assert verify_chain().ok


def test_the_loaders_report_what_they_created_and_what_was_already_there(loaded):
    # when the loaders run a second time
    directory = demo.load_demo_directory(now=NOW)
    content = hub_demo.load_demo_content(now=NOW)

    # then
    assert directory == demo.DemoDirectoryResult(providers_created=0, points_created=0, points_total=53)
    assert content == hub_demo.DemoContentResult(
        articles_created=0, alerts_created=0, articles_total=10, alerts_total=2
    )


def test_the_demo_needs_the_demo_accounts(loaded):
    # given the demo administrator is gone (renamed)
    User.objects.filter(username="casa_administrator").update(username="someone_else")
    audit_entries = AuditEntry.objects.count()

    # when / then
    with pytest.raises(
        demo.DemoDataError, match="'casa_administrator' is missing: load the demo accounts first"
    ):
        demo.load_demo_directory(now=NOW)
    with pytest.raises(hub_demo.DemoContentError, match="'casa_administrator' is missing"):
        hub_demo.load_demo_content(now=NOW)
    assert AuditEntry.objects.count() == audit_entries


def test_every_demo_creation_is_audited(loaded):
    # when
    created = AuditEntry.objects.filter(action=AuditAction.CREATE)

    # then
    assert created.filter(object_type="directory.servicepoint").count() == 53
    assert created.filter(object_type="directory.serviceprovider").count() == 19
    assert created.filter(object_type="hub.contentitem").count() == 12
    assert verify_chain().ok


# --- The directory ----------------------------------------------------------------------------------


def test_every_demo_point_has_an_area_categories_hours_and_english_and_spanish_texts(loaded):
    # when
    points = ServicePoint.objects.prefetch_related("categories", "texts", "hours").select_related("area")

    # then
    assert len(points) == 53
    for point in points:
        languages = {text.language for text in point.texts.all()}
        assert point.area is not None, point.name
        assert point.categories.exists(), point.name
        assert point.hours.exists(), point.name
        assert {"en", "es"} <= languages, point.name
    assert sum({text.language for text in point.texts.all()} == LANGUAGES for point in points) == 19


def test_every_demo_description_says_in_its_language_that_the_service_is_fictional(loaded):
    # when
    texts = ServicePointText.objects.all()

    # then
    assert texts.count() == 53 * 2 + 19 * 2
    for text in texts:
        assert text.description.endswith("\n\n" + demo.FICTIONAL_NOTICE[text.language]), text
        assert text.is_outdated is False
    assert all("(fictional" in name for name in ServiceProvider.objects.values_list("name", flat=True))


def test_demo_points_show_drafts_an_archived_point_and_stale_verifications(loaded):
    # when
    statuses = {status: ServicePoint.objects.filter(status=status).count() for status in PublicationStatus}
    stale = sorted(point.name for point in ServicePoint.objects.all() if point.is_stale(now=NOW))

    # then
    assert statuses == {"draft": 2, "published": 50, "archived": 1}
    assert stale == [
        "Albergue Demo San José – La Mesilla",
        "Fondo Demo Solidario – Tuxtla Gutiérrez",  # a draft, never verified
        "Oficina Demo de Protección de la Niñez – Comitán",
        "Red Demo Enlaces Familiares – Tenosique",
        "Red Salud Frontera – Puesto de Salud Malacatán",
        "Red Salud Frontera – Unidad Móvil Coatepeque",  # a draft, never verified
        "Ropero Demo Solidario – Tapachula",  # archived
    ]


def test_demo_phone_numbers_are_valid_international_numbers(loaded):
    # when
    numbers = [
        number for pair in ServicePoint.objects.values_list("phone", "whatsapp") for number in pair if number
    ]

    # then
    assert len(numbers) == 53 + 18
    for number in numbers:
        assert number.startswith(("+52", "+502")), number
        assert phonenumbers.is_valid_number(phonenumbers.parse(number)), number


def test_the_red_salud_clinics_are_kept_and_verified_by_red_salud(loaded):
    # when
    kept = ServicePoint.objects.filter(provider__name__startswith="Red Salud Frontera")

    # then
    assert kept.count() == 6
    assert set(kept.values_list("owner__name", flat=True)) == {
        "Red Salud Frontera (fictional clinic network)"
    }
    assert set(kept.exclude(verified_by=None).values_list("verified_by__username", flat=True)) == {
        "salud_administrator"
    }
    assert (
        ServicePoint.objects.exclude(pk__in=kept).filter(owner__name__startswith="Casa Ventana").count() == 47
    )


def test_demo_coordinates_are_within_a_few_hundred_metres_of_their_town(loaded):
    # given
    towns = demo.demo_data()["towns"]

    # when / then
    located = [spec for spec in POINTS if not spec.get("no_location")]
    assert len(located) == 49
    for spec in located:
        point = ServicePoint.objects.get(name=spec["name"])
        town = towns[spec["town"]]
        assert point.area.pcode == town["pcode"]
        north_km = (float(point.latitude) - town["latitude"]) * 111.2
        east_km = (
            (float(point.longitude) - town["longitude"]) * 111.2 * math.cos(math.radians(town["latitude"]))
        )
        assert math.hypot(north_km, east_km) < 0.5, spec["name"]


def test_published_demo_points_are_found_in_every_category(loaded):
    for category in Category.values:
        # given the published demo points the data file lists in the category
        expected = {
            spec["name"]
            for spec in POINTS
            if category in spec["categories"] and spec.get("status", "published") == "published"
        }

        # when
        found = search_points(SearchQuery(category=category, limit=100), at=NOW)

        # then
        assert expected, category
        assert {result.point.name for result in found.results} == expected, category


def test_near_tapachula_the_demo_lists_the_tapachula_points_nearest_first(loaded):
    # when
    found = search_points(SearchQuery(near=Position(14.9059, -92.2633), radius_km=5), at=NOW)

    # then: every published Tapachula point with a location, none of the others
    assert found.total == 12
    assert {result.point.area.pcode for result in found.results} == {"MX07089"}
    distances = [result.distance_km for result in found.results if result.distance_km is not None]
    assert len(distances) == 12
    assert distances == sorted(distances)
    assert max(distances) < 0.5


def test_at_three_in_the_morning_only_the_day_and_night_services_are_open(loaded):
    # given 03:00 on a Wednesday in Mexico and Guatemala
    at = datetime.datetime(2026, 3, 4, 9, 0, tzinfo=datetime.UTC)

    # when
    found = search_points(SearchQuery(open_now=True, limit=100), at=at)

    # then
    assert sorted(result.point.name for result in found.results) == [
        "Albergue Demo Nocturno – Arriaga",  # 17:00 to 09:00
        "Albergue Demo San José – Huixtla",
        "Albergue Demo San José – La Mesilla",
        "Albergue Demo San José – Tapachula",
        "Albergue Demo San José – Tecún Umán",
        "Albergue Demo San José – Tenosique",
        "Casa Demo Violeta – Tapachula",
        "Casa Demo Violeta – Tuxtla Gutiérrez",
        "Línea Demo contra la Trata – Guatemala",
        "Línea Ventana (teléfono y WhatsApp)",
    ]


def test_a_demo_clinic_is_closed_on_the_next_public_holiday(loaded):
    # given
    clinic = _point("Clínica Demo del Sur – Tapachula")

    # when: 10:00 on the day before Labour Day, and on Labour Day
    before = opening_state(clinic, datetime.datetime(2026, 4, 30, 10, 0, tzinfo=MEXICO))
    holiday = opening_state(clinic, datetime.datetime(2026, 5, 1, 10, 0, tzinfo=MEXICO))

    # then
    assert before.is_open is True
    assert holiday.is_open is False
    assert list(clinic.exceptions.values_list("date", "is_closed", "note")) == [
        (datetime.date(2026, 5, 1), True, "Día del Trabajo / Labour Day")
    ]


def test_the_demo_information_desk_opens_late_on_its_legal_aid_day(loaded):
    # given
    desk = _point("Casa Ventana – Centro de Atención Tapachula")

    # when: 19:00 on an ordinary Wednesday, and on the legal aid day two weeks after loading
    ordinary = opening_state(desk, datetime.datetime(2026, 3, 11, 19, 0, tzinfo=MEXICO))
    legal_aid_day = opening_state(desk, datetime.datetime(2026, 3, 18, 19, 0, tzinfo=MEXICO))

    # then
    assert ordinary.is_open is False
    assert legal_aid_day.is_open is True
    assert legal_aid_day.closes_at == datetime.time(20, 0)


def test_a_point_without_french_text_falls_back_to_english(loaded):
    # given
    canteen = ServicePoint.objects.get(name="Comedor Demo La Esperanza – Tapachula")

    # when
    text, is_fallback = text_for(canteen, "fr")

    # then
    assert text is not None
    assert (text.language, is_fallback) == ("en", True)


def test_mam_is_among_the_languages_spoken_at_the_guatemalan_clinics(loaded):
    # when
    found = search_points(SearchQuery(language="mam", category="medical", limit=100), at=NOW)

    # then
    assert {result.point.name for result in found.results} == {
        "Red Salud Frontera – Clínica Huehuetenango",
        "Red Salud Frontera – Clínica Quetzaltenango",
        "Red Salud Frontera – Clínica Tecún Umán",
        "Red Salud Frontera – Puesto de Salud La Mesilla",
        "Red Salud Frontera – Puesto de Salud Malacatán",
    }


# --- Hours and positions from the data file ---------------------------------------------------------


def test_demo_hours_cover_every_day_or_split_past_midnight():
    nine, five = datetime.time(9, 0), datetime.time(17, 0)
    assert demo.parse_hours("24/7") == [
        WeeklyPeriod(day, datetime.time(0, 0), datetime.time(23, 59)) for day in range(7)
    ]
    assert demo.parse_hours("mon-tue 09:00-17:00; sat 10:00-12:00") == [
        WeeklyPeriod(0, nine, five),
        WeeklyPeriod(1, nine, five),
        WeeklyPeriod(5, datetime.time(10, 0), datetime.time(12, 0)),
    ]
    assert demo.parse_hours("sun 17:00-09:00") == [
        WeeklyPeriod(0, datetime.time(0, 0), nine),
        WeeklyPeriod(6, five, datetime.time(23, 59)),
    ]


def test_unreadable_demo_hours_are_refused():
    with pytest.raises(demo.DemoDataError, match="Unreadable opening hours 'weekdays 9-5'"):
        demo.parse_hours("weekdays 9-5")
    with pytest.raises(demo.DemoDataError, match="Unknown day in 'mon-fry'"):
        demo.parse_hours("mon-fry 09:00-17:00")


def test_the_next_holiday_is_after_today_and_wraps_to_next_year():
    assert demo.next_holiday("America/Mexico_City", datetime.date(2026, 5, 1)) == (
        datetime.date(2026, 9, 16),
        "Día de la Independencia / Independence Day",
    )
    assert demo.next_holiday("America/Guatemala", datetime.date(2026, 12, 26)) == (
        datetime.date(2027, 1, 1),
        "Año Nuevo / New Year's Day",
    )


# --- Articles and alerts ----------------------------------------------------------------------------


def _published(item: ContentItem) -> dict[str, ContentTranslation]:
    return {t.language: t for t in item.translations.exclude(published_revision=None)}


def test_every_demo_article_is_published_in_english_and_spanish(loaded):
    # when
    articles = ContentItem.objects.exclude(kind=ContentKind.ALERT).order_by("key")

    # then
    assert {item.kind for item in articles} == {"rights", "procedure", "faq"}
    assert set(hub_services.public_items().values_list("key", flat=True)) == {
        item.key for item in ContentItem.objects.all()
    }
    for item in articles:
        published = _published(item)
        languages = set(published)
        assert {"en", "es"} <= languages, item.key
        assert languages == ({"en", "es"} if item.key == "demo-checking-a-recruiter" else LANGUAGES), item.key
        for language, translation in published.items():
            assert translation.published_content["body"].endswith(hub_demo.DEMO_NOTE[language])
        assert item.last_verified_at is not None


def test_an_article_without_french_falls_back_to_english(loaded):
    # given
    item = ContentItem.objects.get(key="demo-checking-a-recruiter")

    # when
    text = hub_services.public_text(item, "fr")

    # then
    assert text is not None
    assert (text.language, text.is_fallback, text.is_outdated) == ("en", True, False)
    assert len(text.words["steps"]) == 6


def test_one_article_has_outdated_translations_after_its_english_was_edited(loaded):
    # given
    item = ContentItem.objects.get(key="demo-rights-at-work")

    # when
    outdated = dict(item.translations.values_list("language", "is_outdated"))
    english = hub_services.public_text(item, "en")

    # then
    assert outdated == {"en": False, "es": True, "fr": True, "ar": True}
    assert ContentTranslation.objects.filter(is_outdated=True).count() == 3
    assert english is not None
    assert "Keep a record" in english.words["body"]
    assert english.words["body"].endswith(hub_demo.DEMO_NOTE["en"])


def test_protection_critical_articles_were_published_by_a_second_person(loaded):
    # when
    critical = ContentItem.objects.filter(sensitivity=Sensitivity.PROTECTION_CRITICAL).order_by("key")

    # then
    assert [item.key for item in critical] == [
        "demo-if-someone-keeps-your-documents",
        "demo-reporting-abuse-confidentially",
    ]
    for item in critical:
        rows = item.translations.values_list(
            "updated_by__username", "submitted_by__username", "reviewed_by__username"
        )
        assert set(rows) == {("casa_information_officer", "casa_information_officer", "casa_administrator")}
        assert item.translations.filter(status="published").count() == 4


def test_procedures_have_numbered_steps_documents_fees_places_and_duration(loaded):
    # when
    procedures = ContentItem.objects.filter(kind=ContentKind.PROCEDURE)

    # then
    assert procedures.count() == 5
    for translation in ContentTranslation.objects.filter(item__in=procedures):
        words = translation.published_content
        assert len(words["steps"]) >= 5, translation
        for name in ("title", "summary", "documents", "fees", "where", "duration"):
            assert words[name], (translation, name)


def test_both_demo_alerts_are_current_in_four_languages_with_their_areas(loaded):
    # when
    alerts = list(hub_services.current_alerts(at=NOW + datetime.timedelta(days=29)))
    later = list(hub_services.current_alerts(at=NOW + datetime.timedelta(days=30)))

    # then
    assert sorted(item.key for item in alerts) == [
        "demo-alert-coastal-road-flooding",
        "demo-alert-heat-and-dengue",
    ]
    assert later == []
    severities = {item.key: item.severity for item in alerts}
    assert severities == {
        "demo-alert-coastal-road-flooding": "warning",
        "demo-alert-heat-and-dengue": "danger",
    }
    areas = {item.key: sorted(item.areas.values_list("pcode", flat=True)) for item in alerts}
    assert areas == {
        "demo-alert-coastal-road-flooding": ["MX07040", "MX07089"],
        "demo-alert-heat-and-dengue": ["GT12", "MX07"],
    }
    for item in alerts:
        assert (item.valid_from, item.valid_to) == (NOW, NOW + datetime.timedelta(days=30))
        assert set(_published(item)) == LANGUAGES
        for language in LANGUAGES:
            text = hub_services.public_text(item, language)
            assert text is not None
            assert (text.language, text.is_fallback) == (language, False)
