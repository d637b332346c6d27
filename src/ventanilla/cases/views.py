"""Placeholder: filled in by the case management UI work."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


def case_list(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def overdue(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def notices(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def transfers(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def decide_transfer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def open_case(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def detail(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def edit(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def close(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def reassign(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def transfer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def add_task(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def complete_task(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404


def add_note(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    raise Http404
