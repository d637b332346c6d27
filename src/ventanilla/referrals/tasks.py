"""Background work for referrals: expiry and escalation, webhook deliveries."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="ventanilla.referrals.expire_overdue")
def expire_overdue() -> int:
    from ventanilla.referrals import services

    return services.expire_overdue()


@shared_task(name="ventanilla.referrals.deliver_webhook")
def deliver_webhook(delivery_id: int) -> bool:
    from ventanilla.referrals import webhooks
    from ventanilla.referrals.models import WebhookDelivery

    delivery = (
        WebhookDelivery.objects.select_related("webhook", "event__referral").filter(pk=delivery_id).first()
    )
    return webhooks.deliver(delivery) if delivery is not None else False


@shared_task(name="ventanilla.referrals.retry_webhooks")
def retry_webhooks() -> int:
    from ventanilla.referrals import webhooks

    return webhooks.retry_due()
