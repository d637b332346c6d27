"""The fictional demo directory for `ventanilla load-demo`: about 50 service points along the
Guatemala–Mexico corridor, kept by the two demo organisations.

The points are read from `data/demo_directory.json` and saved through the directory services, so each
creation is validated and audited like a staff member's. Loading is idempotent: a provider or point that
already exists (same organisation, same name) is left exactly as it is. Needs the demo areas and the demo
accounts (`ventanilla.accounts.demo`) to be loaded first.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import zoneinfo
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from ventanilla.accounts.demo import DEMO_ORGANISATIONS
from ventanilla.accounts.models import Organisation, User
from ventanilla.areas.models import AdministrativeArea
from ventanilla.directory import services
from ventanilla.directory.models import PublicationStatus, ServicePoint, ServiceProvider
from ventanilla.directory.services import WeeklyPeriod

DATA_FILE = Path(__file__).resolve().parent / "data" / "demo_directory.json"

# Added to every description, in every language, so nobody mistakes a demo point for a real service.
FICTIONAL_NOTICE = {
    "en": "This is a fictional service, created for the Ventanilla demo.",
    "es": "Este es un servicio ficticio, creado para la demostración de Ventanilla.",
    "fr": "Ce service est fictif : il a été créé pour la démonstration de Ventanilla.",
    "ar": "هذه خدمة خيالية، أُنشئت للعرض التجريبي لمنصة Ventanilla.",
}

# Who keeps, saves and verifies the rows of each demo organisation (usernames from the accounts demo).
EDITORS = {"casa": "casa_administrator", "salud": "salud_administrator"}
VERIFIERS = {"casa": "casa_information_officer", "salud": "salud_administrator"}

# Fixed-date national holidays, for the one point that shows a holiday closure.
HOLIDAYS = {
    "America/Mexico_City": {
        (1, 1): "Año Nuevo / New Year's Day",
        (5, 1): "Día del Trabajo / Labour Day",
        (9, 16): "Día de la Independencia / Independence Day",
        (12, 25): "Navidad / Christmas Day",
    },
    "America/Guatemala": {
        (1, 1): "Año Nuevo / New Year's Day",
        (5, 1): "Día del Trabajo / Labour Day",
        (9, 15): "Día de la Independencia / Independence Day",
        (12, 25): "Navidad / Christmas Day",
    },
}

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}
_HOURS_PART = re.compile(r"^(?P<days>[a-z,\-]+) (?P<opens>\d\d:\d\d)-(?P<closes>\d\d:\d\d)$")
# A period must close after it opens, so "open all day" is stored as 00:00–23:59.
_END_OF_DAY = datetime.time(23, 59)
_JITTER_DEGREES = 0.003  # at most about 330 m north-south, a little less east-west at these latitudes


class DemoDataError(Exception):
    """The demo data file is inconsistent, or what it needs (areas, demo accounts) is missing."""


@dataclass(frozen=True)
class DemoDirectoryResult:
    providers_created: int
    points_created: int
    points_total: int  # demo points present after loading (new and already there)


@cache
def demo_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def parse_hours(spec: str) -> list[WeeklyPeriod]:
    """'24/7', 'daily 07:00-19:00', 'mon-fri 08:00-16:00; sat 09:00-13:00', 'tue,thu 09:00-13:00';
    a period past midnight ('daily 17:00-09:00') is split into the evening and the next morning."""
    if spec.strip() == "24/7":
        return [WeeklyPeriod(day, datetime.time(0, 0), _END_OF_DAY) for day in range(7)]
    periods: list[WeeklyPeriod] = []
    for part in filter(None, (piece.strip() for piece in spec.split(";"))):
        match = _HOURS_PART.match(part)
        if match is None:
            raise DemoDataError(f"Unreadable opening hours {part!r}.")
        opens = datetime.time.fromisoformat(match["opens"])
        closes = datetime.time.fromisoformat(match["closes"])
        for day in _days(match["days"]):
            if closes > opens:
                periods.append(WeeklyPeriod(day, opens, closes))
            else:
                periods.append(WeeklyPeriod(day, opens, _END_OF_DAY))
                periods.append(WeeklyPeriod((day + 1) % 7, datetime.time(0, 0), closes))
    return sorted(periods)


def _days(value: str) -> list[int]:
    if value == "daily":
        return list(range(7))
    days: list[int] = []
    for token in value.split(","):
        first, _dash, last = token.partition("-")
        if first not in _WEEKDAYS or (last and last not in _WEEKDAYS):
            raise DemoDataError(f"Unknown day in {value!r}.")
        days.extend(range(_WEEKDAYS[first], _WEEKDAYS[last or first] + 1))
    return days


def jittered(name: str, latitude: float, longitude: float) -> tuple[Decimal, Decimal]:
    """The town centre moved by a few hundred metres, always the same way for the same name."""
    digest = hashlib.sha256(name.encode()).digest()
    north = (int.from_bytes(digest[:4], "big") / 0xFFFFFFFF * 2 - 1) * _JITTER_DEGREES
    east = (int.from_bytes(digest[4:8], "big") / 0xFFFFFFFF * 2 - 1) * _JITTER_DEGREES
    return Decimal(f"{latitude + north:.5f}"), Decimal(f"{longitude + east:.5f}")


def next_holiday(time_zone: str, today: datetime.date) -> tuple[datetime.date, str]:
    """The first fixed-date public holiday after `today` (in the point's country)."""
    holidays = HOLIDAYS[time_zone]
    candidates = [
        datetime.date(today.year + years, month, day)
        for years in (0, 1)
        for (month, day) in holidays
        if datetime.date(today.year + years, month, day) > today
    ]
    date = min(candidates)
    return date, holidays[(date.month, date.day)]


def _exceptions(specs: list[dict[str, Any]], time_zone: str, now: datetime.datetime) -> list[dict[str, Any]]:
    today = now.astimezone(zoneinfo.ZoneInfo(time_zone)).date()
    rows: list[dict[str, Any]] = []
    for spec in specs:
        if spec.get("next_holiday"):
            date, name = next_holiday(time_zone, today)
            rows.append({"date": date, "is_closed": True, "note": name})
        else:
            rows.append(
                {
                    "date": today + datetime.timedelta(days=spec["in_days"]),
                    "is_closed": False,
                    "opens": datetime.time.fromisoformat(spec["opens"]),
                    "closes": datetime.time.fromisoformat(spec["closes"]),
                    "note": spec["note"],
                }
            )
    return rows


def _texts(texts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    return {
        language: {**values, "description": f"{values['description']}\n\n{FICTIONAL_NOTICE[language]}"}
        for language, values in texts.items()
    }


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise DemoDataError(f"The demo user {username!r} is missing: load the demo accounts first.")
    return user


def _organisations() -> dict[str, Organisation]:
    organisations = {}
    for spec in DEMO_ORGANISATIONS:
        organisation = Organisation.objects.filter(name=spec.name).first()
        if organisation is None:
            raise DemoDataError(
                f"The demo organisation {spec.name!r} is missing: load the demo accounts first."
            )
        organisations[spec.prefix] = organisation
    return organisations


@transaction.atomic
def load_demo_directory(*, now: datetime.datetime | None = None) -> DemoDirectoryResult:
    """Create the demo providers and service points that are not there yet."""
    now = now or timezone.now()
    data = demo_data()
    organisations = _organisations()
    editors = {prefix: _user(username) for prefix, username in EDITORS.items()}
    verifiers = {prefix: _user(username) for prefix, username in VERIFIERS.items()}
    towns: dict[str, dict[str, Any]] = data["towns"]
    areas = AdministrativeArea.objects.in_bulk({town["pcode"] for town in towns.values()}, field_name="pcode")
    missing = sorted({town["pcode"] for town in towns.values()} - set(areas))
    if missing:
        raise DemoDataError(f"Demo areas missing: {', '.join(missing)} (load the corridor areas first).")
    services.ensure_categories()

    providers: dict[str, ServiceProvider] = {}
    providers_created = 0
    for spec in data["providers"]:
        owner = organisations[spec["owner"]]
        provider = ServiceProvider.objects.filter(owner=owner, name=spec["name"]).first()
        if provider is None:
            provider = ServiceProvider(
                owner=owner,
                name=spec["name"],
                kind=spec["kind"],
                organisation=owner if spec.get("has_accounts") else None,
                phone=services.parse_phone(spec.get("phone", "")),
                email=spec.get("email", ""),
                status=PublicationStatus.PUBLISHED,
            )
            services.save_provider(provider, by=editors[spec["owner"]], changed=["name", "kind", "status"])
            providers_created += 1
        providers[spec["key"]] = provider

    existing = set(
        ServicePoint.objects.filter(owner__in=organisations.values()).values_list("owner_id", "name")
    )
    prefix_of = {organisation.pk: prefix for prefix, organisation in organisations.items()}
    points_created = 0
    for spec in data["points"]:
        provider = providers[spec["provider"]]
        if (provider.owner_id, spec["name"]) in existing:
            continue
        prefix = prefix_of[provider.owner_id]
        town = towns[spec["town"]]
        _create_point(
            spec,
            provider,
            town,
            areas[town["pcode"]],
            by=editors[prefix],
            verifier=verifiers[prefix],
            now=now,
        )
        points_created += 1
    return DemoDirectoryResult(
        providers_created=providers_created,
        points_created=points_created,
        points_total=ServicePoint.objects.filter(
            owner__in=organisations.values(), name__in=[spec["name"] for spec in data["points"]]
        ).count(),
    )


def _create_point(
    spec: dict[str, Any],
    provider: ServiceProvider,
    town: dict[str, Any],
    area: AdministrativeArea,
    *,
    by: User,
    verifier: User,
    now: datetime.datetime,
) -> ServicePoint:
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    if not spec.get("no_location"):
        latitude, longitude = jittered(spec["name"], town["latitude"], town["longitude"])
    verified_days = spec.get("verified_days_ago")
    point = ServicePoint(
        owner_id=provider.owner_id,
        provider=provider,
        name=spec["name"],
        address=spec.get("address", ""),
        area=area,
        latitude=latitude,
        longitude=longitude,
        time_zone=town["time_zone"],
        phone=services.parse_phone(spec.get("phone", "")),
        whatsapp=services.parse_phone(spec.get("whatsapp", ""), field_name="whatsapp"),
        languages=services.parse_languages(spec["languages"]),
        age_min=spec.get("age_min"),
        age_max=spec.get("age_max"),
        sexes=spec.get("sexes", "any"),
        nationalities=spec.get("nationalities", ""),
        legal_status=spec.get("legal_status", ""),
        cost=spec.get("cost", "free"),
        access=spec.get("access", "walk_in"),
        wheelchair_accessible=spec.get("wheelchair_accessible", False),
        female_staff=spec.get("female_staff", False),
        status=spec.get("status", PublicationStatus.PUBLISHED),
        last_verified_at=None if verified_days is None else now - datetime.timedelta(days=verified_days),
        verified_by=None if verified_days is None else verifier,
    )
    return services.save_point(
        point,
        by=by,
        categories=spec["categories"],
        texts=_texts(spec["texts"]),
        hours=parse_hours(spec["hours"]),
        exceptions=_exceptions(spec.get("exceptions", []), town["time_zone"], now),
        changed=["name", "provider", "status", "last_verified_at"],
    )
