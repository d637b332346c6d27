"""The directory API: the public search, one point, the compact dataset (conditional GET), and the staff
writes (points, providers, publish/archive/verify). Who may call what is in the authorisation matrix."""

from __future__ import annotations

import datetime
import gzip
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.directory import api as directory_api
from ventanilla.directory import services
from ventanilla.directory.dataset import compact_dataset, dataset_etag
from ventanilla.directory.freshness import forget_version, mark_changed
from ventanilla.directory.hours import last_state_change
from ventanilla.directory.models import (
    OpeningHours,
    PublicationStatus,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
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

# Monday 3 March 2025, 10:00 in Mexico City (UTC-6, no daylight saving time).
NOW = datetime.datetime(2025, 3, 3, 16, 0, tzinfo=datetime.UTC)
MEXICO = "America/Mexico_City"
URL = "/api/v1/service-points/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    """The anonymous rate is counted in the cache: every test starts with none used."""
    cache.clear()


@pytest.fixture
def frozen(monkeypatch):
    clock = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    return clock


@pytest.fixture
def areas():
    mexico = AreaFactory(pcode="MX", level=0, name="Mexico")
    chiapas = AreaFactory(pcode="MX07", level=1, name="Chiapas", parent=mexico, country_pcode="MX")
    tapachula = AreaFactory(pcode="MX07089", level=2, name="Tapachula", parent=chiapas, country_pcode="MX")
    guatemala = AreaFactory(pcode="GT", level=0, name="Guatemala")
    malacatan = AreaFactory(pcode="GT1215", level=2, name="Malacatan", parent=guatemala, country_pcode="GT")
    return {"tapachula": tapachula, "malacatan": malacatan}


@pytest.fixture
def points(frozen, areas):
    """Three published points near Tapachula; a draft, an archived point and a hidden provider's."""
    provider = ProviderFactory(name="Casa del Migrante", website="https://casa.example.org")
    shelter = PointFactory(
        provider=provider,
        name="Albergue Belén",
        categories=["shelter", "food"],
        area=areas["tapachula"],
        address="Calle 5 Norte 20",
        phone="+529621234567",
        whatsapp="+529621234568",
        languages=",es,en,",
        time_zone=MEXICO,
        age_min=0,
        age_max=17,
        female_staff=True,
        last_verified_at=NOW - datetime.timedelta(days=3),
        **at_position(14.9059, -92.2633),
    )
    add_hours(shelter, 0, "08:00", "18:00")
    add_exception(shelter, datetime.date(2025, 3, 18))
    add_exception(shelter, datetime.date(2025, 3, 1))  # past: not shown
    add_text(shelter, "en", description="Beds for children.", directions="Behind the church.")
    add_text(shelter, "es", description="Camas para niños.", directions="Detrás de la iglesia.")
    clinic = PointFactory(
        provider=provider,
        name="Clínica Esperanza",
        categories=["medical"],
        area=areas["tapachula"],
        languages=",es,",
        time_zone=MEXICO,
        **at_position(14.92, -92.25),
    )
    add_hours(clinic, 0, "12:00", "16:00")  # closed at 10:00
    add_text(clinic, "en", description="Free consultations.")
    legal = PointFactory(
        provider=ProviderFactory(name="Abogados sin Fronteras"),
        name="Asesoría Legal Malacatán",
        categories=["legal"],
        area=areas["malacatan"],
        languages=",es,mam,",
        time_zone="America/Guatemala",
        **at_position(14.91, -92.06),
    )
    draft = PointFactory(
        provider=provider, name="Draft refuge", categories=["shelter"], status=PublicationStatus.DRAFT
    )
    archived = PointFactory(
        provider=provider, name="Old shelter", categories=["shelter"], status=PublicationStatus.ARCHIVED
    )
    hidden = PointFactory(
        provider=ProviderFactory(name="Not yet public", status=PublicationStatus.DRAFT),
        name="Hidden clinic",
        categories=["medical"],
    )
    return {
        "shelter": shelter,
        "clinic": clinic,
        "legal": legal,
        "draft": draft,
        "archived": archived,
        "hidden": hidden,
    }


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


# --- The public search ----------------------------------------------------------------------------


def test_anyone_lists_published_points_only_by_name_with_every_field(points):
    # when someone without an account lists the service points in English
    response = Client().get(URL, HTTP_ACCEPT_LANGUAGE="en")
    # then only the published points of published providers are there, by name
    body = response.json()
    assert (body["count"], body["next"], body["previous"]) == (3, None, None)
    assert names(response) == ["Albergue Belén", "Asesoría Legal Malacatán", "Clínica Esperanza"]
    # and each says all a migrant needs, words in English
    shelter = points["shelter"]
    assert body["results"][0] == {
        "id": shelter.pk,
        "name": "Albergue Belén",
        "status": "published",
        "owner": shelter.owner_id,
        "provider": {
            "id": shelter.provider_id,
            "name": "Casa del Migrante",
            "kind": "ngo",
            "website": "https://casa.example.org",
        },
        "categories": ["shelter", "food"],
        "address": "Calle 5 Norte 20",
        "area": "MX07089",
        "latitude": 14.9059,
        "longitude": -92.2633,
        "distance_km": None,
        "phone": "+529621234567",
        "whatsapp": "+529621234568",
        "languages": ["es", "en"],
        "age_min": 0,
        "age_max": 17,
        "sexes": "any",
        "nationalities": "",
        "legal_status": "",
        "cost": "free",
        "access": "walk_in",
        "wheelchair_accessible": False,
        "female_staff": True,
        "time_zone": MEXICO,
        "opening_hours": [{"weekday": 0, "opens": "08:00", "closes": "18:00"}],
        "opening_exceptions": [
            {"date": "2025-03-18", "is_closed": True, "opens": None, "closes": None, "note": ""}
        ],
        "is_open_now": True,
        "closes_at": "18:00",
        "last_verified_at": "2025-02-28T16:00:00Z",
        "description": "Beds for children.",
        "directions": "Behind the church.",
        "eligibility": "",
        "text_language": "en",
        "text_is_fallback": False,
        "text_is_outdated": False,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("category=shelter", ["Albergue Belén"]),
        ("category=legal", ["Asesoría Legal Malacatán"]),
        ("language=mam", ["Asesoría Legal Malacatán"]),
        ("language=en", ["Albergue Belén"]),
        ("area=MX07089", ["Albergue Belén", "Clínica Esperanza"]),
        ("area=MX", ["Albergue Belén", "Clínica Esperanza"]),  # a country holds its districts
        ("area=GT", ["Asesoría Legal Malacatán"]),
        ("open_now=true", ["Albergue Belén"]),
        ("open_now=false", ["Albergue Belén", "Asesoría Legal Malacatán", "Clínica Esperanza"]),
        ("q=clínica", ["Clínica Esperanza"]),
        ("q=children", ["Albergue Belén"]),  # words of the description
        ("q=fronteras", ["Asesoría Legal Malacatán"]),  # the provider's name
        ("category=medical&area=MX07", ["Clínica Esperanza"]),
        ("category=medical&open_now=true", []),
    ],
)
def test_filters(points, query, expected):
    assert names(Client().get(f"{URL}?{query}")) == expected


