"""Values every page's shell needs: languages, direction and the navigation the user may see."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for


def shell(request: HttpRequest) -> dict[str, Any]:
    scope = scope_for(getattr(request, "user", None))
    return {
        "LANGUAGE_DIRECTION": "rtl" if translation.get_language_bidi() else "ltr",
        "AVAILABLE_LANGUAGES": settings.LANGUAGES,
        "can": {permission.value: scope.has(permission) for permission in Permission},
        "notice_count": _unread_notices(request),
    }


def _unread_notices(request: HttpRequest) -> int:
    from ventanilla.messaging.services import unread_count

    return unread_count(getattr(request, "user", None))
