"""Finding services and keeping the directory: search, save, publish, verify — audited and atomic."""

from __future__ import annotations

import datetime
import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import phonenumbers
from babel import Locale, UnknownLocaleError
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ventanilla.accounts.models import Organisation, User
from ventanilla.areas.models import AdministrativeArea
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.core.text import search_words
from ventanilla.directory import freshness
from ventanilla.directory.geo import Position, bounding_box, distance_km
from ventanilla.directory.hours import OpenState, filter_open, opening_state
from ventanilla.directory.models import (
    Category,
    OpeningException,
    OpeningHours,
    PublicationStatus,
    ServiceCategory,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
)


class DirectoryPermissionError(Exception):
    """The actor does not manage content for the organisation that keeps this row."""


# --- Values ---------------------------------------------------------------------------------------

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
# CLDR names these special codes, but they say nothing about what staff speak.
_NOT_LANGUAGES = frozenset({"und", "mul", "zxx"})

# Languages spoken along the corridor that CLDR (hence babel) does not name: ISO 639-3 code → name.
REGIONAL_LANGUAGES = {
    "mam": gettext_lazy("Mam"),
    "cak": gettext_lazy("Kaqchikel"),
    "tzo": gettext_lazy("Tzotzil"),
    "tzh": gettext_lazy("Tzeltal"),
    "yua": gettext_lazy("Yucatec Maya"),
    "ixl": gettext_lazy("Ixil"),
    "kjb": gettext_lazy("Q'anjob'al"),
    "jac": gettext_lazy("Popti'"),
    "acr": gettext_lazy("Achi"),
    "poh": gettext_lazy("Poqomchi'"),
    "ctu": gettext_lazy("Ch'ol"),
    "cab": gettext_lazy("Garifuna"),
    "miq": gettext_lazy("Miskito"),
    "nah": gettext_lazy("Nahuatl"),
}


def parse_languages(value: str | Iterable[str]) -> str:
    """Codes like 'es, mam' → ',es,mam,'; unknown codes raise ValidationError naming them."""
    codes = [
        c.strip().lower() for c in (value.replace(";", ",").split(",") if isinstance(value, str) else value)
    ]
    codes = [c for c in codes if c]
    known = Locale("en").languages
    unknown = [
        c
        for c in codes
        if not _LANGUAGE_CODE.match(c)
        or c in _NOT_LANGUAGES
        or (c not in known and c not in REGIONAL_LANGUAGES)
    ]
    if unknown:
        raise ValidationError(
            {
                "languages": _("Unknown language codes: %(codes)s (use ISO 639 codes such as es, ar, mam).")
                % {"codes": ", ".join(unknown)}
            }
        )
    return "," + ",".join(dict.fromkeys(codes)) + "," if codes else ""


def language_name(code: str, locale: str) -> str:
    try:
        names = Locale.parse(locale).languages
    except (ValueError, TypeError, UnknownLocaleError):
        names = Locale("en").languages
        locale = settings.LANGUAGE_CODE
    regional = REGIONAL_LANGUAGES.get(code)
    if regional is not None:
        with translation.override(locale):
            return str(regional)
    return names.get(code) or Locale("en").languages.get(code) or code