def test_near_sorts_by_distance_and_gives_it_within_the_radius(points):
    # when someone asks what is near the shelter's door
    response = Client().get(f"{URL}?near=14.9059,-92.2633")
    # then the points come nearest first, each with its distance
    rows = [(row["name"], row["distance_km"]) for row in response.json()["results"]]
    assert rows == [("Albergue Belén", 0.0), ("Clínica Esperanza", 2.12), ("Asesoría Legal Malacatán", 21.85)]
    # and a radius leaves out what is further
    near = Client().get(f"{URL}?near=14.9059,-92.2633&radius_km=5")
    assert names(near) == ["Albergue Belén", "Clínica Esperanza"]
    assert near.json()["count"] == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=spaceships", "category"),
        ("near=200,0", "near"),
        ("near=north", "near"),
        ("open_now=maybe", "open_now"),
        ("language=zz9", "language"),
        ("language=xx", "language"),
        ("area=XX999", "area"),
        ("radius_km=0", "radius_km"),
        ("lang=de", "lang"),
        (f"q={'x' * 201}", "q"),
    ],
)
def test_a_bad_filter_is_a_400_naming_it(points, query, field):
    # when a filter has an impossible value
    response = Client().get(f"{URL}?{query}")
    # then the answer is 400 in the API's error format, naming that parameter and only it
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], list(error["fields"])) == ("invalid", [field])


def test_bad_near_says_what_is_wrong(points):
    response = Client().get(f"{URL}?near=200,0")
    assert response.json()["error"]["fields"] == {
        "near": ["Latitude must be between -90 and 90 and longitude between -180 and 180."]
    }


def test_pages_with_limit_and_offset(points):
    # when a client reads the list one point at a time
    first = Client().get(f"{URL}?limit=1").json()
    second = Client().get(f"{URL}?limit=1&offset=1").json()
    # then each page has one, the count is the total, and the links lead on
    assert [r["name"] for r in first["results"] + second["results"]] == [
        "Albergue Belén",
        "Asesoría Legal Malacatán",
    ]
    assert (first["count"], first["previous"]) == (3, None)
    assert first["next"] == "http://testserver/api/v1/service-points/?limit=1&offset=1"
    assert second["previous"] == "http://testserver/api/v1/service-points/?limit=1"


