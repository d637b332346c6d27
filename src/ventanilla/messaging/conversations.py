"""Changing a conversation (triage, assignment, status) and a contact (language, area, subscriptions,
opt-out) on behalf of a message handler.

The actor must see the row (`visible_to`: handle_messages in its organisation; a sensitive complaint
only for designated focal points). Each change is checked as a whole before anything is written and
audited with field names and codes, never a text or a number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Membership
from ventanilla.areas.models import AdministrativeArea
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission, permissions_for
from ventanilla.messaging import outbound
from ventanilla.messaging.entries import clean_topics
from ventanilla.messaging.models_inbox import (
    Category,
    Contact,
    Conversation,
    ConversationStatus,
    Message,
    Urgency,
)

UNSET: Any = object()
MAX_SUBSCRIPTIONS = 20
_SUBSCRIPTION = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,39}$")


class ConversationError(ValueError):
    """A change refused; `errors` maps each field to what is wrong (empty when the actor may not act)."""

    def __init__(self, errors: dict[str, str] | None = None, *, message: str = ""):
        self.errors = errors or {}
        self.field = next(iter(self.errors), "")
        super().__init__(message or " ".join(self.errors.values()))


class ConversationPermissionError(ConversationError):
    pass


@dataclass
class ConversationChange:
    """What to change; fields left UNSET stay as they are."""

    category: Any = UNSET
    topics: Any = UNSET
    language: Any = UNSET
    area: Any = UNSET  # AdministrativeArea | None
    urgency: Any = UNSET
    status: Any = UNSET
    assigned_to: Any = UNSET  # User | None


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def may_handle(user: Any, conversation: Conversation) -> bool:
    """Whether `user` could be given this conversation: a message handler of its organisation (and a
    designated focal point when it is a sensitive complaint)."""
    if user is None or not getattr(user, "is_active", False):
        return False
    memberships = Membership.objects.filter(
        user=user, organisation_id=conversation.organisation_id, is_active=True
    )
    for membership in memberships:
        if Permission.HANDLE_MESSAGES not in permissions_for(membership.role):
            continue
        if conversation.category != Category.SENSITIVE or membership.handles_sensitive_complaints:
            return True
    return False


def _require_visible(by: Any, conversation: Conversation) -> None:
    if not Conversation.objects.visible_to(by).filter(pk=conversation.pk).exists():
        raise ConversationPermissionError(message=_("You do not handle this conversation."))


@transaction.atomic
def update_conversation(conversation: Conversation, change: ConversationChange, *, by: Any) -> Conversation:
    _require_visible(by, conversation)
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if change.category is not UNSET:
        if change.category not in Category.values:
            errors["category"] = _("Choose one of the categories.")
        values["category"] = change.category
    if change.topics is not UNSET:
        values["topics"] = clean_topics(change.topics or [])
    if change.language is not UNSET:
        if change.language and change.language not in language_codes():
            errors["language"] = _("Choose one of the languages.")
        values["language"] = change.language or ""
    if change.area is not UNSET:
        if change.area is not None and not isinstance(change.area, AdministrativeArea):
            errors["area"] = _("Unknown area.")
        values["area"] = change.area
    if change.urgency is not UNSET:
        if change.urgency not in Urgency.values:
            errors["urgency"] = _("Choose normal or urgent.")
        values["urgency"] = change.urgency
    if change.status is not UNSET:
        if change.status not in ConversationStatus.values:
            errors["status"] = _("Choose one of the statuses.")
        values["status"] = change.status
    if change.assigned_to is not UNSET:
        values["assigned_to"] = change.assigned_to
    if errors:
        raise ConversationError(errors)
    if values.get("assigned_to") is not None:
        # Checked against the category the conversation will have: a sensitive complaint goes to a
        # designated focal point only.
        future = Conversation(
            organisation_id=conversation.organisation_id,
            category=values.get("category", conversation.category),
        )
        if not may_handle(values["assigned_to"], future):
            raise ConversationError(
                {"assigned_to": _("Assign it to someone of the organisation who handles messages.")}
            )
    elif (
        values.get("category") == Category.SENSITIVE
        and "assigned_to" not in values
        and conversation.assigned_to is not None
        and not may_handle(
            conversation.assigned_to,
            Conversation(organisation_id=conversation.organisation_id, category=Category.SENSITIVE),
        )
    ):
        values["assigned_to"] = None  # the officer assigned may not read sensitive complaints
    changed = [name for name, value in values.items() if getattr(conversation, name) != value]
    for name in changed:
        setattr(conversation, name, values[name])
    now = timezone.now()
    if "urgency" in changed and conversation.urgency == Urgency.NORMAL:
        conversation.urgent_reason = ""
        changed.append("urgent_reason")
    if "status" in changed:
        if conversation.status == ConversationStatus.CLOSED:
            conversation.closed_at = now
        else:
            conversation.closed_at = None
        changed.append("closed_at")
        if conversation.status == ConversationStatus.ANSWERED and conversation.answered_at is None:
            conversation.answered_at = now
            changed.append("answered_at")
    if changed:
        conversation.save(update_fields=changed)
        detail: dict[str, Any] = {
            name: str(values[name]) for name in ("category", "status", "urgency") if name in changed
        }
        if "assigned_to" in changed:
            detail["assigned_to"] = conversation.assigned_to_id
        audit.record_change(AuditAction.UPDATE, conversation, by=by, fields=changed, detail=detail)
    return conversation


# --- Contacts ------------------------------------------------------------------------------------------


def _require_contact(by: Any, contact: Contact) -> None:
    if not Contact.objects.visible_to(by).filter(pk=contact.pk).exists():
        raise ConversationPermissionError(message=_("You do not handle this organisation's contacts."))


@transaction.atomic
def update_contact(
    contact: Contact, *, by: Any, language: Any = UNSET, area: Any = UNSET, subscriptions: Any = UNSET
) -> Contact:
    _require_contact(by, contact)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if language is not UNSET:
        if language and language not in language_codes():
            errors["language"] = _("Choose one of the languages.")
        values["language"] = language or ""
    if area is not UNSET:
        values["area"] = area
    if subscriptions is not UNSET:
        items = [str(item).strip().lower() for item in subscriptions or []]
        if len(items) > MAX_SUBSCRIPTIONS or not all(_SUBSCRIPTION.match(item) for item in items):
            errors["subscriptions"] = _(
                "Up to %(max)s codes of lower-case letters, digits and - _ . : (40 characters each)."
            ) % {"max": MAX_SUBSCRIPTIONS}
        values["subscriptions"] = sorted(set(items))
    if errors:
        raise ConversationError(errors)
    changed = [name for name, value in values.items() if getattr(contact, name) != value]
    for name in changed:
        setattr(contact, name, values[name])
    if changed:
        contact.save(update_fields=changed)
        audit.record_change(AuditAction.UPDATE, contact, by=by, fields=changed)
    return contact


@transaction.atomic
def send_reply(conversation: Conversation, text: str, *, by: Any) -> Message:
    """Answer on the conversation's channel (`outbound.reply`, which refuses opted-out contacts)."""
    _require_visible(by, conversation)
    message = outbound.reply(conversation, text, by=by)
    audit.record(
        AuditAction.CREATE,
        by=by,
        obj=message,
        organisation_id=conversation.organisation_id,
        fields=["body"],
        detail={"conversation": conversation.pk, "direction": "out"},
    )
    return message


@transaction.atomic
def opt_out(contact: Contact, *, by: Any) -> Contact:
    """The person asked (by phone, in person) to receive nothing more: effective at once, no message sent."""
    _require_contact(by, contact)
    contact = Contact.objects.select_for_update().get(pk=contact.pk)
    if contact.opted_out_at is None:
        contact.opted_out_at = timezone.now()
        contact.save(update_fields=["opted_out_at"])
        audit.record_change(
            AuditAction.UPDATE, contact, by=by, fields=["opted_out_at"], detail={"opted_out": True}
        )
    return contact
