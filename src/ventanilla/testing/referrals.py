"""Builders for referral tests: a person registered with the shipped form, a partner and a pathway.

In the shared world, organisation A refers and organisation B is the partner with accounts (its
`partner_focal_point` user receives); `provider_without_account` is a clinic that has none.
"""

from __future__ import annotations

import datetime
from typing import Any

from ventanilla.directory.models import PublicationStatus, ServiceCategory, ServicePoint, ServiceProvider
from ventanilla.referrals.models import FocalPoint, Pathway
from ventanilla.registration import services as registration
from ventanilla.registration.models import Person
from ventanilla.testing.world import World

CHILD_ANSWERS: dict[str, Any] = {
    "consent_registration": "yes",
    "consent_referral": "yes",
    "consent_followup": "yes",
    "consent_statistics": "yes",
    "consent_method": "verbal",
    "receipt_language": "es",
    "given_name": "Ana",
    "family_name": "López",
    "sex": "female",
    "dob_known": "no",
    "age_estimate": "15",
    "nationality": "HN",
    "phone": "+50233334444",
    "documents": "none",
    "travelling_with": "group",
    "child_care": "unrelated_adult",
    "country_of_origin": "HN",
    "country_of_residence": "HN",
    "leg": [{"leg_country": "GT", "leg_place": "Tecún Umán", "leg_transport": "bus"}],
    "documents_withheld": "yes",
    "urgent_medical_need": "yes",
    "health_needs": "injury",
}


def categories(*codes: str) -> list[ServiceCategory]:
    return [ServiceCategory.objects.get_or_create(code=code)[0] for code in codes]


def register_person(world: World, *, site: int = 0, **changes: Any) -> Person:
    """A person registered at A's site by A's caseworker (a separated child with a medical need)."""
    data = {**CHILD_ANSWERS, **changes}
    data = {k: v for k, v in data.items() if v is not None}
    outcome = registration.register(
        registration.shipped_form(),
        data,
        organisation=world.a.organisation,
        site=world.a.sites[site],
        by=world.a.users["caseworker"] if site == 0 else None,
        language="es",
        today=datetime.date(2026, 11, 26),
    )
    assert outcome.person is not None
    return outcome.person


def provider(
    world: World, *, name: str, organisation: Any = None, codes: tuple[str, ...] = ("medical",)
) -> ServiceProvider:
    """A published provider kept by A, with one published service point for `codes`."""
    provider = ServiceProvider.objects.create(
        owner=world.a.organisation,
        name=name,
        organisation=organisation,
        status=PublicationStatus.PUBLISHED,
        email="desk@example.org",
    )
    point = ServicePoint.objects.create(
        owner=world.a.organisation,
        provider=provider,
        name=f"{name} — main office",
        address="Calle 1, Tapachula",
        status=PublicationStatus.PUBLISHED,
    )
    point.categories.set(categories(*codes))
    return provider


def pathway(
    world: World,
    *,
    codes: tuple[str, ...] = ("medical", "child_protection", "counter_trafficking"),
    with_account: bool = True,
    response_hours: int = 48,
    **fields: Any,
) -> Pathway:
    """A pathway from A to B (with accounts) or to a provider without accounts, with a focal point."""
    partner = provider(
        world,
        name="Red Beta" if with_account else "Clínica sin cuenta",
        organisation=world.b.organisation if with_account else None,
        codes=codes,
    )
    path = Pathway.objects.create(
        organisation=world.a.organisation,
        provider=partner,
        name=f"A → {partner.name}",
        response_hours=response_hours,
        valid_from=datetime.date(2026, 1, 1),
        language="es",
        **fields,
    )
    path.categories.set(categories(*codes))
    FocalPoint.objects.create(
        pathway=path, name="Focal Point", email="focal@example.org", phone="+50255556666", language="es"
    )
    return path
