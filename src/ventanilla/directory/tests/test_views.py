"""Staff pages of the directory: who may use them, the forms and their errors, import and export."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.core.roles import Role
from ventanilla.directory import services
from ventanilla.directory.exports import COLUMNS
from ventanilla.directory.models import (
    ImportJob,
    OpeningException,
    OpeningHours,
    PublicationStatus,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
)
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory, add_text, at_position
from ventanilla.testing.factories import AreaFactory

MANAGERS = {"administrator", "site_manager", "information_officer"}
LIST = "/en/staff/directory/"
NEW_POINT = "/en/staff/directory/points/new/"
NEW_PROVIDER = "/en/staff/directory/providers/new/"
IMPORT = "/en/staff/directory/import/"


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def new_entries(since: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(pk__gt=since).order_by("pk"))


def directory_state() -> dict[str, Any]:
    return {
        "providers": list(ServiceProvider.objects.order_by("pk").values()),
        "points": list(ServicePoint.objects.order_by("pk").values()),
        "texts": list(ServicePointText.objects.order_by("pk").values()),
        "hours": list(OpeningHours.objects.order_by("pk").values()),
        "exceptions": list(OpeningException.objects.order_by("pk").values()),
        "audit": AuditEntry.objects.count(),
    }


def errors(form: Any) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def point_of(world: Any, org: str = "a", **values: Any) -> ServicePoint:
    organisation = getattr(world, org).organisation
    provider = ProviderFactory(owner=organisation, name=f"Provider of {org}")
    return PointFactory(provider=provider, **values)


def point_data(provider: ServiceProvider, **overrides: Any) -> dict[str, Any]:
    """A complete, valid create/edit form: the point, the hours grid, no exceptions, texts."""
    data: dict[str, Any] = {
        "provider": provider.pk,
        "name": "Clínica La Esperanza",
        "categories": ["medical", "mhpss"],
        "address": "4a Avenida Norte 12",
        "area": "",
        "latitude": "14.90593",
        "longitude": "-92.26331",
        "time_zone": "America/Mexico_City",
        "phone": "+52 962 123 4567",
        "whatsapp": "",
        "languages": "es, en, mam",
        "age_min": "",
        "age_max": "",
        "sexes": "any",
        "nationalities": "",
        "legal_status": "",
        "cost": "free",
        "access": "walk_in",
        "female_staff": "on",
        "hours-d0_0_opens": "09:00",
        "hours-d0_0_closes": "13:00",
        "hours-d0_1_opens": "14:00",
        "hours-d0_1_closes": "17:00",
        "hours-d4_0_opens": "09:00",
        "hours-d4_0_closes": "12:00",
        "exceptions-TOTAL_FORMS": "2",
        "exceptions-INITIAL_FORMS": "0",
        "exceptions-MIN_NUM_FORMS": "0",
        "exceptions-MAX_NUM_FORMS": "100",
        "text-en-description": "General medicine and vaccines.",
        "text-es-description": "Medicina general y vacunas.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


# --- Who may use the pages ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_only_content_managers_open_the_directory_pages(world, client_for, role):
    # given a user of organisation A with this role
    client = client_for(world.user("a", role))
    point = point_of(world)
    urls = [
        LIST,
        NEW_POINT,
        f"/en/staff/directory/points/{point.pk}/",
        "/en/staff/directory/stale/",
        "/en/staff/directory/providers/",
        NEW_PROVIDER,
        f"/en/staff/directory/providers/{point.provider_id}/",
        IMPORT,
        "/en/staff/directory/export/",
    ]
    # when they open each page
    statuses = {url: client.get(url).status_code for url in urls}
    # then content managers get every page, everyone else 403
    expected = 200 if role in MANAGERS else 403
    assert statuses == dict.fromkeys(urls, expected)


def test_anonymous_visitors_are_sent_to_sign_in(world, client_for):
    # when an anonymous visitor opens the list
    response = client_for(None).get(LIST)
    # then they are sent to the sign-in page
    assert (response.status_code, response["Location"]) == (302, f"/en/accounts/login/?next={LIST}")


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_organisation_b_cannot_reach_organisation_a_rows(world, client_for, role):
    # given A's point and provider, and a user of B with this role
    point = point_of(world)
    client = client_for(world.user("b", role))
    before = directory_state()
    # when they open or change A's rows
    urls = [
        ("GET", f"/en/staff/directory/points/{point.pk}/"),
        ("POST", f"/en/staff/directory/points/{point.pk}/"),
        ("POST", f"/en/staff/directory/points/{point.pk}/status/"),
        ("POST", f"/en/staff/directory/points/{point.pk}/verify/"),
        ("GET", f"/en/staff/directory/providers/{point.provider_id}/"),
        ("POST", f"/en/staff/directory/providers/{point.provider_id}/"),
    ]
    statuses = {
        f"{method} {url}": (
            client.get(url) if method == "GET" else client.post(url, {"status": "archived"})
        ).status_code
        for method, url in urls
    }
    # then a content manager of B finds nothing there (404); other roles may not use the pages (403)
    expected = 404 if role in MANAGERS else 403
    assert statuses == dict.fromkeys(statuses, expected)
    assert directory_state() == before


def test_lists_show_only_the_rows_of_the_users_organisations(world, client_for):
    # given a point in each organisation, A's published and B's too
    a_point = point_of(world, "a", name="Casa A")
    b_point = point_of(world, "b", name="Casa B")
    # when A's information officer lists points and providers
    client = client_for(world.user("a", "information_officer"))
    points = list(client.get(LIST).context["page"])
    providers = list(client.get("/en/staff/directory/providers/").context["page"])
    # then only A's rows appear
    assert points == [a_point]
    assert providers == [a_point.provider]
    assert b_point not in points


# --- Creating and editing a point -----------------------------------------------------------------


def test_creating_a_point_stores_everything_the_form_holds(world, client_for):
    # given a provider of A and its information officer
    provider = ProviderFactory(owner=world.a.organisation)
    officer = world.user("a", "information_officer")
    area = AreaFactory(pcode="MX07089", level=2, name="Tapachula")
    since = last_audit_id()
    # when the officer sends the full form
    data = point_data(
        provider,
        area="mx07089",
        whatsapp="+502 5555 1234",
        **{
            "exceptions-0-date": "2025-12-25",
            "exceptions-0-is_closed": "on",
            "exceptions-0-note": "Christmas",
            "exceptions-1-date": "2025-12-24",
            "exceptions-1-opens": "09:00",
            "exceptions-1-closes": "12:00",
        },
    )
    response = client_for(officer).post(NEW_POINT, data)
    # then the point is stored, kept by the provider's organisation, with normalised values
    assert (response.status_code, response["Location"]) == (302, LIST)
    point = ServicePoint.objects.get(name="Clínica La Esperanza")
    assert (point.owner, point.provider, point.area, point.status) == (
        world.a.organisation,
        provider,
        area,
        PublicationStatus.DRAFT,
    )
    assert (point.phone, point.whatsapp, point.languages) == ("+529621234567", "+50255551234", ",es,en,mam,")
    assert (point.latitude, point.longitude, point.female_staff) == (
        Decimal("14.90593"),
        Decimal("-92.26331"),
        True,
    )
    assert sorted(point.categories.values_list("code", flat=True)) == ["medical", "mhpss"]
    assert [str(period) for period in point.hours.all()] == [
        "0 09:00-13:00",
        "0 14:00-17:00",
        "4 09:00-12:00",
    ]
    assert list(point.exceptions.values_list("date", "is_closed", "opens", "closes", "note")) == [
        (datetime.date(2025, 12, 24), False, datetime.time(9), datetime.time(12), ""),
        (datetime.date(2025, 12, 25), True, None, None, "Christmas"),
    ]
    assert dict(point.texts.values_list("language", "description")) == {
        "en": "General medicine and vaccines.",
        "es": "Medicina general y vacunas.",
    }
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.object_id) == (AuditAction.CREATE, officer.pk, str(point.pk))


def test_a_bad_point_form_names_every_field_and_writes_nothing(world, client_for):
    # given
    provider = ProviderFactory(owner=world.a.organisation)
    client = client_for(world.user("a", "information_officer"))
    before = directory_state()
    # when the form has a bad value in many fields
    data = point_data(
        provider,
        categories=None,
        area="ZZ999",
        latitude="91",
        phone="962 123 4567",
        languages="es, klingon",
        time_zone="Mars/Olympus",
        **{"hours-d1_0_opens": "18:00", "hours-d1_0_closes": "09:00", "hours-d2_0_opens": "09:00"},
    )
    response = client.post(NEW_POINT, data)
    # then each field says what is wrong, and nothing was written
    assert response.status_code == 400
    form = response.context["form"]
    assert errors(form) == {
        "categories": ["Tick at least one service."],
        "area": ["No administrative area has the P-code ZZ999."],
        "latitude": ["Latitude must be between -90 and 90."],
        "phone": ["Enter the number in international format, for example +52 962 123 4567."],
        "languages": ["Unknown language codes: klingon (use ISO 639 codes such as es, ar, mam)."],
        "time_zone": ["Unknown time zone; use a name such as America/Mexico_City."],
    }
    assert errors(response.context["hours_form"]) == {
        "d2_0_closes": ["Wednesday: give both the opening and the closing time."],
    }
    assert "Please correct the fields marked below. Nothing was saved." in response.content.decode()
    assert directory_state() == before


def test_hours_that_close_before_they_open_are_refused(world, client_for):
    # given
    provider = ProviderFactory(owner=world.a.organisation)
    client = client_for(world.user("a", "administrator"))
    before = directory_state()
    # when Tuesday closes before it opens, and Monday's two periods overlap
    data = point_data(
        provider,
        **{
            "hours-d1_0_opens": "18:00",
            "hours-d1_0_closes": "09:00",
            "hours-d0_1_opens": "12:00",
        },
    )
    response = client.post(NEW_POINT, data)
    # then the grid says so and nothing is written
    assert response.status_code == 400
    assert response.context["hours_form"].non_field_errors() == [
        "Closing time 09:00 is not after opening time 18:00; split hours past midnight.",
        "Two periods overlap on the same day (09:00-13:00 and 12:00-17:00).",
    ]
    assert directory_state() == before


def test_a_provider_of_another_organisation_cannot_be_chosen(world, client_for):
    # given B's provider
    b_provider = ProviderFactory(owner=world.b.organisation)
    client = client_for(world.user("a", "administrator"))
    before = directory_state()
    # when A's administrator tries to create a point under it
    response = client.post(NEW_POINT, point_data(b_provider))
    # then the provider field refuses it
    assert response.status_code == 400
    assert errors(response.context["form"]) == {
        "provider": ["Select a valid choice. That choice is not one of the available choices."]
    }
    assert directory_state() == before


def test_editing_the_english_text_marks_translations_outdated(world, client_for):
    # given a point with English and Spanish texts
    point = point_of(world, time_zone="America/Mexico_City", categories=["food"])
    add_text(point, "en", description="Hot meals.")
    add_text(point, "es", description="Comida caliente.")
    client = client_for(world.user("a", "site_manager"))
    url = f"/en/staff/directory/points/{point.pk}/"
    form = client.get(url).context["form"]
    assert (form.initial["languages"], form.initial["area"]) == ("", "")
    # when the English text changes
    data = point_data(
        point.provider,
        name=point.name,
        categories=["food"],
        **{"text-en-description": "Hot meals at noon.", "text-es-description": "Comida caliente."},
    )
    response = client.post(url, data)
    # then Spanish is outdated, and the edit page says so
    assert response.status_code == 302
    assert ServicePointText.objects.get(point=point, language="es").is_outdated is True
    page = client.get(url).content.decode()
    assert "outdated: the English text changed" in page


def test_the_edit_form_shows_the_stored_values(world, client_for):
    # given a point with an area, languages and three periods on Monday
    area = AreaFactory(pcode="GT1215", level=2)
    point = point_of(world, area=area, languages=",es,mam,")
    for opens, closes in (("08:00", "10:00"), ("11:00", "12:00"), ("13:00", "14:00")):
        OpeningHours.objects.create(
            point=point,
            weekday=0,
            opens=datetime.time.fromisoformat(opens),
            closes=datetime.time.fromisoformat(closes),
        )
    # when the edit page opens
    response = client_for(world.user("a", "administrator")).get(f"/en/staff/directory/points/{point.pk}/")
    # then the form holds them, with a third period column for Monday's third period
    form, hours = response.context["form"], response.context["hours_form"]
    assert (form.initial["area"], form.initial["languages"]) == ("GT1215", "es, mam")
    assert hours.slots == 3
    assert (hours.initial["d0_2_opens"], hours.initial["d0_2_closes"]) == (
        datetime.time(13),
        datetime.time(14),
    )


def test_stored_exceptions_are_kept_unless_ticked_for_deletion(world, client_for):
    # given a point closed on two holidays
    point = point_of(world, categories=["food"])
    for day, note in ((24, "Christmas Eve"), (25, "Christmas")):
        OpeningException.objects.create(point=point, date=datetime.date(2025, 12, day), note=note)
    client = client_for(world.user("a", "administrator"))
    url = f"/en/staff/directory/points/{point.pk}/"
    formset = client.get(url).context["exception_forms"]
    assert (formset.initial_form_count(), formset.total_form_count()) == (2, 4)
    stored = {
        "exceptions-TOTAL_FORMS": "4",
        "exceptions-INITIAL_FORMS": "2",
        "exceptions-0-date": "2025-12-24",
        "exceptions-0-is_closed": "on",
        "exceptions-0-note": "Christmas Eve",
        "exceptions-1-date": "2025-12-25",
        "exceptions-1-is_closed": "on",
        "exceptions-1-note": "Christmas",
    }
    data = point_data(point.provider, name=point.name, categories=["food"], **stored)
    # when the form is sent back unchanged
    unchanged = client.post(url, data)
    # then both days are kept
    assert unchanged.status_code == 302
    assert list(point.exceptions.values_list("note", flat=True)) == ["Christmas Eve", "Christmas"]
    # when the first is ticked for deletion, and a third day given twice
    deleted = client.post(url, {**data, "exceptions-0-DELETE": "on"})
    twice = client.post(url, {**data, "exceptions-2-date": "2025-12-25", "exceptions-2-is_closed": "on"})
    # then the first is gone, and the repeated date is refused
    assert deleted.status_code == 302
    assert list(point.exceptions.values_list("note", flat=True)) == ["Christmas"]
    assert twice.status_code == 400
    assert twice.context["exception_forms"].non_form_errors() == ["The date 2025-12-25 is given twice."]


def test_an_exceptional_day_needs_times_or_closed(world, client_for):
    # given
    provider = ProviderFactory(owner=world.a.organisation)
    before = directory_state()
    # when a day is given without times and not closed, and another closes before it opens
    data = point_data(
        provider,
        **{
            "exceptions-0-date": "2025-12-24",
            "exceptions-1-date": "2025-12-31",
            "exceptions-1-opens": "12:00",
            "exceptions-1-closes": "09:00",
        },
    )
    response = client_for(world.user("a", "administrator")).post(NEW_POINT, data)
    # then each row names its field, and nothing is written
    assert response.status_code == 400
    assert [errors(form) for form in response.context["exception_forms"]] == [
        {"opens": ["Give the opening and closing times, or tick closed all day."]},
        {"closes": ["The closing time must be after the opening time."]},
    ]
    assert directory_state() == before


def test_publishing_archiving_and_verifying_a_point(world, client_for):
    # given a draft point never verified
    point = point_of(world, status=PublicationStatus.DRAFT)
    officer = world.user("a", "information_officer")
    client = client_for(officer)
    since = last_audit_id()
    # when the officer publishes, verifies and then archives it
    published = client.post(f"/en/staff/directory/points/{point.pk}/status/", {"status": "published"})
    verified = client.post(
        f"/en/staff/directory/points/{point.pk}/verify/", {"next": "/en/staff/directory/stale/"}
    )
    archived = client.post(f"/en/staff/directory/points/{point.pk}/status/", {"status": "archived"})
    unknown = client.post(f"/en/staff/directory/points/{point.pk}/status/", {"status": "deleted"})
    # then each step is stored and audited, and a verify from the stale list returns there
    edit = f"/en/staff/directory/points/{point.pk}/"
    assert [r["Location"] for r in (published, verified, archived, unknown)] == [
        edit,
        "/en/staff/directory/stale/",
        edit,
        edit,
    ]
    point.refresh_from_db()
    assert (point.status, point.verified_by) == (PublicationStatus.ARCHIVED, officer)
    assert [(e.action, e.fields, e.detail) for e in new_entries(since)] == [
        (AuditAction.UPDATE, ["status"], {"status": "published"}),
        (AuditAction.UPDATE, ["last_verified_at", "verified_by"], {}),
        (AuditAction.UPDATE, ["status"], {"status": "archived"}),
    ]


def test_verify_never_redirects_to_another_host(world, client_for):
    # given
    point = point_of(world)
    # when the next address names another host
    response = client_for(world.user("a", "administrator")).post(
        f"/en/staff/directory/points/{point.pk}/verify/", {"next": "https://evil.example/"}
    )
    # then it is ignored
    assert response["Location"] == f"/en/staff/directory/points/{point.pk}/"


def test_stale_list_shows_points_not_verified_recently(world, client_for):
    # given a point never verified, one verified long ago, one verified today, one archived
    never = point_of(world, name="Never")
    long_ago = PointFactory(provider=never.provider, name="Long ago")
    ServicePoint.objects.filter(pk=long_ago.pk).update(
        last_verified_at=timezone.now() - datetime.timedelta(days=400)
    )
    today = PointFactory(provider=never.provider, name="Today", last_verified_at=timezone.now())
    PointFactory(provider=never.provider, name="Archived", status=PublicationStatus.ARCHIVED)
    client = client_for(world.user("a", "information_officer"))
    # when the stale list and the stale filter of the list are opened
    stale = list(client.get("/en/staff/directory/stale/").context["page"])
    filtered = list(client.get(f"{LIST}?stale=on").context["page"])
    # then both show the two stale points
    assert [p.name for p in stale] == ["Never", "Long ago"]
    assert sorted(p.name for p in filtered) == ["Long ago", "Never"]
    assert today not in filtered


def test_list_filters_by_status_category_and_area(world, client_for):
    # given points in two areas of one region, with different services and statuses
    region = AreaFactory(pcode="GT12", level=1)
    district = AreaFactory(pcode="GT1215", level=2, parent=region)
    other = AreaFactory(pcode="MX07", level=1)
    provider = ProviderFactory(owner=world.a.organisation)
    clinic = PointFactory(provider=provider, name="Clinic", area=district, categories=["medical"])
    PointFactory(provider=provider, name="Shelter", area=other, categories=["shelter"])
    PointFactory(provider=provider, name="Draft", status=PublicationStatus.DRAFT, area=district)
    client = client_for(world.user("a", "administrator"))

    def names(query: str) -> list[str]:
        return [p.name for p in client.get(f"{LIST}?{query}").context["page"]]

    # when filtering, then
    assert names("category=medical") == ["Clinic"]
    assert names("area=gt12") == ["Clinic", "Draft"]
    assert names("status=published&area=GT12") == ["Clinic"]
    assert names("q=shel") == ["Shelter"]
    assert names("status=nonsense") == ["Clinic", "Draft", "Shelter"]
    assert clinic.area == district


def test_the_list_uses_the_same_number_of_queries_for_many_points(world, client_for):
    # given a client, and the queries of a list of two points
    client = client_for(world.user("a", "administrator"))
    provider = ProviderFactory(owner=world.a.organisation)
    area = AreaFactory(pcode="GT1215", level=2)
    for _n in range(2):
        PointFactory(provider=provider, area=area, categories=["medical", "food"])
    client.get(LIST)
    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    # when there are twenty more
    for _n in range(20):
        point = PointFactory(provider=provider, area=area, categories=["shelter"])
        add_text(point, "es", description="x", is_outdated=True)
    with CaptureQueriesContext(connection) as many:
        response = client.get(LIST)
    # then the list costs the same number of queries
    assert len(response.context["page"]) == 22
    assert len(many) == len(few)


def test_htmx_filters_return_only_the_results(world, client_for):
    # given
    point_of(world, name="Casa")
    # when the filter form asks through htmx
    response = client_for(world.user("a", "administrator")).get(LIST, HTTP_HX_REQUEST="true")
    # then only the results part is returned
    assert response.templates[0].name == "directory/point_list_results.html"
    assert "<html" not in response.content.decode()


# --- Providers ------------------------------------------------------------------------------------


def test_creating_and_editing_a_provider(world, client_for):
    # given A's administrator
    admin = world.user("a", "administrator")
    client = client_for(admin)
    since = last_audit_id()
    # when they create a provider, then rename it
    created = client.post(
        NEW_PROVIDER,
        {"name": "Médicos del Camino", "kind": "ngo", "phone": "+502 2222 3333", "status": "published"},
    )
    provider = ServiceProvider.objects.get(name="Médicos del Camino")
    edited = client.post(
        f"/en/staff/directory/providers/{provider.pk}/",
        {"name": "Médicos del Camino GT", "kind": "ngo", "status": "draft"},
    )
    # then both are stored and audited, kept by A
    assert (created.status_code, edited.status_code) == (302, 302)
    provider.refresh_from_db()
    assert (provider.owner, provider.name, provider.phone, provider.status) == (
        world.a.organisation,
        "Médicos del Camino GT",
        "",
        "draft",
    )
    assert [(e.action, e.actor_id) for e in new_entries(since)] == [
        (AuditAction.CREATE, admin.pk),
        (AuditAction.UPDATE, admin.pk),
    ]


def test_provider_errors_name_their_field_and_write_nothing(world, client_for):
    # given a provider A already keeps
    ProviderFactory(owner=world.a.organisation, name="Casa del Migrante")
    client = client_for(world.user("a", "information_officer"))
    before = directory_state()
    # when another is created with the same name (other case), a bad phone and a bad website
    response = client.post(
        NEW_PROVIDER,
        {
            "name": "casa del migrante",
            "kind": "ngo",
            "phone": "12",
            "website": "not a url",
            "status": "draft",
        },
    )
    # then
    assert response.status_code == 400
    assert errors(response.context["form"]) == {
        "name": ["Your organisation already keeps a provider with this name."],
        "phone": ["Enter the number in international format, for example +52 962 123 4567."],
        "website": ["Enter a valid URL."],
    }
    assert directory_state() == before


def test_a_manager_of_two_organisations_chooses_the_keeper(world, client_for):
    # given A's administrator, also administrator of B
    from ventanilla.accounts import services as account_services

    admin = world.user("a", "administrator")
    account_services.grant_membership(
        user=admin, organisation=world.b.organisation, role="administrator", by=None
    )
    client = client_for(admin)
    # when they create a provider for B
    response = client.post(
        NEW_PROVIDER, {"owner": world.b.organisation.pk, "name": "Nuevo", "kind": "ngo", "status": "draft"}
    )
    # then B keeps it
    assert response.status_code == 302
    assert ServiceProvider.objects.get(name="Nuevo").owner == world.b.organisation


# --- Import and export ----------------------------------------------------------------------------


def csv_upload(rows: list[dict[str, str]], name: str = "points.csv") -> io.BytesIO:
    text = io.StringIO()
    writer = csv.DictWriter(
        text, fieldnames=["provider", "name", "categories", "latitude", "longitude", "phone"]
    )
    writer.writeheader()
    writer.writerows(rows)
    upload = io.BytesIO(text.getvalue().encode())
    upload.name = name
    return upload


GOOD_ROW = {
    "provider": "Casa Nueva",
    "name": "Albergue Norte",
    "categories": "shelter;food",
    "latitude": "14.9",
    "longitude": "-92.2",
    "phone": "+52 962 000 1111",
}
BAD_ROW = {
    "provider": "Casa Nueva",
    "name": "Comedor",
    "categories": "meals",
    "latitude": "99",
    "longitude": "-92.2",
    "phone": "",
}


def test_import_shows_a_report_then_writes_on_confirmation(
    world, client_for, settings, tmp_path, django_capture_on_commit_callbacks
):
    # given an officer of A and a valid file
    settings.DATA_DIR = tmp_path
    officer = world.user("a", "information_officer")
    client = client_for(officer)
    before = directory_state()
    # when they upload it
    report = client.post(IMPORT, {"file": csv_upload([GOOD_ROW])})
    # then they see the report, and nothing is written yet
    assert report.status_code == 200
    assert (report.context["report"].rows, report.context["can_import"]) == (1, True)
    assert report.context["report"].new_providers == ["Casa Nueva"]
    assert directory_state() == before
    # when they confirm
    since = last_audit_id()
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(IMPORT, {"confirm": report.context["token"]})
    # then an import job ran (in-process here), and its status page follows it
    job = ImportJob.objects.get()
    assert (done.status_code, done["Location"]) == (302, f"{IMPORT}{job.pk}/")
    assert (job.status, job.points_created, job.created_by, job.organisation) == (
        "done",
        1,
        officer,
        world.a.organisation,
    )
    # and the point is written, its new provider as a draft, audited once; the file is gone
    point = ServicePoint.objects.get(name="Albergue Norte")
    assert (point.owner, point.provider.name, point.provider.status, point.phone) == (
        world.a.organisation,
        "Casa Nueva",
        "draft",
        "+529620001111",
    )
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.object_type, entry.detail) == (
        AuditAction.CREATE,
        officer.pk,
        "directory.import",
        {
            "format": "csv",
            "rows": 1,
            "points_created": 1,
            "points_updated": 0,
            "providers_created": 1,
            "rows_skipped": 0,
            "warnings": 0,
        },
    )
    assert list((tmp_path / "imports").iterdir()) == []
    # when the same confirmation is sent again
    again = client.post(IMPORT, {"confirm": report.context["token"]})
    # then it has expired: nothing more is written
    assert again["Location"] == IMPORT
    assert ServicePoint.objects.filter(name="Albergue Norte").count() == 1


def test_import_with_a_bad_row_cannot_be_confirmed_unless_skipping(
    world, client_for, settings, tmp_path, django_capture_on_commit_callbacks
):
    # given a file with a valid row and a bad one
    settings.DATA_DIR = tmp_path
    client = client_for(world.user("a", "administrator"))
    before = directory_state()
    # when it is uploaded without skipping
    report = client.post(IMPORT, {"file": csv_upload([GOOD_ROW, BAD_ROW])})
    page = report.content.decode()
    # then the report names each problem, offers no confirmation, and a forged one writes nothing
    assert report.context["can_import"] is False
    assert [(p.row, p.column) for p in report.context["report"].errors] == [
        (3, "categories"),
        (3, "latitude"),
    ]
    assert "Confirm the import" not in page
    with django_capture_on_commit_callbacks(execute=True):
        forged = client.post(IMPORT, {"confirm": report.context["token"]})
    job = ImportJob.objects.get()
    assert (job.status, [(e["row"], e["column"]) for e in job.errors]) == (
        "failed",
        [(3, "categories"), (3, "latitude")],
    )
    assert "Nothing was imported." in client.get(forged["Location"]).content.decode()
    assert directory_state() == before
    # when it is uploaded again, skipping invalid rows, and confirmed
    report = client.post(IMPORT, {"file": csv_upload([GOOD_ROW, BAD_ROW]), "skip_invalid": "on"})
    assert report.context["can_import"] is True
    with django_capture_on_commit_callbacks(execute=True):
        client.post(IMPORT, {"confirm": report.context["token"]})
    # then only the valid row is written
    assert list(ServicePoint.objects.values_list("name", flat=True)) == ["Albergue Norte"]


def test_import_refuses_other_file_types(world, client_for, settings, tmp_path):
    # given
    settings.DATA_DIR = tmp_path
    upload = io.BytesIO(b"provider,name\n")
    upload.name = "points.txt"
    # when
    response = client_for(world.user("a", "administrator")).post(IMPORT, {"file": upload})
    # then
    assert response.status_code == 400
    assert errors(response.context["form"]) == {"file": ["Upload a .csv or .xlsx file."]}


def test_export_downloads_the_filtered_points_and_is_audited(world, client_for):
    # given two points of A (one draft) and one of B
    provider = ProviderFactory(owner=world.a.organisation, name="Casa A")
    PointFactory(provider=provider, name="Published", categories=["food"], **at_position(14.9, -92.26))
    PointFactory(provider=provider, name="Draft", status=PublicationStatus.DRAFT)
    point_of(world, "b", name="B's point")
    admin = world.user("a", "administrator")
    since = last_audit_id()
    # when A's administrator exports the published ones as CSV and everything as XLSX
    response = client_for(admin).get("/en/staff/directory/export/?status=published&format=csv")
    workbook_response = client_for(admin).get("/en/staff/directory/export/?format=xlsx")
    # then the CSV has the header, the HXL row and A's published point only
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="service-points-')
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert rows[1][:4] == ["#loc+id", "#org+name", "#loc+name", "#sector+list"]
    assert [(row[1], row[2], row[3], row[6], row[7]) for row in rows[2:]] == [
        ("Casa A", "Published", "food", "14.90000", "-92.26000")
    ]
    sheet = load_workbook(io.BytesIO(workbook_response.content)).active
    assert [row[2] for row in sheet.iter_rows(min_row=3, values_only=True)] == ["Draft", "Published"]
    assert [(e.action, e.actor_id, e.detail) for e in new_entries(since)] == [
        (AuditAction.EXPORT, admin.pk, {"format": "csv", "rows": 1}),
        (AuditAction.EXPORT, admin.pk, {"format": "xlsx", "rows": 2}),
    ]


def test_navigation_shows_directory_and_content_to_content_managers_only(world, client_for):
    # when a manager and a caseworker open the dashboard
    manager = client_for(world.user("a", "information_officer")).get("/en/staff/").content.decode()
    caseworker = client_for(world.user("a", "caseworker")).get("/en/staff/").content.decode()
    # then only the manager sees the links
    assert (LIST in manager, "/en/staff/content/" in manager) == (True, True)
    assert (LIST in caseworker, "/en/staff/content/" in caseworker) == (False, False)


def test_services_refuse_a_manager_of_another_organisation(world):
    # given A's point (guard for the views: the service itself refuses too)
    point = point_of(world)
    # when B's administrator calls the service directly
    with pytest.raises(services.DirectoryPermissionError):
        services.verify_point(point, by=world.user("b", "administrator"))