def test_near_pages_too(points):
    page = Client().get(f"{URL}?near=14.9059,-92.2633&limit=1&offset=2").json()
    assert ([r["name"] for r in page["results"]], page["count"]) == (["Asesoría Legal Malacatán"], 3)


# --- Language -------------------------------------------------------------------------------------


def words(response, name: str) -> tuple[str | None, str | None, bool]:
    row = next(row for row in response.json()["results"] if row["name"] == name)
    return row["description"], row["text_language"], row["text_is_fallback"]


def test_words_in_the_language_asked_for_or_a_fallback_said_so(points):
    spanish = Client().get(f"{URL}?lang=es")
    arabic = Client().get(URL, HTTP_ACCEPT_LANGUAGE="ar")
    # then Spanish words where they exist, English (said to be a fallback) elsewhere
    assert words(spanish, "Albergue Belén") == ("Camas para niños.", "es", False)
    assert words(spanish, "Clínica Esperanza") == ("Free consultations.", "en", True)
    assert words(arabic, "Albergue Belén") == ("Beds for children.", "en", True)
    # and a point with no words at all says so with nulls
    assert words(arabic, "Asesoría Legal Malacatán") == (None, None, False)


def test_accept_language_chooses_the_words_and_lang_wins_over_it(points):
    by_header = Client().get(URL, HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    both = Client().get(f"{URL}?lang=en", HTTP_ACCEPT_LANGUAGE="es")
    assert words(by_header, "Albergue Belén") == ("Camas para niños.", "es", False)
    assert words(both, "Albergue Belén") == ("Beds for children.", "en", False)


def test_an_outdated_translation_says_so(points):
    # given the English words of the shelter changed after the Spanish ones were written
    ServicePointText.objects.filter(point=points["shelter"], language="es").update(is_outdated=True)
    # when someone reads it in Spanish
    row = Client().get(f"{URL}{points['shelter'].pk}/?lang=es").json()
    # then the Spanish words are shown, marked outdated
    assert (row["description"], row["text_is_outdated"]) == ("Camas para niños.", True)


# --- One point ------------------------------------------------------------------------------------


def test_one_published_point_for_anyone(points):
    response = Client().get(f"{URL}{points['clinic'].pk}/?lang=es")
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["is_open_now"], body["closes_at"], body["distance_km"]) == (
        "Clínica Esperanza",
        False,
        None,
        None,
    )
    assert response["Cache-Control"] == "public, max-age=60"


def test_a_point_without_hours_is_neither_open_nor_closed(points):
    body = Client().get(f"{URL}{points['legal'].pk}/").json()
    assert (body["is_open_now"], body["opening_hours"], body["closes_at"]) == (None, [], None)


@pytest.mark.parametrize("name", ["draft", "archived", "hidden"])
def test_drafts_archived_and_hidden_points_are_not_public(points, name):
    # when someone without an account asks for one, by id or in any list
    response = Client().get(f"{URL}{points[name].pk}/")
    listed = [row["id"] for row in Client().get(f"{URL}?limit=200").json()["results"]]
    in_dataset = [row["id"] for row in Client().get(f"{URL}dataset/").json()["points"]]
    # then it does not exist for them
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert points[name].pk not in listed + in_dataset


def test_a_draft_is_shown_to_the_staff_who_keep_it_and_never_cached(world, client_for, frozen, areas):
    # given a draft kept by organisation A
    draft = PointFactory(
        owner=world.a.organisation,
        provider=ProviderFactory(owner=world.a.organisation),
        name="Draft refuge",
        status=PublicationStatus.DRAFT,
    )
    url = f"{URL}{draft.pk}/"
    # when A's information officer, A's caseworker and B's administrator ask for it
    officer = client_for(world.user("a", "information_officer")).get(url)
    caseworker = client_for(world.user("a", "caseworker")).get(url)
    other = client_for(world.user("b", "administrator")).get(url)
    # then only the officer (who keeps A's directory) sees it, in a private, unstored answer
    assert (officer.status_code, caseworker.status_code, other.status_code) == (200, 404, 404)
    assert (officer.json()["status"], officer["Cache-Control"]) == ("draft", "private, no-store")


