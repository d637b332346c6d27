"""The version memo and the minute hand-over of kept answers."""

from __future__ import annotations

import datetime

import pytest
from django.core.cache import cache
from django.test import RequestFactory

from ventanilla.directory import freshness
from ventanilla.directory.answer_cache import answer_key, kept_answer
from ventanilla.directory.models import DirectoryState

NOON = datetime.datetime(2026, 11, 26, 12, 0, 5, tzinfo=datetime.UTC)


@pytest.mark.django_db
def test_a_worker_reads_the_version_once_a_second_but_its_own_change_at_once(django_assert_num_queries):
    freshness.mark_changed()
    first = freshness.version()
    with django_assert_num_queries(0):
        assert freshness.version() == first
    # A change written around the services (another worker's, as seen from here) waits for the memo...
    DirectoryState.objects.filter(pk=freshness.STATE_PK).update(version=first + 10)
    assert freshness.version() == first
    freshness.forget_version()
    assert freshness.version() == first + 10
    # ...while a change through the services is seen by this worker at once.
    freshness.mark_changed()
    assert freshness.version() == first + 11


def test_the_first_request_of_a_minute_computes_while_the_others_get_the_previous_answer():
    request = RequestFactory().get("/en/services/?open=1")
    calls: list[str] = []

    def compute(label: str):
        def run() -> tuple[str, bool]:
            calls.append(label)
            return label, True

        return run

    earlier = NOON - datetime.timedelta(minutes=1)
    assert kept_answer(request, at=earlier, directory_version=3, compute=compute("11:59")) == "11:59"
    # Another worker holds this minute's lock: the previous minute's answer stands in.
    key = answer_key(request, at=NOON, directory_version=3)
    assert cache.add(key + ":computing", 1, 10)
    assert kept_answer(request, at=NOON, directory_version=3, compute=compute("12:00")) == "11:59"
    assert calls == ["11:59"]
    # Once the lock is gone, the minute's own answer is computed and kept.
    cache.delete(key + ":computing")
    assert kept_answer(request, at=NOON, directory_version=3, compute=compute("12:00")) == "12:00"
    assert kept_answer(request, at=NOON, directory_version=3, compute=compute("again")) == "12:00"
    assert calls == ["11:59", "12:00"]


def test_without_a_previous_answer_the_request_computes_its_own():
    request = RequestFactory().get("/en/services/?q=shelter")
    key = answer_key(request, at=NOON, directory_version=1)
    cache.add(key + ":computing", 1, 10)
    assert kept_answer(request, at=NOON, directory_version=1, compute=lambda: ("fresh", False)) == "fresh"
    assert cache.get(key) is None  # an answer that may not be kept is not
