"""Placeholder: filled in by the referrals UI work."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def referral_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def create(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def change_status(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def issue_link(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def revoke_link(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
