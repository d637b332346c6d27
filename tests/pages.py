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
from ventanilla.directory.models import ImportJob, ImportStatus
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory
from ventanilla.hub import services as hub_services
from ventanilla.hub.models import ContentItem
from ventanilla.testing.factories import AreaFactory
from ventanilla.testing.world import World

# Reached by POST only: a GET answers 405 and renders nothing.
NOT_PAGES = {"accounts:logout", "accounts:revoke_token"}
# API actions, reached by POST only.
NOT_PAGES |= {
    "service-point-archive",
    "service-point-publish",
    "service-point-verify",
    "content-item-translation-publish",
    "content-item-translation-send-back",
    "content-item-translation-submit",
    "content-item-verify",
}
# Staff buttons (publish, verify, workflow steps), reached by POST only.
NOT_PAGES |= {
    "directory:point_status",
    "directory:point_verify",
    "content:item_verify",
    "content:translation_submit",
    "content:translation_publish",
    "content:translation_send_back",
    "content:translation_archive",
}


def _names(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _names(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield namespace + entry.name


def _public_article(world: World) -> ContentItem:
    """A published article (made once per world, as page_paths may be called more than once)."""
    existing = ContentItem.objects.filter(key="pages-article").first()
    if existing is not None:
        return existing
    by = world.user("a", "information_officer")
    item = hub_services.create_item(owner=world.a.organisation, key="pages-article", kind="rights", by=by)
    words = hub_services.save_translation(item, language="en", by=by, title="Your rights")
    hub_services.publish(hub_services.submit_for_review(words, by=by), by=by)
    return item


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
        # A published point with a WhatsApp number: its page holds the one allowed external link.
        "hub:service": {"pk": PointFactory(categories=["medical"], whatsapp="+529621234568").pk},
        "hub:article": {"key": _public_article(world).key},
        **_api_arguments(world),
        **_staff_arguments(world),
    }


def _api_arguments(world: World) -> dict[str, dict[str, Any]]:
    """The Find Help API's detail routes: a published point and its provider, the published article
    (also asked for as an alert, which it is not: a 404 page), and that article's staff routes."""
    point = PointFactory(categories=["shelter"], name="API point")
    article = _public_article(world).key
    return {
        "service-point-detail": {"pk": point.pk},
        "service-provider-detail": {"pk": point.provider_id},
        "article-detail": {"key": article},
        "alert-detail": {"key": article},
        "content-item-detail": {"key": article},
        "content-item-translation": {"key": article, "language": "en"},
    }


def _import_job(world: World) -> ImportJob:
    """A finished import of A with one row error, so its page shows the report."""
    return ImportJob.objects.create(
        organisation=world.a.organisation,
        created_by=world.user("a", "information_officer"),
        file_name="points.csv",
        stored_name="gone.csv",
        status=ImportStatus.FAILED,
        errors=[{"row": 2, "column": "categories", "message": "Unknown categories: x"}],
    )


def _staff_arguments(world: World) -> dict[str, dict[str, Any]]:
    """The staff pages of the directory and the content: a point and a provider of A, A's article."""
    point = PointFactory(
        provider=ProviderFactory(owner=world.a.organisation, name="Staff pages provider"),
        categories=["food"],
        name="Staff pages point",
    )
    article = {"pk": _public_article(world).pk}
    return {
        "directory:point_edit": {"pk": point.pk},
        "directory:provider_edit": {"pk": point.provider_id},
        "directory:import_job": {"pk": _import_job(world).pk},
        "content:item_detail": article,
        "content:item_settings": article,
        "content:translation_edit": {**article, "language": "ar"},
        "content:translation_review": {**article, "language": "en"},
        "content:translation_history": {**article, "language": "en"},
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
