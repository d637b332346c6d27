"""Directory services: reading values, the public search, and keeping the directory (audited, atomic)."""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.directory import services
from ventanilla.directory.geo import Position, distance_km
from ventanilla.directory.hours import OpenState
from ventanilla.directory.models import (
    OpeningException,
    OpeningHours,
    PublicationStatus,
    ServiceCategory,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
)
from ventanilla.directory.services import (
    DirectoryPermissionError,
    SearchQuery,
    WeeklyPeriod,
    search_points,
)
from ventanilla.directory.tests.factories import (
    PointFactory,
    ProviderFactory,
    add_exception,
    add_hours,
    add_text,
    at_position,
)
from ventanilla.testing.factories import AreaFactory

pytestmark = pytest.mark.django_db

TAPACHULA = Position(14.9059, -92.2633)
# Monday 3 March 2025, 10:00 in Mexico City.
MONDAY_TEN = datetime.datetime(2025, 3, 3, 16, 0, tzinfo=datetime.UTC)
PHONE_FORMAT = "Enter the number in international format, for example +52 962 123 4567."


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def new_entries(since: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(pk__gt=since).order_by("pk"))


def entry_text(entry: AuditEntry) -> str:
    """What an entry says, without its time and hashes (a time like 18:41:14.93 holds "14.9")."""
    fields = model_to_dict(entry, exclude=["at", "entry_hash", "previous_hash"])
    return json.dumps(fields, default=str)


def message_dict(caught: pytest.ExceptionInfo[ValidationError]) -> dict[str, list[str]]:
    return caught.value.message_dict


def t(value: str) -> datetime.time:
    return datetime.time.fromisoformat(value)


# --- parse_languages / language_name ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("es, en;ar", ",es,en,ar,"),
        (["fr", " ES "], ",fr,es,"),
        ("es,es,ES", ",es,"),
        ("", ""),
        (" , ;", ""),
        ([], ""),
    ],
)
def test_parse_languages_gives_a_comma_bounded_list(value, expected):
    assert services.parse_languages(value) == expected


def test_parse_languages_accepts_mayan_languages_of_the_corridor():
    # given 'mam' (unknown to babel) and 'kek', 'quc' (known to it)
    # when / then
    assert services.parse_languages("es, mam, kek, quc, cak, tzo") == ",es,mam,kek,quc,cak,tzo,"


def test_parse_languages_names_every_unknown_code():
    # when
    with pytest.raises(ValidationError) as caught:
        services.parse_languages("es, zz, english, und, e")
    # then
    assert message_dict(caught) == {
        "languages": ["Unknown language codes: zz, english, und, e (use ISO 639 codes such as es, ar, mam)."]
    }


@pytest.mark.parametrize(
    ("code", "locale", "expected"),
    [
        ("es", "es", "español"),
        ("ar", "en", "Arabic"),
        ("fr", "ar", "الفرنسية"),
        ("mam", "es", "Mam"),
        ("kek", "es", "Qʼeqchiʼ"),  # CLDR has no Spanish name: the English one
        ("qqq", "en", "qqq"),
        ("es", "zz", "Spanish"),  # an unknown locale reads in English
        ("es", "", "Spanish"),
    ],
)
def test_language_name_in_a_locale(code, locale, expected):
    assert services.language_name(code, locale) == expected


def test_regional_language_names_are_translatable():
    # given the active language is Spanish
    with translation.override("es"):
        # then regional names stay lazy and render as text
        assert str(services.REGIONAL_LANGUAGES["yua"]) in {"Yucatec Maya", "Maya yucateco"}


