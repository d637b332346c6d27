"""The app's URLs plus benchmark-only views; never part of the application."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from ventanilla.urls import urlpatterns as app_urlpatterns


def bare(request: HttpRequest) -> HttpResponse:
    """The floor: a tiny response, no database, no template."""
    return HttpResponse(b"ok", content_type="text/plain")


urlpatterns = [path("bench/bare", bare, name="bench-bare"), *app_urlpatterns]
