"""Session rules for staff: sign out after inactivity, and demand two-factor where policy says so."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

LAST_SEEN = "ventanilla_last_seen"
TWO_FACTOR_DONE = "ventanilla_two_factor_done"
TWO_FACTOR_NOT_REQUIRED_UNTIL = "ventanilla_two_factor_not_required_until"
_LAST_SEEN_RESOLUTION = 60
_POLICY_RECHECK_SECONDS = 300
_OPEN_PREFIXES = ("/static/", "/healthz", "/readyz", "/api/schema/", "/api/docs/", "/api/redoc/")


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
            if last_seen is None or now - int(last_seen) >= _LAST_SEEN_RESOLUTION:
                # Written at most once a minute: a session write on every request serialises SQLite.
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class TwoFactorRequiredMiddleware:
    """A session is complete only after two-factor when the user has it or their role requires it.

    A user with two-factor who got a session some other way (never through our sign-in) is signed out;
    one whose role requires it but has not set it up goes to set-up. API calls on such a session get a
    403 in the API's error format; bearer tokens are checked by the API itself, not here.
    """

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

            if getattr(user, "has_two_factor", False):
                logout(request)
                return self._refuse(request, reverse("accounts:login"))
            now = int(time.time())
            if request.session.get(TWO_FACTOR_NOT_REQUIRED_UNTIL, 0) > now:
                return self.get_response(request)
            # The password page too: a new colleague first replaces the one-time password, then sets up
            # two-factor; each gate must let the other's page through or they bounce between them.
            allowed = {
                reverse("accounts:two_factor_setup"),
                reverse("accounts:password_change"),
                reverse("accounts:logout"),
            }
            if two_factor_required(user):
                if request.path not in allowed:
                    return self._refuse(request, reverse("accounts:two_factor_setup"))
            else:
                # Policies change rarely: look again after a few minutes, not on every request.
                request.session[TWO_FACTOR_NOT_REQUIRED_UNTIL] = now + _POLICY_RECHECK_SECONDS
        return self.get_response(request)

    @staticmethod
    def _refuse(request: HttpRequest, location: str) -> HttpResponse:
        if request.path.startswith("/api/"):
            body = {
                "error": {
                    "code": "account_setup_required",
                    "message": str(_("Finish setting up your account (password, two-factor) first.")),
                    "fields": {},
                }
            }
            return JsonResponse(body, status=403)
        return redirect(location)


class PasswordChangeRequiredMiddleware:
    """An account made with a one-time password must choose its own before doing anything else."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and getattr(user, "must_change_password", False)
            and not request.path.startswith(_OPEN_PREFIXES)
        ):
            allowed = {reverse("accounts:password_change"), reverse("accounts:logout")}
            if request.path not in allowed:
                return TwoFactorRequiredMiddleware._refuse(request, reverse("accounts:password_change"))
        return self.get_response(request)
