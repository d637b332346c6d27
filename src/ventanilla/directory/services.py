"""Finding services and keeping the directory: search, save, publish, verify — audited and atomic."""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import phonenumbers
from babel import Locale
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory.geo import Position, bounding_box, distance_km
from ventanilla.directory.hours import OpenState, filter_open, opening_state
from ventanilla.directory.models import (
    Category,
    PublicationStatus,
    ServiceCategory,
    ServicePoint,
    ServicePointText,
)


class DirectoryPermissionError(Exception):
    """The actor does not manage content for the organisation that keeps this row."""


# --- Values ---------------------------------------------------------------------------------------

_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")


def parse_languages(value: str | Iterable[str]) -> str:
    """Codes like 'es, mam' → ',es,mam,'; unknown codes raise ValidationError naming them."""
    codes = [
        c.strip().lower() for c in (value.replace(";", ",").split(",") if isinstance(value, str) else value)
    ]
    codes = [c for c in codes if c]
    known = Locale("en").languages
    unknown = [c for c in codes if not _LANGUAGE_CODE.match(c) or c not in known]
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
    except (ValueError, TypeError):
        names = Locale("en").languages
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
    """The public search: filters in SQL, then distance and opening state for the page shown."""
    at = at or timezone.now()
    points = published_points()
    if query.category:
        if query.category not in Category.values:
            raise ValidationError({"category": _("Unknown category.")})
        points = points.filter(categories__code=query.category)
    if query.language:
        points = points.filter(languages__contains=f",{query.language.lower()},")
    if query.area:
        points = points.filter(
            Q(area__pcode=query.area)
            | Q(area__parent__pcode=query.area)
            | Q(area__parent__parent__pcode=query.area)
        )
    if query.text:
        words = query.text.split()
        for word in words[:6]:
            points = points.filter(
                Q(name__icontains=word)
                | Q(provider__name__icontains=word)
                | Q(address__icontains=word)
                | Q(texts__description__icontains=word)
            )
    if query.open_now:
        points = filter_open(points, at)
    if query.near is not None:
        min_lat, max_lat, min_lon, max_lon = bounding_box(query.near, query.radius_km)
        points = points.filter(
            latitude__gte=min_lat, latitude__lte=max_lat, longitude__gte=min_lon, longitude__lte=max_lon
        )
    points = (
        points.distinct()
        .select_related("provider", "area")
        .prefetch_related("categories", "hours", "exceptions")
    )
    if query.near is not None:
        candidates = list(points)
        measured = [
            (distance_km(query.near, Position(float(p.latitude), float(p.longitude))), p)  # type: ignore[arg-type]
            for p in candidates
        ]
        measured = sorted((m for m in measured if m[0] <= query.radius_km), key=lambda m: (m[0], m[1].name))
        page = measured[: query.limit]
        results = [PointResult(p, round(d, 2), opening_state(p, at)) for d, p in page]
        return SearchResult(results=results, total=len(measured), query=query)
    total = points.count()
    page_points = list(points.order_by("name", "pk")[: query.limit])
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
) -> ServicePoint:
    """Validate and store a point with its categories and texts; nothing is written if any is wrong."""
    _require_content_manager(by, point.owner_id)
    adding = point._state.adding
    point.full_clean(exclude=["categories"])
    point.save()
    if categories is not None:
        point.categories.set(parse_categories(categories))
    changed_texts = save_texts(point, texts or {})
    fields = sorted({*changed, *(["categories"] if categories is not None else []), *changed_texts})
    audit.record_change(AuditAction.CREATE if adding else AuditAction.UPDATE, point, by=by, fields=fields)
    return point


def save_texts(point: ServicePoint, texts: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Store texts per language; a change to the English (source) text marks the others outdated."""
    offered = {code for code, _name in settings.LANGUAGES}
    changed: list[str] = []
    for language, values in texts.items():
        if language not in offered:
            raise ValidationError(
                {"language": _("Ventanilla does not offer the language %(code)s.") % {"code": language}}
            )
        text, _created = ServicePointText.objects.get_or_create(point=point, language=language)
        new = {
            key: values.get(key, getattr(text, key)) for key in ("description", "directions", "eligibility")
        }
        if any(getattr(text, key) != value for key, value in new.items()):
            for key, value in new.items():
                setattr(text, key, value)
            text.is_outdated = False
            text.save()
            changed.append(f"text:{language}")
            if language == settings.LANGUAGE_CODE:
                ServicePointText.objects.filter(point=point).exclude(language=language).update(
                    is_outdated=True
                )
    return changed


@transaction.atomic
def set_point_status(point: ServicePoint, *, status: str, by: User) -> ServicePoint:
    _require_content_manager(by, point.owner_id)
    if status not in PublicationStatus.values:
        raise ValidationError({"status": _("Unknown status.")})
    point.status = status
    point.save(update_fields=["status", "updated_at"])
    audit.record_change(AuditAction.UPDATE, point, by=by, fields=["status"], detail={"status": status})
    return point


@transaction.atomic
def verify_point(point: ServicePoint, *, by: User) -> ServicePoint:
    """Someone checked (by phone or visit) that the point still works as described."""
    _require_content_manager(by, point.owner_id)
    point.last_verified_at = timezone.now()
    point.verified_by = by
    point.save(update_fields=["last_verified_at", "verified_by", "updated_at"])
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
        .order_by("last_verified_at", "name")
    )
