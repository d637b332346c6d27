"""What every adapter turns a provider's webhook into, and the errors it may raise."""

from __future__ import annotations

import datetime
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol

MAX_BODY_BYTES = 64 * 1024


class BadSignature(Exception):
    """The request was not signed by the gateway's secret: refused, logged, its body never stored."""


class BadPayload(ValueError):
    """The body is not what the provider sends; `field` names what is missing or wrong."""

    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


class SendError(Exception):
    pass


@dataclass(frozen=True)
class Inbound:
    provider_id: str
    sender: str  # a phone number as the provider wrote it, or a handle
    text: str
    at: datetime.datetime | None = None
    medium: str = "sms"


@dataclass(frozen=True)
class StatusUpdate:
    provider_id: str
    status: str  # a MessageStatus value
    error: str = ""


@dataclass(frozen=True)
class Request:
    """The parts of an HTTP request adapters look at (so they can be tested without Django)."""

    url: str  # the full URL the provider called, as it computed the signature over it
    headers: dict[str, str]  # lower-case names
    body: bytes
    form: dict[str, str]


class Adapter(Protocol):
    def verify(self, request: Request, credentials: dict[str, Any]) -> None: ...

    def parse(self, request: Request) -> list[Inbound | StatusUpdate]: ...

    def send(self, *, to: str, text: str, sender: str, send_url: str, credentials: dict[str, Any]) -> str: ...


def post(url: str, data: bytes, headers: dict[str, str], *, timeout: float = 10.0) -> dict[str, Any]:
    """POST and read a JSON answer; any failure is a SendError naming the HTTP status or error type."""
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - configured URL
            raw = response.read()
    except urllib.error.HTTPError as error:
        raise SendError(f"HTTP {error.code}") from None
    except (OSError, ValueError) as error:
        raise SendError(type(error).__name__) from None
    try:
        answer = json.loads(raw or b"{}")
    except ValueError:
        raise SendError("not JSON") from None
    return answer if isinstance(answer, dict) else {}