# --- parse_phone ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("+52 962 123 4567", "+529621234567"),
        (" +502 5555-0101 ", "+50255550101"),
        ("+34 600 123 456", "+34600123456"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_parse_phone_gives_e164(value, expected):
    assert services.parse_phone(value) == expected


@pytest.mark.parametrize("value", ["962 123 4567", "9621234567", "+1 23", "call us", "+"])
def test_parse_phone_refuses_numbers_without_country_code_or_impossible(value):
    with pytest.raises(ValidationError) as caught:
        services.parse_phone(value)
    assert message_dict(caught) == {"phone": [PHONE_FORMAT]}


def test_parse_phone_names_the_field_it_reads():
    with pytest.raises(ValidationError) as caught:
        services.parse_phone("962 123 4567", field_name="whatsapp")
    assert message_dict(caught) == {"whatsapp": [PHONE_FORMAT]}


# --- parse_categories / ensure_categories -----------------------------------------------------------


def test_parse_categories_returns_the_rows():
    # when
    rows = services.parse_categories(["legal", " medical ", "", "legal"])
    # then
    assert sorted(row.code for row in rows) == ["legal", "medical"]


def test_parse_categories_names_every_unknown_code():
    with pytest.raises(ValidationError) as caught:
        services.parse_categories(["medical", "spaceship", "Legal"])
    assert message_dict(caught) == {"categories": ["Unknown categories: spaceship, Legal."]}


def test_ensure_categories_restores_missing_rows_and_is_idempotent():
    # given a category row was lost
    ServiceCategory.objects.filter(code="wash").delete()
    # when it runs twice
    services.ensure_categories()
    services.ensure_categories()
    # then every category is there once, in order
    assert ServiceCategory.objects.count() == 19
    assert ServiceCategory.objects.get(code="wash").position == 5


# --- search_points ----------------------------------------------------------------------------------


@pytest.fixture
def corridor(world):
    """Published points in Chiapas and Guatemala, and rows that must never be found."""
    mexico = AreaFactory(pcode="MX", level=0, name="Mexico")
    chiapas = AreaFactory(pcode="MX07", level=1, name="Chiapas", parent=mexico)
    tapachula = AreaFactory(pcode="MX07089", level=2, name="Tapachula", parent=chiapas)
    suchiate = AreaFactory(pcode="MX07087", level=2, name="Suchiate", parent=chiapas)
    guatemala = AreaFactory(pcode="GT", level=0, name="Guatemala")
    capital = AreaFactory(pcode="GT01", level=1, name="Guatemala department", parent=guatemala)
    owner = world.a.organisation
    medicos = ProviderFactory(owner=owner, name="Médicos del Mundo")
    casa = ProviderFactory(owner=owner, name="Casa del Migrante")
    asylum = ProviderFactory(owner=world.b.organisation, name="Asylum Access")
    draft_provider = ProviderFactory(owner=owner, name="Draft provider", status=PublicationStatus.DRAFT)

    clinic = PointFactory(
        provider=medicos,
        name="Clínica Esperanza",
        address="4a Avenida Norte 12",
        area=tapachula,
        languages=",es,mam,",
        categories=["medical", "mhpss"],
        **at_position(14.9059, -92.2633),
    )
    add_text(clinic, "en", description="Free medical consultations and vaccines")
    add_text(clinic, "es", description="Consultas médicas gratuitas")
    add_hours(clinic, 0, "09:00", "17:00")
    shelter = PointFactory(
        provider=casa,
        name="Albergue Belén",
        area=tapachula,
        languages=",es,en,",
        categories=["shelter", "food"],
        **at_position(14.9200, -92.2500),
    )
    add_text(shelter, "en", description="Shelter for families, three nights")
    legal = PointFactory(
        provider=asylum,
        name="Legal desk Hidalgo",
        area=suchiate,
        languages=",es,fr,",
        categories=["legal"],
        **at_position(14.6787, -92.1494),
    )
    add_hours(legal, 0, "07:00", "09:00")
    capital_desk = PointFactory(
        provider=casa,
        name="Guatemala information desk",
        area=capital,
        languages=",es,",
        categories=["information"],
        **at_position(14.6349, -90.5069),
    )
    hotline = PointFactory(provider=casa, name="Trafficking hotline", categories=["counter_trafficking"])
    hidden = [
        PointFactory(provider=medicos, name="Clínica draft", status=PublicationStatus.DRAFT, area=tapachula),
        PointFactory(provider=medicos, name="Clínica archived", status=PublicationStatus.ARCHIVED),
        PointFactory(provider=draft_provider, name="Clínica of a draft provider", area=tapachula),
    ]
    for point in hidden:
        point.categories.set(ServiceCategory.objects.filter(code="medical"))
        add_hours(point, 0, "00:00", "23:59")
        point.languages = ",es,mam,"
        point.latitude, point.longitude = Decimal("14.90590"), Decimal("-92.26330")
        point.save()
    return {
        "clinic": clinic,
        "shelter": shelter,
        "legal": legal,
        "capital": capital_desk,
        "hotline": hotline,
    }


def names(result: services.SearchResult) -> list[str]:
    return [r.point.name for r in result.results]


def test_search_without_filters_lists_published_points_by_name(corridor):
    # when
    result = search_points(SearchQuery(), at=MONDAY_TEN)
    # then drafts, archived points and points of draft providers are absent
    assert names(result) == [
        "Albergue Belén",
        "Clínica Esperanza",
        "Guatemala information desk",
        "Legal desk Hidalgo",
        "Trafficking hotline",
    ]
    assert result.total == 5
    assert {r.distance_km for r in result.results} == {None}


def test_search_gives_the_opening_state_of_each_result(corridor):
    # when
    result = search_points(SearchQuery(), at=MONDAY_TEN)
    # then
    states = {r.point.name: r.state for r in result.results}
    assert states["Clínica Esperanza"] == OpenState(is_open=True, closes_at=datetime.time(17, 0))
    assert states["Legal desk Hidalgo"] == OpenState(is_open=False)
    assert states["Albergue Belén"] == OpenState(is_open=False, has_hours=False)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clínica", ["Clínica Esperanza"]),
        ("LEGAL hidalgo", ["Legal desk Hidalgo"]),
        ("legal tapachula", []),
        ("médicos", ["Clínica Esperanza"]),  # the provider's name
        ("asylum access", ["Legal desk Hidalgo"]),
        ("vaccines", ["Clínica Esperanza"]),  # the English description
        ("gratuitas", ["Clínica Esperanza"]),  # the Spanish description
        ("families nights", ["Albergue Belén"]),
        ("Avenida", ["Clínica Esperanza"]),  # the address
        ("desk", ["Guatemala information desk", "Legal desk Hidalgo"]),
        ("hotline", ["Trafficking hotline"]),  # a point without any text
        ("nothing-like-this", []),
    ],
)
def test_search_by_text_needs_every_word(corridor, text, expected):
    # when
    result = search_points(SearchQuery(text=text), at=MONDAY_TEN)
    # then
    assert (names(result), result.total) == (expected, len(expected))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("clinica", ["Clínica Esperanza"]),  # the name, typed without the accent
        ("CLINICA esperanza", ["Clínica Esperanza"]),
        ("medico", ["Clínica Esperanza"]),  # "Médicos del Mundo", the provider
        ("medicas gratuitas", ["Clínica Esperanza"]),  # the Spanish description: "médicas"
        ("belen", ["Albergue Belén"]),
        ("Albérgue", ["Albergue Belén"]),  # an accent the stored name does not have
        ("ｃｌｉｎｉｃａ", ["Clínica Esperanza"]),  # full-width letters of some phone keyboards
    ],
)
def test_search_ignores_accents_and_case(corridor, text, expected):
    result = search_points(SearchQuery(text=text), at=MONDAY_TEN)
    assert (names(result), result.total) == (expected, len(expected))