def parse_phone(value: str, *, field_name: str = "phone") -> str:
    """International (E.164) form; a number without a country code is refused rather than guessed."""
    value = value.strip()
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_possible_number(number):
        raise ValidationError(
            {field_name: _("Enter the number in international format, for example +52 962 123 4567.")}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_categories(codes: Iterable[str]) -> list[ServiceCategory]:
    wanted = [c.strip() for c in codes if c and c.strip()]
    unknown = [c for c in wanted if c not in Category.values]
    if unknown:
        raise ValidationError(
            {"categories": _("Unknown categories: %(codes)s.") % {"codes": ", ".join(unknown)}}
        )
    return list(ServiceCategory.objects.filter(code__in=wanted))


def ensure_categories() -> None:
    """Category rows mirror the Category choices (idempotent; called by migrations and the demo)."""
    for position, code in enumerate(Category.values):
        ServiceCategory.objects.update_or_create(code=code, defaults={"position": position})


# --- Searching ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    category: str = ""
    language: str = ""
    area: str = ""  # a P-code: the area and everything inside it
    open_now: bool = False
    near: Position | None = None
    radius_km: float = 100.0
    limit: int = 50
    offset: int = 0  # results skipped before the page (the API pages through them)


@dataclass(frozen=True)
class PointResult:
    point: ServicePoint
    distance_km: float | None
    state: OpenState


@dataclass(frozen=True)
class SearchResult:
    results: list[PointResult]
    total: int
    query: SearchQuery = field(repr=False)


def published_points() -> QuerySet[ServicePoint]:
    return ServicePoint.objects.filter(
        status=PublicationStatus.PUBLISHED, provider__status=PublicationStatus.PUBLISHED
    )


def search_points(query: SearchQuery, *, at: datetime.datetime | None = None) -> SearchResult:
    """The public search: filters in SQL, then distance and opening state for the page shown.

    No filter joins a relation that can repeat a point (texts are matched with IN, read once rather
    than once per point), so neither the page nor the count needs DISTINCT; with `near`, distances
    are measured on bare coordinates and only the page shown is loaded with its provider, area,
    categories and hours."""
    at = at or timezone.now()
    points = published_points()
    if query.category:
        if query.category not in Category.values:
            raise ValidationError({"category": _("Unknown category.")})
        # The link table holds a (point, category) pair once, so this join never repeats a point.
        points = points.filter(categories__code=query.category)
    if query.language:
        points = points.filter(languages__contains=f",{query.language.lower()},")
    if query.area:
        inside = AdministrativeArea.objects.filter(
            Q(pcode=query.area) | Q(parent__pcode=query.area) | Q(parent__parent__pcode=query.area)
        )
        points = points.filter(area__in=inside.values("pk"))
    if query.text:
        # Each word, folded as the stored keys are (no accents, case or Arabic vowel marks), must be in
        # the point's name or address, its provider's name, or a description in any language.
        for word in search_words(query.text):
            points = points.filter(
                Q(search_text__contains=word)
                | Q(provider__search_text__contains=word)
                | Q(pk__in=ServicePointText.objects.filter(search_text__contains=word).values("point_id"))
            )
    if query.open_now:
        points = filter_open(points, at)
    if query.near is not None:
        min_lat, max_lat, min_lon, max_lon = bounding_box(query.near, query.radius_km)
        points = points.filter(
            latitude__gte=min_lat, latitude__lte=max_lat, longitude__gte=min_lon, longitude__lte=max_lon
        )

    def loaded(queryset: QuerySet[ServicePoint]) -> QuerySet[ServicePoint]:
        return queryset.select_related("provider", "area").prefetch_related(
            "categories", "hours", "exceptions"
        )

    if query.near is not None:
        near = query.near  # the bounding box above leaves out points without coordinates
        measured = sorted(
            (distance, name, pk)
            for pk, name, latitude, longitude in points.values_list("pk", "name", "latitude", "longitude")
            if (distance := distance_km(near, Position(float(latitude), float(longitude))))  # type: ignore[arg-type]
            <= query.radius_km
        )
        page = measured[query.offset : query.offset + query.limit]
        by_pk = loaded(points.filter(pk__in=[pk for _distance, _name, pk in page])).in_bulk()
        results = [PointResult(by_pk[pk], round(d, 2), opening_state(by_pk[pk], at)) for d, _name, pk in page]
        return SearchResult(results=results, total=len(measured), query=query)
    # One query finds every match in page order (ids only), which gives the total too: counting and
    # then fetching the page would make the database evaluate the filters (open now, words) twice.
    ids = list(points.order_by("name", "pk").values_list("pk", flat=True))
    page_ids = ids[query.offset : query.offset + query.limit]
    by_pk = loaded(ServicePoint.objects.filter(pk__in=page_ids)).in_bulk()
    total, page_points = len(ids), [by_pk[pk] for pk in page_ids]
    return SearchResult(
        results=[PointResult(p, None, opening_state(p, at)) for p in page_points], total=total, query=query
    )


def text_for(point: ServicePoint, language: str) -> tuple[ServicePointText | None, bool]:
    """The point's words in `language`, else in English (second value True: it is a fallback)."""
    texts = {t.language: t for t in point.texts.all()}
    if language in texts:
        return texts[language], False
    for fallback in (settings.LANGUAGE_CODE, *texts):
        if fallback in texts:
            return texts[fallback], True
    return None, False


# --- Keeping the directory ------------------------------------------------------------------------


def _require_content_manager(by: User, owner: Organisation | int) -> None:
    owner_id = owner if isinstance(owner, int) else owner.pk
    if owner_id not in scope_for(by).organisations(Permission.MANAGE_CONTENT):
        raise DirectoryPermissionError(_("You do not manage the directory for this organisation."))


@transaction.atomic
def save_point(
    point: ServicePoint,
    *,
    by: User,
    categories: Iterable[str] | None = None,
    texts: Mapping[str, Mapping[str, str]] | None = None,
    changed: Iterable[str] = (),
    hours: Iterable[WeeklyPeriod | tuple[int, datetime.time, datetime.time]] | None = None,
    exceptions: Iterable[Mapping[str, Any]] | None = None,
) -> ServicePoint:
    """Validate and store a point with its categories and texts; nothing is written if any is wrong.

    `hours` and `exceptions`, when given, replace the point's weekly hours and its exceptional days
    (exceptions as dicts of OpeningException fields: date, is_closed, opens, closes, note)."""
    _require_content_manager(by, point.owner_id)
    new_hours = check_hours(hours) if hours is not None else None
    new_exceptions = check_exceptions(exceptions) if exceptions is not None else None
    adding = point._state.adding
    if not adding:
        # The in-memory owner may have been changed: the organisation that keeps the stored row must
        # agree too, or a manager of A could take over B's published point by setting owner=A.
        stored_owner = ServicePoint.objects.filter(pk=point.pk).values_list("owner_id", flat=True).first()
        if stored_owner is not None:
            _require_content_manager(by, stored_owner)
    # Everything that can be checked is checked before the first write, so a refused call leaves even
    # the caller's object as it was (a new point keeps no primary key it was never saved with).
    new_categories = parse_categories(categories) if categories is not None else None
    check_texts(texts or {})
    point.full_clean(exclude=["categories"])
    point.save()
    if new_categories is not None:
        point.categories.set(new_categories)
    changed_texts = save_texts(point, texts or {})
    if new_hours is not None and _replace_hours(point, new_hours):
        changed_texts.append("hours")
    if new_exceptions is not None and _replace_exceptions(point, new_exceptions):
        changed_texts.append("exceptions")
    fields = sorted({*changed, *(["categories"] if categories is not None else []), *changed_texts})
    freshness.mark_changed()
    audit.record_change(AuditAction.CREATE if adding else AuditAction.UPDATE, point, by=by, fields=fields)
    return point


TEXT_FIELDS = ("description", "directions", "eligibility")


def check_texts(texts: Mapping[str, Mapping[str, str]]) -> None:
    """ValidationError naming a language the site does not offer or a field a text does not have."""
    offered = {code for code, _name in settings.LANGUAGES}
    for language, values in texts.items():
        if language not in offered:
            raise ValidationError(
                {"language": _("Ventanilla does not offer the language %(code)s.") % {"code": language}}
            )
        unknown = sorted(set(values) - set(TEXT_FIELDS))
        if unknown:
            raise ValidationError({name: _("Unknown field.") for name in unknown})


def save_texts(point: ServicePoint, texts: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Store texts per language; a change to the English (source) text marks the others outdated.

    Everything is checked before anything is written. The source language is saved first, so a
    translation saved in the same call (a form with every language) stays current when it changed too.
    """
    check_texts(texts)
    source = settings.LANGUAGE_CODE
    changed: list[str] = []
    for language in sorted(texts, key=lambda code: code != source):
        values = texts[language]
        text = ServicePointText.objects.filter(point=point, language=language).first()
        if text is None:
            text = ServicePointText(point=point, language=language)
        new = {key: values.get(key, getattr(text, key)) for key in TEXT_FIELDS}
        if any(getattr(text, key) != value for key, value in new.items()):
            for key, value in new.items():
                setattr(text, key, value)
            text.is_outdated = False
            text.save()
            changed.append(f"text:{language}")
            if language == source:
                ServicePointText.objects.filter(point=point).exclude(language=language).update(
                    is_outdated=True
                )
    return changed


class WeeklyPeriod(NamedTuple):
    """One weekly opening period in the point's time zone (weekday 0 = Monday)."""

    weekday: int
    opens: datetime.time
    closes: datetime.time


def check_hours(
    hours: Iterable[WeeklyPeriod | tuple[int, datetime.time, datetime.time]],
) -> list[WeeklyPeriod]:
    """Weekly periods sorted, or ValidationError on "hours" naming every impossible or overlapping one."""
    periods = sorted(WeeklyPeriod(*period) for period in hours)
    problems: list[str] = []
    for period in periods:
        if not 0 <= period.weekday <= 6:
            problems.append(_("The day must be 0 (Monday) to 6 (Sunday)."))
        elif period.closes <= period.opens:
            problems.append(
                _("Closing time %(closes)s is not after opening time %(opens)s; split hours past midnight.")
                % {"opens": f"{period.opens:%H:%M}", "closes": f"{period.closes:%H:%M}"}
            )
    for before, after in itertools.pairwise(periods):
        if before.weekday == after.weekday and after.opens < before.closes:
            problems.append(
                _("Two periods overlap on the same day (%(first)s and %(second)s).")
                % {
                    "first": f"{before.opens:%H:%M}-{before.closes:%H:%M}",
                    "second": f"{after.opens:%H:%M}-{after.closes:%H:%M}",
                }
            )
    if problems:
        raise ValidationError({"hours": problems})
    return periods


def check_exceptions(exceptions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Exceptional days as OpeningException field values, or ValidationError on "exceptions"."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    seen: set[datetime.date] = set()
    for values in exceptions:
        row: dict[str, Any] = {
            "date": values.get("date"),
            "is_closed": bool(values.get("is_closed", True)),
            "opens": values.get("opens"),
            "closes": values.get("closes"),
            "note": str(values.get("note") or "")[:200],
        }
        if not isinstance(row["date"], datetime.date):
            problems.append(_("Each exception needs a date."))
            continue
        if row["date"] in seen:
            problems.append(_("The date %(date)s is given twice.") % {"date": row["date"].isoformat()})
        seen.add(row["date"])
        if row["is_closed"]:
            row["opens"] = row["closes"] = None
        elif row["opens"] is None or row["closes"] is None or row["closes"] <= row["opens"]:
            problems.append(
                _("On %(date)s: give opening and closing times (closing after opening), or tick closed.")
                % {"date": row["date"].isoformat()}
            )
        rows.append(row)
    if problems:
        raise ValidationError({"exceptions": problems})
    return sorted(rows, key=lambda row: row["date"])


def _replace_hours(point: ServicePoint, periods: list[WeeklyPeriod]) -> bool:
    current = sorted(WeeklyPeriod(*row) for row in point.hours.values_list("weekday", "opens", "closes"))
    if current == periods:
        return False
    OpeningHours.objects.filter(point=point).delete()
    OpeningHours.objects.bulk_create(OpeningHours(point=point, **period._asdict()) for period in periods)
    return True


def _replace_exceptions(point: ServicePoint, rows: list[dict[str, Any]]) -> bool:
    names = ("date", "is_closed", "opens", "closes", "note")
    current = [dict(zip(names, row, strict=True)) for row in point.exceptions.values_list(*names)]
    if current == rows:
        return False
    OpeningException.objects.filter(point=point).delete()
    OpeningException.objects.bulk_create(OpeningException(point=point, **row) for row in rows)
    return True


@transaction.atomic
def save_provider(provider: ServiceProvider, *, by: User, changed: Iterable[str] = ()) -> ServiceProvider:
    """Validate and store a service provider kept by one of the actor's organisations."""
    _require_content_manager(by, provider.owner_id)
    adding = provider._state.adding
    if not adding:
        stored_owner = (
            ServiceProvider.objects.filter(pk=provider.pk).values_list("owner_id", flat=True).first()
        )
        if stored_owner is not None:
            _require_content_manager(by, stored_owner)
    provider.full_clean()
    provider.save()
    freshness.mark_changed()
    audit.record_change(
        AuditAction.CREATE if adding else AuditAction.UPDATE, provider, by=by, fields=sorted(changed)
    )
    return provider


@transaction.atomic
def set_point_status(point: ServicePoint, *, status: str, by: User) -> ServicePoint:
    _require_content_manager(by, point.owner_id)
    if status not in PublicationStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    point.status = status
    point.save(update_fields=["status", "updated_at"])
    freshness.mark_changed()
    audit.record_change(AuditAction.UPDATE, point, by=by, fields=["status"], detail={"status": status})
    return point


@transaction.atomic
def verify_point(point: ServicePoint, *, by: User) -> ServicePoint:
    """Someone checked (by phone or visit) that the point still works as described."""
    _require_content_manager(by, point.owner_id)
    point.last_verified_at = timezone.now()
    point.verified_by = by
    point.save(update_fields=["last_verified_at", "verified_by", "updated_at"])
    freshness.mark_changed()
    audit.record_change(AuditAction.UPDATE, point, by=by, fields=["last_verified_at", "verified_by"])
    return point


def stale_points(user: User) -> QuerySet[ServicePoint]:
    """Points the user keeps that were not verified within DIRECTORY_STALE_DAYS."""
    limit = timezone.now() - datetime.timedelta(days=settings.DIRECTORY_STALE_DAYS)
    organisations = scope_for(user).organisations(Permission.MANAGE_CONTENT)
    return (
        ServicePoint.objects.filter(owner_id__in=organisations)
        .exclude(status=PublicationStatus.ARCHIVED)
        .filter(Q(last_verified_at__isnull=True) | Q(last_verified_at__lt=limit))
        # Never verified first, on every database (SQLite sorts NULL first, PostgreSQL last).
        .order_by(F("last_verified_at").asc(nulls_first=True), "name")
    )