def test_the_list_never_shows_drafts_even_to_their_keepers(world, client_for, frozen):
    PointFactory(
        owner=world.a.organisation,
        provider=ProviderFactory(owner=world.a.organisation),
        name="Draft refuge",
        status=PublicationStatus.DRAFT,
    )
    response = client_for(world.user("a", "administrator")).get(URL)
    assert names(response) == []


# --- Conditional GET ------------------------------------------------------------------------------


def test_list_sends_validators_and_answers_304_while_nothing_changed(points):
    client = Client()
    # given a first answer
    first = client.get(f"{URL}?category=shelter")
    etag, last_modified = first["ETag"], first["Last-Modified"]
    # then it carries an ETag, Last-Modified (the latest change: the shelter opened at 08:00 local)
    assert first["Cache-Control"] == "public, max-age=60"
    assert last_modified == http_date(datetime.datetime(2025, 3, 3, 16, 0, tzinfo=datetime.UTC).timestamp())
    assert "Accept-Language" in first["Vary"]
    # when the client asks again with either validator
    by_tag = client.get(f"{URL}?category=shelter", HTTP_IF_NONE_MATCH=etag)
    by_date = client.get(f"{URL}?category=shelter", HTTP_IF_MODIFIED_SINCE=last_modified)
    # then the answer is an empty 304 carrying the same validators
    assert (by_tag.status_code, by_tag.content, by_tag["ETag"]) == (304, b"", etag)
    assert (by_date.status_code, by_date["Last-Modified"]) == (304, last_modified)
    # and a date before the last change, or another tag, gets the full answer
    earlier = http_date(NOW.timestamp() - 60)
    assert client.get(f"{URL}?category=shelter", HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200
    assert client.get(f"{URL}?category=shelter", HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_last_modified_is_the_latest_opening_or_closing_when_nothing_was_edited(points, frozen):
    # given it is 10:00 and the points were last edited at 09:00 local
    frozen["now"] = NOW - datetime.timedelta(hours=1)
    ServicePoint.objects.update(updated_at=timezone.now())
    ServiceProvider.objects.update(updated_at=timezone.now())
    ServicePointText.objects.update(updated_at=timezone.now())
    frozen["now"] = NOW
    # when the clinic's answer is asked for at 10:00 and at 13:00 (it opened at 12:00)
    at_ten = Client().get(f"{URL}{points['clinic'].pk}/")
    frozen["now"] = NOW + datetime.timedelta(hours=3)
    at_one = Client().get(f"{URL}{points['clinic'].pk}/", HTTP_IF_MODIFIED_SINCE=at_ten["Last-Modified"])
    # then at ten it dates from the edit; at one it dates from the opening, so the 10:00 copy is stale
    assert at_ten["Last-Modified"] == http_date((NOW - datetime.timedelta(hours=1)).timestamp())
    assert at_one.status_code == 200
    assert at_one.json()["is_open_now"] is True
    assert at_one["Last-Modified"] == http_date(
        datetime.datetime(2025, 3, 3, 18, 0, tzinfo=datetime.UTC).timestamp()
    )


def test_etag_changes_with_the_data_the_language_and_the_open_state(points, frozen, world):
    def tag(query: str = "") -> str:
        return Client().get(f"{URL}{points['clinic'].pk}/{query}")["ETag"]

    # given the clinic's tag now
    before = tag()
    assert tag() == before
    # then another language is another answer
    assert tag("?lang=es") != before
    # and so is the clinic opening at noon
    frozen["now"] = NOW + datetime.timedelta(hours=3)
    opened = tag()
    assert opened != before
    # and so is an edit
    ServicePoint.objects.filter(pk=points["clinic"].pk).update(
        name="Clínica Nueva", updated_at=timezone.now()
    )
    assert tag() != opened


def test_list_etag_changes_when_a_point_leaves_it(points):
    client = Client()
    etag = client.get(f"{URL}?category=medical")["ETag"]
    ServicePoint.objects.filter(pk=points["clinic"].pk).update(
        status=PublicationStatus.ARCHIVED, updated_at=timezone.now() + datetime.timedelta(seconds=5)
    )
    mark_changed()  # as set_point_status() does in the same transaction
    response = client.get(f"{URL}?category=medical", HTTP_IF_NONE_MATCH=etag)
    assert (response.status_code, names(response)) == (200, [])


def test_dataset_is_the_compact_dataset_with_its_etag_and_304(points):
    client = Client()
    # when anyone asks for the dataset
    response = client.get(f"{URL}dataset/")
    # then it is the compact dataset, tagged with its version, cacheable
    body = response.json()
    expected = compact_dataset()
    assert {**body, "generated": None} == {**expected, "generated": None}
    assert [row["n"] for row in body["points"]] == [
        "Albergue Belén",
        "Clínica Esperanza",
        "Asesoría Legal Malacatán",
    ]
    assert response["ETag"] == f'"{dataset_etag()}"'
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["Last-Modified"] == http_date(NOW.timestamp())
    # and asking again with the tag costs nothing
    again = client.get(f"{URL}dataset/", HTTP_IF_NONE_MATCH=response["ETag"])
    assert (again.status_code, again.content) == (304, b"")


def test_head_answers_like_get_without_a_body(points):
    response = Client().head(URL)
    assert (response.status_code, response.content) == (200, b"")
    assert response["ETag"] == Client().get(URL)["ETag"]


# --- Cost -----------------------------------------------------------------------------------------


def add_points(provider, first: int, count: int, area) -> None:
    for n in range(first, first + count):
        point = PointFactory(
            provider=provider,
            name=f"Extra point {n:02d}",
            categories=["medical", "food"],
            area=area,
            time_zone=MEXICO,
            **at_position(14.9 + n / 1000, -92.26),
        )
        add_hours(point, 0, "08:00", "18:00")
        add_exception(point, datetime.date(2025, 3, 20))
        add_text(point, "en", description=f"Point {n}")


@pytest.mark.parametrize("query", ["", "?near=14.9,-92.26&open_now=true&category=medical&lang=es"])
def test_list_costs_the_same_queries_for_2_points_or_25(points, query, django_assert_max_num_queries):
    provider = ProviderFactory(name="Many points")
    add_points(provider, 0, 1, points["shelter"].area)
    client = Client()
    client.get(f"{URL}{query}")
    cache.clear()  # the answer computed afresh, not the one kept a moment ago
    forget_version()  # and the directory version read again, as after the points added below
    with CaptureQueriesContext(connection) as captured:
        client.get(f"{URL}{query}")
    add_points(provider, 1, 23, points["shelter"].area)
    cache.clear()
    forget_version()
    with django_assert_max_num_queries(len(captured.captured_queries)):
        response = client.get(f"{URL}{query}")
    assert {f"Extra point {n:02d}" for n in range(24)} <= set(names(response))


def test_anonymous_callers_are_throttled_politely_and_staff_never(points, world, client_for, monkeypatch):
    # given a rate of two requests a minute
    monkeypatch.setattr(directory_api.PublicRateThrottle, "THROTTLE_RATES", {"anon": "2/minute"})
    anonymous, staff = Client(), client_for(world.user("a", "caseworker"))
    # when each calls three times
    anonymous_codes = [anonymous.get(URL).status_code for _n in range(3)]
    staff_codes = [staff.get(URL).status_code for _n in range(3)]
    # then the third anonymous call waits; staff are not counted
    assert anonymous_codes == [200, 200, 429]
    assert staff_codes == [200, 200, 200]
    assert Client().get(URL).json()["error"]["code"] == "throttled"


# --- Staff writes ---------------------------------------------------------------------------------


@pytest.fixture
def provider_a(world):
    return ProviderFactory(owner=world.a.organisation, name="Casa Alfa Salud")


def new_point(world, provider, **changes):
    body = {
        "owner": world.a.organisation.pk,
        "provider": provider.pk,
        "name": "Clínica Alfa",
        "categories": ["medical", "mhpss"],
        "address": "Avenida 1",
        "area": "MX07089",
        "latitude": 14.123456,
        "longitude": -92.5,
        "time_zone": MEXICO,
        "phone": "+52 962 123 4567",
        "languages": ["es", "mam"],
        "age_min": 18,
        "cost": "low",
        "access": "referral",
        "female_staff": True,
        "texts": {"en": {"description": "A clinic."}, "es": {"description": "Una clínica."}},
        "hours": [
            {"weekday": 0, "opens": "09:00", "closes": "13:00"},
            {"weekday": 2, "opens": "09:00", "closes": "13:00"},
        ],
        "exceptions": [{"date": "2025-12-25", "is_closed": True}],
    }
    return {**body, **changes}


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


def patch(client, url, body):
    return client.patch(url, json.dumps(body), content_type="application/json")


def test_a_content_manager_creates_a_draft_point_with_everything(world, client_for, areas, provider_a):
    officer = world.user("a", "information_officer")
    # when A's information officer posts a new point
    response = post(client_for(officer), URL, new_point(world, provider_a))
    # then it is stored as a draft, every part of it, and the answer shows it
    assert response.status_code == 201, response.content
    point = ServicePoint.objects.get(pk=response.json()["id"])
    assert (point.status, point.owner, point.provider, point.area.pcode) == (
        "draft",
        world.a.organisation,
        provider_a,
        "MX07089",
    )
    assert (point.latitude, point.longitude, point.phone, point.languages) == (
        Decimal("14.12346"),
        Decimal("-92.50000"),
        "+529621234567",
        ",es,mam,",
    )
    assert sorted(point.categories.values_list("code", flat=True)) == ["medical", "mhpss"]
    assert sorted(point.texts.values_list("language", "description")) == [
        ("en", "A clinic."),
        ("es", "Una clínica."),
    ]
    assert list(point.hours.values_list("weekday", "opens")) == [(0, datetime.time(9)), (2, datetime.time(9))]
    assert list(point.exceptions.values_list("date", "is_closed")) == [(datetime.date(2025, 12, 25), True)]
    assert response.json()["status"] == "draft"
    assert response.json()["opening_hours"][0] == {"weekday": 0, "opens": "09:00", "closes": "13:00"}
    # and the audit log says who created it
    entry = AuditEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.actor_id, entry.object_id) == (AuditAction.CREATE, officer.pk, str(point.pk))


def state() -> tuple:
    return (
        list(ServicePoint.objects.order_by("pk").values()),
        list(ServicePointText.objects.order_by("pk").values()),
        list(OpeningHours.objects.order_by("pk").values()),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        (
            {"categories": ["medical", "spaceships"]},
            {"categories": {"1": ['"spaceships" is not a valid choice.']}},
        ),
        ({"categories": []}, {"categories": ["This list may not be empty."]}),
        (
            {"hours": [{"weekday": 0, "opens": "13:00", "closes": "09:00"}]},
            {"hours": ["Closing time 09:00 is not after opening time 13:00; split hours past midnight."]},
        ),
        (
            {"hours": [{"weekday": 7, "opens": "09:00", "closes": "13:00"}]},
            {"hours": {"0": {"weekday": ["Ensure this value is less than or equal to 6."]}}},
        ),
        ({"hours": [{"weekday": 1, "opens": "nine", "closes": "13:00"}]}, None),
        ({"latitude": 95}, {"latitude": ["Ensure this value is less than or equal to 90."]}),
        ({"longitude": None}, {"longitude": ["Give both latitude and longitude, or neither."]}),
        (
            {"phone": "962 123"},
            {"phone": ["Enter the number in international format, for example +52 962 123 4567."]},
        ),
        ({"languages": ["es", "klingon"]}, None),
        (
            {"texts": {"de": {"description": "Klinik"}}},
            {"texts": ["Ventanilla does not offer the language de."]},
        ),
        (
            {"time_zone": "Mars/Olympus"},
            {"time_zone": ["Unknown time zone; use a name such as America/Mexico_City."]},
        ),
        ({"area": "XX404"}, {"area": ["Object with pcode=XX404 does not exist."]}),
        ({"age_min": 30, "age_max": 20}, {"age_max": ["The maximum age is below the minimum age."]}),
        ({"name": ""}, {"name": ["This field may not be blank."]}),
    ],
)
def test_a_bad_point_is_refused_naming_the_field_and_nothing_is_written(
    world, client_for, areas, provider_a, changes, fields
):
    before = state()
    response = post(
        client_for(world.user("a", "administrator")), URL, new_point(world, provider_a, **changes)
    )
    assert response.status_code == 400
    actual = response.json()["error"]["fields"]
    if fields is None:
        assert list(actual) == list(changes)
    else:
        assert actual == fields
    assert state() == before


