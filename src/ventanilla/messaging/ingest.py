"""From a provider's webhook to a message in the inbox, in two steps.

`receive()` runs in the request: size, signature and shape are checked, then each item is stored as an
`InboundDelivery` (unique per gateway, kind and provider id, so a retried webhook is the same row) and
processing is queued. `process()` runs in the background: contact, conversation, message, opt-out,
urgent flag, keyword menus. Both are safe to run twice.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from ventanilla.core.tasks import enqueue
from ventanilla.messaging import keywords, language, response_times, urgent
from ventanilla.messaging.gateways import BadPayload, BadSignature, Inbound, StatusUpdate, adapter_for
from ventanilla.messaging.gateways.base import MAX_BODY_BYTES, Request
from ventanilla.messaging.models_inbox import (
    Contact,
    Conversation,
    ConversationStatus,
    Direction,
    Gateway,
    InboundDelivery,
    Message,
    MessageStatus,
    Urgency,
)
from ventanilla.messaging.topics import merge_topics

logger = logging.getLogger(__name__)
MAX_BODY = MAX_BODY_BYTES


class Refused(Exception):
    """A webhook refused with an HTTP status and a reason (never containing the body)."""

    def __init__(self, status: int, reason: str):
        self.status = status
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Received:
    new: int
    repeated: int


def credentials(gateway: Gateway) -> dict[str, Any]:
    try:
        value = json.loads(gateway.credentials or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def receive(gateway: Gateway | None, request: Request) -> Received:
    """Check and store what a webhook brought; the work itself is queued."""
    if gateway is None or not gateway.is_active:
        raise Refused(404, "unknown channel")
    adapter = adapter_for(gateway.kind)
    if adapter is None:
        raise Refused(404, "this channel takes no webhooks")
    if len(request.body) > MAX_BODY_BYTES:
        raise Refused(413, "body too large")
    try:
        adapter.verify(request, credentials(gateway))
    except BadSignature as error:
        logger.warning("Webhook refused for gateway %s: %s", gateway.pk, error)
        raise Refused(403, "bad signature") from None
    try:
        items = adapter.parse(request)
    except BadPayload as error:
        raise Refused(400, f"{error.field}: {error}" if error.field else str(error)) from None
    from ventanilla.messaging import tasks

    new = repeated = 0
    for item in items:
        kind = "status" if isinstance(item, StatusUpdate) else "message"
        payload = json.dumps(_as_dict(item), default=str, ensure_ascii=False)
        delivery_id = store_delivery(gateway, kind=kind, provider_id=item.provider_id, payload=payload)
        if delivery_id is None:
            repeated += 1
            continue
        enqueue(tasks.process_delivery, delivery_id)
        new += 1
    return Received(new, repeated)


def store_delivery(gateway: Gateway, *, kind: str, provider_id: str, payload: str) -> int | None:
    """Store one delivery unless the gateway already sent it: the new row's id, or None for a repeat.

    One statement, `INSERT … ON CONFLICT DO NOTHING RETURNING id` (PostgreSQL; SQLite 3.35 or newer),
    on the unique (gateway, kind, provider id): in autocommit it commits by itself, with no BEGIN, no
    COMMIT and no failed insert to roll back for a retried webhook, the commonest repeat. Inside a
    caller's transaction a repeat leaves that transaction usable. The payload is encrypted by its
    field, as `save()` would.
    """
    meta = InboundDelivery._meta
    columns = ("gateway_id", "kind", "provider_id", "payload", "received_at", "error")
    values = [
        gateway.pk,
        kind,
        provider_id,
        meta.get_field("payload").get_db_prep_save(payload, connection),
        meta.get_field("received_at").get_db_prep_save(timezone.now(), connection),
        "",
    ]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(c) for c in columns)}) "  # noqa: S608 - names from the model
        f"VALUES ({', '.join(['%s'] * len(columns))}) "
        f"ON CONFLICT ({quote('gateway_id')}, {quote('kind')}, {quote('provider_id')}) DO NOTHING "
        f"RETURNING {quote('id')}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _as_dict(item: Inbound | StatusUpdate) -> dict[str, Any]:
    if isinstance(item, StatusUpdate):
        return {"provider_id": item.provider_id, "status": item.status, "error": item.error}
    return {
        "provider_id": item.provider_id,
        "sender": item.sender,
        "text": item.text,
        "at": item.at.isoformat() if item.at else None,
        "medium": item.medium,
    }


def e164(value: str, *, region: str | None = None) -> str:
    """The number in E.164, or "" when it is not a possible phone number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(number):
        return ""
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def find_contact(organisation_id: int, address: str, *, medium: str = "sms") -> Contact:
    """The organisation's contact for this number (or handle), created on first contact."""
    number = e164(address)
    if number:
        index = Contact._meta.get_field("phone_index").compute(number)
        found = Contact.objects.filter(organisation_id=organisation_id, phone_index=index).first()
        return found or Contact.objects.create(organisation_id=organisation_id, phone=number, medium=medium)
    index = Contact._meta.get_field("handle_index").compute(address)
    found = Contact.objects.filter(organisation_id=organisation_id, handle_index=index).first()
    return found or Contact.objects.create(organisation_id=organisation_id, handle=address, medium=medium)


@transaction.atomic
def process(delivery: InboundDelivery) -> Message | None:
    delivery = (
        InboundDelivery.objects.select_for_update(of=("self",)).select_related("gateway").get(pk=delivery.pk)
    )
    if delivery.processed_at is not None:
        return None
    data = json.loads(delivery.payload)
    message = None
    if delivery.kind == "status":
        apply_status(delivery.gateway, data["provider_id"], data["status"], data.get("error", ""))
    else:
        at = datetime.datetime.fromisoformat(data["at"]) if data.get("at") else timezone.now()
        message = record_inbound(
            delivery.gateway,
            sender=data["sender"],
            text=data.get("text", ""),
            provider_id=data["provider_id"],
            medium=data.get("medium") or delivery.gateway.medium,
            at=at,
        )
    delivery.processed_at = timezone.now()
    delivery.payload = ""  # the message now lives (encrypted) in the inbox; the raw copy is not kept
    delivery.save(update_fields=["processed_at", "payload"])
    return message


