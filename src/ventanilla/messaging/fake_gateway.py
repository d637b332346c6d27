"""A fake SMS/WhatsApp gateway for the demo and the tests: a small local HTTP server, standard library only.

It speaks the generic JSON protocol of `gateways.generic` (RapidPro external channel style), in both
directions, with the shared secret as `Authorization: Token <secret>`:

- Ventanilla sends through it: POST /send (or /<channel>/send, e.g. /whatsapp/send) with
  {"to", "from", "text"}; it answers {"id": "..."}, keeps the message and, a moment later, posts the
  delivery receipt {"id", "status": "delivered"} to that channel's webhook.
- A person "texts" Ventanilla: the form at GET / posts {"id", "from", "text", "date"} to the webhook
  (/hooks/<key>/), as a phone network would.
- GET / shows every message both ways (newest first); GET /messages.json gives them as JSON.

Run it with `ventanilla fake-gateway` (it finds the demo channels' webhooks and secret) or, without
Ventanilla installed, `python3 scripts/fake_gateway.py --webhook URL --secret SECRET`. It listens on
127.0.0.1 only by default and keeps nothing on disk: it is for demos and tests, never for real people.
"""

from __future__ import annotations

import argparse
import datetime
import hmac
import html
import itertools
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_PORT = 8025
MAX_BODY = 64 * 1024
SMS = "sms"


@dataclass(frozen=True)
class Channel:
    """Where a channel's webhook is and the secret both sides share."""

    name: str
    webhook: str
    secret: str


@dataclass
class FakeGateway:
    channels: dict[str, Channel]
    receipt_delay: float = 1.0  # Ventanilla stores the provider id after our answer: let it, first
    messages: list[dict[str, Any]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _ids: Any = field(default_factory=lambda: itertools.count(1), repr=False)

    # --- the messages kept ---------------------------------------------------------------------------

    def keep(self, **message: Any) -> dict[str, Any]:
        message.setdefault("at", datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"))
        with self._lock:
            self.messages.append(message)
        return message

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(message) for message in self.messages]

    def _update(self, message_id: str, **changes: Any) -> None:
        with self._lock:
            for message in self.messages:
                if message["id"] == message_id:
                    message.update(changes)

    # --- talking to Ventanilla -----------------------------------------------------------------------

    def post_webhook(self, channel: Channel, payload: dict[str, Any]) -> tuple[int, str]:
        """POST JSON to the channel's webhook; (status, short answer) — (0, error) when unreachable."""
        request = urllib.request.Request(  # noqa: S310 - a URL given on the command line
            channel.webhook,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Token {channel.secret}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                return response.status, response.read(200).decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read(200).decode("utf-8", "replace")
        except (OSError, ValueError) as error:
            return 0, type(error).__name__

    def send_inbound(self, channel: Channel, sender: str, text: str) -> dict[str, Any]:
        """A person's message, posted to Ventanilla's webhook as the network would."""
        message_id = f"in-{uuid.uuid4().hex[:12]}"
        payload: dict[str, Any] = {
            "id": message_id,
            "from": sender,
            "text": text,
            "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        if channel.name != SMS:
            payload["channel"] = channel.name
        status, answer = self.post_webhook(channel, payload)
        outcome = f"webhook answered {status}" if status else f"webhook unreachable ({answer})"
        return self.keep(
            id=message_id,
            direction="in",
            channel=channel.name,
            sender=sender,
            to="",
            text=text,
            status=outcome,
        )

    def accepted(self, channel: Channel, data: dict[str, Any]) -> dict[str, Any]:
        """An outgoing message Ventanilla handed over; its receipt follows after `receipt_delay`."""
        message = self.keep(
            id=f"fake-{next(self._ids)}-{uuid.uuid4().hex[:6]}",
            direction="out",
            channel=channel.name,
            sender=str(data.get("from", "")),
            to=str(data["to"]),
            text=str(data["text"]),
            status="sent",
        )
        timer = threading.Timer(self.receipt_delay, self._receipt, args=(channel, message["id"]))
        timer.daemon = True
        timer.start()
        return message

    def _receipt(self, channel: Channel, message_id: str) -> None:
        status, answer = self.post_webhook(channel, {"id": message_id, "status": "delivered"})
        self._update(
            message_id,
            status="delivered" if 200 <= status < 300 else f"receipt not taken ({status or answer})",
        )

    # --- serving -------------------------------------------------------------------------------------

    def server(self, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> ThreadingHTTPServer:
        gateway = self

        class Handler(_Handler):
            fake = gateway

        server = ThreadingHTTPServer((host, port), Handler)
        server.daemon_threads = True
        return server


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGateway
    server_version = "VentanillaFakeGateway/1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # message texts stay out of the terminal; the page shows them

    def _answer(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, value: Any) -> None:
        self._answer(
            status, json.dumps(value, ensure_ascii=False).encode(), "application/json; charset=utf-8"
        )

    def _body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return None
        return self.rfile.read(length)

    def do_GET(self) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if path == "/messages.json":
            self._json(HTTPStatus.OK, self.fake.snapshot())
        elif path == "/":
            self._answer(HTTPStatus.OK, page(self.fake).encode(), "text/html; charset=utf-8")
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

    def do_POST(self) -> None:
        path = urllib.parse.urlsplit(self.path).path.strip("/")
        body = self._body()
        if body is None:
            return
        if path == "inbound":
            self._inbound(body)
            return
        parts = path.split("/")
        if parts[-1] != "send" or len(parts) > 2:
            self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})
            return
        channel = self.fake.channels.get(parts[0] if len(parts) == 2 else SMS)
        if channel is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": "unknown channel"})
            return
        given = self.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Token {channel.secret}".encode()):
            self._json(HTTPStatus.FORBIDDEN, {"error": "bad token"})
            return
        try:
            data = json.loads(body)
        except ValueError:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "the body is not JSON"})
            return
        if not isinstance(data, dict) or not data.get("to") or not isinstance(data.get("text"), str):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "to and text are required"})
            return
        message = self.fake.accepted(channel, data)
        self._json(HTTPStatus.OK, {"id": message["id"]})

    def _inbound(self, body: bytes) -> None:
        form = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
        sender = (form.get("from") or [""])[0].strip()
        text = (form.get("text") or [""])[0]
        channel = self.fake.channels.get((form.get("channel") or [SMS])[0])
        if channel is None or not sender:
            self._answer(HTTPStatus.BAD_REQUEST, b"from and a known channel are required", "text/plain")
            return
        self.fake.send_inbound(channel, sender, text)
        self._answer(HTTPStatus.SEE_OTHER, b"", "text/plain", Location="/")