@pytest.mark.parametrize(
    "typed",
    [
        "مساعدة",  # without vowel marks, as most people type
        "مُسَاعَدَة",  # fully vowelled
        "مسـاعدة",  # with a tatweel
        "الاطفال",  # bare alef for the hamza-carrying "الأطفال"
        "مستشفي",  # yeh for the alef maksura of "مستشفى"
        "للعائلات",
    ],
)
def test_search_in_arabic_ignores_vowel_marks_tatweel_and_alef_forms(corridor, typed):
    # given an Arabic description written with vowel marks and hamza forms
    add_text(corridor["shelter"], "ar", description="مُسَاعَدَة للعائلات والأطفال قرب المستشفى")
    # when it is searched as a phone keyboard types it
    result = search_points(SearchQuery(text=typed), at=MONDAY_TEN)
    # then it is found
    assert names(result) == ["Albergue Belén"]


def test_search_finds_a_renamed_provider_by_its_new_name_only(corridor, world):
    # given the clinic's provider renamed by staff
    provider = corridor["clinic"].provider
    provider.name = "Fundación Niños Sanos"
    services.save_provider(provider, by=world.user("a", "information_officer"), changed=["name"])
    # then the new name finds its points, without accents too, and the old one no longer does
    assert names(search_points(SearchQuery(text="ninos fundacion"), at=MONDAY_TEN)) == ["Clínica Esperanza"]
    assert names(search_points(SearchQuery(text="mundo"), at=MONDAY_TEN)) == []


def test_search_text_matching_several_texts_gives_the_point_once(corridor):
    # given "medic" is in the name of the provider and in the English and Spanish descriptions
    result = search_points(SearchQuery(text="medic"), at=MONDAY_TEN)
    assert (names(result), result.total) == (["Clínica Esperanza"], 1)


def test_search_by_category(corridor):
    assert names(search_points(SearchQuery(category="food"), at=MONDAY_TEN)) == ["Albergue Belén"]
    assert names(search_points(SearchQuery(category="medical"), at=MONDAY_TEN)) == ["Clínica Esperanza"]


def test_search_by_unknown_category_is_refused(corridor):
    with pytest.raises(ValidationError) as caught:
        search_points(SearchQuery(category="spaceship"))
    assert message_dict(caught) == {"category": ["Unknown category."]}


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("mam", ["Clínica Esperanza"]),
        ("MAM", ["Clínica Esperanza"]),
        ("fr", ["Legal desk Hidalgo"]),
        ("en", ["Albergue Belén"]),
        ("s", []),  # a part of a code matches nothing
        ("ar", []),
    ],
)
def test_search_by_language_spoken(corridor, language, expected):
    assert names(search_points(SearchQuery(language=language), at=MONDAY_TEN)) == expected


@pytest.mark.parametrize(
    ("pcode", "expected"),
    [
        ("MX07089", ["Albergue Belén", "Clínica Esperanza"]),
        ("MX07", ["Albergue Belén", "Clínica Esperanza", "Legal desk Hidalgo"]),
        ("MX", ["Albergue Belén", "Clínica Esperanza", "Legal desk Hidalgo"]),
        ("MX07087", ["Legal desk Hidalgo"]),
        ("GT", ["Guatemala information desk"]),
        ("XX", []),
    ],
)
def test_search_by_area_includes_the_areas_inside_it(corridor, pcode, expected):
    assert names(search_points(SearchQuery(area=pcode), at=MONDAY_TEN)) == expected


def test_search_open_now(corridor):
    # when at 10:00 on Monday in Mexico City
    result = search_points(SearchQuery(open_now=True), at=MONDAY_TEN)
    # then only the clinic is open (the legal desk closed at 09:00, the shelter has no hours)
    assert (names(result), result.total) == (["Clínica Esperanza"], 1)
    assert result.results[0].state.is_open is True


