"""The anonymous rate of the public read endpoints, counted with one cache increment per request.

DRF's `AnonRateThrottle` keeps, per address, the list of every request's time in the last period: each
request reads that list from the cache, unpickles it, prepends a time and writes it back. At the
generous public rate (600 a minute, a whole shelter may share one address) that is a list of up to 600
floats read and written per request, and two cache round trips; under load it was the largest cost of
a search answered from the cache (benchmarks/bench_find_help_search.py).

`FixedWindowAnonThrottle` counts instead: the first request of an address opens a window of one period
(`cache.add` of 1 with the period as timeout) and each further request increments that counter (`incr`
does not move the expiry), so the common case is one `incr`. When the window expires the count starts
again. What this gives up, deliberately:

- an address may send up to twice the rate across the end of one window and the start of the next
  (sliding history would not allow that); the rate guards a public, cacheable directory against
  scraping and runaway clients, not a secret, and 2× of 600 a minute is still far below harm;
- `Retry-After` says the whole period (the counter does not know when its window opened), an upper
  bound, as RFC 9110 allows.

On Redis, `incr` is atomic, so concurrent requests of one address are all counted; DRF's read-then-write
history loses some of them. With the default per-process memory cache each worker counts on its own, as
DRF's throttle also does there.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import AnonRateThrottle


class FixedWindowAnonThrottle(AnonRateThrottle):
    """Anonymous callers, per address, at the `anon` rate in fixed windows; signed-in callers never."""

    cache_format = "throttle_fw_%(scope)s_%(ident)s"
    # Set by SimpleRateThrottle.__init__ from the rate (DRF's stubs do not declare them).
    num_requests: int
    duration: int

    def allow_request(self, request: Request, view: Any) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        return self.count(self.key) <= self.num_requests

    def count(self, key: str) -> int:
        """This request's number in the current window of `key` (1 for the first)."""
        try:
            return int(self.cache.incr(key))
        except ValueError:  # no window open (the first request, or the last window expired)
            if self.cache.add(key, 1, self.duration):
                return 1
            # Another request opened it between the two calls: count this one in it.
            try:
                return int(self.cache.incr(key))
            except ValueError:  # ... and it already expired: a window of our own
                self.cache.set(key, 1, self.duration)
                return 1

    def wait(self) -> float | None:
        """The whole period: the counter does not remember when its window opened (an upper bound)."""
        return float(self.duration)
