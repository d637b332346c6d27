"""Delivering queued messages in the background."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="ventanilla.messaging.deliver")
def deliver(message_id: int) -> str:
    """Send one queued message; returns its status (never its content, which Celery would log)."""
    from ventanilla.messaging import services
    from ventanilla.messaging.models import OutboundMessage

    message = OutboundMessage.objects.filter(pk=message_id).first()
    if message is None:
        return "missing"
    services.deliver(message)
    return str(message.status)


@shared_task(name="ventanilla.messaging.process_delivery")
def process_delivery(delivery_id: int) -> bool:
    """Turn one stored webhook delivery into inbox rows (safe to run twice)."""
    from ventanilla.messaging import ingest
    from ventanilla.messaging.models import InboundDelivery

    delivery = InboundDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None:
        return False
    ingest.process(delivery)
    return True


@shared_task(name="ventanilla.messaging.send_reply")
def send_reply(message_id: int) -> str:
    from ventanilla.messaging import outbound
    from ventanilla.messaging.models import Message

    message = (
        Message.objects.select_related("conversation__gateway", "conversation__contact")
        .filter(pk=message_id)
        .first()
    )
    if message is None:
        return "missing"
    outbound.deliver_reply(message)
    return str(message.status)


@shared_task(name="ventanilla.messaging.escalate_alerts")
def escalate_alerts() -> int:
    """Urgent alerts nobody acknowledged in time go one level up; returns how many did."""
    from ventanilla.messaging import alerts

    return alerts.escalate_due().alerts
