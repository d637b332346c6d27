"""Baseline of the foundation's own paths, against floors measured beside them in this run.

- `dashboard`: GET /en/staff/ signed in (a session per client, as after the login page), 20 clients.
- `api_organisations`: GET /api/v1/organisations/ with a bearer token per client, 20 clients.
  Both are loaded on the same gunicorn server as the bare-view floor with the middleware stack, and
  interleaved with it and with the bare view without middleware; reported with p95 and throughput
  ratios to both floors.
- `audit_record`: audit.record() entries/s (each call its own transaction: it takes the chain lock,
  reads the previous hash, inserts) by one writer, against the insert floors (one row per transaction,
  bulk_create, executemany); and by 4 concurrent writers, against one writer, with the chain verified.

No budget: the issue sets none. These numbers are the baseline later issues compare to.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import floors
import harness

ORGANISATION = "Benchmark Resource Centre"
AUDIT_ENTRIES = 1000
AUDIT_WRITERS = 4


def prepare(clients: int) -> dict[str, Any]:
    """An organisation (and others it must not see), an administrator per client, each with a
    session and an API token, created through the services as the app would."""
    from ventanilla.accounts import services
    from ventanilla.accounts.models import Site

    organisation = services.create_organisation(name=ORGANISATION, kind="ngo")
    for number in range(10):
        services.create_organisation(name=f"Other organisation {number}", kind="ngo")
    users = []
    for number in range(clients):
        user = services.create_user(
            username=f"bench-admin-{number}",
            password=None,
            full_name=f"Benchmark Administrator {number}",
            email=f"admin{number}@bench.example.org",
        )
        services.grant_membership(user=user, organisation=organisation, role="administrator", by=None)
        users.append(user)
    for number in range(3):
        services.save_site(
            Site(organisation=organisation, name=f"Site {number}", kind="resource_centre"), by=users[0]
        )
    return {
        "organisation": organisation,
        "users": users,
        "cookies": [harness.session_cookie(user) for user in users],
        "tokens": [services.issue_token(user, name="benchmark").key for user in users],
    }


def queries_per_request(cookie: str, token: str) -> dict[str, int]:
    """How many SQL queries each path runs (the second request, once caches are warm): context for the
    ratios, measured in-process with Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    browser = Client(HTTP_HOST=harness.HOST)  # the session cookie only: a signed-in browser
    name, value = cookie.split("=", 1)
    browser.cookies[name] = value
    api_client = Client(HTTP_HOST=harness.HOST, headers={"Authorization": f"Bearer {token}"})  # no cookie
    counts = {}
    for label, client, path in (
        ("dashboard", browser, "/en/staff/"),
        ("api_organisations", api_client, "/api/v1/organisations/"),
    ):
        client.get(path)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code} in-process")
        counts[label] = len(captured)
    return counts


