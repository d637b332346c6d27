"""Sending on a channel: replies in a conversation, confirmations, and the outbox's SMS through an
organisation's own gateway. Nothing goes to a contact who opted out (except the opt-out confirmation)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.core.tasks import enqueue
from ventanilla.messaging.gateways import adapter_for
from ventanilla.messaging.gateways.base import SendError
from ventanilla.messaging.models import Channel, OutboundMessage
from ventanilla.messaging.models_inbox import (
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Gateway,
    Message,
    MessageStatus,
)


class ReplyRefused(ValueError):
    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


def opted_out(organisation_id: int | None, number: str) -> bool:
    """Whether the organisation holds this number as a contact who sent STOP."""
    from ventanilla.messaging.ingest import e164

    clean = e164(number)
    if organisation_id is None or not clean:
        return False
    index = Contact._meta.get_field("phone_index").compute(clean)
    return Contact.objects.filter(
        organisation_id=organisation_id, phone_index=index, opted_out_at__isnull=False
    ).exists()


def _address(contact: Contact) -> str:
    return contact.phone or contact.handle


def send_through(gateway: Gateway, to: str, text: str) -> str:
    """Hand one text to the gateway's provider; the provider's id comes back (for receipts)."""
    from ventanilla.messaging.ingest import credentials

    adapter = adapter_for(gateway.kind)
    if adapter is None:
        raise SendError("this channel cannot send")
    return adapter.send(
        to=to, text=text, sender=gateway.address, send_url=gateway.send_url, credentials=credentials(gateway)
    )


def send_to_contact(
    gateway: Gateway, contact: Contact, text: str, *, force: bool = False, purpose: str = "system"
) -> OutboundMessage:
    from ventanilla.messaging import services

    return services.send(
        Channel.SMS,
        _address(contact),
        text,
        purpose=purpose,
        organisation_id=gateway.organisation_id,
        language=contact.language,
        gateway=gateway if adapter_for(gateway.kind) else None,
        force=force,
    )


@transaction.atomic
def reply(conversation: Conversation, text: str, *, by: Any) -> Message:
    """Answer on the channel the conversation came from; refused for opted-out contacts."""
    text = text.strip()
    if not text:
        raise ReplyRefused(_("Write the answer."), field="text")
    if len(text) > 1600:
        raise ReplyRefused(_("The answer is too long for an SMS (1,600 characters at most)."), field="text")
    contact = conversation.contact
    if contact is None or not _address(contact):
        raise ReplyRefused(_("This conversation has no number or address to answer."), field="text")
    if contact.opted_out:
        raise ReplyRefused(_("This contact sent STOP: nothing can be sent to them."), field="text")
    if adapter_for(conversation.gateway.kind) is None:
        raise ReplyRefused(_("Answers on this channel are given by phone or in person; record it as a note."))
    now = timezone.now()
    message = Message.objects.create(
        conversation=conversation,
        direction=Direction.OUT,
        body=text,
        status=MessageStatus.QUEUED,
        at=now,
        sent_by=by,
    )
    conversation.status = ConversationStatus.ANSWERED
    conversation.answered_at = conversation.answered_at or now
    conversation.last_message_at = now
    conversation.save(update_fields=["status", "answered_at", "last_message_at"])
    from ventanilla.messaging import tasks

    enqueue(tasks.send_reply, message.pk)
    return message


def deliver_reply(message: Message) -> None:
    if message.status != MessageStatus.QUEUED:
        return
    conversation = message.conversation
    contact = conversation.contact
    if contact is None or contact.opted_out:
        message.status = MessageStatus.FAILED
        message.error = "opted out"
    else:
        try:
            message.provider_id = send_through(conversation.gateway, _address(contact), message.body)
            message.status = MessageStatus.SENT
        except SendError as error:
            message.status = MessageStatus.FAILED
            message.error = str(error)[:100]
    message.status_at = timezone.now()
    message.save(update_fields=["status", "provider_id", "error", "status_at"])
