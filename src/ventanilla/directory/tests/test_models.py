"""Directory models: validation, database constraints, staleness and who may read which row."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from ventanilla.directory.models import (
    Category,
    OpeningException,
    OpeningHours,
    PublicationStatus,
    ServiceCategory,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
    time_zone_names,
)
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory, add_exception, add_hours

pytestmark = pytest.mark.django_db

BOTH = "Give both latitude and longitude, or neither."


def point_for(world, org: str = "a", **fields) -> ServicePoint:
    """An unsaved point kept by the organisation, with a saved provider."""
    provider = ProviderFactory(owner=getattr(world, org).organisation)
    return ServicePoint(owner=provider.owner, provider=provider, name="Clinic", **fields)


def errors_of(point: ServicePoint) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        point.full_clean(exclude=["categories"])
    return caught.value.message_dict


# --- Categories -------------------------------------------------------------------------------------


def test_every_category_has_a_row_in_order():
    # given the categories seeded by the migration
    # then there is one row per choice, in the order of the choices
    assert list(ServiceCategory.objects.values_list("code", flat=True)) == Category.values
    assert len(Category.values) == 19


def test_category_label_and_str_are_the_translated_name():
    category = ServiceCategory.objects.get(code="mhpss")
    assert category.label == "Mental health and psychosocial support"
    assert str(category) == "Mental health and psychosocial support"


# --- ServicePoint.clean -----------------------------------------------------------------------------


def test_a_complete_point_is_valid(world):
    # given
    point = point_for(
        world,
        latitude=Decimal("14.90590"),
        longitude=Decimal("-92.26330"),
        time_zone="America/Mexico_City",
        age_min=0,
        age_max=17,
    )
    # when / then nothing is raised
    point.full_clean(exclude=["categories"])


def test_latitude_off_the_earth_names_the_latitude(world):
    assert errors_of(point_for(world, latitude=Decimal("200"), longitude=Decimal("0"))) == {
        "latitude": ["Latitude must be between -90 and 90."]
    }


def test_longitude_off_the_earth_names_the_longitude(world):
    assert errors_of(point_for(world, latitude=Decimal("0"), longitude=Decimal("-181"))) == {
        "longitude": ["Longitude must be between -180 and 180."]
    }


def test_only_latitude_given_names_the_missing_longitude(world):
    assert errors_of(point_for(world, latitude=Decimal("14.9"))) == {"longitude": [BOTH]}


def test_only_longitude_given_names_the_missing_latitude(world):
    assert errors_of(point_for(world, longitude=Decimal("-92.2"))) == {"latitude": [BOTH]}


def test_unknown_time_zone_is_named(world):
    assert errors_of(point_for(world, time_zone="Mars/X")) == {
        "time_zone": ["Unknown time zone; use a name such as America/Mexico_City."]
    }


def test_maximum_age_below_minimum_age_is_named(world):
    assert errors_of(point_for(world, age_min=18, age_max=12)) == {
        "age_max": ["The maximum age is below the minimum age."]
    }


def test_equal_minimum_and_maximum_age_is_valid(world):
    point_for(world, age_min=12, age_max=12).full_clean(exclude=["categories"])


def test_unreadable_coordinates_are_named_without_crashing_clean(world):
    # given raw input that is not a number (clean() still runs after the field errors)
    point = point_for(world, latitude="north", longitude=Decimal("NaN"), age_min="x", age_max=3)
    # when
    errors = errors_of(point)
    # then each field says what is wrong, and only that
    assert errors == {
        "latitude": ["“north” value must be a decimal number."],
        "longitude": ["“NaN” value must be a decimal number."],
        "age_min": ["“x” value must be an integer."],
    }


def test_signalling_nan_is_refused_by_the_field(world):
    errors = errors_of(point_for(world, latitude=Decimal("sNaN"), longitude=Decimal("1")))
    assert list(errors) == ["latitude"]


def test_several_errors_are_reported_together(world):
    # given a point wrong in three ways
    point = point_for(
        world, latitude=Decimal("95"), longitude=Decimal("0"), time_zone="Nowhere", age_min=9, age_max=3
    )
    # then every field is named at once
    assert sorted(errors_of(point)) == ["age_max", "latitude", "time_zone"]


def test_time_zone_names_include_the_corridor_and_utc():
    assert {"UTC", "America/Mexico_City", "America/Guatemala", "Europe/Madrid"} <= time_zone_names()
    assert "Mars/X" not in time_zone_names()


# --- Database constraints (the last line behind validation) -----------------------------------------


def test_database_refuses_latitude_out_of_range():
    with pytest.raises(IntegrityError), transaction.atomic():
        PointFactory(latitude=Decimal("91"), longitude=Decimal("0"))


def test_database_refuses_longitude_out_of_range():
    with pytest.raises(IntegrityError), transaction.atomic():
        PointFactory(latitude=Decimal("0"), longitude=Decimal("-180.5"))


def test_database_refuses_hours_closing_before_opening():
    point = PointFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        add_hours(point, 0, "17:00", "09:00")


def test_database_refuses_a_weekday_after_sunday():
    point = PointFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        add_hours(point, 7, "09:00", "17:00")


def test_database_refuses_an_open_exception_without_times():
    point = PointFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        OpeningException.objects.create(point=point, date=datetime.date(2025, 3, 3), is_closed=False)


def test_database_refuses_two_exceptions_on_one_day():
    point = PointFactory()
    add_exception(point, datetime.date(2025, 3, 3))
    with pytest.raises(IntegrityError), transaction.atomic():
        add_exception(point, datetime.date(2025, 3, 3), "10:00", "12:00")


def test_database_refuses_two_texts_in_one_language():
    point = PointFactory()
    ServicePointText.objects.create(point=point, language="es")
    with pytest.raises(IntegrityError), transaction.atomic():
        ServicePointText.objects.create(point=point, language="es")


def test_database_refuses_two_providers_of_one_name_for_one_owner():
    provider = ProviderFactory(name="Cruz Roja")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProviderFactory(name="Cruz Roja", owner=provider.owner)


# --- Small behaviour --------------------------------------------------------------------------------


def test_language_codes_are_read_from_the_comma_list():
    assert PointFactory(languages=",es,mam,").language_codes == ["es", "mam"]
    assert PointFactory(languages="").language_codes == []


def test_string_forms():
    # given
    point = PointFactory(name="Clínica Tapachula", provider__name="Médicos del Mundo")
    text = ServicePointText.objects.create(point=point, language="es")
    hours = add_hours(point, 2, "08:30", "14:00")
    exception = add_exception(point, datetime.date(2025, 12, 25))
    # then
    assert (str(point), str(point.provider)) == ("Clínica Tapachula", "Médicos del Mundo")
    assert str(text) == "Clínica Tapachula [es]"
    assert str(hours) == "2 08:30-14:00"
    assert str(exception) == "Clínica Tapachula 2025-12-25"


def test_hours_are_ordered_by_day_then_opening():
    point = PointFactory()
    add_hours(point, 1, "14:00", "16:00")
    add_hours(point, 0, "09:00", "10:00")
    add_hours(point, 1, "08:00", "12:00")
    assert [str(h) for h in OpeningHours.objects.filter(point=point)] == [
        "0 09:00-10:00",
        "1 08:00-12:00",
        "1 14:00-16:00",
    ]


def test_audit_organisation_is_the_owner():
    point = PointFactory()
    assert point.audit_organisation_id == point.owner_id
    assert point.provider.audit_organisation_id == point.provider.owner_id


def test_never_verified_point_is_stale():
    assert PointFactory(last_verified_at=None).is_stale() is True


def test_point_is_stale_after_the_configured_days(settings):
    # given points verified 89 and 91 days ago, with the default of 90 days
    settings.DIRECTORY_STALE_DAYS = 90
    now = timezone.now()
    recent = PointFactory(last_verified_at=now - datetime.timedelta(days=89))
    old = PointFactory(last_verified_at=now - datetime.timedelta(days=91))
    # then
    assert (recent.is_stale(now=now), old.is_stale(now=now)) == (False, True)
    # when the period is shortened
    settings.DIRECTORY_STALE_DAYS = 30
    # then the recent point is stale too
    assert recent.is_stale() is True


# --- Who reads which row ----------------------------------------------------------------------------


@pytest.fixture
def rows(world):
    """Published and draft points of A and B, and a published point of A's draft provider."""
    a, b = world.a.organisation, world.b.organisation
    a_provider = ProviderFactory(owner=a, name="A provider")
    a_draft_provider = ProviderFactory(owner=a, name="A draft provider", status=PublicationStatus.DRAFT)
    b_provider = ProviderFactory(owner=b, name="B provider")
    return {
        "a published": PointFactory(provider=a_provider, name="a published"),
        "a draft": PointFactory(provider=a_provider, name="a draft", status=PublicationStatus.DRAFT),
        "a archived": PointFactory(provider=a_provider, name="a archived", status=PublicationStatus.ARCHIVED),
        "a of draft provider": PointFactory(provider=a_draft_provider, name="a of draft provider"),
        "b published": PointFactory(provider=b_provider, name="b published"),
        "b draft": PointFactory(provider=b_provider, name="b draft", status=PublicationStatus.DRAFT),
    }