def test_a_manager_of_b_cannot_create_a_point_for_a(world, client_for, areas, provider_a):
    before = state()
    response = post(client_for(world.user("b", "administrator")), URL, new_point(world, provider_a))
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "owner": ["You do not keep the directory for this organisation."]
    }
    assert state() == before


def test_patch_changes_only_what_is_given_and_replaces_hours(world, client_for, areas, provider_a):
    client = client_for(world.user("a", "site_manager"))
    point_id = post(client, URL, new_point(world, provider_a)).json()["id"]
    # when the site manager renames it and gives new hours
    response = patch(
        client,
        f"{URL}{point_id}/",
        {"name": "Clínica Alfa Centro", "hours": [{"weekday": 4, "opens": "10:00", "closes": "12:00"}]},
    )
    # then those change and the rest stays
    assert response.status_code == 200, response.content
    point = ServicePoint.objects.get(pk=point_id)
    assert (point.name, point.phone, point.cost) == ("Clínica Alfa Centro", "+529621234567", "low")
    assert list(point.hours.values_list("weekday", "opens", "closes")) == [
        (4, datetime.time(10), datetime.time(12))
    ]
    assert sorted(point.categories.values_list("code", flat=True)) == ["medical", "mhpss"]
    entry = AuditEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.fields) == (AuditAction.UPDATE, ["hours", "name"])


