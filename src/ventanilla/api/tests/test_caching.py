"""Conditional GET helpers: ETags from parts, the latest moment, and RFC 9110's order of preconditions."""

from __future__ import annotations

import datetime

from django.http import HttpResponse
from django.test import RequestFactory
from django.utils.http import http_date

from ventanilla.api.caching import PRIVATE, Freshness, fingerprint, latest, not_modified, stamp

MOMENT = datetime.datetime(2025, 3, 3, 16, 0, tzinfo=datetime.UTC)
FRESH = Freshness(etag='"abc"', last_modified=MOMENT)


def test_fingerprint_is_a_quoted_stable_hash_of_its_parts():
    tag = fingerprint("points", "en", [(1, MOMENT, datetime.time(9))])
    assert tag == fingerprint("points", "en", [(1, MOMENT, datetime.time(9))])
    assert tag != fingerprint("points", "es", [(1, MOMENT, datetime.time(9))])
    assert (tag[0], tag[-1], len(tag)) == ('"', '"', 34)


def test_latest_ignores_unknown_moments():
    assert latest(None, MOMENT, MOMENT - datetime.timedelta(days=1)) == MOMENT
    assert latest(None, None) is None
    assert latest() is None


def ask(method: str = "GET", **headers: str):
    return not_modified(getattr(RequestFactory(), method.lower())("/api/v1/x/", **headers), FRESH)


def test_preconditions_follow_rfc_9110():
    later, earlier = http_date(MOMENT.timestamp() + 60), http_date(MOMENT.timestamp() - 60)
    outcomes = {
        "no validators": ask(),
        "matching tag": ask(HTTP_IF_NONE_MATCH='"abc"'),
        "weakly matching tag": ask(HTTP_IF_NONE_MATCH='W/"abc"'),
        "one of several tags": ask(HTTP_IF_NONE_MATCH='"x", "abc"'),
        "any tag": ask(HTTP_IF_NONE_MATCH="*"),
        "other tag": ask(HTTP_IF_NONE_MATCH='"other"'),
        "same date": ask(HTTP_IF_MODIFIED_SINCE=http_date(MOMENT.timestamp())),
        "later date": ask(HTTP_IF_MODIFIED_SINCE=later),
        "earlier date": ask(HTTP_IF_MODIFIED_SINCE=earlier),
        # If-None-Match wins over If-Modified-Since
        "other tag, later date": ask(HTTP_IF_NONE_MATCH='"other"', HTTP_IF_MODIFIED_SINCE=later),
        "failed If-Match": ask(HTTP_IF_MATCH='"other"'),
        "HEAD, matching tag": ask("HEAD", HTTP_IF_NONE_MATCH='"abc"'),
        "POST, matching tag": ask("POST", HTTP_IF_NONE_MATCH='"abc"'),
    }
    assert {name: response and response.status_code for name, response in outcomes.items()} == {
        "no validators": None,
        "matching tag": 304,
        "weakly matching tag": 304,
        "one of several tags": 304,
        "any tag": 304,
        "other tag": None,
        "same date": 304,
        "later date": 304,
        "earlier date": None,
        "other tag, later date": None,
        "failed If-Match": 412,
        "HEAD, matching tag": 304,
        "POST, matching tag": None,
    }


def test_a_304_carries_the_validators_and_the_caching_rule():
    response = ask(HTTP_IF_NONE_MATCH='"abc"')
    assert (response["ETag"], response["Last-Modified"], response["Cache-Control"]) == (
        '"abc"',
        "Mon, 03 Mar 2025 16:00:00 GMT",
        "public, max-age=60",
    )
    assert response["Vary"] == "Accept, Accept-Language"


def test_stamp_without_a_date_sends_no_last_modified():
    response = stamp(HttpResponse(), Freshness(etag='"x"', last_modified=None, cache_control=PRIVATE))
    assert (response["ETag"], response.has_header("Last-Modified"), response["Cache-Control"]) == (
        '"x"',
        False,
        "private, no-store",
    )
