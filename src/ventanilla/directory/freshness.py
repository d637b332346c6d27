"""When the public directory changed, and caches of what the public sees that follow it.

Every service that writes the directory calls `mark_changed()` in its own transaction: one UPDATE of
the single `DirectoryState` row. Readers key what they cache by `version()` (one primary-key read), so

- a staff edit, publication or import shows in the next answer, in every gunicorn worker, whether the
  cache is each process's memory (the embedded default) or Redis (`CACHE_URL`): the counter lives in
  the database they share, not in the cache;
- nothing has to find and delete cache entries: old keys are never asked for again and expire.

Answers that say whether a point is open now are also keyed by the minute (`minute_key()`), so an
opening or closing time is never missed by more than the minute it falls in. Entries live a bounded
time (`PAGE_SECONDS`, `DERIVED_SECONDS`), which also bounds anything written around the services (a
database shell, a bulk SQL load).
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from ventanilla.directory.models import DirectoryState

T = TypeVar("T")

STATE_PK = 1
PAGE_SECONDS = (
    120  # keyed by the minute ("open now"); kept into the next minute to stand in while it is computed
)
DERIVED_SECONDS = 300  # lists drawn from the directory (areas, languages) and from reference data


# Each worker remembers the version it read for at most this long: a busy server then reads the row a
# few times a second instead of on every search, and a staff edit reaches the other workers within it
# (the worker that made the edit forgets at once).
VERSION_MEMO_SECONDS = 1.0
_memo: list[tuple[int, float]] = []


def forget_version() -> None:
    _memo.clear()


def mark_changed() -> None:
    """Move the directory's version on; call it inside the transaction that changes the directory, so
    the new version and the change become visible together."""
    forget_version()
    transaction.on_commit(forget_version)
    now = timezone.now()
    updated = DirectoryState.objects.filter(pk=STATE_PK).update(version=F("version") + 1, changed_at=now)
    if not updated:  # the migration creates the row; a database flushed by a test may not have it
        DirectoryState.objects.update_or_create(pk=STATE_PK, defaults={"version": 1, "changed_at": now})


def version() -> int:
    """The directory's current version (0 before the first change): one primary-key read, at most
    once a second per worker (`VERSION_MEMO_SECONDS`).

    Every anonymous search asks this before anything else, kept answers included, so it is a plain
    cursor query: the ORM would spend longer building the SQL than the database takes to answer."""
    now = time.monotonic()
    if _memo and now - _memo[0][1] < VERSION_MEMO_SECONDS:
        return _memo[0][0]
    quote = connection.ops.quote_name
    table = quote(DirectoryState._meta.db_table)
    sql = f"SELECT {quote('version')} FROM {table} WHERE {quote('id')} = %s"  # noqa: S608 - no input
    with connection.cursor() as cursor:
        cursor.execute(sql, [STATE_PK])
        row = cursor.fetchone()
    value = int(row[0]) if row else 0
    _memo[:] = [(value, now)]
    return value


def minute_key(at: datetime.datetime) -> str:
    """The UTC minute of `at`, for keys of answers that show opening states."""
    return at.astimezone(datetime.UTC).strftime("%Y%m%d%H%M")


def derived(name: str, compute: Callable[[], T], *, directory_version: int | None = None) -> T:
    """`compute()`, kept in the cache until the directory changes (or DERIVED_SECONDS pass).

    `name` must say everything else the value depends on (the reader's language, for example)."""
    current = version() if directory_version is None else directory_version
    key = f"directory:v{current}:{name}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, DERIVED_SECONDS)
    return value