def test_publish_archive_and_verify(world, client_for, areas, provider_a, frozen):
    client = client_for(world.user("a", "administrator"))
    point_id = post(client, URL, new_point(world, provider_a)).json()["id"]
    # when the administrator publishes, verifies and then archives it
    published = post(client, f"{URL}{point_id}/publish/", {})
    public = Client().get(f"{URL}{point_id}/")
    verified = post(client, f"{URL}{point_id}/verify/", {})
    archived = post(client, f"{URL}{point_id}/archive/", {})
    # then each step shows in the answer, and the public saw it only while it was published
    assert (published.status_code, published.json()["status"]) == (200, "published")
    assert public.status_code == 200
    assert verified.json()["last_verified_at"] == "2025-03-03T16:00:00Z"
    assert ServicePoint.objects.get(pk=point_id).verified_by == world.user("a", "administrator")
    assert (archived.status_code, archived.json()["status"]) == (200, "archived")
    assert Client().get(f"{URL}{point_id}/").status_code == 404


# --- Providers ------------------------------------------------------------------------------------


PROVIDERS = "/api/v1/service-providers/"


def test_providers_are_listed_to_staff_with_their_own_drafts_only(world, client_for):
    ProviderFactory(owner=world.a.organisation, name="A published")
    ProviderFactory(owner=world.a.organisation, name="A draft", status=PublicationStatus.DRAFT)
    ProviderFactory(owner=world.b.organisation, name="B draft", status=PublicationStatus.DRAFT)
    listed = {
        who: [row["name"] for row in client_for(world.user(org, role)).get(PROVIDERS).json()["results"]]
        for who, (org, role) in {
            "a officer": ("a", "information_officer"),
            "a caseworker": ("a", "caseworker"),
            "b administrator": ("b", "administrator"),
        }.items()
    }
    assert listed == {
        "a officer": ["A draft", "A published"],
        "a caseworker": ["A published"],
        "b administrator": ["A published", "B draft"],
    }
    assert Client().get(PROVIDERS).status_code == 401