def http_paths(env: harness.Environment, world: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    cookies, tokens = world["cookies"], world["tokens"]
    with env.server() as app, floors.http_floor_targets(env, app) as targets:
        paths = {
            "dashboard": harness.Target(
                app, "/en/staff/", headers=lambda i: {"Cookie": cookies[i % len(cookies)]}
            ),
            "api_organisations": harness.Target(
                app,
                "/api/v1/organisations/",
                headers=lambda i: {
                    "Authorization": f"Bearer {tokens[i % len(tokens)]}",
                    "Accept": "application/json",
                },
            ),
        }
        for target in paths.values():
            harness.check_target(target, contains=ORGANISATION.encode())
        results = harness.measure_http({**targets, **paths})
    floor_results = {name: results.pop(name) for name in targets}
    for summary in results.values():
        for floor_name, floor in floor_results.items():
            summary[f"vs_{floor_name}"] = {
                "p95_ratio": harness.ratio(summary["latency"]["p95_ms"], floor["latency"]["p95_ms"]),
                "p50_ratio": harness.ratio(summary["latency"]["p50_ms"], floor["latency"]["p50_ms"]),
                "throughput_ratio": harness.ratio(floor["requests_per_s"], summary["requests_per_s"]),
                "server_cpu_ratio": harness.ratio(
                    summary["server_cpu_ms_per_request"], floor["server_cpu_ms_per_request"]
                ),
            }
    return results, floor_results


def _record(user: Any, organisation: Any) -> None:
    from ventanilla.core import audit
    from ventanilla.core.models import AuditAction

    audit.record_change(AuditAction.UPDATE, organisation, by=user, fields=["name"])


def audit_throughput(world: dict[str, Any], insert_floor: dict[str, Any]) -> dict[str, Any]:
    from django.db import connection

    from ventanilla.core import audit

    user, organisation = world["users"][0], world["organisation"]
    durations = harness.time_calls(lambda: _record(user, organisation), n=AUDIT_ENTRIES, warmup=20)
    one = {
        "entries": AUDIT_ENTRIES,
        "entries_per_s": harness.per_second(AUDIT_ENTRIES, sum(durations)),
        "latency": harness.summarise(durations, "us"),
    }

    per_writer = AUDIT_ENTRIES // AUDIT_WRITERS
    gate = threading.Barrier(AUDIT_WRITERS + 1)
    failures: list[BaseException] = []

    def writer() -> None:
        try:
            gate.wait()
            for _ in range(per_writer):
                _record(user, organisation)
        except BaseException as error:  # reported below: a lost entry must not pass for a fast run
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(AUDIT_WRITERS)]
    for thread in threads:
        thread.start()
    start = time.perf_counter_ns()
    gate.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter_ns() - start
    if failures:
        raise RuntimeError(f"{len(failures)} audit writers failed: {failures[0]!r}")
    verified = audit.verify_chain()
    concurrent = {
        "writers": AUDIT_WRITERS,
        "entries": per_writer * AUDIT_WRITERS,
        "entries_per_s": harness.per_second(per_writer * AUDIT_WRITERS, elapsed),
        "chain_ok": verified.ok,
        "chain_length": verified.checked,
    }
    for floor_name in ("insert_per_transaction", "bulk_create", "executemany"):
        one[f"slowdown_vs_{floor_name}"] = harness.ratio(
            insert_floor[floor_name]["rows_per_s"], one["entries_per_s"]
        )
    # Not against the single-writer floors (PostgreSQL commits concurrent transactions in groups, so
    # several writers can beat one): against one writer, which shows how much the chain lock serialises.
    concurrent["speedup_vs_one_writer"] = harness.ratio(concurrent["entries_per_s"], one["entries_per_s"])
    return {"one_writer": one, "concurrent_writers": concurrent}


def main() -> None:
    with harness.Environment("foundation") as env:
        env.setup_django()
        env.migrate()
        env.collectstatic()
        world = prepare(harness.CLIENTS)
        queries = queries_per_request(world["cookies"][0], world["tokens"][0])
        paths, http_floor = http_paths(env, world)
        insert_floor = floors.insert_floors()
        audit_result = audit_throughput(world, insert_floor)

        for name, count in queries.items():
            paths[name]["queries_per_request"] = count
        measured = {**paths, "audit_record": audit_result}
        dashboard, api, one = paths["dashboard"], paths["api_organisations"], audit_result["one_writer"]
        headline = {
            "dashboard p95 ms": dashboard["latency"]["p95_ms"],
            "dashboard req/s": dashboard["requests_per_s"],
            "dashboard p95 ÷ bare": dashboard["vs_bare_view"]["p95_ratio"],
            "dashboard p95 ÷ bare+mw": dashboard["vs_bare_view_with_middleware"]["p95_ratio"],
            "dashboard server CPU ms/req": dashboard["server_cpu_ms_per_request"],
            "dashboard CPU ÷ bare+mw": dashboard["vs_bare_view_with_middleware"]["server_cpu_ratio"],
            "API p95 ms": api["latency"]["p95_ms"],
            "API req/s": api["requests_per_s"],
            "API p95 ÷ bare": api["vs_bare_view"]["p95_ratio"],
            "API p95 ÷ bare+mw": api["vs_bare_view_with_middleware"]["p95_ratio"],
            "API server CPU ms/req": api["server_cpu_ms_per_request"],
            "API CPU ÷ bare+mw": api["vs_bare_view_with_middleware"]["server_cpu_ratio"],
            "audit entries/s": one["entries_per_s"],
            "audit slowdown vs 1 row/commit": one["slowdown_vs_insert_per_transaction"],
            "audit slowdown vs bulk_create": one["slowdown_vs_bulk_create"],
            "audit, 4 writers, entries/s": audit_result["concurrent_writers"]["entries_per_s"],
        }
        harness.write_result(
            "foundation",
            measured=measured,
            floors={"http": http_floor, "insert": insert_floor},
            budget=None,
            headline=headline,
            notes="No budget: the foundation issue sets none. This is the baseline later issues compare to. "
            "Ratios: p95_ratio and p50_ratio are the path's latency over the floor's; throughput_ratio and "
            "slowdown_vs_* are the floor's rate over the path's (how many times slower than the floor).",
        )


if __name__ == "__main__":
    main()
