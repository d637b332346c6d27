"""What the messaging endpoints share: the permission each collection needs, and refusals."""

from __future__ import annotations

from typing import Any, NoReturn

from rest_framework import permissions, serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging import inbox
from ventanilla.messaging.inbox import InboxError, InboxPermissionError


class Needs(permissions.BasePermission):
    """The collection needs `permission` somewhere (403 otherwise, before anything is looked up); one
    row is looked up among those the caller may see, so for anyone else it is a 404."""

    permission: Permission

    def has_permission(self, request: Request, view: Any) -> bool:
        return getattr(view, "detail", False) or self.allowed(request.user)

    def allowed(self, user: Any) -> bool:
        return scope_for(user).has(self.permission)


class HandlesMessages(Needs):
    permission = Permission.HANDLE_MESSAGES


class OpensInbox(Needs):
    """Conversations: message handlers, and caseworkers, who find only those handed to them
    (`inbox.may_open_inbox`; the pages ask the same)."""

    def allowed(self, user: Any) -> bool:
        return inbox.may_open_inbox(user)


class ManagesOrganisation(Needs):
    permission = Permission.MANAGE_ORGANISATION


def raise_refusal(error: InboxError) -> NoReturn:
    """A service's refusal as the API says it: 403 when the caller may not act, else 400 by field."""
    if isinstance(error, InboxPermissionError):
        raise PermissionDenied(str(error)) from None
    raise serializers.ValidationError(
        {name: [text] for name, text in error.errors.items()} or {"non_field_errors": [str(error)]}
    ) from None
