"""The app's URLs plus benchmark-only views; never part of the application."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from ventanilla.urls import urlpatterns as app_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    """The floor: a tiny response, no database, no template."""
    return HttpResponse(b"ok", content_type="text/plain")


BARE_HTML = b'<!doctype html><html lang="en"><meta charset="utf-8"><title>ok</title><p>ok</p></html>'


def bare_html(request: HttpRequest) -> HttpResponse:
    """The floor for pages in a browser: the smallest HTML page that paints something."""
    return HttpResponse(BARE_HTML, content_type="text/html; charset=utf-8")


urlpatterns = [
    path("bench/bare", bare, name="bench-bare"),
    path("bench/bare.html", bare_html, name="bench-bare-html"),
    *app_urlpatterns,
]
