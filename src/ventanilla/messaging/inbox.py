"""The inbox: triage, assignment, status, notes and replies of conversations, and the list's queries.

Permission checks live here, so the pages and the API refuse the same things: a conversation is
changed only by someone who may read it (`Conversation.objects.visible_to`: message handlers of its
organisation, a caseworker it was handed to, and for a sensitive complaint only the designated focal
points). Every change is audited
with the names of the fields it touched, never their values.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Model, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation, User
from ventanilla.accounts.services import memberships_holding, users_of
from ventanilla.areas.models import AdministrativeArea
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission, roles_with
from ventanilla.core.scoping import scope_for
from ventanilla.messaging.inbox_queries import WAITING
from ventanilla.messaging.models_inbox import (
    Category,
    Conversation,
    ConversationStatus,
    Message,
    ReplyTemplate,
    Urgency,
)
from ventanilla.messaging.topics import TopicsInvalid, clean_topics

UNSET: Any = object()  # "leave as it is" for `change`, where None means "nobody" or "no area"
MAX_NOTE_LENGTH = 4000


class InboxError(ValueError):
    """A refused change. `errors` maps each field to what is wrong with it (empty when the refusal is
    about the whole change); `field` is the first of them, for a form that shows one error."""

    def __init__(self, message: str = "", *, field: str = "", errors: dict[str, str] | None = None):
        self.errors = dict(errors or ({field: message} if field else {}))
        self.field = field or next(iter(self.errors), "")
        super().__init__(message or " ".join(self.errors.values()))


class InboxPermissionError(InboxError):
    pass


# --- who -------------------------------------------------------------------------------------------


def may_open_inbox(user: Any) -> bool:
    """Message handlers, and those who register people: a conversation may be handed to them."""
    scope = scope_for(user)
    return scope.has(Permission.HANDLE_MESSAGES) or scope.has(Permission.EDIT_PERSONAL_DATA)


def assignable(organisation_id: int, *, sensitive: bool = False) -> QuerySet[User]:
    """Who a conversation may be given to: its message handlers, or a caseworker (someone who registers
    the organisation's people) so that they register the person and refer them. A message handler
    need not be allowed to register anyone; handing over is how a hotline reaches someone who is.
    A sensitive complaint goes only to the designated focal points."""
    if sensitive:
        return handlers(organisation_id, sensitive=True)
    roles = roles_with(Permission.HANDLE_MESSAGES, Permission.EDIT_PERSONAL_DATA)
    return users_of(memberships_holding(organisation_id, roles)).order_by("username")


def caseworker_ids(organisation_id: int) -> set[int]:
    """Those a conversation may be handed to who do not handle messages (the list marks them)."""
    handling = handlers(organisation_id).values("pk")
    return set(assignable(organisation_id).exclude(pk__in=handling).values_list("pk", flat=True))


def handlers(organisation_id: int, *, sensitive: bool = False) -> QuerySet[User]:
    """Active users who handle the organisation's messages (only its complaint focal points if sensitive)."""
    members = memberships_holding(organisation_id, roles_with(Permission.HANDLE_MESSAGES))
    if sensitive:
        members = members.filter(handles_sensitive_complaints=True)
    return users_of(members).order_by("username")


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
    """Every conversation the user may read (the list's query with filters and paging is
    `inbox_queries.inbox_page`)."""
    return Conversation.objects.visible_to(user)


def reply_templates(user: Any, organisation_id: int) -> QuerySet[ReplyTemplate]:
    return ReplyTemplate.objects.visible_to(user).filter(organisation_id=organisation_id)


# --- changes ---------------------------------------------------------------------------------------


@transaction.atomic
def change(
    conversation: Conversation,
    *,
    by: Any,
    category: Any = UNSET,
    topics: Any = UNSET,
    language: Any = UNSET,
    area: Any = UNSET,
    urgency: Any = UNSET,
    status: Any = UNSET,
    assigned_to: Any = UNSET,
) -> Conversation:
    """Triage, assign and set the status of a conversation in one step; arguments left UNSET stay.

    The only writer of these fields for people (the pages and the API both call it): every value is
    checked before anything is written, and one refusal names every wrong field. Rules that follow:

    - urgent: the answer is due within the organisation's urgent target (`response_times`; never later
      than it already was); back to
      normal, the rule's reason is cleared;
    - closed stamps `closed_at`, reopening clears it; the first "answered" stamps `answered_at`;
    - a new category with its own response target (or leaving one) sets when the answer is due
      (`response_times.due_after_triage`);
    - `assigned_to` must handle the organisation's messages or register its people (`assignable`; a
      designated focal point for a sensitive complaint, judged by the category it will have);
    - becoming a sensitive complaint takes it from an assignee who is not a focal point (they could no
      longer open it) and tells the focal points; a new assignee is told too, unless they assigned
      themselves.

    The audit entry names the fields and gives codes (category, status, urgency, assignee id), never
    a topic or any text.
    """
    _require_handler(by, conversation)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if category is not UNSET:
        if category not in Category.values:
            errors["category"] = _("Choose a category.")
        values["category"] = category
    if topics is not UNSET:
        try:
            values["topics"] = clean_topics(topics or [])
        except TopicsInvalid as error:
            errors["topics"] = str(error)
    if language is not UNSET:
        if language and language not in {code for code, _name in settings.LANGUAGES}:
            errors["language"] = _("Choose a language.")
        values["language"] = language or ""
    if area is not UNSET:
        if area is not None and not isinstance(area, AdministrativeArea):
            errors["area"] = _("Unknown area.")
        values["area"] = area
    if urgency is not UNSET:
        if urgency not in Urgency.values:
            errors["urgency"] = _("Choose an urgency.")
        values["urgency"] = urgency
    if status is not UNSET:
        if status not in ConversationStatus.values:
            errors["status"] = _("Choose a status.")
        values["status"] = status
    if assigned_to is not UNSET:
        sensitive = values.get("category", conversation.category) == Category.SENSITIVE
        allowed = assignable(conversation.organisation_id, sensitive=sensitive)
        if assigned_to is not None and not allowed.filter(pk=assigned_to.pk).exists():
            errors["assigned_to"] = _(
                "Choose someone who handles this organisation's messages or registers its people "
                "(for a sensitive complaint, one of its focal points)."
            )
        values["assigned_to"] = assigned_to
    if errors:
        raise InboxError(errors=errors)

    current = _locked(conversation)
    previous_category = current.category
    changed = [name for name, value in values.items() if _value(current, name) != _value_of(value)]
    for name in changed:
        setattr(current, name, values[name])
    now = timezone.now()
    if "urgency" in changed:
        if current.urgency == Urgency.URGENT:
            from ventanilla.messaging.response_times import targets_for

            due = targets_for(current.organisation_id).urgent_due(now)
            if current.status in WAITING and (current.respond_by is None or current.respond_by > due):
                current.respond_by = due
                changed.append("respond_by")
        elif current.urgent_reason:
            current.urgent_reason = ""
            changed.append("urgent_reason")
    if "status" in changed:
        closed = current.status == ConversationStatus.CLOSED
        if closed or current.closed_at is not None:
            current.closed_at = now if closed else None
            changed.append("closed_at")
        if current.status == ConversationStatus.ANSWERED and current.answered_at is None:
            current.answered_at = now
            changed.append("answered_at")
    if "category" in changed:
        from ventanilla.messaging.response_times import due_after_triage

        category_due = due_after_triage(current, previous_category)
        if category_due is not None:
            current.respond_by = category_due
            changed.append("respond_by")
    escalated = "category" in changed and current.category == Category.SENSITIVE
    focal_points = handlers(current.organisation_id, sensitive=True)
    if (
        escalated
        and "assigned_to" not in values
        and current.assigned_to_id is not None
        and not focal_points.filter(pk=current.assigned_to_id).exists()
    ):
        current.assigned_to = None
        changed.append("assigned_to")
    if not changed:
        return conversation
    current.save(update_fields=changed)
    detail: dict[str, Any] = {
        name: str(getattr(current, name)) for name in ("category", "status", "urgency") if name in changed
    }
    if "assigned_to" in changed:
        detail["assigned_to"] = current.assigned_to_id
    audit.record_change(AuditAction.UPDATE, current, by=by, fields=sorted(changed), detail=detail)
    _sync(conversation, current, changed)
    if escalated:
        _tell_focal_points(current)
    if (
        "assigned_to" in values
        and current.assigned_to is not None
        and current.assigned_to_id != getattr(by, "pk", None)
    ):
        _tell_assignee(current)
    return conversation


def _value(conversation: Conversation, name: str) -> Any:
    """A field's current value as `change` compares it (foreign keys by id, so nothing is loaded)."""
    if name in {"area", "assigned_to"}:
        return getattr(conversation, f"{name}_id")
    value = getattr(conversation, name)
    return list(value or []) if name == "topics" else value


def _value_of(value: Any) -> Any:
    return value.pk if isinstance(value, Model) else value


def triage(
    conversation: Conversation,
    *,
    by: Any,
    category: str | None = None,
    topics: Iterable[str] | None = None,
    urgency: str | None = None,
    language: str | None = None,
) -> Conversation:
    """The triage form's change (None leaves a value as it is)."""
    given = {"category": category, "topics": topics, "urgency": urgency, "language": language}
    return change(conversation, by=by, **{name: value for name, value in given.items() if value is not None})


def assign(conversation: Conversation, *, to: User | None, by: Any) -> Conversation:
    """Give the conversation to a message handler or a caseworker of its organisation (None: nobody)."""
    return change(conversation, by=by, assigned_to=to)


def set_status(conversation: Conversation, status: str, *, by: Any) -> Conversation:
    """New, in progress, answered or closed."""
    return change(conversation, by=by, status=status)


def _tell_focal_points(conversation: Conversation) -> None:
    from ventanilla.messaging import services as messaging

    messaging.notify(
        handlers(conversation.organisation_id, sensitive=True),
        kind="sensitive_complaint",
        text=_("A sensitive complaint waits in the inbox."),
        url=reverse("inbox:detail", args=[conversation.pk]),
    )


def _tell_assignee(conversation: Conversation) -> None:
    from ventanilla.messaging import services as messaging

    messaging.notify(
        [conversation.assigned_to],
        kind="conversation_assigned",
        text=_("A conversation in the inbox is assigned to you."),
        url=reverse("inbox:detail", args=[conversation.pk]),
    )


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
        # One entry on the conversation (where its history is read), naming the message it gained.
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