def test_search_open_now_defaults_to_the_present(corridor, monkeypatch):
    # given it is now 10:00 on Monday in Mexico City
    monkeypatch.setattr(timezone, "now", lambda: MONDAY_TEN)
    # when no time is given
    result = search_points(SearchQuery(open_now=True))
    # then the present is used
    assert names(result) == ["Clínica Esperanza"]
    # and at 08:00 the legal desk is open instead
    monkeypatch.setattr(timezone, "now", lambda: MONDAY_TEN - datetime.timedelta(hours=2))
    assert names(search_points(SearchQuery(open_now=True))) == ["Legal desk Hidalgo"]


def test_search_near_sorts_by_distance_within_the_radius(corridor):
    # when searching 30 km around Tapachula
    result = search_points(SearchQuery(near=TAPACHULA, radius_km=30), at=MONDAY_TEN)
    # then the three points within 30 km, nearest first, distances rounded to 10 m
    assert names(result) == ["Clínica Esperanza", "Albergue Belén", "Legal desk Hidalgo"]
    shelter = Position(14.92, -92.25)
    assert [r.distance_km for r in result.results] == [
        0.0,
        round(distance_km(TAPACHULA, shelter), 2),
        28.07,
    ]
    assert result.total == 3


def test_search_near_respects_the_radius(corridor):
    # given a point inside the 10 km box around Tapachula but 12 km away (in its corner)
    PointFactory(
        provider=corridor["clinic"].provider, name="Corner", **at_position(14.9059 + 0.08, -92.2633 + 0.08)
    )
    # when
    result = search_points(SearchQuery(near=TAPACHULA, radius_km=10), at=MONDAY_TEN)
    # then it is left out, as is everything further away or without coordinates
    assert names(result) == ["Clínica Esperanza", "Albergue Belén"]
    assert result.total == 2


def test_search_near_default_radius_is_100_km(corridor):
    # the Guatemala City desk is about 190 km away
    result = search_points(SearchQuery(near=TAPACHULA), at=MONDAY_TEN)
    assert names(result) == ["Clínica Esperanza", "Albergue Belén", "Legal desk Hidalgo"]


def test_search_near_pages_with_limit_and_offset(corridor):
    # when
    first = search_points(SearchQuery(near=TAPACHULA, radius_km=30, limit=2), at=MONDAY_TEN)
    second = search_points(SearchQuery(near=TAPACHULA, radius_km=30, limit=2, offset=2), at=MONDAY_TEN)
    # then
    assert (names(first), first.total) == (["Clínica Esperanza", "Albergue Belén"], 3)
    assert (names(second), second.total) == (["Legal desk Hidalgo"], 3)


def test_search_pages_with_limit_and_offset(corridor):
    # when
    first = search_points(SearchQuery(limit=2), at=MONDAY_TEN)
    last = search_points(SearchQuery(limit=2, offset=4), at=MONDAY_TEN)
    # then the total counts every match, the page only some
    assert (names(first), first.total) == (["Albergue Belén", "Clínica Esperanza"], 5)
    assert (names(last), last.total) == (["Trafficking hotline"], 5)


def test_search_combines_filters(corridor):
    # when
    result = search_points(
        SearchQuery(
            text="clínica", category="medical", language="mam", area="MX07", open_now=True, near=TAPACHULA
        ),
        at=MONDAY_TEN,
    )
    # then
    assert (names(result), result.total) == (["Clínica Esperanza"], 1)
    assert result.results[0].distance_km == 0.0
    assert result.query.language == "mam"


def test_search_query_count_does_not_grow_with_results(corridor):
    # given
    def queries(query: SearchQuery) -> int:
        with CaptureQueriesContext(connection) as captured:
            search_points(query, at=MONDAY_TEN)
        return len(captured.captured_queries)

    plain, near, open_now = SearchQuery(), SearchQuery(near=TAPACHULA), SearchQuery(open_now=True)
    before = [queries(plain), queries(near), queries(open_now)]
    # when twenty more points with hours, exceptions, texts and categories are published
    for index in range(20):
        point = PointFactory(
            provider=corridor["clinic"].provider,
            name=f"Extra {index}",
            categories=["medical", "legal"],
            **at_position(14.9 + index / 1000, -92.26),
        )
        add_hours(point, 0, "09:00", "17:00")
        add_exception(point, datetime.date(2025, 3, 4))
        add_text(point, "en", description="Extra")
    after = [queries(plain), queries(near), queries(open_now)]
    # then the same queries run: count, page, three prefetches (when measuring distance, the
    # coordinates of every candidate instead of the count; the zones of open points are one more)
    assert before == after == [5, 5, 6]


# --- text_for ---------------------------------------------------------------------------------------


def test_text_for_in_the_language_asked():
    point = PointFactory()
    add_text(point, "en", description="Food")
    spanish = add_text(point, "es", description="Comida")
    assert services.text_for(point, "es") == (spanish, False)


