"""Placeholder: filled in by the referrals UI work."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def pathway_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def pathway_edit(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
