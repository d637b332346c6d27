"""Placeholder: filled in by the referrals UI work."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def metrics(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
