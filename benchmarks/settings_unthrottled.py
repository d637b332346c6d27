"""The benchmark settings with the anonymous API throttle out of reach of a load test.

The public read endpoints throttle anonymous callers per address (600/minute). A load test sends every
request from 127.0.0.1, so it would measure 429 answers; real readers come from many addresses. The
throttle still runs on every request (a cache read and write), only its limit is raised, so its cost
stays in the measurement.
"""

from benchmarks.settings import *  # noqa: F403
from benchmarks.settings import REST_FRAMEWORK

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {**REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "anon": "1000000/minute"},
}
