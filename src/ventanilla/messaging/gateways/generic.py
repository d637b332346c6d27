"""A generic JSON gateway in the style of RapidPro's external channels (and the repo's fake gateway).

Inbound: POST JSON `{"id", "from", "text", "date"?}`; status: `{"id", "status"}`; both carry the shared
secret as `Authorization: Token <secret>`. Outbound: POST JSON `{"to", "from", "text"}` with the same
header to the gateway's sending address; the answer is `{"id": "<provider id>"}`.
"""

from __future__ import annotations

import datetime
import hmac
import json
from typing import Any

from ventanilla.messaging.gateways.base import (
    BadPayload,
    BadSignature,
    Inbound,
    Request,
    SendError,
    StatusUpdate,
    post,
)

STATUSES = {"queued", "sent", "delivered", "read", "failed"}


class GenericJsonAdapter:
    def verify(self, request: Request, credentials: dict[str, Any]) -> None:
        secret = str(credentials.get("secret", ""))
        given = request.headers.get("authorization", "")
        if not secret or not hmac.compare_digest(given.encode(), f"Token {secret}".encode()):
            raise BadSignature("shared secret does not match")

    def parse(self, request: Request) -> list[Inbound | StatusUpdate]:
        try:
            data = json.loads(request.body)
        except ValueError:
            raise BadPayload("the body is not JSON") from None
        if not isinstance(data, dict):
            raise BadPayload("the body is not a JSON object")
        provider_id = str(data.get("id") or "")
        if not provider_id or len(provider_id) > 100:
            raise BadPayload("id is missing or too long", field="id")
        if "status" in data and "text" not in data:
            status = str(data["status"])
            if status not in STATUSES:
                raise BadPayload(f"unknown status {status!r}", field="status")
            return [StatusUpdate(provider_id, status, str(data.get("error", ""))[:100])]
        sender = str(data.get("from") or "")
        if not sender:
            raise BadPayload("from is missing", field="from")
        if not isinstance(data.get("text", ""), str):
            raise BadPayload("text must be a string", field="text")
        at = None
        if data.get("date"):
            try:
                at = datetime.datetime.fromisoformat(str(data["date"]))
            except ValueError:
                raise BadPayload("date is not ISO 8601", field="date") from None
        medium = "whatsapp" if data.get("channel") == "whatsapp" else "sms"
        return [Inbound(provider_id, sender, str(data.get("text", "")), at, medium)]

    def send(self, *, to: str, text: str, sender: str, send_url: str, credentials: dict[str, Any]) -> str:
        if not send_url:
            raise SendError("no sending address")
        answer = post(
            send_url,
            json.dumps({"to": to, "from": sender, "text": text}).encode(),
            {"Content-Type": "application/json", "Authorization": f"Token {credentials.get('secret', '')}"},
        )
        if not answer.get("id"):
            raise SendError("no id in the answer")
        return str(answer["id"])
