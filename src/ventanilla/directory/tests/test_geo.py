"""Positions, great-circle distances and the bounding box used to prefilter "near me" in SQL."""

from __future__ import annotations

import math

import pytest

from ventanilla.directory.geo import EARTH_RADIUS_KM, Position, bounding_box, distance_km, parse_position

TAPACHULA = Position(14.9059, -92.2633)
CIUDAD_HIDALGO = Position(14.6787, -92.1494)

FORMAT = "Give the position as latitude,longitude"
NUMBERS = "Latitude and longitude must be numbers."
RANGE = "Latitude must be between -90 and 90 and longitude between -180 and 180."


def destination(start: Position, bearing_degrees: float, km: float) -> Position:
    """The point `km` away from `start` on the given bearing (the inverse of distance_km)."""
    angle = km / EARTH_RADIUS_KM
    bearing = math.radians(bearing_degrees)
    lat1, lon1 = math.radians(start.latitude), math.radians(start.longitude)
    lat2 = math.asin(math.sin(lat1) * math.cos(angle) + math.cos(lat1) * math.sin(angle) * math.cos(bearing))
    lon2 = lon1 + math.atan2(
        math.sin(bearing) * math.sin(angle) * math.cos(lat1),
        math.cos(angle) - math.sin(lat1) * math.sin(lat2),
    )
    return Position(math.degrees(lat2), math.degrees(lon2))


def inside(box: tuple[float, float, float, float], position: Position) -> bool:
    min_lat, max_lat, min_lon, max_lon = box
    return min_lat <= position.latitude <= max_lat and min_lon <= position.longitude <= max_lon


# --- parse_position ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("14.9059,-92.2633", Position(14.9059, -92.2633)),
        (" 14.9 , -92.26 ", Position(14.9, -92.26)),
        ("0,0", Position(0.0, 0.0)),
        ("90,180", Position(90.0, 180.0)),
        ("-90,-180", Position(-90.0, -180.0)),
        ("1e1,2", Position(10.0, 2.0)),
    ],
)
def test_parse_position_reads_latitude_then_longitude(value, expected):
    # when / then
    assert parse_position(value) == expected


@pytest.mark.parametrize("value", ["14.9 -92.26", "14.9", "", "14.9,-92.26,5", "14.9;-92.26"])
def test_parse_position_without_exactly_one_comma_is_refused(value):
    with pytest.raises(ValueError, match=FORMAT):
        parse_position(value)


@pytest.mark.parametrize("value", ["abc,-92.26", "14.9,west", ",", "14.9,", "14,9°"])
def test_parse_position_refuses_what_is_not_a_number(value):
    with pytest.raises(ValueError, match=NUMBERS):
        parse_position(value)


@pytest.mark.parametrize(
    "value", ["90.0001,0", "-90.5,0", "0,180.1", "0,-181", "200,-92.26", "inf,0", "0,-inf"]
)
def test_parse_position_refuses_coordinates_off_the_earth(value):
    with pytest.raises(ValueError, match=RANGE):
        parse_position(value)


@pytest.mark.parametrize("value", ["nan,0", "0,nan", "NaN,NaN"])
def test_parse_position_refuses_nan(value):
    with pytest.raises(ValueError, match=RANGE):
        parse_position(value)


# --- distance_km ------------------------------------------------------------------------------------


def test_distance_tapachula_to_ciudad_hidalgo_is_about_28_km():
    # when
    km = distance_km(TAPACHULA, CIUDAD_HIDALGO)
    # then
    assert abs(km - 28.0) < 0.5


def test_distance_madrid_to_barcelona_is_about_505_km():
    assert abs(distance_km(Position(40.4168, -3.7038), Position(41.3874, 2.1686)) - 505.0) < 0.5


def test_distance_is_symmetric_and_zero_to_itself():
    assert distance_km(TAPACHULA, TAPACHULA) == 0.0
    assert distance_km(TAPACHULA, CIUDAD_HIDALGO) == distance_km(CIUDAD_HIDALGO, TAPACHULA)


def test_one_degree_of_latitude_is_about_111_km():
    assert abs(distance_km(Position(0, 0), Position(1, 0)) - 111.195) < 0.001


def test_antipodes_are_half_the_circumference_apart():
    # given two points on opposite sides of the Earth, the longest distance there is
    # when
    km = distance_km(Position(0, 0), Position(0, 180))
    # then
    assert km == pytest.approx(math.pi * EARTH_RADIUS_KM)


def test_distance_across_the_antimeridian_is_short():
    assert abs(distance_km(Position(0, 179.5), Position(0, -179.5)) - 111.195) < 0.001


# --- bounding_box -----------------------------------------------------------------------------------


@pytest.mark.parametrize("centre", [TAPACHULA, Position(-33.45, -70.66), Position(60.17, 24.94)])
@pytest.mark.parametrize("radius_km", [1.0, 28.0, 250.0])
def test_bounding_box_contains_every_point_within_the_radius(centre, radius_km):
    # given the box around a centre
    box = bounding_box(centre, radius_km)
    # when points just inside the radius are placed in every direction
    points = [destination(centre, bearing, radius_km * 0.999) for bearing in range(0, 360, 15)]
    # then each is inside the box, and at the distance asked for
    assert all(inside(box, point) for point in points)
    assert all(abs(distance_km(centre, point) - radius_km * 0.999) < 1e-6 for point in points)


def test_bounding_box_is_tight_in_latitude():
    # given a 28 km box around Tapachula
    min_lat, max_lat, _min_lon, _max_lon = bounding_box(TAPACHULA, 28.0)
    # then its north and south edges are 28 km away
    assert distance_km(TAPACHULA, Position(max_lat, TAPACHULA.longitude)) == pytest.approx(28.0)
    assert distance_km(TAPACHULA, Position(min_lat, TAPACHULA.longitude)) == pytest.approx(28.0)


def test_bounding_box_excludes_a_point_beyond_the_radius():
    # given Ciudad Hidalgo 28 km from Tapachula
    # then a 20 km box leaves it out and a 30 km box takes it in
    assert not inside(bounding_box(TAPACHULA, 20.0), CIUDAD_HIDALGO)
    assert inside(bounding_box(TAPACHULA, 30.0), CIUDAD_HIDALGO)


def test_bounding_box_at_a_pole_spans_every_longitude():
    # given the north pole, where a degree of longitude has no width
    # when
    min_lat, max_lat, min_lon, max_lon = bounding_box(Position(90.0, 0.0), 10.0)
    # then the longitude span is capped at the whole circle
    assert (min_lon, max_lon) == (-180.0, 180.0)
    assert max_lat > 90.0 > min_lat
