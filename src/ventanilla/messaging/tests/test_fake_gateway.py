"""The fake gateway, run in-process on a free port: what it keeps, what it posts, and a whole round trip
with Ventanilla's webhook (a message in, an answer out, its delivery receipt back)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ventanilla.messaging import fake_gateway

SECRET = "fake-secret"


class Capture:
    """A stand-in for Ventanilla's webhook: records each POST and answers 200."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                capture.requests.append(
                    {
                        "path": self.path,
                        "authorization": self.headers.get("Authorization"),
                        "json": json.loads(body),
                    }
                )
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/abc/"

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 5
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.requests


@contextmanager
def running(server: ThreadingHTTPServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def webhook() -> Iterator[Capture]:
    capture = Capture()
    with running(capture.server):
        yield capture


def start(channels: dict[str, fake_gateway.Channel], delay: float = 0.0) -> tuple[Any, str, Any]:
    fake = fake_gateway.FakeGateway(channels, receipt_delay=delay)
    server = fake.server("127.0.0.1", 0)
    return fake, f"http://127.0.0.1:{server.server_address[1]}", server


@pytest.fixture
def gateway(webhook) -> Iterator[tuple[Any, str]]:
    fake, url, server = start(fake_gateway.channels_from(webhook.url, SECRET))
    with running(server):
        yield fake, url


def call(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes, Any]:
    request = urllib.request.Request(  # noqa: S310 - a local test server
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers


def send(url: str, body: dict[str, Any], token: str = SECRET, path: str = "/send") -> tuple[int, Any]:
    status, raw, _headers = call(
        url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    return status, json.loads(raw)


def test_an_outgoing_message_is_kept_shown_and_its_receipt_posted(gateway, webhook):
    fake, url = gateway
    # when Ventanilla sends with the right token
    status, answer = send(url, {"to": "+529625550150", "from": "+529621000000", "text": "Hola <b>amiga</b>"})
    # then the gateway answers an id and keeps the message
    assert status == 200
    message_id = answer["id"]
    # and posts the delivery receipt to the webhook, signed with the shared secret
    [receipt] = webhook.wait_for(1)
    assert receipt == {
        "path": "/hooks/abc/",
        "authorization": f"Token {SECRET}",
        "json": {"id": message_id, "status": "delivered"},
    }
    deadline = time.monotonic() + 5
    while fake.snapshot()[0]["status"] != "delivered" and time.monotonic() < deadline:
        time.sleep(0.02)
    _status, raw, _headers = call(url + "/messages.json")
    [kept] = json.loads(raw)
    assert (kept["id"], kept["direction"], kept["to"], kept["text"], kept["status"]) == (
        message_id,
        "out",
        "+529625550150",
        "Hola <b>amiga</b>",
        "delivered",
    )
    # the page lists it, escaped
    _status, page, _headers = call(url + "/")
    assert "Hola &lt;b&gt;amiga&lt;/b&gt;" in page.decode()
    assert "<script" not in page.decode()


@pytest.mark.parametrize(
    ("token", "path", "body", "status"),
    [
        ("wrong", "/send", {"to": "+52", "text": "x"}, 403),
        (SECRET, "/send", {"text": "x"}, 400),
        (SECRET, "/telegram/send", {"to": "+52", "text": "x"}, 404),
        (SECRET, "/elsewhere", {"to": "+52", "text": "x"}, 404),
    ],
)
def test_a_wrong_send_is_refused_and_nothing_kept(gateway, webhook, token, path, body, status):
    fake, url = gateway
    assert send(url, body, token=token, path=path)[0] == status
    assert fake.snapshot() == []
    assert webhook.requests == []


def test_an_oversized_body_is_refused(gateway):
    fake, url = gateway
    status, _raw, _headers = call(
        url + "/send", data=b"x" * (fake_gateway.MAX_BODY + 1), headers={"Authorization": f"Token {SECRET}"}
    )
    assert status == 413
    assert fake.snapshot() == []


def test_the_form_texts_ventanilla_as_a_phone_would(gateway, webhook):
    fake, url = gateway
    form = urllib.parse.urlencode({"from": "+529625550150", "text": "AYUDA", "channel": "sms"}).encode()
    status, _raw, headers = call(
        url + "/inbound", data=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    # then the browser is sent back to the list (post, redirect, get)
    assert (status, headers["Location"]) == (303, "/")
    # and the webhook received the generic JSON format with the secret
    [inbound] = webhook.wait_for(1)
    assert inbound["authorization"] == f"Token {SECRET}"
    assert inbound["json"]["from"] == "+529625550150"
    assert inbound["json"]["text"] == "AYUDA"
    assert inbound["json"]["id"].startswith("in-")
    assert "channel" not in inbound["json"]
    [kept] = fake.snapshot()
    assert (kept["direction"], kept["status"]) == ("in", "webhook answered 200")


def test_whatsapp_has_its_own_sending_address_and_webhook(webhook):
    fake, url, server = start(fake_gateway.channels_from(webhook.url, SECRET, webhook.url + "wa/"))
    with running(server):
        status, _answer = send(url, {"to": "+529625550150", "text": "hola"}, path="/whatsapp/send")
        assert status == 200
        [receipt] = webhook.wait_for(1)
        assert receipt["path"] == "/hooks/abc/wa/"
        assert fake.snapshot()[0]["channel"] == "whatsapp"
        fake.send_inbound(fake.channels["whatsapp"], "+529625550150", "hola")
        assert webhook.wait_for(2)[1]["json"]["channel"] == "whatsapp"


def test_an_unreachable_webhook_is_shown_not_fatal():
    fake = fake_gateway.FakeGateway(fake_gateway.channels_from("http://127.0.0.1:9/hooks/x/", SECRET))
    kept = fake.send_inbound(fake.channels["sms"], "+529625550150", "hola")
    assert kept["status"].startswith("webhook unreachable")


# --- With Ventanilla itself ---------------------------------------------------------------------------


def test_a_round_trip_through_ventanilla(world, live_server):
    """In: the form's SMS reaches the inbox. Out: the answer reaches the fake gateway. Back: its receipt
    marks the answer delivered."""
    from ventanilla.messaging import outbound
    from ventanilla.messaging.models_inbox import Message
    from ventanilla.testing.messaging import SECRET as CHANNEL_SECRET
    from ventanilla.testing.messaging import gateway as make_gateway

    fake = fake_gateway.FakeGateway({}, receipt_delay=0.2)
    server = fake.server("127.0.0.1", 0)
    channel = make_gateway(world, send_url=f"http://127.0.0.1:{server.server_address[1]}/send")
    fake.channels["sms"] = fake_gateway.Channel(
        "sms", f"{live_server.url}/hooks/{channel.key}/", CHANNEL_SECRET
    )
    with running(server):
        # when a person texts through the fake gateway
        kept = fake.send_inbound(fake.channels["sms"], "+529625550150", "Hola, ¿dónde hay un albergue?")
        assert kept["status"] == "webhook answered 200"
        message = Message.objects.get(direction="in")
        assert message.body == "Hola, ¿dónde hay un albergue?"
        # when an officer answers
        answer = outbound.reply(
            message.conversation, "En la calle 4 Sur.", by=world.user("a", "information_officer")
        )
        # then the fake gateway has it, and its receipt marks it delivered in Ventanilla
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            answer.refresh_from_db()
            if answer.status == "delivered":
                break
            time.sleep(0.05)
        out = [m for m in fake.snapshot() if m["direction"] == "out"]
        assert [(m["to"], m["text"]) for m in out] == [("+529625550150", "En la calle 4 Sur.")]
        assert answer.provider_id == out[0]["id"]
        assert answer.status == "delivered"


def test_the_script_needs_only_the_standard_library():
    import subprocess
    import sys
    from pathlib import Path

    script = Path(fake_gateway.__file__).resolve().parents[3] / "scripts" / "fake_gateway.py"
    # -I -S: no environment, no site-packages (so neither Django nor any dependency can be imported)
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "--webhook WEBHOOK --secret SECRET" in result.stdout
