"""Fixtures for the hub tests: content written and published through the services, as staff do."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ventanilla.accounts.models import User
from ventanilla.hub import services
from ventanilla.hub.models import ContentItem, ContentTranslation
from ventanilla.testing.world import World


@pytest.fixture
def author(world: World) -> User:
    """A's information officer, who writes content."""
    return world.user("a", "information_officer")


@pytest.fixture
def reviewer(world: World) -> User:
    """A's administrator, a second content manager of A."""
    return world.user("a", "administrator")


@pytest.fixture
def make_item(world: World, author: User) -> Callable[..., ContentItem]:
    """An item kept by A (or by `org`), created by that organisation's information officer."""

    def make(key: str, *, org: str = "a", kind: str = "rights", **fields: Any) -> ContentItem:
        by = world.user(org, "information_officer")
        return services.create_item(
            owner=getattr(world, org).organisation, key=key, kind=kind, by=by, **fields
        )

    return make


@pytest.fixture
def publish_text(world: World, reviewer: User) -> Callable[..., ContentTranslation]:
    """Write, submit and publish the words of an item in one language (author, then reviewer)."""

    def publish(item: ContentItem, language: str, **words: Any) -> ContentTranslation:
        org = "a" if item.owner_id == world.a.organisation.pk else "b"
        writer = world.user(org, "information_officer")
        approver = world.user(org, "administrator")
        words.setdefault("title", f"{item.key} in {language}")
        translation = services.save_translation(item, language=language, by=writer, **words)
        translation = services.submit_for_review(translation, by=writer)
        return services.publish(translation, by=approver)

    return publish
