"""The inbox in a browser, in Arabic: a message arrives through the generic JSON webhook, an information
officer triages it, takes it, answers with a reply template, and the answer reaches the provider."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.test import Client

from tests.browser.test_registration import sign_in, url
from ventanilla.messaging import inbox
from ventanilla.messaging.models_inbox import Conversation, Message
from ventanilla.testing.messaging import SECRET, gateway, post_generic

pytestmark = pytest.mark.browser

QUESTION = "مرحبا، أين يمكنني أن أجد مأوى الليلة في المدينة؟"
ANSWER = "يمكنك الذهاب إلى بيت المهاجر، شارع ٥، مفتوح طوال الليل."


class FakeProvider:
    """A tiny SMS provider on 127.0.0.1: it records each POST and answers with a message id."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # the name http.server calls
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                provider.received.append(
                    {"path": self.path, "headers": dict(self.headers.items()), "body": json.loads(body)}
                )
                answer = json.dumps({"id": f"fake-{len(provider.received)}"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    fake = FakeProvider()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def test_an_arabic_message_is_triaged_taken_and_answered_with_a_template(
    world, live_server, open_page, provider
):
    # given A's SMS channel whose provider is the fake one, and an Arabic reply template
    channel = gateway(world, send_url=provider.url)
    officer = world.user("a", "information_officer")
    template = inbox.save_template(
        organisation=world.a.organisation, name="مأوى", language="ar", text=ANSWER, by=officer
    )
    # ... and a message that came through the generic JSON webhook
    response = post_generic(Client(), channel, {"id": "gw-ar-1", "from": "+962791234567", "text": QUESTION})
    assert response.status_code == 200
    conversation = Conversation.objects.get()
    assert conversation.language == "ar"

    # when the information officer opens the inbox in Arabic
    page = open_page(locale="ar")
    sign_in(page, live_server, officer, world.password, "ar")
    page.goto(url(live_server, "inbox:list", "ar"))
    # then the page is right to left and shows the message's start
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("html").get_attribute("lang") == "ar"
    row = page.locator("table.inbox tbody tr", has_text=QUESTION[:30])
    assert row.count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone

    # when they open it
    with page.expect_navigation():
        row.locator("a").first.click()
    assert page.url == url(live_server, "inbox:detail", "ar", pk=conversation.pk)
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert QUESTION in page.locator("ol.thread").inner_text()
    assert "962791234567" not in page.content()  # the number is masked
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    # ... triage it as a question
    page.select_option("form[action$='/triage/'] select[name=category]", "question")
    with page.expect_navigation():
        page.click("button[name=triage]")
    # ... take it
    page.select_option("form[action$='/assign/'] select[name=assigned_to]", str(officer.pk))
    with page.expect_navigation():
        page.click("button[name=assign]")
    # ... and answer with the template (no JavaScript needed: the link prefills the text)
    with page.expect_navigation():
        page.locator("a.template", has_text=template.name).click()
    assert page.locator("#reply_text").input_value() == ANSWER
    with page.expect_navigation():
        page.click("button[name=send]")

    # then the conversation is sorted, taken and answered
    conversation.refresh_from_db()
    assert (conversation.category, conversation.assigned_to, conversation.status) == (
        "question",
        officer,
        "answered",
    )
    # ... and the provider received the answer as JSON, with the channel's shared secret
    assert len(provider.received) == 1
    request = provider.received[0]
    assert request["path"] == "/send"
    assert request["body"] == {"to": "+962791234567", "from": channel.address, "text": ANSWER}
    assert request["headers"]["Authorization"] == f"Token {SECRET}"
    sent = Message.objects.get(direction="out")
    assert (sent.status, sent.provider_id, sent.sent_by) == ("sent", "fake-1", officer)
    # ... and the page, still right to left, shows the answer in the thread
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert ANSWER in page.locator("ol.thread li.out").inner_text()
