"""Placeholder: filled in by the referrals UI work."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def link_page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
