"""The WhatsApp Cloud API (Meta). Webhooks are JSON signed with `X-Hub-Signature-256: sha256=<hex>`,
the HMAC-SHA256 of the raw body under the app secret. Sending is a Graph API call with a bearer token.
"""

from __future__ import annotations

import datetime
import hashlib
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

GRAPH = "https://graph.facebook.com/v19.0"
STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read", "failed": "failed"}


def signature(body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


class WhatsAppCloudAdapter:
    def verify(self, request: Request, credentials: dict[str, Any]) -> None:
        secret = str(credentials.get("app_secret", ""))
        given = request.headers.get("x-hub-signature-256", "")
        if not secret or not hmac.compare_digest(signature(request.body, secret), given):
            raise BadSignature("X-Hub-Signature-256 does not match")

    def parse(self, request: Request) -> list[Inbound | StatusUpdate]:
        try:
            data = json.loads(request.body)
            changes = [change["value"] for entry in data["entry"] for change in entry["changes"]]
        except (ValueError, KeyError, TypeError):
            raise BadPayload("not a WhatsApp Cloud API notification", field="entry") from None
        items: list[Inbound | StatusUpdate] = []
        for value in changes:
            for message in value.get("messages", []) or []:
                try:
                    provider_id, sender = str(message["id"]), str(message["from"])
                except (KeyError, TypeError):
                    raise BadPayload("a message lacks id or from", field="messages") from None
                text = (message.get("text") or {}).get("body", "") if message.get("type") == "text" else ""
                at = None
                if str(message.get("timestamp", "")).isdigit():
                    at = datetime.datetime.fromtimestamp(int(message["timestamp"]), tz=datetime.UTC)
                items.append(Inbound(provider_id, "+" + sender.lstrip("+"), text, at, "whatsapp"))
            for status in value.get("statuses", []) or []:
                if "id" not in status:
                    raise BadPayload("a status lacks its id", field="statuses")
                items.append(StatusUpdate(str(status["id"]), STATUSES.get(str(status.get("status")), "sent")))
        return items

    def send(self, *, to: str, text: str, sender: str, send_url: str, credentials: dict[str, Any]) -> str:
        url = send_url or f"{GRAPH}/{sender}/messages"
        answer = post(
            url,
            json.dumps(
                {
                    "messaging_product": "whatsapp",
                    "to": to.lstrip("+"),
                    "type": "text",
                    "text": {"body": text},
                }
            ).encode(),
            {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {credentials.get('access_token', '')}",
            },
        )
        try:
            return str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise SendError("no message id in the answer") from None