def test_text_for_falls_back_to_english():
    point = PointFactory()
    english = add_text(point, "en", description="Food")
    add_text(point, "ar", description="طعام")
    add_text(point, "es", description="Comida")
    assert services.text_for(point, "fr") == (english, True)


def test_text_for_without_english_falls_back_to_any_language():
    point = PointFactory()
    spanish = add_text(point, "es", description="Comida")
    assert services.text_for(point, "fr") == (spanish, True)


def test_text_for_without_texts():
    assert services.text_for(PointFactory(), "en") == (None, False)


# --- save_point -------------------------------------------------------------------------------------


def new_point(world, org: str = "a", **fields) -> ServicePoint:
    provider = ProviderFactory(owner=getattr(world, org).organisation, name=f"{org} provider")
    values = {"name": "Clinic", "time_zone": "America/Mexico_City", **fields}
    return ServicePoint(owner=provider.owner, provider=provider, **values)


def test_information_officer_creates_a_point_with_categories_and_texts(world):
    # given
    officer = world.user("a", "information_officer")
    point = new_point(world, latitude=Decimal("14.9"), longitude=Decimal("-92.26"), languages=",es,")
    since = last_audit_id()
    # when
    saved = services.save_point(
        point,
        by=officer,
        categories=["medical", "mhpss"],
        texts={
            "es": {"description": "Consultas"},
            "en": {"description": "Consultations", "directions": "Go"},
        },
        changed=["name", "latitude"],
    )
    # then the point, its categories and texts are stored
    stored = ServicePoint.objects.get(pk=saved.pk)
    assert (stored.name, stored.owner_id, stored.status) == ("Clinic", world.a.organisation.pk, "draft")
    assert sorted(stored.categories.values_list("code", flat=True)) == ["medical", "mhpss"]
    texts = {t.language: (t.description, t.directions, t.is_outdated) for t in stored.texts.all()}
    assert texts == {"en": ("Consultations", "Go", False), "es": ("Consultas", "", False)}
    # and one audit entry names the fields, not their values
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.organisation_id) == (
        AuditAction.CREATE,
        officer.pk,
        world.a.organisation.pk,
    )
    assert (entry.object_type, entry.object_id) == ("directory.servicepoint", str(saved.pk))
    assert entry.fields == ["categories", "latitude", "name", "text:en", "text:es"]
    assert entry.detail == {}
    for value in ("Clinic", "Consultas", "14.9"):
        assert value not in entry_text(entry)


@pytest.mark.parametrize("role", ["administrator", "site_manager"])
def test_other_content_managers_of_the_owner_may_save(world, role):
    point = services.save_point(new_point(world), by=world.user("a", role))
    assert ServicePoint.objects.filter(pk=point.pk).exists()


@pytest.mark.parametrize(
    ("org", "role"),
    [("b", "information_officer"), ("b", "administrator"), ("a", "caseworker"), ("a", "auditor")],
)
def test_others_cannot_create_a_point_and_nothing_is_written(world, org, role):
    # given
    since = last_audit_id()
    # when
    with pytest.raises(DirectoryPermissionError, match="You do not manage the directory"):
        services.save_point(
            new_point(world),
            by=world.user(org, role),
            categories=["medical"],
            texts={"en": {"description": "x"}},
        )
    # then
    assert (ServicePoint.objects.count(), ServicePointText.objects.count()) == (0, 0)
    assert new_entries(since) == []


def test_b_cannot_edit_a_point_of_a(world):
    # given A's published point
    point = PointFactory(provider=ProviderFactory(owner=world.a.organisation), name="Original")
    since = last_audit_id()
    # when B's officer renames it
    point.name = "Renamed"
    with pytest.raises(DirectoryPermissionError):
        services.save_point(point, by=world.user("b", "information_officer"))
    # then
    assert ServicePoint.objects.get(pk=point.pk).name == "Original"
    assert new_entries(since) == []


def test_b_cannot_take_over_a_point_of_a_by_changing_its_owner(world):
    # given A's published point, loaded by B's officer
    point = PointFactory(provider=ProviderFactory(owner=world.a.organisation), name="Original")
    loaded = ServicePoint.objects.visible_to(world.user("b", "information_officer")).get(pk=point.pk)
    # when B's officer makes B its owner and renames it
    loaded.owner = world.b.organisation
    loaded.name = "Taken"
    with pytest.raises(DirectoryPermissionError):
        services.save_point(loaded, by=world.user("b", "information_officer"))
    # then
    stored = ServicePoint.objects.get(pk=point.pk)
    assert (stored.owner_id, stored.name) == (world.a.organisation.pk, "Original")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"latitude": Decimal("200"), "longitude": Decimal("0")},
            {"latitude": ["Latitude must be between -90 and 90."]},
        ),
        (
            {"time_zone": "Mars/X"},
            {"time_zone": ["Unknown time zone; use a name such as America/Mexico_City."]},
        ),
        ({"age_min": 18, "age_max": 5}, {"age_max": ["The maximum age is below the minimum age."]}),
        ({"latitude": Decimal("14.9")}, {"longitude": ["Give both latitude and longitude, or neither."]}),
        ({"name": ""}, {"name": ["This field cannot be blank."]}),
    ],
)
def test_invalid_point_names_the_field_and_writes_nothing(world, fields, expected):
    # given
    since = last_audit_id()
    point = new_point(world, **fields)
    # when
    with pytest.raises(ValidationError) as caught:
        services.save_point(
            point, by=world.user("a", "information_officer"), categories=["medical"], texts={"en": {}}
        )
    # then
    assert message_dict(caught) == expected
    assert (ServicePoint.objects.count(), point.pk) == (0, None)
    assert new_entries(since) == []


