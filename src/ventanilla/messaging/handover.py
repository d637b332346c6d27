"""From a conversation to help in person: register the person, or find their record, then refer them.

Someone who writes "they took my passport" may need a partner's service, not only an answer. A
message handler who may also register people in the conversation's organisation (a site manager, or
anyone holding both permissions there) can, from the conversation page:

1. start a registration with what the conversation already knows (the number, the language): the
   registration form asks for consent as always, and the new record is linked to the conversation;
2. or link the conversation to an existing record of the same organisation that they may read (people
   registered with the same number are offered, found by the blind index, never by decrypting);
3. then refer the linked person: the ordinary referral page, which refuses anyone who has not consented
   to be referred, records the conversation the referral came from.

Nothing here reads a person the user could not read anyway (`Person.objects.visible_to`), and a
conversation is never linked across organisations: a referral to another organisation goes through a
pathway, with the projection the pathway allows.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging.inbox import InboxError, InboxPermissionError, may_handle
from ventanilla.messaging.models_inbox import Conversation
from ventanilla.registration.models import Person


def may_hand_over(user: Any, conversation: Conversation) -> bool:
    """Handles the conversation and may register and refer people of its organisation."""
    scope = scope_for(user)
    return conversation.organisation_id in scope.organisations(Permission.EDIT_PERSONAL_DATA) and may_handle(
        user, conversation
    )


def _require(user: Any, conversation: Conversation) -> None:
    if not may_hand_over(user, conversation):
        raise InboxPermissionError(_("You cannot register or refer the person of this conversation."))


def linkable(user: Any, conversation: Conversation) -> QuerySet[Person]:
    """Current records of the conversation's organisation that the user may read."""
    return Person.objects.visible_to(user).filter(
        organisation_id=conversation.organisation_id, erased_at__isnull=True, merged_into__isnull=True
    )


def same_number(user: Any, conversation: Conversation) -> QuerySet[Person]:
    """Records the user may read, in the conversation's organisation, registered with its number."""
    contact = conversation.contact
    if contact is None or not contact.phone:
        return Person.objects.none()
    index = Person._meta.get_field("phone_index").lookup_value(contact.phone)
    return linkable(user, conversation).filter(phone_index=index).order_by("-registered_at")


def find_linkable(user: Any, conversation: Conversation, reference: str) -> Person | None:
    """The record a reference names among those the conversation may be linked to ("" is None)."""
    _require(user, conversation)
    reference = reference.strip().upper()
    if not reference:
        return None
    found = linkable(user, conversation).filter(reference=reference).first()
    if found is None:
        raise InboxError(_("No current record of this organisation with this reference."), field="person")
    return found


@transaction.atomic
def link_person(conversation: Conversation, person: Person | None, *, by: Any) -> Conversation:
    """Link the conversation to a registered person (None: undo a wrong link)."""
    _require(by, conversation)
    if person is not None and not linkable(by, conversation).filter(pk=person.pk).exists():
        raise InboxError(_("Choose a current record of this organisation that you may read."), field="person")
    current: Conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    new_id = person.pk if person is not None else None
    if current.person_id == new_id:
        return conversation
    current.person = person
    current.save(update_fields=["person"])
    audit.record_change(AuditAction.UPDATE, current, by=by, fields=["person"], detail={"person": new_id})
    conversation.person = person
    return conversation


def for_registration(user: Any, pk: Any) -> Conversation:
    """The conversation a registration was started from, if the user may hand it over; else 404."""
    conversation = Conversation.objects.visible_to(user).select_related("contact").filter(pk=_id(pk)).first()
    if conversation is None or not may_hand_over(user, conversation):
        raise Http404
    return conversation


def for_referral(user: Any, pk: Any, person: Person) -> Conversation:
    """The conversation a referral is made from: one the user hands over, linked to this person; else 404."""
    conversation = for_registration(user, pk)
    if conversation.person_id != person.pk:
        raise Http404
    return conversation


def _id(value: Any) -> int:
    text = str(value or "")
    return int(text) if text.isdigit() else 0


def initial_answers(conversation: Conversation, schema: Any) -> dict[str, str]:
    """What a registration form can start from: the number, and the language the person wrote in
    (for the questions the form has: `phone`, `receipt_language`)."""
    known: dict[str, str] = {}
    contact = conversation.contact
    if schema.node_named("phone") is not None and contact is not None and contact.phone:
        known["phone"] = contact.phone
    if schema.node_named("receipt_language") is not None and conversation.language:
        known["receipt_language"] = conversation.language
    return known
