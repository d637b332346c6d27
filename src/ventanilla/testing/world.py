"""The shared world of the authorisation tests: two organisations, a user per role in each, an outsider.

Site-scoped roles are given the first site of their organisation only, so tests can also prove that a
caseworker does not see the second site's rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ventanilla.accounts import services
from ventanilla.accounts.models import Organisation, Site, User
from ventanilla.core.roles import SITE_SCOPED_ROLES, Role
from ventanilla.testing.factories import PASSWORD, SiteFactory, UserFactory


@dataclass
class OrgWorld:
    organisation: Organisation
    sites: list[Site]
    users: dict[str, User] = field(default_factory=dict)  # role value -> user


@dataclass
class World:
    a: OrgWorld
    b: OrgWorld
    outsider: User
    password: str = PASSWORD

    def user(self, org: str, role: str) -> User:
        return getattr(self, org).users[role]


def _build_org(name: str, prefix: str) -> OrgWorld:
    organisation = services.create_organisation(name=name, kind="ngo", short_name=prefix.upper())
    sites = [SiteFactory(organisation=organisation, name=f"{name} site {n}") for n in (1, 2)]
    org = OrgWorld(organisation=organisation, sites=sites)
    for role in Role:
        user = UserFactory(username=f"{prefix}_{role.value}")
        services.grant_membership(
            user=user,
            organisation=organisation,
            role=role.value,
            sites=sites[:1] if role.value in SITE_SCOPED_ROLES else [],
            by=None,
        )
        org.users[role.value] = user
    return org


def build_world() -> World:
    return World(
        a=_build_org("Casa Alfa", "a"),
        b=_build_org("Refugio Beta", "b"),
        outsider=UserFactory(username="outsider"),
    )
