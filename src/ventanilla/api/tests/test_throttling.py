"""The anonymous rate counted in fixed windows (`api.throttling`)."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client, RequestFactory
from rest_framework.request import Request

from ventanilla.api.throttling import FixedWindowAnonThrottle
from ventanilla.directory import api as directory_api

URL = "/api/v1/service-points/"


class TwoAMinute(FixedWindowAnonThrottle):
    rate = "2/minute"


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


def caller(address: str) -> Request:
    request = Request(RequestFactory().get(URL, REMOTE_ADDR=address))
    request._request.user = None  # as DRF sees an anonymous caller without authentication classes
    return request


def allowed(throttle: FixedWindowAnonThrottle, address: str) -> bool:
    return throttle.allow_request(caller(address), view=None)


def test_each_address_gets_the_rate_in_its_window():
    throttle = TwoAMinute()
    assert [allowed(throttle, "10.0.0.1") for _n in range(3)] == [True, True, False]
    # another address has a window of its own
    assert allowed(throttle, "10.0.0.2") is True
    # the caller is told to come back within the window
    assert throttle.wait() == 60.0


def test_a_new_window_opens_when_the_last_one_expires(monkeypatch):
    # given a memory cache whose clock the test moves (Redis keeps its own; its INCR keeps the TTL too)
    throttle = TwoAMinute()
    throttle.cache = LocMemCache("throttle-window-test", {})
    clock = {"now": 1_000_000.0}
    monkeypatch.setattr("django.core.cache.backends.locmem.time.time", lambda: clock["now"])
    assert [allowed(throttle, "10.0.0.1") for _n in range(3)] == [True, True, False]
    # counting does not move the window's end: still refused just before it
    clock["now"] += 59
    assert allowed(throttle, "10.0.0.1") is False
    clock["now"] += 2
    assert [allowed(throttle, "10.0.0.1") for _n in range(3)] == [True, True, False]


def test_the_count_is_one_cache_increment_once_the_window_is_open(monkeypatch):
    throttle = TwoAMinute()
    allowed(throttle, "10.0.0.1")
    calls: list[str] = []

    def recorded(name: str):
        original = getattr(cache, name)

        def call(*args, **kwargs):
            calls.append(name)
            return original(*args, **kwargs)

        return call

    for name in ("get", "set", "add", "incr"):
        monkeypatch.setattr(cache, name, recorded(name))
    allowed(throttle, "10.0.0.1")
    assert calls == ["incr"]


def test_a_throttled_api_call_says_when_to_come_back(db, monkeypatch):
    monkeypatch.setattr(directory_api.PublicRateThrottle, "THROTTLE_RATES", {"anon": "1/minute"})
    client = Client()
    assert client.get(URL).status_code == 200
    refused = client.get(URL)
    assert (refused.status_code, refused["Retry-After"]) == (429, "60")