def visible_points(user) -> set[str]:
    return set(ServicePoint.objects.visible_to(user).values_list("name", flat=True))


def visible_providers(user) -> set[str]:
    return set(ServiceProvider.objects.visible_to(user).values_list("name", flat=True))


@pytest.mark.parametrize("role", ["information_officer", "administrator", "site_manager"])
def test_content_managers_see_all_their_rows_and_what_others_published(world, rows, role):
    # when / then
    assert visible_points(world.user("a", role)) == {
        "a published",
        "a draft",
        "a archived",
        "a of draft provider",
        "b published",
    }
    assert visible_providers(world.user("a", role)) == {"A provider", "A draft provider", "B provider"}


@pytest.mark.parametrize("role", ["caseworker", "auditor", "data_analyst"])
def test_other_staff_see_only_what_is_published(world, rows, role):
    # a published point of an unpublished provider is not published either
    assert visible_points(world.user("a", role)) == {"a published", "b published"}
    assert visible_providers(world.user("a", role)) == {"A provider", "B provider"}


def test_b_manager_does_not_see_a_drafts(world, rows):
    assert visible_points(world.user("b", "information_officer")) == {"a published", "b published", "b draft"}


def test_anonymous_sees_nothing_and_an_outsider_only_what_is_published(world, rows):
    assert visible_points(AnonymousUser()) == set()
    assert visible_points(world.outsider) == {"a published", "b published"}
