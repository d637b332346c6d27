"""No page points the browser at another host: offices work offline and leak nothing to third parties."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from tests.pages import page_paths

# The one exception: a link (never a resource the page loads) that opens a WhatsApp chat with a service
# point's published number. The visitor chooses to follow it; nothing is sent before they do.
WHATSAPP_CHAT = re.compile(r"^https://wa\.me/\d{6,15}$")

URL_ATTRIBUTES = {"src", "href", "action", "formaction", "srcset", "poster", "data", "xlink:href", "manifest"}


class _UrlCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if name == "srcset":
                for candidate in value.split(","):
                    self.urls.append((tag, name, candidate.strip().split(" ")[0]))
            elif name in URL_ATTRIBUTES:
                self.urls.append((tag, name, value.strip()))
            elif tag == "meta" and name == "content" and "url=" in value.lower():
                self.urls.append((tag, name, value.lower().split("url=", 1)[1].strip()))


def external_urls(html: str, *, host: str = "testserver") -> list[tuple[str, str, str]]:
    """URLs naming another host (absolute or protocol-relative); data:, mailto: and tel: name none."""
    parser = _UrlCollector()
    parser.feed(html)
    found = []
    for tag, attribute, value in parser.urls:
        parts = urlsplit(value)
        if parts.scheme in ("data", "mailto", "tel", "blob", "javascript"):
            continue
        if tag == "a" and attribute == "href" and WHATSAPP_CHAT.match(value):
            continue
        if (parts.netloc or parts.scheme) and parts.netloc != host:
            found.append((tag, attribute, value))
    return found


def test_only_a_plain_link_to_a_whatsapp_number_is_allowed_out():
    html = (
        '<a href="https://wa.me/529621234568">chat</a>'
        '<a href="https://wa.me/529621234568?text=hello">prefilled</a><a href="https://wa.me/qr/ABC">qr</a>'
        '<a href="http://wa.me/529621234568">plain http</a><img src="https://wa.me/529621234568">'
        '<link rel="prefetch" href="https://wa.me/529621234568"><a href="https://wa.me.evil.example/52962">'
    )
    assert external_urls(html) == [
        ("a", "href", "https://wa.me/529621234568?text=hello"),
        ("a", "href", "https://wa.me/qr/ABC"),
        ("a", "href", "http://wa.me/529621234568"),
        ("img", "src", "https://wa.me/529621234568"),
        ("link", "href", "https://wa.me/529621234568"),
        ("a", "href", "https://wa.me.evil.example/52962"),
    ]


def test_collector_finds_absolute_and_protocol_relative_urls():
    html = (
        '<link rel="preconnect" href="https://fonts.googleapis.com">'
        '<script src="//cdn.example/x.js"></script>'
        '<img src="/static/a.png" srcset="/a.png 1x, http://cdn.example/b.png 2x"><a href="#main">x</a>'
        '<form action="/en/accounts/login/"></form><img src="data:image/svg+xml;base64,AAAA">'
        '<meta http-equiv="refresh" content="0; url=https://example.org/">'
        '<a href="http://testserver/api/v1/">same host, absolute</a><a href="ftp:other">'
    )
    assert external_urls(html) == [
        ("link", "href", "https://fonts.googleapis.com"),
        ("script", "src", "//cdn.example/x.js"),
        ("img", "srcset", "http://cdn.example/b.png"),
        ("meta", "content", "https://example.org/"),
        ("a", "href", "ftp:other"),
    ]


@pytest.mark.parametrize("role", ["administrator", "caseworker"])
@pytest.mark.parametrize("language", ["en", "ar"])
def test_no_page_refers_to_another_host(world, client_for, role, language):
    # given a signed-in user and every GET page of the URLconf
    client = client_for(world.user("a", role))
    paths = page_paths(world, language=language)
    rendered = []
    found = {}
    # when each page is requested as a browser would (HTML preferred, so the API renders its HTML too)
    for path in paths:
        response = client.get(path, HTTP_ACCEPT="text/html,application/xhtml+xml")
        if not response.get("Content-Type", "").startswith("text/html") or response.streaming:
            continue
        rendered.append((path, response.status_code))
        urls = external_urls(response.content.decode(response.charset or "utf-8"))
        if urls:
            found[path] = urls
    # then no page names another host, and the pages that matter were among those checked
    assert not found, "\n".join(f"{path}: {urls}" for path, urls in found.items())
    ok = {path for path, status in rendered if status == 200}
    assert {f"/{language}/", f"/{language}/organisations/", f"/{language}/accounts/profile/"} <= ok
    assert f"/{language}/organisations/{world.a.organisation.pk}/" in ok
    # ... among them a service page with a WhatsApp link (tests/pages.py), so the exception above is exercised
    assert any(re.fullmatch(rf"/{language}/services/\d+/", path) for path in ok)