def test_unknown_category_writes_nothing(world):
    # given
    point = new_point(world)
    # when
    with pytest.raises(ValidationError) as caught:
        services.save_point(point, by=world.user("a", "information_officer"), categories=["medical", "ufo"])
    # then
    assert message_dict(caught) == {"categories": ["Unknown categories: ufo."]}
    assert (ServicePoint.objects.count(), point.pk) == (0, None)


def test_unknown_text_language_is_refused_and_nothing_written(world):
    # given an existing point
    officer = world.user("a", "information_officer")
    point = services.save_point(new_point(world), by=officer, texts={"en": {"description": "Old"}})
    since = last_audit_id()
    # when a German text comes with a change of name
    point.name = "Changed"
    with pytest.raises(ValidationError) as caught:
        services.save_point(
            point, by=officer, texts={"en": {"description": "New"}, "de": {"description": "x"}}
        )
    # then
    assert message_dict(caught) == {"language": ["Ventanilla does not offer the language de."]}
    stored = ServicePoint.objects.get(pk=point.pk)
    assert (stored.name, [t.description for t in stored.texts.all()]) == ("Clinic", ["Old"])
    assert new_entries(since) == []


def test_unknown_text_field_is_named(world):
    with pytest.raises(ValidationError) as caught:
        services.save_point(
            new_point(world),
            by=world.user("a", "information_officer"),
            texts={"es": {"summary": "x", "title": "y"}},
        )
    assert message_dict(caught) == {"summary": ["Unknown field."], "title": ["Unknown field."]}
    assert ServicePoint.objects.count() == 0


def test_editing_the_english_text_marks_other_languages_outdated(world):
    # given a point with English, Spanish and Arabic texts
    officer = world.user("a", "information_officer")
    point = services.save_point(
        new_point(world),
        by=officer,
        texts={"en": {"description": "Food"}, "es": {"description": "Comida"}, "ar": {"description": "طعام"}},
    )
    since = last_audit_id()
    # when the English text changes
    services.save_point(point, by=officer, texts={"en": {"description": "Food and water"}})
    # then the others are outdated, English is not
    outdated = dict(ServicePointText.objects.filter(point=point).values_list("language", "is_outdated"))
    assert outdated == {"en": False, "es": True, "ar": True}
    [entry] = new_entries(since)
    assert (entry.action, entry.fields) == (AuditAction.UPDATE, ["text:en"])
    # when the Spanish text is updated
    services.save_point(point, by=officer, texts={"es": {"description": "Comida y agua"}})
    # then it is current again, Arabic still outdated
    outdated = dict(ServicePointText.objects.filter(point=point).values_list("language", "is_outdated"))
    assert outdated == {"en": False, "es": False, "ar": True}


def test_editing_english_and_a_translation_together_keeps_the_translation_current(world):
    # given
    officer = world.user("a", "information_officer")
    point = services.save_point(
        new_point(world), by=officer, texts={"es": {"description": "Comida"}, "en": {"description": "Food"}}
    )
    # when both change in one save (Spanish listed first), and Arabic is sent unchanged
    services.save_point(
        point,
        by=officer,
        texts={"es": {"description": "Comida y agua"}, "en": {"description": "Food and water"}},
    )
    # then
    outdated = dict(ServicePointText.objects.filter(point=point).values_list("language", "is_outdated"))
    assert outdated == {"en": False, "es": False}


def test_resending_an_unchanged_translation_with_new_english_leaves_it_outdated(world):
    officer = world.user("a", "information_officer")
    point = services.save_point(
        new_point(world), by=officer, texts={"en": {"description": "Food"}, "es": {"description": "Comida"}}
    )
    services.save_point(
        point, by=officer, texts={"en": {"description": "Food and water"}, "es": {"description": "Comida"}}
    )
    assert ServicePointText.objects.get(point=point, language="es").is_outdated is True


def test_unchanged_or_empty_texts_write_no_rows_and_no_fields(world):
    # given
    officer = world.user("a", "information_officer")
    point = services.save_point(new_point(world), by=officer, texts={"en": {"description": "Food"}})
    since = last_audit_id()
    # when the same English and an empty French text are sent
    services.save_point(point, by=officer, texts={"en": {"description": "Food"}, "fr": {}})
    # then no French row exists and the audit entry names no text
    assert list(point.texts.values_list("language", flat=True)) == ["en"]
    [entry] = new_entries(since)
    assert entry.fields == []


