"""Messages the platform sends (SMS, email) and the notices it shows staff in the app.

The outbox keeps what was sent to whom encrypted, so a message can be traced and resent without a
phone number or a text ever reaching a log. In-app notices carry no personal values at all: they say
how many things wait and where, and the page behind the link applies the usual scoping.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ventanilla.core.fields import EncryptedTextField
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import Scope, ScopedModel


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    HELD = "held", _("Held: no gateway configured")
    FAILED = "failed", _("Failed")
    OPTED_OUT = "opted_out", _("Not sent: the contact opted out")


class OutboundMessage(ScopedModel):
    """One SMS or email, kept encrypted; `purpose` says why it was sent (a code, never content)."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # The organisation's own SMS/WhatsApp channel to send through (else SMS_GATEWAY_URL, else held).
    gateway = models.ForeignKey(
        "messaging.Gateway", on_delete=models.SET_NULL, null=True, blank=True, related_name="outbox"
    )
    provider_id = models.CharField(max_length=100, blank=True)
    recipient = EncryptedTextField(_("to"))
    subject = EncryptedTextField(_("subject"), blank=True)
    body = EncryptedTextField(_("text"))
    language = models.CharField(_("language"), max_length=12, blank=True)
    purpose = models.CharField(_("purpose"), max_length=40)
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(_("error"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="outbound_object_idx")]
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")

    def __str__(self) -> str:
        return f"{self.channel}:{self.purpose}#{self.pk}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.organisation_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation")


class Notice(models.Model):
    """A line in a staff member's in-app notices: what waits and where, with no personal values."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notices")
    kind = models.CharField(_("kind"), max_length=40)
    text = models.CharField(_("text"), max_length=200)
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"], name="notice_user_unread_idx")]
        verbose_name = _("notice")
        verbose_name_plural = _("notices")

    def __str__(self) -> str:
        return f"{self.kind} for {self.user_id}"


# Channels, contacts, conversations and alerts live in their own module; importing them registers them.
from ventanilla.messaging.models_inbox import (  # noqa: E402, F401
    Contact,
    Conversation,
    DutyShift,
    Gateway,
    InboundDelivery,
    Message,
    ReplyTemplate,
    UrgentAlert,
)
