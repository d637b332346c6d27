"""Webhook ingest (issue 6, "Speed"): sustained throughput against a bare view doing one insert.

Budget, on PostgreSQL (run with DATABASE_URL; on SQLite the same numbers are recorded):
- ingest throughput ≥ 60% of the floor's: signed POSTs of the generic JSON gateway to /hooks/<key>/,
  each with a new provider id, against a bare Django view that inserts one row (`floor_insert` below);
- the webhook's own response time p95 ≤ 50 ms.

Both run in this process through Django's WSGI handler (`get_wsgi_application()`: the full middleware
stack, as a server calls it, without the network), one request at a time, interleaved in rounds so they
see the same machine. Their URLs are served by this module's own URLconf (`urlpatterns` below: the
floor view, then the app's URLs, benchmark-only ones included).

Background processing is NOT included: `ingest.enqueue` is replaced by a function that only records
what would be queued (the delivery's id), so the measured work is what the request does — check size,
find the gateway, verify the shared secret, parse, store the `InboundDelivery` (encrypted payload,
unique per gateway and provider id) and queue the processing. That the queue received one entry per
new delivery is checked. Also recorded: the statements one webhook runs, and a profile of the slowest
functions (cProfile over 300 webhooks), so a missed budget says where the time goes.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any

import floors
import harness

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
CALLS = int(harness.env_number("BENCH_INGEST_CALLS", 3000))
ROUNDS = int(harness.env_number("BENCH_INGEST_ROUNDS", 6))
THROUGHPUT_MIN_RATIO = 0.6
P95_MAX_MS = 50.0
SECRET = "bench-shared-secret"  # noqa: S105 - a throw-away benchmark gateway
TEXT = "Hola, necesito información sobre un albergue en Tapachula para mí y mis dos hijos."


# --- The floor and this module's URLconf ---------------------------------------------------------------


def floor_insert(request: Any) -> Any:
    """The floor: a bare view that reads the body and inserts one row (no check, no encryption)."""
    from django.http import HttpResponse
    from django.utils import timezone

    floors.floor_model().objects.create(
        at=timezone.now(), label=request.body[:64].decode(errors="replace"), value=1
    )
    return HttpResponse(b'{"new": 1}', content_type="application/json")


def _urlpatterns() -> list[Any]:
    from django.urls import path
    from django.views.decorators.csrf import csrf_exempt

    from benchmarks.urls import urlpatterns as app_urlpatterns

    return [
        path("bench/floor-insert/", csrf_exempt(floor_insert), name="bench-floor-insert"),
        *app_urlpatterns,
    ]


class _URLconf:
    """This module's URLconf, built after Django is set up (Django accepts any object with urlpatterns)."""

    @property
    def urlpatterns(self) -> list[Any]:
        return _urlpatterns()


# --- Calling the WSGI application -----------------------------------------------------------------------


def _environ(path: str, body: bytes, headers: dict[str, str]) -> dict[str, Any]:
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)),
        "HTTP_HOST": "127.0.0.1",
        "HTTP_X_FORWARDED_PROTO": "https",
        "wsgi.input": io.BytesIO(body),
        "wsgi.url_scheme": "https",
        "wsgi.errors": sys.stderr,
        "wsgi.version": (1, 0),
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
    }
    environ.update({f"HTTP_{key.upper().replace('-', '_')}": value for key, value in headers.items()})
    return environ


class Poster:
    """POSTs through the WSGI application; counts statuses; each body has a new id."""

    def __init__(self, application: Any, path: str, headers: dict[str, str], prefix: str) -> None:
        self.application = application
        self.path = path
        self.headers = headers
        self.prefix = prefix
        self.sent = 0
        self.statuses: dict[str, int] = {}

    def __call__(self) -> None:
        self.sent += 1
        body = json.dumps(
            {"id": f"{self.prefix}-{self.sent}", "from": f"+5296255{self.sent % 100000:05d}", "text": TEXT}
        ).encode()
        status_holder: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            status_holder.append(status.split(" ", 1)[0])
            return lambda data: None

        result = self.application(_environ(self.path, body, self.headers), start_response)
        try:
            for _chunk in result:
                pass
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        status = status_holder[0] if status_holder else "none"
        self.statuses[status] = self.statuses.get(status, 0) + 1