def test_save_point_replaces_hours_and_exceptions(world):
    # given
    officer = world.user("a", "information_officer")
    point = services.save_point(
        new_point(world),
        by=officer,
        hours=[(0, t("09:00"), t("13:00")), WeeklyPeriod(0, t("14:00"), t("17:00"))],
        exceptions=[{"date": datetime.date(2025, 12, 25), "note": "Christmas"}],
    )
    since = last_audit_id()
    # when the hours change and the exceptions are sent again unchanged
    services.save_point(
        point,
        by=officer,
        hours=[(1, t("08:00"), t("12:00"))],
        exceptions=[{"date": datetime.date(2025, 12, 25), "is_closed": True, "note": "Christmas"}],
    )
    # then
    assert [str(h) for h in point.hours.all()] == ["1 08:00-12:00"]
    assert list(point.exceptions.values_list("date", "is_closed", "note")) == [
        (datetime.date(2025, 12, 25), True, "Christmas")
    ]
    [entry] = new_entries(since)
    assert entry.fields == ["hours"]
    # when the exceptions change and the hours are sent again unchanged
    services.save_point(
        point,
        by=officer,
        hours=[WeeklyPeriod(1, t("08:00"), t("12:00"))],
        exceptions=[
            {
                "date": datetime.date(2025, 12, 24),
                "is_closed": False,
                "opens": t("09:00"),
                "closes": t("12:00"),
            }
        ],
    )
    # then
    assert list(point.exceptions.values_list("date", "opens", "closes")) == [
        (datetime.date(2025, 12, 24), t("09:00"), t("12:00"))
    ]
    assert new_entries(since)[-1].fields == ["exceptions"]


def test_bad_hours_name_every_problem_and_write_nothing(world):
    # when
    with pytest.raises(ValidationError) as caught:
        services.save_point(
            new_point(world),
            by=world.user("a", "information_officer"),
            hours=[
                (7, t("09:00"), t("10:00")),
                (0, t("17:00"), t("09:00")),
                (2, t("09:00"), t("13:00")),
                (2, t("12:00"), t("15:00")),
            ],
        )
    # then
    assert message_dict(caught) == {
        "hours": [
            "Closing time 09:00 is not after opening time 17:00; split hours past midnight.",
            "The day must be 0 (Monday) to 6 (Sunday).",
            "Two periods overlap on the same day (09:00-13:00 and 12:00-15:00).",
        ]
    }
    assert (ServicePoint.objects.count(), OpeningHours.objects.count()) == (0, 0)


def test_bad_exceptions_name_every_problem_and_write_nothing(world):
    # when
    with pytest.raises(ValidationError) as caught:
        services.save_point(
            new_point(world),
            by=world.user("a", "information_officer"),
            exceptions=[
                {"note": "no date"},
                {"date": datetime.date(2025, 1, 1)},
                {"date": datetime.date(2025, 1, 1)},
                {"date": datetime.date(2025, 1, 2), "is_closed": False, "opens": t("12:00")},
            ],
        )
    # then
    assert message_dict(caught) == {
        "exceptions": [
            "Each exception needs a date.",
            "The date 2025-01-01 is given twice.",
            "On 2025-01-02: give opening and closing times (closing after opening), or tick closed.",
        ]
    }
    assert (ServicePoint.objects.count(), OpeningException.objects.count()) == (0, 0)


def test_check_exceptions_drops_times_of_closed_days_and_sorts():
    rows = services.check_exceptions(
        [
            {"date": datetime.date(2025, 5, 1), "is_closed": True, "opens": t("09:00"), "closes": t("10:00")},
            {"date": datetime.date(2025, 1, 1), "note": "x" * 250},
        ]
    )
    assert [(r["date"], r["opens"], r["closes"], len(r["note"])) for r in rows] == [
        (datetime.date(2025, 1, 1), None, None, 200),
        (datetime.date(2025, 5, 1), None, None, 0),
    ]


# --- save_provider ----------------------------------------------------------------------------------


def test_save_provider_is_audited(world):
    # given
    officer = world.user("a", "information_officer")
    since = last_audit_id()
    # when
    provider = services.save_provider(
        ServiceProvider(owner=world.a.organisation, name="Cruz Roja"), by=officer, changed=["name"]
    )
    provider.website = "https://example.org"
    services.save_provider(provider, by=officer, changed=["website"])
    # then
    assert [(e.action, e.fields) for e in new_entries(since)] == [
        (AuditAction.CREATE, ["name"]),
        (AuditAction.UPDATE, ["website"]),
    ]


def test_save_provider_refuses_others_and_owner_changes(world):
    # given A's provider
    provider = ProviderFactory(owner=world.a.organisation, name="A's")
    b_officer = world.user("b", "information_officer")
    # when B creates one for A, or takes A's over
    with pytest.raises(DirectoryPermissionError):
        services.save_provider(ServiceProvider(owner=world.a.organisation, name="x"), by=b_officer)
    provider.owner = world.b.organisation
    with pytest.raises(DirectoryPermissionError):
        services.save_provider(provider, by=b_officer)
    # then
    assert list(ServiceProvider.objects.values_list("name", "owner_id")) == [("A's", world.a.organisation.pk)]


