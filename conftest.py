"""Fixtures shared by every test: the two-organisation world and signed-in clients."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from ventanilla.testing.world import World, build_world


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def client_for(world: World) -> Callable[..., Client]:
    """A client signed in as a user (session, as a browser would be)."""

    def make(user: object) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)  # type: ignore[arg-type]
        return client

    return make


@pytest.fixture(autouse=True)
def _english_by_default() -> object:
    """Every test starts in English: a test (or a request) that activates another language must not
    change the messages later tests compare."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _empty_cache() -> object:
    """Each test starts with an empty cache: the local-memory cache lives as long as the test process,
    and a kept search answer (keyed by a directory version that restarts with each test's database)
    must not reach the next test."""
    from django.core.cache import cache

    from ventanilla.directory.freshness import forget_version

    cache.clear()
    forget_version()
    yield
    cache.clear()
    forget_version()
