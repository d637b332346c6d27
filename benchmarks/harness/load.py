"""HTTP: servers' CPU, targets, single requests, the load generator and interleaved measurement."""

from __future__ import annotations

import http.client
import itertools
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import CLIENTS, HOST, ROUNDS, SECONDS, WARMUP_SECONDS
from .timing import per_second, summarise

MAX_ERROR_RATE = 0.01  # above this, a measurement describes failures, not the path: it stops the script


@dataclass(frozen=True)
class Server:
    host: str
    port: int
    log: Path
    pid: int = 0  # gunicorn's master; its workers are its children

    def cpu_ns(self) -> int:
        """CPU time used so far by the master and its workers (user + system; the work a database
        server does in its own processes, PostgreSQL's, is not in it)."""
        return sum(_cpu_ns(pid) for pid in [self.pid, *_children(self.pid)]) if self.pid else 0


_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_ns(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # the process ended
        return 0
    return (int(fields[11]) + int(fields[12])) * _TICK_NS  # utime, stime


_UNIQUE = itertools.count()  # shared by every thread: next() on a count is atomic in CPython

HeaderSource = Mapping[str, str] | Callable[[int], Mapping[str, str]] | None


@dataclass(frozen=True)
class Target:
    """One request to send: a path on a server, with headers per client (a cookie or token each)."""

    server: Server
    path: str
    headers: HeaderSource = None
    method: str = "GET"
    body: bytes | None = None
    expect_status: int = 200
    # Makes each request's query string unique (`path` + `&<name>=<n>`), so no cache along the way can
    # answer it: the cost of computing the answer, not of reusing one. The app must ignore the name.
    unique_query: str = ""

    def path_for_request(self) -> str:
        if not self.unique_query:
            return self.path
        separator = "&" if "?" in self.path else "?"
        return f"{self.path}{separator}{self.unique_query}={next(_UNIQUE)}"

    def headers_for(self, client: int) -> dict[str, str]:
        source = self.headers(client) if callable(self.headers) else (self.headers or {})
        return {"Host": f"{self.server.host}:{self.server.port}", "Connection": "close", **source}


def send(target: Target, client: int = 0, *, timeout: float = 30.0) -> tuple[int, bytes]:
    """One request on a fresh connection (gunicorn's sync workers close it after each response)."""
    connection = http.client.HTTPConnection(target.server.host, target.server.port, timeout=timeout)
    try:
        connection.request(
            target.method, target.path_for_request(), body=target.body, headers=target.headers_for(client)
        )
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def check_target(target: Target, *, contains: bytes | None = None) -> None:
    """Fail before measuring when a target does not answer as expected (a redirect to the login page
    measured at 20 clients would otherwise pass for a fast page)."""
    status, body = send(target)
    if status != target.expect_status or (contains is not None and contains not in body):
        raise RuntimeError(
            f"{target.method} {target.path} answered {status} (expected {target.expect_status}"
            f"{f' containing {contains!r}' if contains else ''}); body starts {body[:200]!r}"
        )


@dataclass
class LoadResult:
    clients: int
    requests: int = 0
    errors: int = 0
    elapsed_ns: int = 0
    latencies_ns: list[int] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    server_cpu_ns: int = 0
    # Throughput counts the requests answered within the measuring window; those still in flight at its
    # end are waited for (their latency counts) but would otherwise stretch the window of slow paths.
    window_ns: int = 0
    answered_in_window: int = 0

    def merge(self, other: LoadResult) -> LoadResult:
        return LoadResult(
            clients=self.clients,
            requests=self.requests + other.requests,
            errors=self.errors + other.errors,
            elapsed_ns=self.elapsed_ns + other.elapsed_ns,
            latencies_ns=self.latencies_ns + other.latencies_ns,
            statuses=self.statuses + other.statuses,
            server_cpu_ns=self.server_cpu_ns + other.server_cpu_ns,
            window_ns=self.window_ns + other.window_ns,
            answered_in_window=self.answered_in_window + other.answered_in_window,
        )

    def summary(self) -> dict[str, Any]:
        return {
            "clients": self.clients,
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.window_ns / 1e9, 2),
            "requests_per_s": per_second(self.answered_in_window, self.window_ns),
            # CPU the server spent per request: steadier than wall-clock numbers when other programs
            # compete for the cores, since time spent waiting for a core is not counted.
            "server_cpu_ms_per_request": round(self.server_cpu_ns / self.requests / 1e6, 3)
            if self.requests
            else None,
            "latency": summarise(self.latencies_ns, "ms") if self.latencies_ns else None,
            "statuses": dict(sorted(self.statuses.items())),
        }