def apply_status(gateway: Gateway, provider_id: str, status: str, error: str = "") -> int:
    """A delivery receipt: the outgoing message with that provider id takes the new status."""
    return Message.objects.filter(
        conversation__gateway=gateway, direction=Direction.OUT, provider_id=provider_id
    ).update(status=status, status_at=timezone.now(), error=error[:100])


def record_inbound(
    gateway: Gateway,
    *,
    sender: str,
    text: str,
    provider_id: str = "",
    medium: str = "sms",
    at: datetime.datetime | None = None,
    by: Any = None,
) -> Message | None:
    """One message from a person on any channel: the command words, the conversation, the urgent flag.

    `sender` "" is someone who gave no number or handle (the anonymous web form): no contact, a
    conversation of its own. Command words (STOP, START, menu keywords) count only on channels the
    person can write to and be answered on (SMS and WhatsApp gateways): "stop" typed into the web form
    or noted from a call is what the person said, not an opt-out.
    """
    at = at or timezone.now()
    contact = find_contact(gateway.organisation_id, sender, medium=medium) if sender else None
    detected = language.detect(text)
    if contact is not None and detected and contact.language != detected:
        contact.language = detected
        contact.save(update_fields=["language"])
    if contact is not None and adapter_for(gateway.kind) is not None:
        command = keywords.command(text)
        if command == "stop":
            _confirm(gateway, contact, stop=True)
            return None
        if command == "start":
            _confirm(gateway, contact, stop=False)
            return None
        from ventanilla.messaging import menus

        if menus.handle(gateway, contact, text):
            return None
    targets = response_times.targets_for(gateway.organisation_id)
    conversation = _open_conversation(gateway, contact, medium=medium, at=at, due=targets.answer_due(at))
    message = Message.objects.create(
        conversation=conversation,
        direction=Direction.IN,
        body=text,
        provider_id=provider_id,
        status=MessageStatus.RECEIVED,
        at=at,
        sent_by=by,
    )
    changed = ["last_message_at"]
    conversation.last_message_at = at
    if detected and not conversation.language:
        conversation.language = detected
        changed.append("language")
    if conversation.status in {ConversationStatus.ANSWERED, ConversationStatus.CLOSED}:
        conversation.status = ConversationStatus.NEW
        conversation.respond_by = targets.answer_due(at, conversation.category)
        changed += ["status", "respond_by"]
    why = urgent.reason(text)
    if why:
        conversation.urgency = Urgency.URGENT
        conversation.urgent_reason = why
        conversation.respond_by = min(conversation.respond_by or at, targets.urgent_due(at))
        changed += ["urgency", "urgent_reason", "respond_by"]
    conversation.save(update_fields=sorted(set(changed)))
    if why:
        from ventanilla.messaging import alerts

        alerts.raise_alert(conversation, message, why)
    return message


def _open_conversation(
    gateway: Gateway,
    contact: Contact | None,
    *,
    medium: str,
    at: datetime.datetime,
    due: datetime.datetime,
) -> Conversation:
    if contact is not None:
        existing = (
            Conversation.objects.filter(gateway=gateway, contact=contact)
            .exclude(status=ConversationStatus.CLOSED)
            .order_by("-last_message_at")
            .first()
        )
        if existing is not None:
            return existing
    return Conversation.objects.create(
        organisation_id=gateway.organisation_id,
        site_id=gateway.site_id,
        gateway=gateway,
        contact=contact,
        medium=medium,
        language=contact.language if contact else "",
        area=contact.area if contact else None,
        last_message_at=at,
        respond_by=due,
    )


def _confirm(gateway: Gateway, contact: Contact, *, stop: bool) -> None:
    """Opting out takes effect at once; the confirmation is the last message the contact receives."""
    contact.opted_out_at = timezone.now() if stop else None
    contact.save(update_fields=["opted_out_at"])
    with override(contact.language or "es"):
        text = (
            _("You will receive no more messages from us. Send START to receive them again.")
            if stop
            else _("You will receive our messages again. Send STOP to stop them.")
        )
    from ventanilla.messaging import outbound

    outbound.send_to_contact(gateway, contact, text, force=True)


def classify_on_arrival(
    conversation: Conversation,
    *,
    category: str = "",
    topics: Iterable[str] = (),
    language: str = "",
    keep_category: bool = False,
) -> None:
    """What the person or the operator said about a message as it came in (the web form's category, a
    hotline operator's triage): the conversation's category (unless `keep_category` and it has one),
    topics added to its own, and the language, which the contact keeps for the next answer too.

    Part of recording the message, not a staff change: it is audited with the message it came with.
    """
    changed: list[str] = []
    if category and conversation.category != category and not (keep_category and conversation.category):
        previous, conversation.category = conversation.category, category
        changed.append("category")
        due = response_times.due_after_triage(conversation, previous)
        if due is not None:
            conversation.respond_by = due
            changed.append("respond_by")
    merged = merge_topics(conversation.topics or [], topics)
    if merged != (conversation.topics or []):
        conversation.topics = merged
        changed.append("topics")
    if language and conversation.language != language:
        conversation.language = language
        changed.append("language")
    if changed:
        conversation.save(update_fields=changed)
    contact = conversation.contact
    if contact is not None and language and contact.language != language:
        contact.language = language
        contact.save(update_fields=["language"])
