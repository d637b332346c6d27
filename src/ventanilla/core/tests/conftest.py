"""Fixtures for the core tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def no_eager_propagation(monkeypatch: pytest.MonkeyPatch) -> None:
    """In-process task failures are reported, not raised (production behaviour)."""
    from celery import current_app

    monkeypatch.setitem(current_app.conf, "task_eager_propagates", False)


@pytest.fixture
def project_celery_app() -> Iterator[Any]:
    """The project's Celery app; importing it makes it the current app, so the previous one is restored."""
    from celery import _state

    previous = _state.get_current_app()
    from ventanilla.celery_app import app

    yield app
    previous.set_current()
