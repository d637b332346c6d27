"""Open or closed, judged in each point's own time zone: for one point and for a whole queryset."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ventanilla.directory.hours import OpenState, filter_open, last_state_change, local_now, opening_state
from ventanilla.directory.models import ServicePoint
from ventanilla.directory.tests.factories import PointFactory, add_exception, add_hours

pytestmark = pytest.mark.django_db

MONDAY, TUESDAY, SUNDAY = 0, 1, 6
# Monday 3 March 2025. Mexico City keeps UTC-6 all year; Madrid is on UTC+1 until 30 March; Auckland is
# on UTC+13 until 6 April, so there it is already Tuesday.
MONDAY_DATE = datetime.date(2025, 3, 3)
TUESDAY_DATE = datetime.date(2025, 3, 4)
SUNDAY_DATE = datetime.date(2025, 3, 2)
MEXICO, MADRID, AUCKLAND = "America/Mexico_City", "Europe/Madrid", "Pacific/Auckland"


def utc(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=datetime.UTC)


def mexico(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    """A Mexico City wall-clock time, given in UTC as callers of the service do."""
    return utc(day, hour, minute) + datetime.timedelta(hours=6)


def open_names(at: datetime.datetime) -> set[str]:
    return set(filter_open(ServicePoint.objects.all(), at).values_list("name", flat=True))


@pytest.fixture
def weekday_point() -> ServicePoint:
    """Open Monday 09:00–17:00 in Mexico City."""
    point = PointFactory(name="Clinic", time_zone=MEXICO)
    add_hours(point, MONDAY, "09:00", "17:00")
    return point


# --- local_now --------------------------------------------------------------------------------------


def test_local_now_converts_to_the_zone():
    # when
    local = local_now(MADRID, utc(MONDAY_DATE, 23, 30))
    # then
    assert (local.date(), local.time()) == (TUESDAY_DATE, datetime.time(0, 30))


# --- opening_state ----------------------------------------------------------------------------------


def test_open_at_ten_local_on_monday(weekday_point):
    # when it is 10:00 in Mexico City (16:00 UTC)
    state = opening_state(weekday_point, utc(MONDAY_DATE, 16))
    # then it is open until 17:00
    assert state == OpenState(is_open=True, closes_at=datetime.time(17, 0), has_hours=True)


def test_closed_at_eighteen_local_although_tuesday_in_utc(weekday_point):
    # when it is 18:00 on Monday in Mexico City (00:00 on Tuesday in UTC)
    state = opening_state(weekday_point, utc(TUESDAY_DATE, 0))
    # then it is closed, with hours known
    assert state == OpenState(is_open=False, closes_at=None, has_hours=True)


def test_monday_morning_in_utc_is_still_sunday_night_locally(weekday_point):
    # when it is Monday 03:00 UTC (Sunday 21:00 in Mexico City)
    state = opening_state(weekday_point, utc(MONDAY_DATE, 3))
    # then
    assert state.is_open is False


@pytest.mark.parametrize(
    ("hour", "minute", "is_open"),
    [(8, 59, False), (9, 0, True), (16, 59, True), (17, 0, False)],
)
def test_opening_includes_the_opening_minute_and_excludes_the_closing_one(
    weekday_point, hour, minute, is_open
):
    assert opening_state(weekday_point, mexico(MONDAY_DATE, hour, minute)).is_open is is_open


def test_two_periods_in_one_day():
    # given a lunch break
    point = PointFactory(time_zone=MEXICO)
    add_hours(point, MONDAY, "09:00", "12:00")
    add_hours(point, MONDAY, "14:00", "18:00")
    # then
    assert opening_state(point, mexico(MONDAY_DATE, 13)) == OpenState(is_open=False)
    assert opening_state(point, mexico(MONDAY_DATE, 15)) == OpenState(
        is_open=True, closes_at=datetime.time(18, 0)
    )


def test_closed_holiday_overrides_weekly_hours(weekday_point):
    # given Monday is a holiday
    add_exception(weekday_point, MONDAY_DATE)
    # when / then
    assert opening_state(weekday_point, mexico(MONDAY_DATE, 10)) == OpenState(is_open=False)


def test_holiday_on_another_day_changes_nothing(weekday_point):
    # given the next Monday is a holiday
    add_exception(weekday_point, MONDAY_DATE + datetime.timedelta(days=7))
    # then this Monday is a normal day
    assert opening_state(weekday_point, mexico(MONDAY_DATE, 10)).is_open is True


def test_special_hours_replace_weekly_hours_for_the_day(weekday_point):
    # given on this Monday it opens only 12:00–14:00
    add_exception(weekday_point, MONDAY_DATE, "12:00", "14:00")
    # then at 10:00 it is closed, at 13:00 open until 14:00, at 14:00 closed again
    assert opening_state(weekday_point, mexico(MONDAY_DATE, 10)) == OpenState(is_open=False)
    assert opening_state(weekday_point, mexico(MONDAY_DATE, 13)) == OpenState(
        is_open=True, closes_at=datetime.time(14, 0)
    )
    assert opening_state(weekday_point, mexico(MONDAY_DATE, 14)) == OpenState(is_open=False)


def test_special_opening_of_a_point_without_weekly_hours():
    # given a point with no weekly hours that opens one Sunday
    point = PointFactory(time_zone=MEXICO)
    add_exception(point, SUNDAY_DATE, "10:00", "12:00")
    # then it is open that Sunday, and on other days its hours are unknown
    assert opening_state(point, mexico(SUNDAY_DATE, 11)) == OpenState(
        is_open=True, closes_at=datetime.time(12, 0)
    )
    assert opening_state(point, mexico(MONDAY_DATE, 11)) == OpenState(is_open=False, has_hours=False)


def test_no_hours_means_unknown_not_closed():
    # given a point with no hours published
    point = PointFactory(time_zone=MEXICO)
    # when
    state = opening_state(point, mexico(MONDAY_DATE, 10))
    # then
    assert state == OpenState(is_open=False, closes_at=None, has_hours=False)


def test_opening_state_uses_prefetched_hours_without_queries(weekday_point, django_assert_num_queries):
    # given the point loaded with its hours and exceptions
    add_exception(weekday_point, TUESDAY_DATE)
    point = ServicePoint.objects.prefetch_related("hours", "exceptions").get(pk=weekday_point.pk)
    # when / then
    with django_assert_num_queries(0):
        assert opening_state(point, mexico(MONDAY_DATE, 10)).is_open is True
        assert opening_state(point, mexico(TUESDAY_DATE, 10)).is_open is False


# --- filter_open ------------------------------------------------------------------------------------


def test_filter_open_across_two_time_zones_returns_exactly_the_open_ones():
    # given points in Mexico City and Madrid; at 16:00 UTC it is 10:00 in Mexico City, 17:00 in Madrid
    at = utc(MONDAY_DATE, 16)
    for name, zone, opens, closes in [
        ("mx open", MEXICO, "09:00", "17:00"),
        ("mx opens later", MEXICO, "11:00", "17:00"),
        ("madrid closing at 17", MADRID, "09:00", "17:00"),
        ("madrid open", MADRID, "09:00", "18:00"),
        ("madrid closed morning", MADRID, "08:00", "10:00"),
    ]:
        add_hours(PointFactory(name=name, time_zone=zone), MONDAY, opens, closes)
    mx_tuesday = PointFactory(name="mx tuesday only", time_zone=MEXICO)
    add_hours(mx_tuesday, TUESDAY, "09:00", "17:00")
    PointFactory(name="mx no hours", time_zone=MEXICO)
    # when
    names = open_names(at)
    # then
    assert names == {"mx open", "madrid open"}


def test_filter_open_lets_exceptions_override_weekly_hours():
    # given Mexico City points on Monday 10:00 local
    at = mexico(MONDAY_DATE, 10)
    holiday = PointFactory(name="holiday", time_zone=MEXICO)
    add_hours(holiday, MONDAY, "09:00", "17:00")
    add_exception(holiday, MONDAY_DATE)
    special_open = PointFactory(name="special open", time_zone=MEXICO)
    add_hours(special_open, MONDAY, "13:00", "17:00")
    add_exception(special_open, MONDAY_DATE, "09:00", "12:00")
    special_closed = PointFactory(name="special closed", time_zone=MEXICO)
    add_hours(special_closed, MONDAY, "09:00", "17:00")
    add_exception(special_closed, MONDAY_DATE, "13:00", "15:00")
    only_exception = PointFactory(name="only exception", time_zone=MADRID)
    add_exception(only_exception, MONDAY_DATE, "16:00", "18:00")
    holiday_next_day = PointFactory(name="holiday next day", time_zone=MEXICO)
    add_hours(holiday_next_day, MONDAY, "09:00", "17:00")
    add_exception(holiday_next_day, TUESDAY_DATE)
    # when
    names = open_names(at)
    # then
    assert names == {"special open", "only exception", "holiday next day"}


def test_filter_open_uses_the_local_date_where_it_is_already_tomorrow():
    # given at Monday 16:00 UTC it is Tuesday 05:00 in Auckland
    tuesday = PointFactory(name="tuesday dawn", time_zone=AUCKLAND)
    add_hours(tuesday, TUESDAY, "04:00", "06:00")
    monday = PointFactory(name="monday dawn", time_zone=AUCKLAND)
    add_hours(monday, MONDAY, "04:00", "06:00")
    holiday = PointFactory(name="tuesday holiday", time_zone=AUCKLAND)
    add_hours(holiday, TUESDAY, "04:00", "06:00")
    add_exception(holiday, TUESDAY_DATE)
    # when / then
    assert open_names(utc(MONDAY_DATE, 16)) == {"tuesday dawn"}


def test_filter_open_keeps_the_filters_of_the_queryset(weekday_point):
    # given two open points
    other = PointFactory(name="Other", time_zone=MEXICO)
    add_hours(other, MONDAY, "09:00", "17:00")
    # when only one is asked about
    points = filter_open(ServicePoint.objects.filter(name="Other"), mexico(MONDAY_DATE, 10))
    # then
    assert list(points) == [other]


def test_filter_open_of_nothing_is_nothing():
    assert list(filter_open(ServicePoint.objects.none(), utc(MONDAY_DATE, 16))) == []


@pytest.mark.parametrize("hour", [0, 3, 8, 12, 15, 16, 17, 20, 23])
@pytest.mark.parametrize("day", [SUNDAY_DATE, MONDAY_DATE, TUESDAY_DATE])
def test_filter_open_agrees_with_opening_state(day, hour):
    # given a mix of zones, hours and exceptions
    for index, zone in enumerate([MEXICO, MADRID, AUCKLAND, "UTC"]):
        plain = PointFactory(name=f"plain {index}", time_zone=zone)
        add_hours(plain, MONDAY, "08:00", "18:00")
        add_hours(plain, TUESDAY, "06:00", "10:00")
        add_hours(plain, SUNDAY, "10:00", "14:00")
        special = PointFactory(name=f"special {index}", time_zone=zone)
        add_hours(special, MONDAY, "08:00", "18:00")
        add_exception(special, MONDAY_DATE, "12:00", "22:00")
        add_exception(special, TUESDAY_DATE)
    # when
    at = utc(day, hour)
    expected = {
        p.name
        for p in ServicePoint.objects.prefetch_related("hours", "exceptions")
        if opening_state(p, at).is_open
    }
    # then
    assert open_names(at) == expected


def test_filter_open_query_count_does_not_grow_with_points():
    # given
    def queries_to_list_open() -> int:
        with CaptureQueriesContext(connection) as captured:
            list(filter_open(ServicePoint.objects.all(), utc(MONDAY_DATE, 16)))
        return len(captured.captured_queries)

    for zone in (MEXICO, MADRID):
        add_hours(PointFactory(time_zone=zone), MONDAY, "09:00", "18:00")
    few = queries_to_list_open()
    # when there are ten times as many points, in the same zones
    for index in range(18):
        point = PointFactory(time_zone=(MEXICO, MADRID)[index % 2])
        add_hours(point, MONDAY, "09:00", "18:00")
        add_exception(point, TUESDAY_DATE)
    many = queries_to_list_open()
    # then the same two queries are run: the zones, then the points
    assert (few, many) == (2, 2)


def test_filter_open_is_within_two_queries(weekday_point, django_assert_max_num_queries):
    # given points in several zones
    for zone in (MADRID, AUCKLAND, "UTC"):
        add_hours(PointFactory(time_zone=zone), MONDAY, "00:00", "23:59")
    # when / then
    with django_assert_max_num_queries(2):
        assert len(list(filter_open(ServicePoint.objects.all(), mexico(MONDAY_DATE, 10)))) == 3


# --- last_state_change ------------------------------------------------------------------------------


def mexico_time(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=zoneinfo.ZoneInfo(MEXICO))


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (mexico(MONDAY_DATE, 10), mexico_time(MONDAY_DATE, 9)),
        (mexico(MONDAY_DATE, 9), mexico_time(MONDAY_DATE, 9)),
        (mexico(MONDAY_DATE, 18), mexico_time(MONDAY_DATE, 17)),
        (mexico(TUESDAY_DATE, 10), mexico_time(MONDAY_DATE, 17)),
        (mexico(MONDAY_DATE, 8), mexico_time(MONDAY_DATE - datetime.timedelta(days=7), 17)),
    ],
)
def test_last_state_change_is_the_latest_opening_or_closing(weekday_point, at, expected):
    assert last_state_change(weekday_point, at) == expected


def test_last_state_change_without_hours_is_none():
    assert last_state_change(PointFactory(time_zone=MEXICO), utc(MONDAY_DATE, 16)) is None


def test_last_state_change_on_and_after_a_holiday_is_midnight(weekday_point):
    # given Monday is a holiday
    add_exception(weekday_point, MONDAY_DATE)
    # then on the holiday and on the day after, the state last changed at midnight
    assert last_state_change(weekday_point, mexico(MONDAY_DATE, 10)) == mexico_time(MONDAY_DATE, 0)
    assert last_state_change(weekday_point, mexico(TUESDAY_DATE, 10)) == mexico_time(TUESDAY_DATE, 0)


def test_last_state_change_follows_special_hours(weekday_point):
    # given on this Monday it opens only 12:00-14:00
    add_exception(weekday_point, MONDAY_DATE, "12:00", "14:00")
    # then
    assert last_state_change(weekday_point, mexico(MONDAY_DATE, 11)) == mexico_time(MONDAY_DATE, 0)
    assert last_state_change(weekday_point, mexico(MONDAY_DATE, 13)) == mexico_time(MONDAY_DATE, 12)
    assert last_state_change(weekday_point, mexico(MONDAY_DATE, 15)) == mexico_time(MONDAY_DATE, 14)


@pytest.mark.parametrize("hours_after", [0, 5, 11, 16, 23, 30, 41, 47, 60, 100, 150])
def test_opening_state_does_not_change_between_last_change_and_now(hours_after):
    # given points with breaks, exceptions and no hours in three zones
    points = []
    for zone in (MEXICO, MADRID, AUCKLAND):
        point = PointFactory(time_zone=zone)
        add_hours(point, MONDAY, "09:00", "12:00")
        add_hours(point, MONDAY, "14:00", "18:00")
        add_hours(point, TUESDAY, "07:30", "10:00")
        add_exception(point, TUESDAY_DATE + datetime.timedelta(days=1), "10:00", "11:00")
        add_exception(point, TUESDAY_DATE + datetime.timedelta(days=2))
        points.append(point)
    points = list(ServicePoint.objects.prefetch_related("hours", "exceptions"))
    at = utc(SUNDAY_DATE, 0) + datetime.timedelta(hours=hours_after, minutes=7)
    for point in points:
        # when
        changed = last_state_change(point, at)
        # then the state at every quarter hour since the change is the state now
        assert changed is not None
        assert changed <= at
        state = opening_state(point, at).is_open
        moment = changed
        while moment <= at:
            assert opening_state(point, moment).is_open is state
            moment += datetime.timedelta(minutes=15)
