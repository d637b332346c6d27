"""Placeholder: filled in by the referrals UI work."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def inbox(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def inbox_detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
