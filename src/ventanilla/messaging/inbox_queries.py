"""The inbox list's query: a page of conversations with each one's last inbound message, in one statement.

`inbox_page(user, filters)` is what the inbox page and its API list call (benchmarked by
`benchmarks/bench_inbox.py` with 1,000,000 messages). Conversations are read through
`Conversation.objects.visible_to(user)` (message handlers of the organisation; sensitive complaints
only for designated focal points), newest activity first, and paged by a cursor (the last row's
`last_message_at` and id) rather than an offset, so a deep page costs what the first does.

Queries: one, once the user's scope is known (building the scope reads the memberships, as every
scoped read does, once per request): the conversations with their gateway, contact and assignee joined,
and the last inbound message's text and time as two correlated subqueries on `message_conv_at_idx`.
The conversation's notes and the gateway's credentials are deferred: a list shows neither, and each
would otherwise be decrypted on every row (read them and they load, one query per row).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery

from ventanilla.messaging.models_inbox import (
    Category,
    Conversation,
    ConversationStatus,
    Direction,
    Medium,
    Message,
    Urgency,
)

PAGE_SIZE = 50
PREVIEW_CHARACTERS = 120
UNTRIAGED = "untriaged"  # the filter value for conversations without a category yet ("" means any)


class InboxFilterError(ValueError):
    def __init__(self, message: str, *, field: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class InboxFilters:
    """What the list may be narrowed to; empty values mean "any"."""

    status: str = ""
    category: str = ""  # a Category code, or UNTRIAGED
    urgent: bool = False
    medium: str = ""
    assigned_to: str = ""  # "me", "nobody" or a user id
    site: int | None = None
    before: str = ""  # the cursor of the previous page (`InboxPage.next_cursor`)

    @classmethod
    def from_query(cls, query: Any) -> InboxFilters:
        """From a request's GET (a QueryDict or a dict): the inbox page's and the API's parameters."""
        site = str(query.get("site", "") or "")
        return cls(
            status=str(query.get("status", "") or ""),
            category=str(query.get("category", "") or ""),
            urgent=str(query.get("urgent", "") or "").lower() in {"1", "true", "yes", "on"},
            medium=str(query.get("medium", "") or ""),
            assigned_to=str(query.get("assigned_to", "") or ""),
            site=int(site) if site.isdigit() else None,
            before=str(query.get("before", "") or ""),
        )


@dataclass(frozen=True)
class InboxPage:
    """The page's conversations, newest activity first. Each carries `last_inbound_preview` (the last
    inbound message's text, cut to PREVIEW_CHARACTERS, "" when none) and `last_inbound_at`."""

    conversations: list[Conversation]
    next_cursor: str  # "" on the last page


def _cursor(conversation: Conversation) -> str:
    return f"{conversation.last_message_at.isoformat()}_{conversation.pk}"


def _parse_cursor(value: str) -> tuple[datetime.datetime, int]:
    moment, _sep, pk = value.rpartition("_")
    try:
        parsed = datetime.datetime.fromisoformat(moment)
        number = int(pk)
    except ValueError:
        raise InboxFilterError("Not a page of this list.", field="before") from None
    if parsed.tzinfo is None:
        raise InboxFilterError("Not a page of this list.", field="before")
    return parsed, number


def _narrowed(queryset: QuerySet[Conversation], filters: InboxFilters, user: Any) -> QuerySet[Conversation]:
    if filters.status:
        if filters.status not in ConversationStatus.values:
            raise InboxFilterError("Unknown status.", field="status")
        queryset = queryset.filter(status=filters.status)
    if filters.category:
        if filters.category == UNTRIAGED:
            queryset = queryset.filter(category=Category.UNSORTED)
        elif filters.category in Category.values:
            queryset = queryset.filter(category=filters.category)
        else:
            raise InboxFilterError("Unknown category.", field="category")
    if filters.urgent:
        queryset = queryset.filter(urgency=Urgency.URGENT)
    if filters.medium:
        if filters.medium not in Medium.values:
            raise InboxFilterError("Unknown channel.", field="medium")
        queryset = queryset.filter(medium=filters.medium)
    if filters.assigned_to == "me":
        queryset = queryset.filter(assigned_to=user.pk)
    elif filters.assigned_to == "nobody":
        queryset = queryset.filter(assigned_to__isnull=True)
    elif filters.assigned_to:
        if not filters.assigned_to.isdigit():
            raise InboxFilterError("Unknown assignee.", field="assigned_to")
        queryset = queryset.filter(assigned_to=int(filters.assigned_to))
    if filters.site is not None:
        queryset = queryset.filter(site=filters.site)
    if filters.before:
        moment, pk = _parse_cursor(filters.before)
        queryset = queryset.filter(Q(last_message_at__lt=moment) | Q(last_message_at=moment, pk__lt=pk))
    return queryset


def inbox_queryset(user: Any, filters: InboxFilters | None = None) -> QuerySet[Conversation]:
    """The list's queryset (not yet sliced): visible conversations, narrowed, newest activity first."""
    last_inbound = Message.objects.filter(conversation=OuterRef("pk"), direction=Direction.IN).order_by(
        "-at", "-pk"
    )
    queryset = (
        Conversation.objects.visible_to(user)
        .select_related("gateway", "contact", "assigned_to", "site")
        # Not needed by a list, and each would be decrypted on every row: loaded only if read.
        .defer("notes", "gateway__credentials")
        .annotate(
            last_inbound_body=Subquery(last_inbound.values("body")[:1]),
            last_inbound_at=Subquery(last_inbound.values("at")[:1]),
        )
        .order_by("-last_message_at", "-pk")
    )
    return _narrowed(queryset, filters or InboxFilters(), user)


def inbox_page(user: Any, filters: InboxFilters | None = None, limit: int = PAGE_SIZE) -> InboxPage:
    """A page of the inbox for `user` (see the module docstring): one query once the scope is known."""
    limit = max(1, min(limit, 200))
    rows = list(inbox_queryset(user, filters)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    for conversation in rows:
        text = getattr(conversation, "last_inbound_body", None) or ""
        if len(text) > PREVIEW_CHARACTERS:
            text = text[: PREVIEW_CHARACTERS - 1].rstrip() + "…"
        conversation.last_inbound_preview = text  # type: ignore[attr-defined]
    return InboxPage(conversations=rows, next_cursor=_cursor(rows[-1]) if more and rows else "")
