"""The inbox: triage, assignment, status, notes and replies of conversations, and the list's queries.

Permission checks live here, so the pages and the API refuse the same things: a conversation is
changed only by someone who may read it (`Conversation.objects.visible_to`: message handlers of its
organisation, and for a sensitive complaint only the designated focal points). Every change is audited
with the names of the fields it touched, never their values.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Membership, Organisation, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import ROLE_PERMISSIONS, Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging.models_inbox import (
    Category,
    Conversation,
    ConversationStatus,
    Direction,
    Message,
    ReplyTemplate,
    Urgency,
)

PREVIEW_LENGTH = 80
MAX_TOPICS = 10
MAX_TOPIC_LENGTH = 40
MAX_NOTE_LENGTH = 4000
URGENT_RESPONSE_HOURS = 1
WAITING = (ConversationStatus.NEW, ConversationStatus.IN_PROGRESS)


class InboxError(ValueError):
    """A refused change; `field` names the form field the message belongs next to."""

    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


class InboxPermissionError(InboxError):
    pass


# --- who -------------------------------------------------------------------------------------------


def handler_roles() -> list[str]:
    return [role for role, granted in ROLE_PERMISSIONS.items() if Permission.HANDLE_MESSAGES in granted]


def handlers(organisation_id: int, *, sensitive: bool = False) -> QuerySet[User]:
    """Active users who handle the organisation's messages (only its complaint focal points if sensitive)."""
    members = Membership.objects.filter(
        organisation_id=organisation_id,
        organisation__is_active=True,
        is_active=True,
        role__in=handler_roles(),
    )
    if sensitive:
        members = members.filter(handles_sensitive_complaints=True)
    return User.objects.filter(pk__in=members.values("user_id"), is_active=True).order_by("username")


def may_handle(user: Any, conversation: Conversation) -> bool:
    return bool(Conversation.objects.visible_to(user).filter(pk=conversation.pk).exists())


def _require_handler(user: Any, conversation: Conversation) -> None:
    if not may_handle(user, conversation):
        raise InboxPermissionError(_("You cannot change this conversation."))


def _locked(conversation: Conversation) -> Conversation:
    """The row, re-read under a lock: two people triaging or noting at once both keep their change."""
    locked: Conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    return locked


def _sync(target: Conversation, source: Conversation, fields: Iterable[str]) -> None:
    for name in fields:
        setattr(target, name, getattr(source, name))


def message_organisations(user: Any) -> QuerySet[Organisation]:
    """Organisations where the user handles messages (where they may keep reply templates)."""
    ids = scope_for(user).organisations(Permission.HANDLE_MESSAGES)
    return Organisation.objects.filter(pk__in=ids, is_active=True).order_by("name")


# --- queries ---------------------------------------------------------------------------------------


def conversations(user: Any) -> QuerySet[Conversation]:
    return Conversation.objects.visible_to(user)


def overdue_q(now: datetime.datetime | None = None) -> Q:
    """Waiting for an answer (new or in progress) past the time it was due."""
    return Q(status__in=WAITING, respond_by__lt=now or timezone.now())


UNTRIAGED = "untriaged"
MINE, UNASSIGNED = "me", "none"


def filter_conversations(
    rows: QuerySet[Conversation],
    *,
    user: Any,
    status: str = "",
    category: str = "",
    urgency: str = "",
    medium: str = "",
    language: str = "",
    assigned: str = "",
    overdue: bool = False,
    now: datetime.datetime | None = None,
) -> QuerySet[Conversation]:
    """The list's filters; `category=UNTRIAGED` finds conversations nobody has sorted yet."""
    if status:
        rows = rows.filter(status=status)
    if category == UNTRIAGED:
        rows = rows.filter(category=Category.UNSORTED)
    elif category:
        rows = rows.filter(category=category)
    if urgency:
        rows = rows.filter(urgency=urgency)
    if medium:
        rows = rows.filter(medium=medium)
    if language:
        rows = rows.filter(language=language)
    if assigned == MINE:
        rows = rows.filter(assigned_to_id=getattr(user, "pk", None))
    elif assigned == UNASSIGNED:
        rows = rows.filter(assigned_to__isnull=True)
    if overdue:
        rows = rows.filter(overdue_q(now))
    return rows


def previews(conversation_ids: Iterable[int], *, length: int = PREVIEW_LENGTH) -> dict[int, str]:
    """The start of each conversation's last received message, in one query whatever the page size.

    The newest inbound message per conversation is found through the (conversation, at) index, for the
    given conversations only, so the list costs the same with a thousand messages or a million.
    """
    ids = list(conversation_ids)
    if not ids:
        return {}
    newest = (
        Message.objects.filter(conversation=OuterRef("pk"), direction=Direction.IN)
        .order_by("-at", "-pk")
        .values("pk")[:1]
    )
    wanted = Conversation.objects.filter(pk__in=ids).annotate(newest=Subquery(newest)).values("newest")
    found: dict[int, str] = {}
    rows = Message.objects.filter(pk__in=wanted).order_by().values_list("conversation_id", "body")
    for conversation_id, body in rows:
        text = " ".join((body or "").split())
        found[conversation_id] = text if len(text) <= length else text[: length - 1].rstrip() + "…"
    return found


