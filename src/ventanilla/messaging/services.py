"""Sending: `send()` queues a message in the outbox and dispatches it after the transaction commits.

The gateway is chosen by environment (`SMS_GATEWAY_URL`); without one, SMS are *held* in the outbox,
visible to staff, so the embedded set-up never pretends to have sent what it could not. Email goes
through Django's mail backend (a file outbox when no SMTP host is configured).
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import models, transaction
from django.utils import timezone

from ventanilla.core.tasks import enqueue
from ventanilla.messaging.models import Channel, Notice, OutboundMessage, OutboundStatus

logger = logging.getLogger(__name__)


def send(
    channel: str,
    recipient: str,
    body: str,
    *,
    purpose: str,
    organisation_id: int | None = None,
    subject: str = "",
    language: str = "",
    about: models.Model | None = None,
    gateway: Any = None,
    force: bool = False,
) -> OutboundMessage:
    """Queue one message; the worker sends it once the surrounding transaction has committed.

    An SMS to a number that opted out of the organisation's messages is recorded as not sent, never
    queued; only the opt-out confirmation itself is sent with `force`.
    """
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}.")
    if not recipient.strip():
        raise ValueError("A message needs a recipient.")
    from ventanilla.messaging.outbound import opted_out

    refused = channel == Channel.SMS and not force and opted_out(organisation_id, recipient)
    message = OutboundMessage.objects.create(
        gateway=gateway,
        status=OutboundStatus.OPTED_OUT if refused else OutboundStatus.QUEUED,
        organisation_id=organisation_id,
        channel=channel,
        recipient=recipient.strip(),
        subject=subject,
        body=body,
        language=language,
        purpose=purpose,
        object_type=about._meta.label_lower if about is not None else "",
        object_id=str(about.pk) if about is not None else "",
    )
    if not refused:
        from ventanilla.messaging import tasks

        enqueue(tasks.deliver, message.pk)
    return message


def deliver(message: OutboundMessage) -> None:
    """Hand one message to its gateway; the outcome (never the content) is logged."""
    if message.status in {OutboundStatus.SENT, OutboundStatus.OPTED_OUT}:
        return
    message.attempts += 1
    try:
        if message.channel == Channel.EMAIL:
            send_mail(message.subject or message.purpose, message.body, None, [message.recipient])
            message.status = OutboundStatus.SENT
        elif message.gateway is not None:
            from ventanilla.messaging.outbound import send_through

            message.provider_id = send_through(message.gateway, message.recipient, message.body)
            message.status = OutboundStatus.SENT
        elif settings.SMS_GATEWAY_URL:
            _post_sms(message)
            message.status = OutboundStatus.SENT
        else:
            message.status = OutboundStatus.HELD
    except Exception as error:
        message.status = OutboundStatus.FAILED
        message.error = type(error).__name__
        logger.warning("Message %s failed (%s)", message.pk, type(error).__name__)
    if message.status == OutboundStatus.SENT:
        message.sent_at = timezone.now()
    message.save(update_fields=["status", "attempts", "error", "sent_at", "provider_id"])


def _post_sms(message: OutboundMessage) -> None:
    payload = json.dumps({"to": message.recipient, "text": message.body}).encode()
    request = urllib.request.Request(  # noqa: S310 - the URL is the operator's configured gateway
        settings.SMS_GATEWAY_URL,
        data=payload,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {settings.SMS_GATEWAY_TOKEN}"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        if response.status >= 300:
            raise OSError(f"gateway answered {response.status}")


def notify(users: Iterable[Any], *, kind: str, text: str, url: str = "") -> int:
    """Put a notice in each user's in-app list; `text` must name counts and places, never a person."""
    rows = [Notice(user=user, kind=kind, text=text[:200], url=url[:300]) for user in users]
    Notice.objects.bulk_create(rows)
    return len(rows)


def unread_count(user: Any) -> int:
    if not getattr(user, "is_authenticated", False):
        return 0
    return Notice.objects.filter(user=user, read_at__isnull=True).count()


@transaction.atomic
def mark_read(user: Any) -> int:
    return Notice.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
