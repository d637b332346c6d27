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