def is_overdue(conversation: Conversation, now: datetime.datetime | None = None) -> bool:
    return (
        conversation.status in WAITING
        and conversation.respond_by is not None
        and conversation.respond_by < (now or timezone.now())
    )


def reply_templates(user: Any, organisation_id: int) -> QuerySet[ReplyTemplate]:
    return ReplyTemplate.objects.visible_to(user).filter(organisation_id=organisation_id)


# --- changes ---------------------------------------------------------------------------------------


def clean_topics(topics: Iterable[str]) -> list[str]:
    """Tags as typed, trimmed, without repeats (case-insensitive), at most MAX_TOPICS."""
    kept: list[str] = []
    seen: set[str] = set()
    for topic in topics:
        tag = " ".join(str(topic).split())
        if not tag or tag.casefold() in seen:
            continue
        if len(tag) > MAX_TOPIC_LENGTH:
            raise InboxError(
                _("A topic is at most %(count)d characters.") % {"count": MAX_TOPIC_LENGTH}, field="topics"
            )
        seen.add(tag.casefold())
        kept.append(tag)
    if len(kept) > MAX_TOPICS:
        raise InboxError(_("At most %(count)d topics.") % {"count": MAX_TOPICS}, field="topics")
    return kept


@transaction.atomic
def triage(
    conversation: Conversation,
    *,
    by: Any,
    category: str | None = None,
    topics: Iterable[str] | None = None,
    urgency: str | None = None,
    language: str | None = None,
) -> Conversation:
    """Sort a conversation: category, topics, urgency, language (None leaves a value as it is).

    Marking it a sensitive complaint hands it to the organisation's designated focal points: they are
    told, and an assignee who is not one of them is taken off (they could no longer open it).
    """
    _require_handler(by, conversation)
    if category is not None and category not in Category.values:
        raise InboxError(_("Choose a category."), field="category")
    if urgency is not None and urgency not in Urgency.values:
        raise InboxError(_("Choose an urgency."), field="urgency")
    languages = {code for code, _name in settings.LANGUAGES}
    if language is not None and language and language not in languages:
        raise InboxError(_("Choose a language."), field="language")
    new_topics = clean_topics(topics) if topics is not None else None
    current = _locked(conversation)
    changed: list[str] = []
    if category is not None and category != current.category:
        current.category = category
        changed.append("category")
    if new_topics is not None and new_topics != list(current.topics or []):
        current.topics = new_topics
        changed.append("topics")
    if language is not None and language != current.language:
        current.language = language
        changed.append("language")
    if urgency is not None and urgency != current.urgency:
        current.urgency = urgency
        changed.append("urgency")
        if urgency == Urgency.URGENT:
            due = timezone.now() + datetime.timedelta(hours=URGENT_RESPONSE_HOURS)
            if current.status in WAITING and (current.respond_by is None or current.respond_by > due):
                current.respond_by = due
                changed.append("respond_by")
        elif current.urgent_reason:
            current.urgent_reason = ""
            changed.append("urgent_reason")
    escalated = "category" in changed and current.category == Category.SENSITIVE
    if escalated and current.assigned_to_id is not None:
        focal_points = handlers(current.organisation_id, sensitive=True)
        if not focal_points.filter(pk=current.assigned_to_id).exists():
            current.assigned_to = None
            changed.append("assigned_to")
    if changed:
        current.save(update_fields=changed)
        audit.record_change(AuditAction.UPDATE, current, by=by, fields=changed)
        _sync(conversation, current, changed)
    if escalated:
        _tell_focal_points(current)
    return conversation


def _tell_focal_points(conversation: Conversation) -> None:
    from ventanilla.messaging import services as messaging

    messaging.notify(
        handlers(conversation.organisation_id, sensitive=True),
        kind="sensitive_complaint",
        text=_("A sensitive complaint waits in the inbox."),
        url=reverse("inbox:detail", args=[conversation.pk]),
    )


