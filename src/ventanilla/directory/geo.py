"""Distances on the Earth for "near me" — plain math, so no GIS library is needed anywhere."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.translation import gettext as _

EARTH_RADIUS_KM = 6371.0088


@dataclass(frozen=True)
class Position:
    latitude: float
    longitude: float


def parse_position(value: str) -> Position:
    """'lat,lon' in decimal degrees; raises ValueError naming what is wrong."""
    parts = value.split(",")
    if len(parts) != 2:
        raise ValueError(_("Give the position as latitude,longitude (for example 14.9,-92.26)."))
    try:
        latitude, longitude = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(_("Latitude and longitude must be numbers.")) from None
    # NaN compares false with everything, so it fails the range test too.
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(_("Latitude must be between -90 and 90 and longitude between -180 and 180."))
    return Position(latitude, longitude)


def distance_km(a: Position, b: Position) -> float:
    """Great-circle (haversine) distance."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def bounding_box(centre: Position, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lon, max_lon) enclosing the circle: a cheap index-friendly prefilter."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = max(math.cos(math.radians(centre.latitude)), 1e-6)
    dlon = min(180.0, math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat)))
    return centre.latitude - dlat, centre.latitude + dlat, centre.longitude - dlon, centre.longitude + dlon
