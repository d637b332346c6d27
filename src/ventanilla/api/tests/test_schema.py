"""The OpenAPI schema and the documentation pages: valid, complete, and loading nothing from elsewhere."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.validation import validate_schema

ATTRIBUTE_URL = re.compile(r"""\b(?:src|href|spec-url)\s*=\s*["']([^"']*)["']""", re.IGNORECASE)
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[^\s"'<>)]+""", re.IGNORECASE)


def v1_paths() -> set[str]:
    """Every /api/v1/ route in the URLconf, written the way OpenAPI writes paths."""
    paths: set[str] = set()

    def walk(patterns: list[object], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                route = prefix + str(pattern.pattern)
                if not route.startswith("api/v1/") or "format" in route or pattern.name == "api-root":
                    continue  # format suffixes are aliases; the root only lists the others
                route = route.replace("^", "").replace("$", "")
                route = re.sub(r"\(\?P<pk>[^)]*\)", "{id}", route)
                route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
                paths.add("/" + route)

    walk(get_resolver().url_patterns, "")
    return paths


def test_the_urlconf_has_api_routes_to_check():
    assert {"/api/v1/organisations/", "/api/v1/sites/{id}/", "/api/v1/areas/{pcode}/"} <= v1_paths()


@pytest.mark.parametrize("query", ["", "?format=json"], ids=["yaml", "json"])
def test_schema_is_valid_openapi_3_with_every_v1_path(db, query):
    # when anyone fetches the schema
    response = Client().get(f"/api/schema/{query}")
    # then it parses, is OpenAPI 3, passes the OpenAPI 3 JSON schema, and has every /api/v1/ route
    assert response.status_code == 200
    schema = json.loads(response.content) if query else yaml.safe_load(response.content)
    assert schema["openapi"].startswith("3")
    validate_schema(schema)
    assert set(schema["paths"]) == v1_paths()


def test_schema_declares_bearer_tokens_and_the_error_format_is_not_hidden(db):
    schema = yaml.safe_load(Client().get("/api/schema/").content)
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from My account → API tokens.",
    }


def external_urls(html: str, host: str = "testserver") -> list[str]:
    """URLs in src/href attributes, and absolute URLs anywhere, that leave this host."""
    found = ATTRIBUTE_URL.findall(html) + ABSOLUTE_URL.findall(html)
    same_host = re.compile(rf"^(?:https?:)?//{re.escape(host)}(?:[/:?#]|$)")
    return [
        url for url in found if re.match(r"^(?:https?:)?//", url, re.IGNORECASE) and not same_host.match(url)
    ]


def test_external_url_detector_sees_what_it_should():
    html = '<link href="https://fonts.example/x.css"><script src="//cdn.example/a.js"></script><a href="/x">'
    assert external_urls(html) == ["https://fonts.example/x.css", "//cdn.example/a.js"] * 2
    assert external_urls('<img src="http://testserver/a.png">') == []


def test_api_docs_page_loads_nothing_from_another_host(db):
    # given the Swagger UI page
    client = Client()
    response = client.get("/api/docs/")
    html = response.content.decode()
    # then it names no other host ...
    assert response.status_code == 200
    assert external_urls(html) == []
    # ... its script is served here and names no other host either ...
    assets = [url for url in ATTRIBUTE_URL.findall(html) if url.startswith("/")]
    assert "/api/docs/?script=" in assets
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200
    assert external_urls(script.content.decode()) == []
    # ... and every static file it loads ships with the application (found by the static finders)
    static = [url for url in assets if url.startswith(settings.STATIC_URL)]
    assert len(static) == 4
    assert [url for url in static if finders.find(url.removeprefix(settings.STATIC_URL)) is None] == []


def test_api_redoc_page_loads_nothing_from_another_host(db):
    response = Client().get("/api/redoc/")
    html = response.content.decode()
    assert response.status_code == 200
    assert external_urls(html) == []
    static = [url for url in ATTRIBUTE_URL.findall(html) if url.startswith(settings.STATIC_URL)]
    assert static != []
    assert [url for url in static if finders.find(url.removeprefix(settings.STATIC_URL)) is None] == []