def test_a_manager_creates_and_changes_a_provider(world, client_for):
    client = client_for(world.user("a", "information_officer"))
    # when the officer creates a provider and then publishes it
    created = post(
        client,
        PROVIDERS,
        {"owner": world.a.organisation.pk, "name": "Clínica Luz", "kind": "ngo", "phone": "+502 7776 0000"},
    )
    changed = patch(client, f"{PROVIDERS}{created.json()['id']}/", {"status": "published"})
    # then it is stored with the phone in international form, and published
    assert created.status_code == 201, created.content
    provider = ServiceProvider.objects.get(name="Clínica Luz")
    assert (provider.owner, provider.phone, provider.status) == (
        world.a.organisation,
        "+50277760000",
        "published",
    )
    assert changed.json()["status"] == "published"


def test_a_provider_name_is_unique_per_organisation(world, client_for):
    ProviderFactory(owner=world.a.organisation, name="Clínica Luz")
    before = ServiceProvider.objects.count()
    response = post(
        client_for(world.user("a", "administrator")),
        PROVIDERS,
        {"owner": world.a.organisation.pk, "name": "Clínica Luz"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {
        "name": ["This organisation already keeps a provider with this name."]
    }
    assert ServiceProvider.objects.count() == before


def test_providers_list_costs_the_same_queries_for_1_or_23(world, client_for, django_assert_max_num_queries):
    client = client_for(world.user("a", "information_officer"))
    ProviderFactory(owner=world.a.organisation, name="Provider 00", status=PublicationStatus.DRAFT)
    client.get(PROVIDERS)
    with CaptureQueriesContext(connection) as captured:
        client.get(PROVIDERS)
    for n in range(1, 23):
        ProviderFactory(owner=world.a.organisation, name=f"Provider {n:02d}", status=PublicationStatus.DRAFT)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        rows = client.get(PROVIDERS).json()["results"]
    assert [row["name"] for row in rows] == [f"Provider {n:02d}" for n in range(23)]


# --- When the opening state last changed (what Last-Modified relies on) ----------------------------


def local(day: int, hour: int, minute: int = 0) -> datetime.datetime:
    """March 2025 in Mexico City (UTC-6): the 3rd is a Monday."""
    return datetime.datetime(2025, 3, day, hour, minute, tzinfo=ZoneInfo(MEXICO))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (local(3, 10), local(3, 8)),  # Monday, open since 08:00
        (local(3, 8), local(3, 8)),  # the very moment it opens
        (local(3, 19), local(3, 18)),  # Monday evening, closed at 18:00
        (local(4, 9), local(3, 18)),  # Tuesday: no hours, still closed since Monday
        (local(5, 11), local(5, 10)),  # Wednesday 10:00-12:00
        (local(10, 7), local(5, 12)),  # next Monday before opening: Wednesday's closing
        (local(17, 12), local(17, 0)),  # a closed exceptional Monday: it changed at midnight
        (local(18, 1), local(18, 0)),  # and changed back at the next midnight
        (local(19, 10, 30), local(19, 10)),  # an exceptional Wednesday, open 10:00-11:00
        (local(19, 9), local(19, 0)),  # before it opens: midnight, when the exception began
    ],
)
def test_last_state_change(frozen, at, expected):
    point = PointFactory(time_zone=MEXICO)
    add_hours(point, 0, "08:00", "18:00")
    add_hours(point, 2, "10:00", "12:00")
    add_exception(point, datetime.date(2025, 3, 17))
    add_exception(point, datetime.date(2025, 3, 19), "10:00", "11:00")
    point = ServicePoint.objects.prefetch_related("hours", "exceptions").get(pk=point.pk)
    assert last_state_change(point, at) == expected


