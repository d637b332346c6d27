"""Session rules for staff: sign out after inactivity, and demand two-factor where policy says so."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

LAST_SEEN = "ventanilla_last_seen"
TWO_FACTOR_DONE = "ventanilla_two_factor_done"
_OPEN_PREFIXES = ("/static/", "/healthz", "/readyz", "/api/", "/i18n/")


class SessionIdleTimeoutMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN)
            if last_seen is not None and now - int(last_seen) > settings.SESSION_IDLE_MINUTES * 60:
                logout(request)
                return redirect(f"{reverse('accounts:login')}?expired=1")
            request.session[LAST_SEEN] = now
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """A signed-in user whose role requires two-factor goes to set-up until it is done."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(_OPEN_PREFIXES)
            and not request.session.get(TWO_FACTOR_DONE)
        ):
            from ventanilla.accounts.services import two_factor_required

            allowed = {reverse("accounts:two_factor_setup"), reverse("accounts:logout")}
            if request.path not in allowed and two_factor_required(user):
                return redirect("accounts:two_factor_setup")
        return self.get_response(request)
