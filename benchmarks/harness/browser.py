"""A real browser for size and paint benchmarks: Debian's Chromium driven by Playwright, with what the
network carried read from the DevTools protocol (CDP) rather than guessed from file sizes.

Playwright's own browser download does not work on these machines; Debian's Chromium is launched with
the arguments the browser tests use (tests/browser/conftest.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
PHONE = {"width": 390, "height": 844}


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium (Playwright's sync API), closed on exit.

    Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from a thread
    with a running loop: prepare the database before, or set DJANGO_ALLOW_ASYNC_UNSAFE as done here."""
    if shutil.which(CHROMIUM) is None:
        raise SystemExit(f"Chromium not found at {CHROMIUM}: run `make chromium` (apt-get install chromium).")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("Playwright is not installed: run `make install-test` (the test extras).") from None

    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class Exchange:
    """One request the page made and what its answer cost on the wire."""

    url: str
    resource_type: str = ""
    status: int | None = None
    mime_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    header_bytes: int = 0  # the response's status line and headers as received
    transferred_bytes: int = 0  # everything received for it: headers and (compressed) body
    from_cache: bool = False  # answered from the browser's memory or disk cache, nothing downloaded
    failed: str = ""

    @property
    def body_bytes(self) -> int:
        return max(0, self.transferred_bytes - self.header_bytes)

    def header(self, name: str) -> str:
        return next((value for key, value in self.headers.items() if key.lower() == name.lower()), "")

    def summary(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "type": self.resource_type,
            "status": self.status,
            "transferred_bytes": self.transferred_bytes,
            "header_bytes": self.header_bytes,
            "body_bytes": self.body_bytes,
            "content_encoding": self.header("content-encoding"),
            "cache_control": self.header("cache-control"),
            "from_cache": self.from_cache,
            **({"failed": self.failed} if self.failed else {}),
        }


class NetworkLog:
    """Every request of one page, from CDP's Network domain: `loadingFinished.encodedDataLength` is
    what DevTools shows as "transferred" (headers plus the body as it came, compressed or not)."""

    def __init__(self, context: Any, page: Any) -> None:
        self.cdp = context.new_cdp_session(page)
        self.exchanges: dict[str, Exchange] = {}
        self.order: list[str] = []
        for event, handler in (
            ("Network.requestWillBeSent", self._sent),
            ("Network.responseReceived", self._received),
            ("Network.responseReceivedExtraInfo", self._extra),
            ("Network.requestServedFromCache", self._cached),
            ("Network.loadingFinished", self._finished),
            ("Network.loadingFailed", self._failed),
        ):
            self.cdp.on(event, handler)
        self.cdp.send("Network.enable")

    def send(self, method: str, params: dict[str, Any] | None = None) -> Any:
        return self.cdp.send(method, params or {})

    def reset(self) -> None:
        self.exchanges, self.order = {}, []

    def _get(self, request_id: str, url: str = "") -> Exchange:
        if request_id not in self.exchanges:
            self.exchanges[request_id] = Exchange(url=url)
            self.order.append(request_id)
        return self.exchanges[request_id]

    def _sent(self, event: dict[str, Any]) -> None:
        exchange = self._get(event["requestId"], event["request"]["url"])
        exchange.url = event["request"]["url"]
        exchange.resource_type = event.get("type", "")

    def _received(self, event: dict[str, Any]) -> None:
        response = event["response"]
        exchange = self._get(event["requestId"], response["url"])
        exchange.status = response["status"]
        exchange.mime_type = response.get("mimeType", "")
        exchange.headers = dict(response.get("headers", {}))
        exchange.resource_type = event.get("type", exchange.resource_type)
        if response.get("fromDiskCache") or response.get("fromPrefetchCache"):
            exchange.from_cache = True
        if not exchange.header_bytes:
            exchange.header_bytes = int(response.get("encodedDataLength") or 0)

    def _extra(self, event: dict[str, Any]) -> None:
        text = event.get("headersText")
        if text:  # the raw status line and headers, as HTTP/1.1 carried them
            self._get(event["requestId"]).header_bytes = len(text.encode("latin-1", "replace"))

    def _cached(self, event: dict[str, Any]) -> None:
        self._get(event["requestId"]).from_cache = True

    def _finished(self, event: dict[str, Any]) -> None:
        exchange = self._get(event["requestId"])
        exchange.transferred_bytes = int(event.get("encodedDataLength") or 0)
        if exchange.from_cache:
            exchange.transferred_bytes = 0

    def _failed(self, event: dict[str, Any]) -> None:
        exchange = self._get(event["requestId"])
        exchange.failed = event.get("errorText") or "failed"
        if event.get("blockedReason"):
            exchange.failed += f" ({event['blockedReason']})"

    def entries(self) -> list[Exchange]:
        return [self.exchanges[request_id] for request_id in self.order]


def emulate_slow_link(
    log: NetworkLog, *, kbit_per_s: float, round_trip_ms: float, cpu_slowdown: float = 1.0
) -> dict[str, Any]:
    """CDP network emulation (throughput in both directions, latency added to every request) and, when
    `cpu_slowdown` > 1, CPU throttling. Returns the parameters, for the record."""
    throughput = kbit_per_s * 1000 / 8  # bytes per second
    params = {
        "offline": False,
        "latency": round_trip_ms,
        "downloadThroughput": throughput,
        "uploadThroughput": throughput,
    }
    log.send("Network.emulateNetworkConditions", params)
    if cpu_slowdown > 1:
        log.send("Emulation.setCPUThrottlingRate", {"rate": cpu_slowdown})
    return {**params, "cpu_slowdown": cpu_slowdown}