def test_a_point_without_hours_never_changes_state(frozen):
    point = ServicePoint.objects.prefetch_related("hours", "exceptions").get(pk=PointFactory().pk)
    assert last_state_change(point, NOW) is None


# --- Kept answers (directory.answer_cache) -------------------------------------------------------------


def test_a_kept_search_answer_keeps_its_etag_last_modified_and_304(points):
    client = Client()
    first = client.get(f"{URL}?category=medical")
    # the data changes behind the services: the next answer is the kept one
    ServicePoint.objects.filter(pk=points["clinic"].pk).update(name="Renamed quietly")
    again = client.get(f"{URL}?category=medical")
    assert again.content == first.content
    assert (again["ETag"], again["Last-Modified"], again["Cache-Control"]) == (
        first["ETag"],
        first["Last-Modified"],
        first["Cache-Control"],
    )
    # a phone holding the copy gets a 304 with the validators, from the kept answer too
    revalidated = client.get(f"{URL}?category=medical", HTTP_IF_NONE_MATCH=first["ETag"])
    assert (revalidated.status_code, revalidated["ETag"]) == (304, first["ETag"])
    assert (
        client.get(f"{URL}?category=medical", HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code
        == 304
    )


def test_an_archived_point_leaves_the_next_search_at_once(points, world):
    client = Client()
    etag = client.get(f"{URL}?category=medical")["ETag"]
    clinic = points["clinic"]
    ServicePoint.objects.filter(pk=clinic.pk).update(owner=world.a.organisation)
    clinic.refresh_from_db()
    services.set_point_status(clinic, status=PublicationStatus.ARCHIVED, by=world.user("a", "administrator"))
    response = client.get(f"{URL}?category=medical", HTTP_IF_NONE_MATCH=etag)
    assert (response.status_code, "Clínica Esperanza" in names(response)) == (200, False)


def test_signed_in_callers_get_the_search_computed_afresh(points, world, client_for):
    anonymous, staff = Client(), client_for(world.user("a", "caseworker"))
    anonymous.get(f"{URL}?category=medical")
    ServicePoint.objects.filter(pk=points["clinic"].pk).update(name="Renamed quietly")
    assert "Renamed quietly" in names(staff.get(f"{URL}?category=medical"))
    assert "Renamed quietly" not in names(anonymous.get(f"{URL}?category=medical"))


def test_a_kept_search_answer_is_compressed_for_readers_that_accept_gzip(points):
    client = Client(headers={"Accept-Encoding": "gzip, deflate"})
    plain = Client().get(f"{URL}?category=medical")
    first = client.get(f"{URL}?category=medical")
    again = client.get(f"{URL}?category=medical")
    # the body is the same JSON, compressed; its ETag is the plain answer's, made weak
    assert (first["Content-Encoding"], again["Content-Encoding"]) == ("gzip", "gzip")
    assert gzip.decompress(first.content) == gzip.decompress(again.content) == plain.content
    assert first["ETag"] == "W/" + plain["ETag"]
    assert "Accept-Encoding" in first["Vary"]
    assert "Content-Encoding" not in plain
    # and the weak ETag revalidates to a 304 carrying it
    revalidated = client.get(f"{URL}?category=medical", HTTP_IF_NONE_MATCH=first["ETag"])
    assert (revalidated.status_code, revalidated["ETag"], revalidated.content) == (304, first["ETag"], b"")
