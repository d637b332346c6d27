"""Demo organisations, sites and one user per role — fictional, idempotent, for `ventanilla load-demo`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from ventanilla.accounts import services
from ventanilla.accounts.models import Membership, Organisation, Site, User
from ventanilla.areas.models import AdministrativeArea
from ventanilla.core.roles import SITE_SCOPED_ROLES, Role

DEMO_PASSWORD = "ventanilla-demo"  # noqa: S105 - printed on purpose: demo data on 127.0.0.1 only


@dataclass(frozen=True)
class DemoSite:
    name: str
    kind: str
    pcode: str
    latitude: str
    longitude: str
    time_zone: str


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    short_name: str
    kind: str
    country: str
    sites: tuple[DemoSite, ...]
    prefix: str
    roles: tuple[str, ...]


DEMO_ORGANISATIONS = (
    DemoOrganisation(
        name="Casa Ventana (fictional NGO)",
        short_name="Casa Ventana",
        kind="ngo",
        country="MX",
        prefix="casa",
        roles=tuple(Role.values),
        sites=(
            DemoSite(
                "Centro de Atención Tapachula",
                "resource_centre",
                "MX07089",
                "14.90590",
                "-92.26330",
                "America/Mexico_City",
            ),
            DemoSite(
                "Módulo Ciudad Hidalgo",
                "information_hub",
                "MX07087",
                "14.67870",
                "-92.14940",
                "America/Mexico_City",
            ),
            DemoSite(
                "Equipo móvil Costa de Chiapas",
                "mobile_team",
                "MX07089",
                "14.90000",
                "-92.27000",
                "America/Mexico_City",
            ),
        ),
    ),
    DemoOrganisation(
        name="Red Salud Frontera (fictional clinic network)",
        short_name="Red Salud",
        kind="service_provider",
        country="GT",
        prefix="salud",
        roles=("administrator", "caseworker", "partner_focal_point"),
        sites=(
            DemoSite("Clínica Tecún Umán", "clinic", "GT1217", "14.67670", "-92.13880", "America/Guatemala"),
        ),
    ),
)


def _area(pcode: str) -> AdministrativeArea | None:
    return AdministrativeArea.objects.filter(pcode=pcode).first()


@transaction.atomic
def load_demo_accounts() -> list[tuple[str, str, str]]:
    """Create what is missing; return (username, role, organisation) for every demo login."""
    logins: list[tuple[str, str, str]] = []
    for spec in DEMO_ORGANISATIONS:
        organisation = Organisation.objects.filter(name=spec.name).first() or services.create_organisation(
            name=spec.name, kind=spec.kind, short_name=spec.short_name
        )
        if organisation.country_id is None and (country := _area(spec.country)) is not None:
            organisation.country = country
            organisation.save(update_fields=["country"])
        sites = []
        for demo_site in spec.sites:
            site, _created = Site.objects.get_or_create(
                organisation=organisation,
                name=demo_site.name,
                defaults={
                    "kind": demo_site.kind,
                    "area": _area(demo_site.pcode),
                    "latitude": Decimal(demo_site.latitude),
                    "longitude": Decimal(demo_site.longitude),
                    "time_zone": demo_site.time_zone,
                },
            )
            sites.append(site)
        for role in spec.roles:
            username = f"{spec.prefix}_{role}"
            user = User.objects.filter(username=username).first() or services.create_user(
                username=username,
                password=DEMO_PASSWORD,
                full_name=f"Demo {Role(role).label} ({spec.short_name})",
                email=f"{username}@example.org",
                preferred_language="es",
            )
            if not Membership.objects.filter(user=user, organisation=organisation, role=role).exists():
                services.grant_membership(
                    user=user,
                    organisation=organisation,
                    role=role,
                    sites=sites[:1] if role in SITE_SCOPED_ROLES else [],
                    by=None,
                )
            logins.append((username, str(Role(role).label), spec.short_name))
    return logins
