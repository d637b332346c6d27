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