@transaction.atomic
def assign(conversation: Conversation, *, to: User | None, by: Any) -> Conversation:
    """Give the conversation to a message handler of its organisation (None: to nobody)."""
    _require_handler(by, conversation)
    current = _locked(conversation)
    if to is not None:
        allowed = handlers(current.organisation_id, sensitive=current.category == Category.SENSITIVE)
        if not allowed.filter(pk=to.pk).exists():
            raise InboxError(
                _(
                    "Choose someone who handles this organisation's messages "
                    "(for a sensitive complaint, one of its focal points)."
                ),
                field="to",
            )
    new_id = to.pk if to is not None else None
    if new_id == current.assigned_to_id:
        return conversation
    current.assigned_to = to
    current.save(update_fields=["assigned_to"])
    audit.record_change(AuditAction.UPDATE, current, by=by, fields=["assigned_to"])
    _sync(conversation, current, ["assigned_to"])
    if to is not None and to.pk != getattr(by, "pk", None):
        from ventanilla.messaging import services as messaging

        messaging.notify(
            [to],
            kind="conversation_assigned",
            text=_("A conversation in the inbox is assigned to you."),
            url=reverse("inbox:detail", args=[current.pk]),
        )
    return conversation


@transaction.atomic
def set_status(conversation: Conversation, status: str, *, by: Any) -> Conversation:
    """New, in progress, answered or closed; closing stamps the time, reopening clears it."""
    _require_handler(by, conversation)
    if status not in ConversationStatus.values:
        raise InboxError(_("Choose a status."), field="status")
    current = _locked(conversation)
    if status == current.status:
        return conversation
    now = timezone.now()
    changed = ["status"]
    current.status = status
    if status == ConversationStatus.CLOSED:
        current.closed_at = now
        changed.append("closed_at")
    elif current.closed_at is not None:
        current.closed_at = None
        changed.append("closed_at")
    if status == ConversationStatus.ANSWERED and current.answered_at is None:
        current.answered_at = now
        changed.append("answered_at")
    current.save(update_fields=changed)
    audit.record_change(AuditAction.UPDATE, current, by=by, fields=changed)
    _sync(conversation, current, changed)
    return conversation


def _author(user: Any) -> str:
    name = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return str(name or getattr(user, "username", "") or "?")


@transaction.atomic
def add_note(conversation: Conversation, text: str, *, by: Any) -> Conversation:
    """Append a note, signed and dated, to the conversation's encrypted notes (newest last)."""
    _require_handler(by, conversation)
    text = text.strip()
    if not text:
        raise InboxError(_("The note is empty."), field="text")
    if len(text) > MAX_NOTE_LENGTH:
        raise InboxError(
            _("A note is at most %(count)d characters.") % {"count": MAX_NOTE_LENGTH}, field="text"
        )
    current = _locked(conversation)
    stamp = timezone.now().astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    entry = f"— {stamp} · {_author(by)}\n{text}"
    current.notes = f"{current.notes}\n\n{entry}" if current.notes else entry
    current.save(update_fields=["notes"])
    audit.record_change(AuditAction.UPDATE, current, by=by, fields=["notes"])
    _sync(conversation, current, ["notes"])
    return conversation


def reply(conversation: Conversation, text: str, *, by: Any) -> Message:
    """Answer on the conversation's channel (see `outbound.reply`: nothing goes to an opted-out contact)."""
    from ventanilla.messaging import outbound

    _require_handler(by, conversation)
    with transaction.atomic():
        try:
            message = outbound.reply(conversation, text, by=by)
        except outbound.ReplyRefused as error:
            raise InboxError(str(error), field=error.field) from None
        audit.record_change(
            AuditAction.UPDATE,
            conversation,
            by=by,
            fields=["messages", "status"],
            detail={"message": message.pk},
        )
    return message


# --- reply templates --------------------------------------------------------------------------------


@transaction.atomic
def save_template(
    *,
    organisation: Organisation,
    name: str,
    language: str,
    text: str,
    by: Any,
    template: ReplyTemplate | None = None,
) -> ReplyTemplate:
    """Create (or change) a reply template of an organisation where the user handles messages."""
    if organisation.pk not in scope_for(by).organisations(Permission.HANDLE_MESSAGES):
        raise InboxPermissionError(_("You cannot keep reply templates for this organisation."))
    if template is not None and template.organisation_id != organisation.pk:
        raise InboxPermissionError(_("You cannot keep reply templates for this organisation."))
    name, text = " ".join(name.split()), text.strip()
    if not name:
        raise InboxError(_("Give the template a name."), field="name")
    if language not in {code for code, _label in settings.LANGUAGES}:
        raise InboxError(_("Choose a language."), field="language")
    if not text:
        raise InboxError(_("Write the text."), field="text")
    if len(text) > 1600:
        raise InboxError(_("The text is too long for an SMS (1,600 characters at most)."), field="text")
    row = template or ReplyTemplate(organisation=organisation)
    changed = [
        field
        for field, value in (("name", name), ("language", language), ("text", text))
        if getattr(row, field) != value
    ]
    if template is not None and not changed:
        return template
    row.name, row.language, row.text = name, language, text
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:
        raise InboxError(
            _("A template with this name already exists in this language."), field="name"
        ) from None
    action = AuditAction.UPDATE if template is not None else AuditAction.CREATE
    audit.record_change(action, row, by=by, fields=changed)
    return row
