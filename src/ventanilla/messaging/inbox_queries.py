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
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.messaging.models_inbox import (
    Category,
    Contact,
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
MINE, NOBODY = "me", "nobody"  # `assigned_to` values beside a user id
WAITING = (ConversationStatus.NEW, ConversationStatus.IN_PROGRESS)


class InboxFilterError(ValueError):
    def __init__(self, message: str, *, field: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class InboxFilters:
    """What the list may be narrowed to; empty values mean "any"."""

    status: str = ""
    category: str = ""  # a Category code, or UNTRIAGED
    urgency: str = ""
    medium: str = ""
    language: str = ""
    channel: int | None = None  # a gateway id
    assigned_to: str = ""  # MINE, NOBODY or a user id
    site: int | None = None
    overdue: bool = False  # waiting for an answer past the time it was due
    since: datetime.datetime | None = None  # with a message at or after this moment
    number: str = ""  # the contact's phone number, with its country code (found by the keyed hash)
    before: str = ""  # the cursor of the previous page (`InboxPage.next_cursor`)

    @classmethod
    def from_query(cls, query: Any) -> InboxFilters:
        """From a request's GET (a QueryDict or a dict): the inbox page's parameters."""

        def text(name: str) -> str:
            return str(query.get(name, "") or "")

        def number(name: str) -> int | None:
            value = text(name)
            return int(value) if value.isdigit() else None

        urgency = text("urgency")
        if not urgency and text("urgent").lower() in {"1", "true", "yes", "on"}:
            urgency = Urgency.URGENT
        return cls(
            status=text("status"),
            category=text("category"),
            urgency=urgency,
            medium=text("medium"),
            language=text("language"),
            channel=number("channel"),
            assigned_to=text("assigned_to"),
            site=number("site"),
            overdue=text("overdue").lower() in {"1", "true", "yes", "on"},
            number=text("number"),
            before=text("before"),
        )


@dataclass(frozen=True)
class InboxPage:
    """The page's conversations, newest activity first. Each carries `last_inbound_preview` (the last
    inbound message's text, cut to PREVIEW_CHARACTERS, "" when none), `last_inbound_at`, and `overdue`
    and `waiting` (still to be answered) as of the moment the page was read."""

    conversations: list[Conversation]
    next_cursor: str  # "" on the last page


def overdue_q(now: datetime.datetime | None = None) -> Q:
    """Waiting for an answer (new or in progress) past the time it was due."""
    return Q(status__in=WAITING, respond_by__lt=now or timezone.now())


def is_overdue(conversation: Conversation, now: datetime.datetime | None = None) -> bool:
    return (
        conversation.status in WAITING
        and conversation.respond_by is not None
        and conversation.respond_by < (now or timezone.now())
    )


def _cursor(conversation: Conversation) -> str:
    return f"{conversation.last_message_at.isoformat()}_{conversation.pk}"


def _parse_cursor(value: str) -> tuple[datetime.datetime, int]:
    moment, _sep, pk = value.rpartition("_")
    try:
        parsed = datetime.datetime.fromisoformat(moment)
        number = int(pk)
    except ValueError:
        raise InboxFilterError(_("Not a page of this list."), field="before") from None
    if parsed.tzinfo is None:
        raise InboxFilterError(_("Not a page of this list."), field="before")
    return parsed, number


def number_index(number: str) -> str:
    """The keyed hash a contact's number is found by: numbers are encrypted, so a search by number is an
    exact match on the hash of its E.164 form, never a scan that decrypts."""
    from ventanilla.messaging.ingest import e164

    found = e164(number.strip())
    if not found:
        raise InboxFilterError(
            _("Write the number with its country code, for example +52 962 123 4567."), field="number"
        )
    index: str = Contact._meta.get_field("phone_index").compute(found)
    return index


def _narrowed(
    queryset: QuerySet[Conversation], filters: InboxFilters, user: Any, now: datetime.datetime
) -> QuerySet[Conversation]:
    if filters.status:
        if filters.status not in ConversationStatus.values:
            raise InboxFilterError(_("Unknown status."), field="status")
        queryset = queryset.filter(status=filters.status)
    if filters.category:
        if filters.category == UNTRIAGED:
            queryset = queryset.filter(category=Category.UNSORTED)
        elif filters.category in Category.values:
            queryset = queryset.filter(category=filters.category)
        else:
            raise InboxFilterError(_("Unknown category."), field="category")
    if filters.urgency:
        if filters.urgency not in Urgency.values:
            raise InboxFilterError(_("Unknown urgency."), field="urgency")
        queryset = queryset.filter(urgency=filters.urgency)
    if filters.medium:
        if filters.medium not in Medium.values:
            raise InboxFilterError(_("Unknown channel."), field="medium")
        queryset = queryset.filter(medium=filters.medium)
    if filters.language:
        queryset = queryset.filter(language=filters.language)
    if filters.channel is not None:
        queryset = queryset.filter(gateway=filters.channel)
    if filters.assigned_to == MINE:
        queryset = queryset.filter(assigned_to=user.pk)
    elif filters.assigned_to == NOBODY:
        queryset = queryset.filter(assigned_to__isnull=True)
    elif filters.assigned_to:
        if not filters.assigned_to.isdigit():
            raise InboxFilterError(_("Unknown assignee."), field="assigned_to")
        queryset = queryset.filter(assigned_to=int(filters.assigned_to))
    if filters.site is not None:
        queryset = queryset.filter(site=filters.site)
    if filters.overdue:
        queryset = queryset.filter(overdue_q(now))
    if filters.since is not None:
        queryset = queryset.filter(last_message_at__gte=filters.since)
    if filters.number:
        queryset = queryset.filter(contact__phone_index=number_index(filters.number))
    if filters.before:
        moment, pk = _parse_cursor(filters.before)
        queryset = queryset.filter(Q(last_message_at__lt=moment) | Q(last_message_at=moment, pk__lt=pk))
    return queryset


def inbox_queryset(
    user: Any, filters: InboxFilters | None = None, *, now: datetime.datetime | None = None
) -> QuerySet[Conversation]:
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
    return _narrowed(queryset, filters or InboxFilters(), user, now or timezone.now())


def inbox_page(user: Any, filters: InboxFilters | None = None, limit: int = PAGE_SIZE) -> InboxPage:
    """A page of the inbox for `user` (see the module docstring): one query once the scope is known."""
    limit = max(1, min(limit, 200))
    now = timezone.now()
    rows = list(inbox_queryset(user, filters, now=now)[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    for conversation in rows:
        text = getattr(conversation, "last_inbound_body", None) or ""
        if len(text) > PREVIEW_CHARACTERS:
            text = text[: PREVIEW_CHARACTERS - 1].rstrip() + "…"
        conversation.last_inbound_preview = text  # type: ignore[attr-defined]
        conversation.overdue = is_overdue(conversation, now)  # type: ignore[attr-defined]
        conversation.waiting = conversation.status in WAITING  # type: ignore[attr-defined]
    return InboxPage(conversations=rows, next_cursor=_cursor(rows[-1]) if more and rows else "")
