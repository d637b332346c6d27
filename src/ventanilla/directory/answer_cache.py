"""Whole answers of the public search (results page, API list), kept in the cache for anonymous readers.

Thousands of phones ask the same few searches ("shelter", "open now", the town they are in). An answer
is kept under a key made of everything it depends on:

- the full address with its query string, and the body's format (gzip or not, JSON or HTML);
- the reader's language (the URL prefix, or what `?lang=` / Accept-Language chose for the API);
- the directory's version (`directory.freshness`): a staff edit, publication or import moves it in
  the same transaction, so the next answer in every worker is computed afresh;
- the current minute (UTC): every answer shows whether each place is open now.

Only GET answers to anonymous readers with status 200 and no cookie are kept: a signed-in member of
staff may see drafts and gets `Cache-Control: no-store`; an answer that sets a cookie is someone's.
The cache is each worker's memory by default and Redis when `CACHE_URL` is set (settings.py).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from ventanilla.directory import freshness

T = TypeVar("T")

_GZIP = re.compile(r"\bgzip\b")  # as django.utils.decorators.gzip_page decides
GZIP_MIN_BYTES = 200  # as GZipMiddleware: a shorter body may grow when compressed


def accepts_gzip(request: HttpRequest) -> bool:
    """Whether the reader's browser or app takes a gzip body (the answer key includes it)."""
    return bool(_GZIP.search(request.headers.get("Accept-Encoding", "")))


def is_cacheable_request(request: Any) -> bool:
    """Anonymous GET: what a migrant's phone asks (HEAD and signed-in staff always go to the view)."""
    user = getattr(request, "user", None)
    return request.method == "GET" and not (user is not None and user.is_authenticated)


def answer_key(request: HttpRequest, *parts: object, at: datetime.datetime, directory_version: int) -> str:
    """A short cache key for one answer; `parts` adds what else the answer depends on."""
    gzip = accepts_gzip(request)
    raw = "\x1f".join(
        str(part)
        for part in (
            request.build_absolute_uri(),  # the API's next/previous links carry scheme and host
            translation.get_language() or "",
            gzip,
            directory_version,
            freshness.minute_key(at),
            *parts,
        )
    )
    return "answer:" + hashlib.blake2b(raw.encode(), digest_size=20).hexdigest()


COMPUTING_SECONDS = 10


def kept_answer(
    request: HttpRequest,
    *parts: object,
    at: datetime.datetime,
    directory_version: int,
    compute: Callable[[], tuple[T, bool]],
) -> T:
    """The kept answer for this request, or `compute()` (which says whether its result may be kept).

    When a new minute starts, every kept answer is due at once, and the first phones of that minute
    would all compute the same answers together. One of them does (a short `cache.add` lock); the
    others get the previous minute's answer, a few seconds old, while it is written."""
    key = answer_key(request, *parts, at=at, directory_version=directory_version)
    value = cache.get(key)
    if value is not None:
        return value
    lock = key + ":computing"
    if not cache.add(lock, 1, COMPUTING_SECONDS):
        earlier = at - datetime.timedelta(minutes=1)
        previous = cache.get(answer_key(request, *parts, at=earlier, directory_version=directory_version))
        if previous is not None:
            return previous
    try:
        value, keep = compute()
        if keep:
            cache.set(key, value, freshness.PAGE_SECONDS)
    finally:
        cache.delete(lock)
    return value


def cached_public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Keep the view's (already compressed) answer for anonymous readers; see the module docstring.

    The view receives `at`, the moment its answer is for, and `directory_version`, so that the answer
    and its key agree on both (and the view's own cached lists need not read the version again)."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        at, directory_version = timezone.now(), freshness.version()
        kwargs.update(at=at, directory_version=directory_version)
        if not is_cacheable_request(request):
            return view(request, *args, **kwargs)

        def compute() -> tuple[HttpResponse, bool]:
            response = view(request, *args, **kwargs)
            return response, response.status_code == 200 and not response.cookies and not response.streaming

        return kept_answer(request, at=at, directory_version=directory_version, compute=compute)

    return wrapper
