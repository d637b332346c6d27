"""Keeping referral pathways: who may, what a valid pathway is, and saving it with its focal points.

The pages and (later) the API call `save_pathway`; it checks everything, writes the pathway and its
focal points in one transaction and audits the change by field name. Refusals carry every problem
at once (`PathwayInvalid.errors`, keyed by field) so a form can show each next to its input.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory.models import (
    Category,
    PublicationStatus,
    ServiceCategory,
    ServicePoint,
    ServiceProvider,
    Sexes,
)
from ventanilla.referrals import projection
from ventanilla.referrals.models import FocalPoint, Pathway
from ventanilla.referrals.services import ReferralError, ReferralPermissionError

# Fields of a pathway that `save_pathway` writes (the audit entry names those that changed).
PATHWAY_FIELDS = (
    "name",
    "provider",
    "age_min",
    "age_max",
    "sexes",
    "eligibility",
    "response_hours",
    "language",
    "shared_fields",
    "valid_from",
    "valid_to",
    "is_active",
)


class PathwayInvalid(ReferralError):
    """Every reason a pathway cannot be saved, keyed by field ("focal_points-<n>-<field>" for rows)."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        first = next(iter(errors))
        super().__init__(errors[first], field=first)


@dataclass
class FocalPointInput:
    name: str
    email: str = ""
    phone: str = ""
    language: str = "es"
    id: int | None = None  # an existing focal point of this pathway, kept and updated


@dataclass
class PathwayInput:
    name: str
    provider: ServiceProvider | None
    categories: list[str]
    valid_from: datetime.date | None
    service_points: list[ServicePoint] = field(default_factory=list)
    age_min: int | None = None
    age_max: int | None = None
    sexes: str = Sexes.ANY
    eligibility: str = ""
    response_hours: int = 48
    language: str = "es"
    shared_fields: list[str] = field(default_factory=list)
    valid_to: datetime.date | None = None
    is_active: bool = True
    focal_points: list[FocalPointInput] = field(default_factory=list)


# --- who may ---------------------------------------------------------------------------------------


def managed_organisations(user: User | None) -> QuerySet[Organisation]:
    """Organisations whose pathways the user keeps (manage_pathways)."""
    ids = scope_for(user).organisations(Permission.MANAGE_PATHWAYS)
    return Organisation.objects.filter(pk__in=ids).order_by("name")


def may_manage(user: User | None, pathway: Pathway) -> bool:
    return pathway.organisation_id in scope_for(user).organisations(Permission.MANAGE_PATHWAYS)


def providers_for(user: User | None) -> QuerySet[ServiceProvider]:
    """Partners a pathway may point to: published providers the user can see in the directory."""
    return (
        ServiceProvider.objects.visible_to(user).filter(status=PublicationStatus.PUBLISHED).order_by("name")
    )


def points_of(provider: ServiceProvider | None, user: User | None) -> QuerySet[ServicePoint]:
    if provider is None:
        return ServicePoint.objects.none()
    return (
        ServicePoint.objects.visible_to(user)
        .filter(provider=provider)
        .prefetch_related("categories")
        .order_by("name")
    )


# --- validation ------------------------------------------------------------------------------------


