"""One error format for the whole API: {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def _flatten(detail: Any) -> Any:
    if isinstance(detail, list):
        return [str(item) for item in detail]
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    return str(detail)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    # A code given where the error was raised (PermissionDenied(..., code="x")) wins over the default.
    code = getattr(getattr(exc, "detail", None), "code", None) or getattr(exc, "default_code", "error")
    fields: dict[str, Any] = {}
    if isinstance(exc, exceptions.ValidationError):
        message = _("The request has invalid fields.")
        detail = _flatten(exc.detail)
        if isinstance(detail, dict):
            fields = {key: value for key, value in detail.items() if key != "non_field_errors"}
            if "non_field_errors" in detail:
                message = " ".join(detail["non_field_errors"])
        else:
            message = " ".join(detail) if isinstance(detail, list) else detail
    elif isinstance(exc, Http404):
        code, message = "not_found", _("Not found.")
    elif isinstance(exc, PermissionDenied):
        code, message = "permission_denied", _("You do not have permission to do this.")
    else:
        message = str(getattr(exc, "detail", exc))
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response


def conflict(message: str) -> Response:
    return Response(
        {"error": {"code": "conflict", "message": message, "fields": {}}}, status=status.HTTP_409_CONFLICT
    )


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs: not_found, permission_denied, invalid ...")
    message = serializers.CharField(help_text="For people, in the caller's language.")
    # DRF's metaclass takes declared fields off the class, so this does not hide Serializer.fields.
    fields = serializers.DictField(  # type: ignore[assignment]
        help_text="Field (or query parameter) name → what is wrong with it."
    )


class ErrorSerializer(serializers.Serializer):
    """The API's one error format (documented in the schema so clients can rely on it)."""

    error = ErrorDetailSerializer()


# For extend_schema(responses=...): the errors any write endpoint may answer.
ERROR_RESPONSES = {400: ErrorSerializer, 401: ErrorSerializer, 403: ErrorSerializer, 404: ErrorSerializer}
