"""No page carries inline styles or scripts: the Content-Security-Policy (style-src and script-src 'self')
makes the browser drop them, so whatever they were for silently does not happen.

Our own pages only: the API's browsable pages and documentation are Django REST framework's and
drf-spectacular's templates (they do carry inline styles, which the policy blocks; they stay usable).
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from tests.pages import page_paths


class _InlineCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in names and dict(attrs).get("type") != "application/json":
            self.found.append("<script> without src")
        for name in sorted(names):
            if name == "style" or name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")


def inline_code(html: str) -> list[str]:
    parser = _InlineCollector()
    parser.feed(html)
    return parser.found


def test_collector_finds_what_the_policy_blocks():
    html = (
        '<p style="color:red">x</p><button onclick="go()">go</button><style>p{}</style>'
        '<script>alert(1)</script><script src="/static/app.js"></script>'
        '<script type="application/json" id="data">{}</script><p class="depth-1">fine</p>'
    )
    assert inline_code(html) == ["<p style=…>", "<button onclick=…>", "<style>", "<script> without src"]


@pytest.mark.parametrize("role", ["administrator", "caseworker"])
@pytest.mark.parametrize("language", ["en", "ar"])
def test_no_page_has_inline_styles_or_scripts(world, client_for, role, language):
    # given a signed-in user and every GET page of the URLconf (the caseworker also sees a person's record)
    client = client_for(world.user("a", role))
    found = {}
    checked = []
    # when each HTML page is rendered
    for path in page_paths(world, language=language):
        if path.startswith("/api/"):
            continue
        response = client.get(path, HTTP_ACCEPT="text/html")
        if not response.get("Content-Type", "").startswith("text/html") or response.streaming:
            continue
        checked.append((path, response.status_code))
        inline = inline_code(response.content.decode(response.charset or "utf-8"))
        if inline:
            found[path] = sorted(set(inline))
    # then none has anything inline, and the staff pages with the most markup were among those checked
    assert not found, "\n".join(f"{path}: {inline}" for path, inline in found.items())
    ok = {path for path, status in checked if status == 200}
    assert f"/{language}/staff/forms/" in ok
    if role == "caseworker":
        assert any(path.startswith(f"/{language}/staff/people/VT-") for path in ok)
