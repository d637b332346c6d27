"""Conditional GET for the public read endpoints: ETag, Last-Modified, 304 Not Modified.

A migrant's phone (or a partner website) that asks again with `If-None-Match` or `If-Modified-Since`
gets an empty 304 when nothing it would see has changed, so the answer costs a few bytes, not the list.

Views compute a `Freshness` from what decides the answer (ids, update times, the language, the open
state...) *before* rendering it, call `not_modified()` and, when that is None, `stamp()` the response:

    freshness = Freshness(etag=fingerprint(language, [(p.pk, p.updated_at) for p in page]), ...)
    if (response := not_modified(request, freshness)) is not None:
        return response
    return stamp(Response(data), freshness)

Freshness checks run only on GET and HEAD; rules follow RFC 9110 (Django's `get_conditional_response`):
`If-None-Match` wins over `If-Modified-Since`, and ETags are compared weakly.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils import translation
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

PUBLIC_MAX_AGE = 60  # seconds a phone or a shared cache may reuse public data without asking again

PUBLIC = f"public, max-age={PUBLIC_MAX_AGE}"
PRIVATE = "private, no-store"  # a draft shown to the staff who keep it: never stored anywhere

ResponseT = TypeVar("ResponseT", bound=HttpResponseBase)


@dataclass(frozen=True)
class Freshness:
    """What identifies one answer: its ETag (quoted), when it last changed, and who may cache it."""

    etag: str
    last_modified: datetime.datetime | None
    cache_control: str = PUBLIC


def _default(value: object) -> str:
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def fingerprint(*parts: Any) -> str:
    """A quoted strong ETag from JSON-able parts (datetimes, times, decimals are written as text)."""
    payload = json.dumps(parts, default=_default, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.blake2b(payload.encode(), digest_size=16).hexdigest() + '"'


def latest(*moments: datetime.datetime | None) -> datetime.datetime | None:
    """The latest of the moments given (None ignored), or None when there is none."""
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def reader_language(requested: str | None = None) -> str:
    """`?lang=` when given (already checked against LANGUAGES), else the language LocaleMiddleware
    negotiated from Accept-Language (or the default)."""
    return requested or translation.get_language() or settings.LANGUAGE_CODE


def not_modified(request: HttpRequest, freshness: Freshness) -> HttpResponseBase | None:
    """304 (or 412 for a failed If-Match) carrying the validators, or None to build the full answer."""
    if request.method not in ("GET", "HEAD"):
        return None
    timestamp = int(freshness.last_modified.timestamp()) if freshness.last_modified else None
    response = get_conditional_response(request, etag=freshness.etag, last_modified=timestamp)
    return stamp(response, freshness) if response is not None else None


def stamp(response: ResponseT, freshness: Freshness) -> ResponseT:
    """Put the validators and the caching rule on an answer (a 200 or the 304 itself)."""
    response["ETag"] = freshness.etag
    if freshness.last_modified is not None:
        response["Last-Modified"] = http_date(freshness.last_modified.timestamp())
    response["Cache-Control"] = freshness.cache_control
    # The words depend on the reader's language, the body on the format asked for.
    patch_vary_headers(response, ("Accept", "Accept-Language"))
    return response


# --- How the schema documents it ------------------------------------------------------------------

CONDITIONAL_PARAMETERS = [
    OpenApiParameter(
        "If-None-Match",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="An ETag from an earlier answer: 304 Not Modified when it still matches.",
    ),
    OpenApiParameter(
        "If-Modified-Since",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        description="An HTTP date: 304 Not Modified when nothing changed since (ignored with If-None-Match).",
    ),
    OpenApiParameter(
        "ETag",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="Identifies this answer; send it back in If-None-Match.",
    ),
    OpenApiParameter(
        "Last-Modified",
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        response=True,
        description="When what this answer shows last changed (absent when there is nothing to show).",
    ),
]

NOT_MODIFIED = OpenApiResponse(description="Not modified: the copy the client holds is still current.")