def international_phone(value: str) -> str:
    """E.164, or ValueError: a number without its country code is refused rather than guessed."""
    try:
        number = phonenumbers.parse(value.strip(), None)
    except phonenumbers.NumberParseException:
        raise ValueError(value) from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError(value)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _problems(data: PathwayInput, *, by: User | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not data.name.strip():
        errors["name"] = _("Give the pathway a name.")
    if data.provider is None or not providers_for(by).filter(pk=data.provider.pk).exists():
        errors["provider"] = _("Choose a published partner from the directory.")
    unknown = [code for code in data.categories if code not in Category.values]
    if not data.categories:
        errors["categories"] = _("Choose at least one service.")
    elif unknown:
        errors["categories"] = _("Unknown services: %(codes)s.") % {"codes": ", ".join(unknown)}
    if data.provider is not None and "provider" not in errors:
        own = set(points_of(data.provider, by).values_list("pk", flat=True))
        foreign = [point for point in data.service_points if point.pk not in own]
        if foreign:
            errors["service_points"] = _("These service points are not the partner's: %(names)s.") % {
                "names": ", ".join(point.name for point in foreign)
            }
        elif "categories" not in errors:
            wanted = set(data.categories)
            unrelated = [
                point
                for point in data.service_points
                if not wanted & {c.code for c in point.categories.all()}
            ]
            if unrelated:
                errors["service_points"] = _(
                    "These service points offer none of the pathway's services: %(names)s."
                ) % {"names": ", ".join(point.name for point in unrelated)}
    if data.age_min is not None and data.age_max is not None and data.age_min > data.age_max:
        errors["age_max"] = _("The maximum age is below the minimum age.")
    if data.sexes not in Sexes.values:
        errors["sexes"] = _("Choose who the partner serves.")
    if data.response_hours < 1:
        errors["response_hours"] = _("The partner needs at least one hour to answer.")
    languages = {code for code, _name in settings.LANGUAGES}
    if data.language not in languages:
        errors["language"] = _("Choose a language.")
    unknown_fields = projection.unknown_fields(data.shared_fields)
    if unknown_fields:
        errors["shared_fields"] = _("Unknown fields: %(names)s.") % {"names": ", ".join(unknown_fields)}
    if data.valid_from is None:
        errors["valid_from"] = _("Say from when the pathway is in force.")
    elif data.valid_to is not None and data.valid_to < data.valid_from:
        errors["valid_to"] = _("The pathway cannot end before it starts.")
    for index, point in enumerate(data.focal_points):
        prefix = f"focal_points-{index}-"
        if not point.name.strip():
            errors[prefix + "name"] = _("Give the focal point's name.")
        if not point.email.strip() and not point.phone.strip():
            errors[prefix + "email"] = _("Give an email address or a phone number.")
        if point.phone.strip():
            try:
                international_phone(point.phone)
            except ValueError:
                errors[prefix + "phone"] = _(
                    "Enter the number in international format, for example +52 962 123 4567."
                )
        if point.language not in languages:
            errors[prefix + "language"] = _("Choose a language.")
    return errors


# --- saving ----------------------------------------------------------------------------------------


@transaction.atomic
def save_pathway(
    pathway: Pathway | None, data: PathwayInput, *, by: User, organisation: Organisation | None = None
) -> Pathway:
    """Create (with `organisation`) or update a pathway and its focal points, or refuse and change nothing."""
    if pathway is None:
        if organisation is None or organisation.pk not in scope_for(by).organisations(
            Permission.MANAGE_PATHWAYS
        ):
            raise ReferralPermissionError(_("You cannot keep pathways for this organisation."))
        target = Pathway(organisation=organisation)
    else:
        if not may_manage(by, pathway):
            raise ReferralPermissionError(_("You cannot change this pathway."))
        target = Pathway.objects.select_for_update().get(pk=pathway.pk)
    errors = _problems(data, by=by)
    if pathway is not None:
        known = set(target.focal_points.values_list("pk", flat=True))
        for index, point in enumerate(data.focal_points):
            if point.id is not None and point.id not in known:
                errors[f"focal_points-{index}-name"] = _("That focal point is not on this pathway.")
    if errors:
        raise PathwayInvalid(errors)
    is_new = target.pk is None
    before = {name: getattr(target, name) for name in PATHWAY_FIELDS if not is_new}
    before_categories = set() if is_new else set(target.categories.values_list("code", flat=True))
    before_points = set() if is_new else set(target.service_points.values_list("pk", flat=True))
    values: dict[str, Any] = {
        "name": data.name.strip(),
        "provider": data.provider,
        "age_min": data.age_min,
        "age_max": data.age_max,
        "sexes": data.sexes,
        "eligibility": data.eligibility.strip(),
        "response_hours": data.response_hours,
        "language": data.language,
        "shared_fields": [name for name in projection.FIELDS if name in set(data.shared_fields)],
        "valid_from": data.valid_from,
        "valid_to": data.valid_to,
        "is_active": data.is_active,
    }
    for name, value in values.items():
        setattr(target, name, value)
    target.save()
    target.categories.set(ServiceCategory.objects.filter(code__in=data.categories))
    target.service_points.set(data.service_points)
    changed = [name for name in PATHWAY_FIELDS if is_new or before[name] != values[name]]
    if is_new or before_categories != set(data.categories):
        changed.append("categories")
    if is_new or before_points != {point.pk for point in data.service_points}:
        changed.append("service_points")
    if _save_focal_points(target, data.focal_points):
        changed.append("focal_points")
    audit.record_change(
        AuditAction.CREATE if is_new else AuditAction.UPDATE,
        target,
        by=by,
        fields=changed,
        detail={"provider": target.provider_id},
    )
    return target


def _save_focal_points(pathway: Pathway, wanted: list[FocalPointInput]) -> bool:
    """Make the pathway's focal points exactly `wanted`; True when anything changed."""
    existing = {point.pk: point for point in pathway.focal_points.all()}
    kept: set[int] = set()
    changed = False
    for item in wanted:
        values = {
            "name": item.name.strip(),
            "email": item.email.strip(),
            "phone": international_phone(item.phone) if item.phone.strip() else "",
            "language": item.language,
        }
        point = existing.get(item.id) if item.id is not None else None
        if point is None:
            FocalPoint.objects.create(pathway=pathway, **values)
            changed = True
            continue
        kept.add(point.pk)
        if any(getattr(point, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(point, name, value)
            point.save()
            changed = True
    removed = [pk for pk in existing if pk not in kept]
    if removed:
        FocalPoint.objects.filter(pk__in=removed).delete()
        changed = True
    return changed