def test_save_provider_names_invalid_fields(world):
    with pytest.raises(ValidationError) as caught:
        services.save_provider(
            ServiceProvider(owner=world.a.organisation, name="", website="not a url"),
            by=world.user("a", "information_officer"),
        )
    assert sorted(message_dict(caught)) == ["name", "website"]


# --- set_point_status / verify_point ----------------------------------------------------------------


def test_set_point_status_is_audited_with_the_status(world):
    # given A's draft point
    point = PointFactory(provider=ProviderFactory(owner=world.a.organisation), status=PublicationStatus.DRAFT)
    since = last_audit_id()
    # when
    services.set_point_status(point, status="published", by=world.user("a", "information_officer"))
    # then
    assert ServicePoint.objects.get(pk=point.pk).status == "published"
    [entry] = new_entries(since)
    assert (entry.fields, entry.detail) == (["status"], {"status": "published"})


def test_set_point_status_refuses_an_unknown_status(world):
    point = PointFactory(provider=ProviderFactory(owner=world.a.organisation), status=PublicationStatus.DRAFT)
    with pytest.raises(ValidationError) as caught:
        services.set_point_status(point, status="deleted", by=world.user("a", "information_officer"))
    assert message_dict(caught) == {"status": ["Unknown status."]}
    assert ServicePoint.objects.get(pk=point.pk).status == "draft"


def test_set_point_status_refuses_another_organisation(world):
    point = PointFactory(provider=ProviderFactory(owner=world.a.organisation), status=PublicationStatus.DRAFT)
    with pytest.raises(DirectoryPermissionError):
        services.set_point_status(point, status="published", by=world.user("b", "information_officer"))
    assert ServicePoint.objects.get(pk=point.pk).status == "draft"


def test_verify_point_records_who_and_when_with_ids_only(world):
    # given
    officer = world.user("a", "information_officer")
    point = PointFactory(provider=ProviderFactory(owner=world.a.organisation), name="Clínica Esperanza")
    before = timezone.now()
    since = last_audit_id()
    # when
    services.verify_point(point, by=officer)
    # then
    stored = ServicePoint.objects.get(pk=point.pk)
    assert stored.verified_by == officer
    assert before <= stored.last_verified_at <= timezone.now()
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.organisation_id, entry.object_id) == (
        AuditAction.UPDATE,
        officer.pk,
        world.a.organisation.pk,
        str(point.pk),
    )
    assert (entry.fields, entry.detail) == (["last_verified_at", "verified_by"], {})
    assert "Esperanza" not in entry_text(entry)


def test_verify_point_refuses_another_organisation(world):
    point = PointFactory(provider=ProviderFactory(owner=world.a.organisation))
    with pytest.raises(DirectoryPermissionError):
        services.verify_point(point, by=world.user("b", "information_officer"))
    assert ServicePoint.objects.get(pk=point.pk).last_verified_at is None


# --- stale_points -----------------------------------------------------------------------------------


def test_stale_points_are_the_users_points_unverified_for_too_long(world, settings):
    # given A's points verified at different times, an archived one, and B's
    settings.DIRECTORY_STALE_DAYS = 90
    now = timezone.now()
    provider = ProviderFactory(owner=world.a.organisation)
    PointFactory(provider=provider, name="recent", last_verified_at=now - datetime.timedelta(days=89))
    PointFactory(provider=provider, name="old", last_verified_at=now - datetime.timedelta(days=91))
    PointFactory(provider=provider, name="older", last_verified_at=now - datetime.timedelta(days=400))
    PointFactory(provider=provider, name="never")
    PointFactory(provider=provider, name="draft never", status=PublicationStatus.DRAFT)
    PointFactory(provider=provider, name="archived", status=PublicationStatus.ARCHIVED)
    PointFactory(provider=ProviderFactory(owner=world.b.organisation), name="b never")
    # when / then never verified first, then the oldest verification
    stale = services.stale_points(world.user("a", "information_officer"))
    assert [p.name for p in stale] == ["draft never", "never", "older", "old"]
    assert [p.name for p in services.stale_points(world.user("b", "information_officer"))] == ["b never"]
    assert list(services.stale_points(world.user("a", "caseworker"))) == []


def test_stale_points_follow_the_configured_period(world, settings):
    # given a point verified 20 days ago
    PointFactory(
        provider=ProviderFactory(owner=world.a.organisation),
        name="checked",
        last_verified_at=timezone.now() - datetime.timedelta(days=20),
    )
    officer = world.user("a", "information_officer")
    # when the period is 90, then 10 days
    settings.DIRECTORY_STALE_DAYS = 90
    fresh = list(services.stale_points(officer))
    settings.DIRECTORY_STALE_DAYS = 10
    stale = list(services.stale_points(officer))
    # then
    assert ([p.name for p in fresh], [p.name for p in stale]) == ([], ["checked"])
