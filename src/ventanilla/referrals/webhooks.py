"""Status changes pushed to partners' own systems: signed JSON with ids and statuses only.

The body is signed with HMAC-SHA256 under the webhook's secret (header `X-Ventanilla-Signature:
sha256=<hex>`), so a partner can check it came from us; failed deliveries are retried with backoff.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import logging
import secrets
import urllib.error
import urllib.request
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.core.tasks import enqueue
from ventanilla.referrals.models import PartnerWebhook, ReferralEvent, WebhookDelivery

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 6
TIMEOUT_SECONDS = 10
MIN_SECRET_LENGTH = 16


class WebhookError(ValueError):
    """A refusal for the caller; `field` names the input at fault (empty: not allowed at all)."""

    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


def _require_manager(user: User, organisation_id: int) -> None:
    if organisation_id not in scope_for(user).organisations(Permission.MANAGE_ORGANISATION):
        raise WebhookError(_("You cannot manage this organisation's webhooks."))


@transaction.atomic
def add_webhook(organisation: Organisation, *, url: str, by: User, secret: str = "") -> PartnerWebhook:
    """Register an https address for `organisation`'s referral status changes; the secret (made here
    when not given) signs every delivery. Only the address goes to the audit log."""
    _require_manager(by, organisation.pk)
    if not url.lower().startswith("https://"):
        raise WebhookError(_("The address must start with https://."), field="url")
    if secret and len(secret) < MIN_SECRET_LENGTH:
        raise WebhookError(
            _("The secret needs at least %(count)s characters.") % {"count": MIN_SECRET_LENGTH},
            field="secret",
        )
    hook = PartnerWebhook.objects.create(
        organisation=organisation, url=url, secret=secret or secrets.token_urlsafe(32)
    )
    audit.record_change(AuditAction.CREATE, hook, by=by, fields=["url", "secret"])
    return hook


@transaction.atomic
def remove_webhook(hook: PartnerWebhook, *, by: User) -> None:
    """Stop sending to an address (its pending deliveries go with it)."""
    _require_manager(by, hook.organisation_id)
    audit.record_change(AuditAction.DELETE, hook, by=by, fields=["url"])
    hook.delete()


def payload(event: ReferralEvent) -> dict[str, Any]:
    referral = event.referral
    return {
        "event": "referral.status_changed",
        "referral": referral.reference,
        "from_status": event.from_status,
        "status": event.to_status,
        "reason": event.reason,
        "at": event.at.isoformat(),
        "service": referral.category,
    }


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def queue(event: ReferralEvent) -> int:
    """One delivery per active webhook of the partner organisation (and of the sender's, if any)."""
    referral = event.referral
    organisations = {referral.organisation_id}
    if referral.partner_organisation_id:
        organisations.add(referral.partner_organisation_id)
    hooks = PartnerWebhook.objects.filter(organisation_id__in=organisations, is_active=True)
    count = 0
    for hook in hooks:
        delivery, created = WebhookDelivery.objects.get_or_create(webhook=hook, event=event)
        if created:
            from ventanilla.referrals import tasks

            enqueue(tasks.deliver_webhook, delivery.pk)
            count += 1
    return count


def deliver(delivery: WebhookDelivery, *, now: datetime.datetime | None = None) -> bool:
    now = now or timezone.now()
    if delivery.delivered_at is not None:
        return True
    hook = delivery.webhook
    body = json.dumps(payload(delivery.event), separators=(",", ":")).encode()
    request = urllib.request.Request(  # noqa: S310 - the partner's configured https address
        hook.url,
        data=body,
        headers={"Content-Type": "application/json", "X-Ventanilla-Signature": sign(body, hook.secret)},
        method="POST",
    )
    delivery.attempts += 1
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            delivery.last_status = response.status
        ok = 200 <= (delivery.last_status or 0) < 300
        delivery.last_error = "" if ok else f"HTTP {delivery.last_status}"
    except urllib.error.HTTPError as error:
        ok = False
        delivery.last_status = error.code
        delivery.last_error = f"HTTP {error.code}"
    except (OSError, ValueError) as error:
        ok = False
        delivery.last_error = type(error).__name__
    if ok:
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts < MAX_ATTEMPTS:
        delivery.next_attempt_at = now + datetime.timedelta(minutes=5 * 2 ** (delivery.attempts - 1))
    else:
        delivery.next_attempt_at = None
        logger.warning("Webhook delivery %s gave up after %s attempts", delivery.pk, delivery.attempts)
    delivery.save()
    return ok


def retry_due(*, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(delivered_at__isnull=True, next_attempt_at__lte=now)
    count = 0
    for delivery in due.select_related("webhook", "event__referral")[:500]:
        with transaction.atomic():
            deliver(delivery, now=now)
        count += 1
    return count
