"""Twilio-compatible gateways (Twilio itself and the many that copy its API), SMS and WhatsApp.

Inbound and status callbacks are form-encoded and signed: `X-Twilio-Signature` is the base64
HMAC-SHA1, under the account's auth token, of the full URL followed by every POST parameter name and
value, sorted by name (https://www.twilio.com/docs/usage/security#validating-requests).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
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

STATUSES = {
    "queued": "queued",
    "accepted": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "undelivered": "failed",
    "failed": "failed",
}


def signature(url: str, params: dict[str, str], token: str) -> str:
    payload = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class TwilioAdapter:
    def verify(self, request: Request, credentials: dict[str, Any]) -> None:
        token = str(credentials.get("auth_token", ""))
        given = request.headers.get("x-twilio-signature", "")
        if (
            not token
            or not given
            or not hmac.compare_digest(signature(request.url, request.form, token), given)
        ):
            raise BadSignature("X-Twilio-Signature does not match")

    def parse(self, request: Request) -> list[Inbound | StatusUpdate]:
        form = request.form
        sid = form.get("MessageSid") or form.get("SmsSid") or ""
        if not sid:
            raise BadPayload("MessageSid is missing", field="MessageSid")
        status = form.get("MessageStatus") or form.get("SmsStatus") or ""
        if "Body" not in form and status:
            return [StatusUpdate(sid, STATUSES.get(status, "sent"), form.get("ErrorCode", ""))]
        sender = form.get("From", "")
        if not sender:
            raise BadPayload("From is missing", field="From")
        medium = "whatsapp" if sender.startswith("whatsapp:") else "sms"
        return [Inbound(sid, sender.removeprefix("whatsapp:"), form.get("Body", ""), medium=medium)]

    def send(self, *, to: str, text: str, sender: str, send_url: str, credentials: dict[str, Any]) -> str:
        sid = str(credentials.get("account_sid", ""))
        token = str(credentials.get("auth_token", ""))
        url = send_url or f"https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"
        whatsapp = sender.startswith("whatsapp:")
        body = urllib.parse.urlencode(
            {"To": f"whatsapp:{to}" if whatsapp else to, "From": sender, "Body": text}
        ).encode()
        auth = base64.b64encode(f"{sid}:{token}".encode()).decode()
        answer = post(
            url,
            body,
            {"Content-Type": "application/x-www-form-urlencoded", "Authorization": f"Basic {auth}"},
        )
        if not answer.get("sid"):
            raise SendError("no sid in the answer")
        return str(answer["sid"])
