"""What every directory endpoint shares: who may write, the anonymous rate, error documentation."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import permissions, serializers
from rest_framework.request import Request

from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.api.throttling import FixedWindowAnonThrottle
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for

ERRORS = ERROR_RESPONSES


def managed(request: Request) -> set[int]:
    """Organisations whose directory the caller keeps."""
    return scope_for(request.user).organisations(Permission.MANAGE_CONTENT)


def service_messages(error: DjangoValidationError, name: str) -> list[str]:
    """The messages a service gave for one field (or all of them), for a serializer field error."""
    if hasattr(error, "error_dict"):
        messages = error.message_dict.get(name) or [m for ms in error.message_dict.values() for m in ms]
        return [str(m) for m in messages]
    return [str(m) for m in error.messages]


class ManagesContent(permissions.BasePermission):
    """Creating needs manage_content somewhere; changing a row needs it in the organisation keeping it.

    Rows the caller cannot see were already a 404 (another organisation's draft); a published row they
    see but do not keep is a 403.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        return view.action != "create" or bool(managed(request))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        row = getattr(obj, "point", obj)  # the browsable API asks about what an answer shows: a PointView
        return request.method in permissions.SAFE_METHODS or row.owner_id in managed(request)


STAFF = [permissions.IsAuthenticated, ManagesContent]


class PublicRateThrottle(FixedWindowAnonThrottle):
    """Anonymous callers share the `anon` rate (REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]); signed-in
    staff are never throttled."""


class OwnerField(serializers.IntegerField):
    """An organisation whose directory the caller keeps (anything else reads as not allowed, so ids of
    other organisations cannot be probed)."""

    def to_internal_value(self, data: Any) -> int:
        value = super().to_internal_value(data)
        if value not in managed(self.context["request"]):
            raise serializers.ValidationError(_("You do not keep the directory for this organisation."))
        return int(value)
