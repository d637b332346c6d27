"""Keeping referral pathways: one function that checks and saves a pathway, for the API (and pages).

A pathway is kept by its referring organisation's pathway managers (manage_pathways). Every refusal
is a ReferralError naming the field; nothing is saved unless everything holds.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory.models import Category, ServiceCategory, ServicePoint, ServiceProvider, Sexes
from ventanilla.referrals import projection
from ventanilla.referrals.models import FocalPoint, Pathway
from ventanilla.referrals.services import ReferralError, ReferralPermissionError

# Plain columns a caller may set; relations and focal points are handled on their own below.
COLUMNS = (
    "name",
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
RELATIONS = ("provider", "categories", "service_points", "focal_points")
REQUIRED_ON_CREATE = ("name", "provider", "categories", "valid_from")


def may_manage(user: Any, organisation_id: int) -> bool:
    return organisation_id in scope_for(user).organisations(Permission.MANAGE_PATHWAYS)


def _check(pathway: Pathway, values: Mapping[str, Any], by: User) -> None:
    if not str(pathway.name).strip():
        raise ReferralError(_("Give the pathway a name."), field="name")
    if pathway.sexes not in Sexes.values:
        raise ReferralError(_("Unknown choice."), field="sexes")
    if pathway.language not in {code for code, _name in settings.LANGUAGES}:
        raise ReferralError(_("Unknown language."), field="language")
    if pathway.age_min is not None and pathway.age_max is not None and pathway.age_min > pathway.age_max:
        raise ReferralError(_("The maximum age is below the minimum age."), field="age_max")
    if pathway.response_hours is None or pathway.response_hours < 1:
        raise ReferralError(_("The answer time is at least one hour."), field="response_hours")
    if not isinstance(pathway.valid_from, datetime.date):
        raise ReferralError(_("Give the date the agreement starts."), field="valid_from")
    if pathway.valid_to is not None and pathway.valid_to < pathway.valid_from:
        raise ReferralError(_("The agreement ends before it starts."), field="valid_to")
    if not isinstance(pathway.shared_fields, list) or projection.unknown_fields(
        [str(name) for name in pathway.shared_fields]
    ):
        raise ReferralError(
            _("Unknown fields: %(names)s.")
            % {"names": ", ".join(projection.unknown_fields([str(n) for n in pathway.shared_fields or []]))},
            field="shared_fields",
        )
    provider = values.get("provider", pathway.provider if pathway.provider_id else None)
    if provider is None or not ServiceProvider.objects.visible_to(by).filter(pk=provider.pk).exists():
        raise ReferralError(_("Choose a partner from the service directory."), field="provider")
    if "categories" in values:
        codes = list(values["categories"])
        if not codes:
            raise ReferralError(_("Choose at least one service."), field="categories")
        if set(codes) - set(Category.values):
            raise ReferralError(_("Unknown service."), field="categories")
    if "service_points" in values:
        points = list(values["service_points"])
        if any(point.provider_id != provider.pk for point in points):
            raise ReferralError(_("A service point belongs to another partner."), field="service_points")
    for contact in values.get("focal_points") or []:
        if not str(contact.get("name", "")).strip() or not (contact.get("email") or contact.get("phone")):
            raise ReferralError(
                _("Each focal point needs a name and an email or phone."), field="focal_points"
            )


@transaction.atomic
def save_pathway(
    pathway: Pathway | None,
    *,
    by: User,
    values: Mapping[str, Any],
    organisation: Organisation | None = None,
) -> Pathway:
    """Create (pathway None, `organisation` the referring one) or change a pathway.

    `values` holds what to set: the COLUMNS, `provider` (a ServiceProvider), `categories` (codes),
    `service_points` (ServicePoints of the provider) and `focal_points` (dicts of name, email, phone,
    language; replacing the current ones). Missing keys keep their value.
    """
    creating = pathway is None
    if pathway is None:
        if organisation is None:
            raise ReferralError(_("Choose the referring organisation."), field="organisation")
        missing = [name for name in REQUIRED_ON_CREATE if values.get(name) in (None, "", [])]
        if missing:
            raise ReferralError(_("This field is required."), field=missing[0])
        pathway = Pathway(organisation=organisation)
    if not may_manage(by, pathway.organisation_id):
        raise ReferralPermissionError(_("You cannot manage this organisation's pathways."))
    unknown = set(values) - set(COLUMNS) - set(RELATIONS)
    if unknown:
        raise ReferralError(_("Unknown field."), field=sorted(unknown)[0])
    changed = [name for name in COLUMNS if name in values and getattr(pathway, name) != values[name]]
    for name in COLUMNS:
        if name in values:
            setattr(pathway, name, values[name])
    if "provider" in values and (creating or values["provider"].pk != pathway.provider_id):
        pathway.provider = values["provider"]
        changed.append("provider")
    _check(pathway, values, by)
    pathway.save()
    if "categories" in values:
        before = set() if creating else set(pathway.categories.values_list("code", flat=True))
        wanted = set(values["categories"])
        if wanted != before:
            pathway.categories.set(ServiceCategory.objects.filter(code__in=wanted))
            changed.append("categories")
    if "service_points" in values:
        points = {point.pk for point in values["service_points"]}
        if creating or points != set(pathway.service_points.values_list("pk", flat=True)):
            pathway.service_points.set(ServicePoint.objects.filter(pk__in=points))
            changed.append("service_points")
    elif "provider" in changed and not creating:
        # Points of the former partner no longer belong to this pathway.
        pathway.service_points.clear()
    if "focal_points" in values:
        pathway.focal_points.all().delete()
        FocalPoint.objects.bulk_create(
            FocalPoint(
                pathway=pathway,
                name=str(contact["name"]).strip(),
                email=contact.get("email") or "",
                phone=contact.get("phone") or "",
                language=contact.get("language") or pathway.language,
            )
            for contact in values["focal_points"]
        )
        changed.append("focal_points")
    if creating or changed:
        audit.record_change(
            AuditAction.CREATE if creating else AuditAction.UPDATE,
            pathway,
            by=by,
            fields=sorted(set(changed)),
            detail={"provider": pathway.provider_id},
        )
    return pathway