def run_load(
    target: Target, *, clients: int = CLIENTS, seconds: float | None = None, requests: int | None = None
) -> LoadResult:
    """`clients` threads send requests back to back, each waiting for its answer (a closed loop),
    for `seconds` or until `requests` were sent in all. Latency is measured from connect to last byte."""
    if (seconds is None) == (requests is None):
        raise ValueError("Give either seconds or requests.")
    if target.server.host != HOST:
        raise ValueError("The load generator only talks to 127.0.0.1.")
    counter = itertools.count()
    latencies: list[list[int]] = [[] for _ in range(clients)]
    statuses: list[Counter[str]] = [Counter() for _ in range(clients)]
    errors = [0] * clients
    in_window = [0] * clients
    clock = time.perf_counter_ns
    start_gate = threading.Barrier(clients + 1)
    window: dict[str, int] = {}

    def client(index: int) -> None:
        headers = target.headers_for(index)
        mine, my_statuses = latencies[index], statuses[index]
        start_gate.wait()
        deadline = window["deadline"]
        while True:
            if requests is not None:
                if next(counter) >= requests:
                    return
            elif clock() >= deadline:
                return
            began = clock()
            connection = http.client.HTTPConnection(target.server.host, target.server.port, timeout=60)
            try:
                path = target.path_for_request()
                connection.request(target.method, path, body=target.body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
            except OSError as error:  # refused, reset or timed out: counted, never hidden
                status = type(error).__name__
            finally:
                connection.close()
            ended = clock()
            mine.append(ended - began)
            my_statuses[status] += 1
            if requests is not None or ended <= deadline:
                in_window[index] += 1
            if status != str(target.expect_status):
                errors[index] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = clock()
    window["deadline"] = began + int((seconds or 0) * 1e9) if seconds is not None else 0
    cpu_before = target.server.cpu_ns()
    start_gate.wait()
    for thread in threads:
        thread.join()
    elapsed = clock() - began
    server_cpu = target.server.cpu_ns() - cpu_before
    merged = [value for values in latencies for value in values]
    return LoadResult(
        clients=clients,
        requests=len(merged),
        errors=sum(errors),
        elapsed_ns=elapsed,
        latencies_ns=merged,
        statuses=sum(statuses, Counter()),
        server_cpu_ns=server_cpu,
        window_ns=int(seconds * 1e9) if seconds is not None else elapsed,
        answered_in_window=sum(in_window),
    )


def measure_http(
    targets: Mapping[str, Target],
    *,
    clients: int = CLIENTS,
    seconds: float = SECONDS,
    rounds: int = ROUNDS,
    warmup_seconds: float = WARMUP_SECONDS,
) -> dict[str, dict[str, Any]]:
    """Load every target with the same concurrency, interleaved: each round gives every target
    seconds/rounds, alternating the order, so a slow spell of a noisy machine hits floors and real
    paths alike. Returns a summary per target name; raises when more than 1% of a target's requests
    failed (not the expected status, or no answer)."""
    for target in targets.values():
        check_target(target)
    for target in targets.values():  # first requests fill caches and open database connections
        run_load(target, clients=clients, seconds=warmup_seconds)
    names = list(targets)
    results: dict[str, LoadResult] = {name: LoadResult(clients=clients) for name in names}
    for round_number in range(rounds):
        for name in names if round_number % 2 == 0 else reversed(names):
            partial = run_load(targets[name], clients=clients, seconds=seconds / rounds)
            results[name] = results[name].merge(partial)
    for name, result in results.items():
        if result.errors > MAX_ERROR_RATE * result.requests:
            raise RuntimeError(
                f"{name}: {result.errors} of {result.requests} requests failed {dict(result.statuses)}"
            )
    return {name: result.summary() for name, result in results.items()}