def rounds(targets: dict[str, Callable[[], None]], *, calls: int, rounds: int) -> dict[str, dict[str, Any]]:
    """Each target `calls` times in `rounds` slices taken in turn (alternating order); per-call latency,
    throughput over the target's own wall time and this process's CPU per call."""
    for fn in targets.values():  # unmeasured: connections, caches, imports
        for _ in range(max(20, calls // 20)):
            fn()
    latencies: dict[str, list[int]] = {name: [] for name in targets}
    busy: dict[str, int] = dict.fromkeys(targets, 0)
    cpu: dict[str, int] = dict.fromkeys(targets, 0)
    names = list(targets)
    for number in range(rounds):
        for name in names if number % 2 == 0 else list(reversed(names)):
            fn = targets[name]
            slice_start, cpu_start = time.perf_counter_ns(), time.process_time_ns()
            for _ in range(calls // rounds):
                start = time.perf_counter_ns()
                fn()
                latencies[name].append(time.perf_counter_ns() - start)
            busy[name] += time.perf_counter_ns() - slice_start
            cpu[name] += time.process_time_ns() - cpu_start
    return {
        name: {
            "requests": len(latencies[name]),
            "requests_per_s": harness.per_second(len(latencies[name]), busy[name]),
            "latency": harness.summarise(latencies[name], "ms"),
            "process_cpu_mean_ms": round(cpu[name] / len(latencies[name]) / 1e6, 3),
        }
        for name in targets
    }


def statements_of(fn: Callable[[], None]) -> list[str]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return [q["sql"][:160] for q in captured.captured_queries]


def profile(fn: Callable[[], None], n: int = 300) -> list[str]:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        fn()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("cumulative").print_stats(25)
    return [line for line in text.getvalue().splitlines() if line.strip()][:45]


def main() -> None:
    with harness.Environment("ingest") as env:
        env.setup_django()
        env.migrate()
        from django.conf import settings
        from django.core.wsgi import get_wsgi_application

        from ventanilla.accounts import services as accounts
        from ventanilla.messaging import ingest
        from ventanilla.messaging.models_inbox import Gateway, InboundDelivery

        settings.ROOT_URLCONF = _URLconf()
        floors.ensure_floor_table()
        organisation = accounts.create_organisation(name="Línea Frontera", kind="ngo", short_name="LF")
        gateway = Gateway.objects.create(
            organisation=organisation,
            name="SMS",
            kind="generic_json",
            credentials=json.dumps({"secret": SECRET}),
        )
        # Background processing is not measured: what would be queued is only recorded.
        queued: list[tuple[str, tuple[Any, ...]]] = []
        ingest.enqueue = lambda task, *ids: queued.append((task.name, ids))  # type: ignore[assignment]

        application = get_wsgi_application()
        hook = Poster(application, f"/hooks/{gateway.key}/", {"Authorization": f"Token {SECRET}"}, "gw")
        floor = Poster(application, "/bench/floor-insert/", {}, "floor")
        results = rounds({"webhook": hook, "floor_insert": floor}, calls=CALLS, rounds=ROUNDS)

        stored = InboundDelivery.objects.filter(gateway=gateway).count()
        mine, bare = results["webhook"], results["floor_insert"]
        mine["statuses"] = hook.statuses
        bare["statuses"] = floor.statuses
        mine["throughput_vs_floor"] = harness.ratio(mine["requests_per_s"], bare["requests_per_s"])
        mine["p95_vs_floor_ratio"] = harness.ratio(mine["latency"]["p95_ms"], bare["latency"]["p95_ms"])
        mine["deliveries_stored"] = stored
        mine["queued"] = len(queued)
        mine["queued_matches_stored"] = len(queued) == stored == hook.sent
        mine["statements"] = statements_of(hook)
        # A retried delivery (the same id again) is stored once and answered as repeated.
        repeat = Poster(application, hook.path, hook.headers, "gw")
        repeat.sent = hook.sent - 1
        mine["statements_repeated_delivery"] = statements_of(repeat)
        bare["statements"] = statements_of(floor)
        mine["profile"] = profile(hook)
        harness.write_result(
            "ingest",
            measured={"webhook": mine, "floor_insert": bare},
            floors={"insert": floors.insert_floors(), "sql": floors.sql_floors(n=500, warmup=50)},
            budget=[
                {"metric": "webhook.throughput_vs_floor", "min": THROUGHPUT_MIN_RATIO},
                {"metric": "webhook.latency.p95_ms", "max": P95_MAX_MS},
                {"metric": "webhook.queued_matches_stored", "min": True},
            ],
            headline={
                "webhooks/s": mine["requests_per_s"],
                "floor (one insert)/s": bare["requests_per_s"],
                "throughput ÷ floor": mine["throughput_vs_floor"],
                "webhook p50 / p95 ms": f"{mine['latency']['p50_ms']} / {mine['latency']['p95_ms']}",
                "floor p50 / p95 ms": f"{bare['latency']['p50_ms']} / {bare['latency']['p95_ms']}",
                "statements per webhook": len(mine["statements"]),
            },
            notes=(
                "Issue 6: webhook ingest throughput ≥ 60% of a bare view doing one insert, p95 ≤ 50 ms, "
                "in-process through the WSGI handler (full middleware), one request at a time, "
                "interleaved. Background processing is not included: ingest.enqueue only records."
            ),
        )


if __name__ == "__main__":
    main()
