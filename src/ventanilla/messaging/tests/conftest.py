"""Fixtures the messaging tests share."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def run_queued_work(django_capture_on_commit_callbacks, monkeypatch):
    """Work a request queues (a webhook's processing) runs when the request's transaction commits, as in
    the embedded set-up where tasks run in-process."""
    original = Client.generic

    def generic(self, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(self, *args, **kwargs)

    monkeypatch.setattr(Client, "generic", generic)
