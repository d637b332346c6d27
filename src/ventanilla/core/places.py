"""Checks shared by every model that has a position and a time zone (sites, service points)."""

from __future__ import annotations

import functools
import math
import zoneinfo
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _


@functools.cache
def time_zone_names() -> frozenset[str]:
    """The IANA names this machine knows (reading them scans the disk, so once per process)."""
    return frozenset(zoneinfo.available_timezones())


def finite(value: object) -> float | None:
    """The value as a float when it is already a finite number, else None (raw input, NaN)."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    try:
        number = float(value)
    except ValueError:  # a signalling NaN
        return None
    return number if math.isfinite(number) else None


def place_errors(latitude: object, longitude: object, time_zone: str) -> dict[str, Any]:
    """Field errors for coordinates out of range and unknown time zones.

    `clean()` runs even when `clean_fields()` failed, so a value may still be raw input ("abc"): only
    what is already a number is compared; the field error names the rest. The database constraints
    hold the same ranges but give an error without a field.
    """
    errors: dict[str, Any] = {}
    lat, lon = finite(latitude), finite(longitude)
    if lat is not None and not -90 <= lat <= 90:
        errors["latitude"] = _("Latitude must be between -90 and 90.")
    if lon is not None and not -180 <= lon <= 180:
        errors["longitude"] = _("Longitude must be between -180 and 180.")
    if time_zone not in time_zone_names():
        errors["time_zone"] = _("Unknown time zone; use a name such as America/Mexico_City.")
    return errors
