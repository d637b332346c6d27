"""Whether a service point is open, in its own time zone — for one point and for a whole queryset."""

from __future__ import annotations

import datetime
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from ventanilla.directory.models import OpeningException, OpeningHours, ServicePoint


@dataclass(frozen=True)
class OpenState:
    is_open: bool
    closes_at: datetime.time | None = None  # today's closing time when open
    has_hours: bool = True  # False: no hours published, so "open now" is unknown, not "closed"


def local_now(time_zone: str, at: datetime.datetime) -> datetime.datetime:
    return at.astimezone(zoneinfo.ZoneInfo(time_zone))


def opening_state(point: ServicePoint, at: datetime.datetime) -> OpenState:
    """Uses prefetched `hours` and `exceptions` when present (no query per point in lists)."""
    local = local_now(point.time_zone, at)
    today, now = local.date(), local.time()
    exceptions: Iterable[OpeningException] = point.exceptions.all()
    for exception in exceptions:
        if exception.date == today:
            if exception.is_closed or exception.opens is None or exception.closes is None:
                return OpenState(is_open=False)
            is_open = exception.opens <= now < exception.closes
            return OpenState(is_open=is_open, closes_at=exception.closes if is_open else None)
    hours: list[OpeningHours] = list(point.hours.all())
    if not hours:
        return OpenState(is_open=False, has_hours=False)
    for period in hours:
        if period.weekday == local.weekday() and period.opens <= now < period.closes:
            return OpenState(is_open=True, closes_at=period.closes)
    return OpenState(is_open=False)


def filter_open(points: QuerySet[ServicePoint], at: datetime.datetime) -> QuerySet[ServicePoint]:
    """Points open at `at`, each judged in its own time zone, in one query on any database."""
    condition = Q(pk__in=[])
    zones = points.order_by().values_list("time_zone", flat=True).distinct()
    for zone in zones:
        local = local_now(zone, at)
        today, now = local.date(), local.time()
        todays_exception = OpeningException.objects.filter(point=OuterRef("pk"), date=today)
        open_by_exception = OpeningException.objects.filter(
            point=OuterRef("pk"), date=today, is_closed=False, opens__lte=now, closes__gt=now
        )
        open_by_hours = OpeningHours.objects.filter(
            point=OuterRef("pk"), weekday=local.weekday(), opens__lte=now, closes__gt=now
        )
        condition |= Q(time_zone=zone) & (
            Q(Exists(open_by_exception)) | (~Q(Exists(todays_exception)) & Q(Exists(open_by_hours)))
        )
    return points.filter(condition)
