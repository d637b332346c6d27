"""Every GET page of the URLconf, with its arguments taken from the shared world.

A new URL pattern with arguments must be added to `_arguments` below (or to `NOT_PAGES`), or the tests
that use this list fail and say so: no page escapes the external-URL checks by accident.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch
from django.utils import translation

from ventanilla.accounts.models import Membership
from ventanilla.testing.factories import AreaFactory
from ventanilla.testing.world import World

# Reached by POST only: a GET answers 405 and renders nothing.
NOT_PAGES = {"accounts:logout", "accounts:revoke_token"}


def _names(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name


def _arguments(world: World) -> dict[str, dict[str, Any]]:
    organisation, site = world.a.organisation, world.a.sites[0]
    membership = Membership.objects.get(user=world.user("a", "caseworker"), organisation=organisation)
    area = AreaFactory()
    return {
        "accounts:organisation_detail": {"pk": organisation.pk},
        "accounts:site_create": {"organisation_pk": organisation.pk},
        "accounts:site_edit": {"organisation_pk": organisation.pk, "pk": site.pk},
        "accounts:membership_grant": {"organisation_pk": organisation.pk},
        "accounts:staff_member_create": {"organisation_pk": organisation.pk},
        "accounts:role_policies": {"organisation_pk": organisation.pk},
        "accounts:membership_edit": {"pk": membership.pk},
        "organisation-detail": {"pk": organisation.pk},
        "site-detail": {"pk": site.pk},
        "membership-detail": {"pk": membership.pk},
        "area-detail": {"pcode": area.pcode},
    }


def page_paths(world: World, *, language: str = "en") -> list[str]:
    """Paths of every GET page; admin pages with arguments are left out (Django's own templates)."""
    arguments = _arguments(world)
    paths: list[str] = []
    unknown: list[str] = []
    with translation.override(language):
        for name in dict.fromkeys(_names(get_resolver().url_patterns)):
            if name in NOT_PAGES:
                continue
            try:
                path = reverse(name, kwargs=arguments.get(name))
            except NoReverseMatch:
                if not name.startswith("admin:"):
                    unknown.append(name)
                continue
            paths.append(path)
    assert not unknown, f"Add the arguments of these URL patterns to tests/pages.py: {unknown}"
    return list(dict.fromkeys(paths))