def page(fake: FakeGateway) -> str:
    """The list of messages and the form to send one, as plain HTML (no script)."""
    e = html.escape
    options = "".join(f'<option value="{e(name)}">{e(name)}</option>' for name in fake.channels)
    rows = "".join(
        "<tr><td>{at}</td><td>{way}</td><td>{channel}</td><td>{who}</td>"
        '<td dir="auto">{text}</td><td>{status}</td></tr>'.format(
            at=e(m["at"]),
            way="→ Ventanilla" if m["direction"] == "in" else "← Ventanilla",
            channel=e(m["channel"]),
            who=e(m["sender"] if m["direction"] == "in" else m["to"]),
            text=e(m["text"]).replace("\n", "<br>"),
            status=e(m["status"]),
        )
        for m in reversed(fake.snapshot())
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Fake gateway</title>
<style>body{{font-family:system-ui,sans-serif;margin:1rem;max-width:60rem}}
table{{border-collapse:collapse;width:100%}}
td,th{{border-bottom:1px solid #ccc;padding:.3rem;text-align:start;vertical-align:top}}
label{{display:block;margin:.5rem 0 .2rem;font-weight:600}}
input,textarea,select{{width:100%;max-width:30rem}}</style>
</head><body>
<h1>Fake SMS gateway</h1>
<p>For the demo only: what Ventanilla sends arrives here, and this form plays a phone texting Ventanilla.</p>
<form method="post" action="/inbound">
<label for="from">From (phone number)</label><input id="from" name="from" value="+529625550150" required>
<label for="text">Text</label><textarea id="text" name="text" rows="3" dir="auto">AYUDA</textarea>
<label for="channel">Channel</label><select id="channel" name="channel">{options}</select>
<p><button type="submit">Send to Ventanilla</button> <a href="/">Refresh</a></p>
</form>
<h2>Messages</h2>
<table><thead>
<tr><th>When (UTC)</th><th>Way</th><th>Channel</th><th>Number</th><th>Text</th><th>Status</th></tr>
</thead><tbody>{rows or '<tr><td colspan="6">No messages yet.</td></tr>'}</tbody></table>
</body></html>
"""


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="A fake SMS/WhatsApp gateway for the Ventanilla demo.")
    parser.add_argument("--webhook", required=True, help="Ventanilla's webhook of the SMS channel")
    parser.add_argument("--secret", required=True, help="the channel's shared secret")
    parser.add_argument("--whatsapp-webhook", default="", help="the WhatsApp channel's webhook (same secret)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--receipt-delay", type=float, default=1.0, help="seconds before a delivery receipt")
    return parser.parse_args(argv)


def channels_from(webhook: str, secret: str, whatsapp_webhook: str = "") -> dict[str, Channel]:
    channels = {SMS: Channel(SMS, webhook, secret)}
    if whatsapp_webhook:
        channels["whatsapp"] = Channel("whatsapp", whatsapp_webhook, secret)
    return channels


def serve(fake: FakeGateway, host: str, port: int) -> None:
    server = fake.server(host, port)
    print(f"Fake gateway on http://{host}:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    for channel in fake.channels.values():
        path = "/send" if channel.name == SMS else f"/{channel.name}/send"
        print(
            f"  {channel.name}: Ventanilla sends to {path}; the form and receipts post to {channel.webhook}"
        )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> None:
    options = parse_arguments(argv)
    fake = FakeGateway(
        channels_from(options.webhook, options.secret, options.whatsapp_webhook),
        receipt_delay=options.receipt_delay,
    )
    serve(fake, options.host, options.port)


if __name__ == "__main__":
    main()
