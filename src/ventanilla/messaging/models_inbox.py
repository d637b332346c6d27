"""Two-way communication: channels, contacts, conversations and their messages, urgent alerts.

Every inbound message arrives through a `Gateway` (SMS or WhatsApp provider, the web form, the hotline
desk, social media typed in or imported). The raw delivery is stored first (`InboundDelivery`, unique
per gateway and provider id: a retried webhook is the same row), then processed in the background into
a `Contact`, a `Conversation` and a `Message`. Texts and numbers are encrypted; the phone number is
found through its keyed hash. A conversation marked as a *sensitive complaint* (abuse, exploitation or
fraud by staff) is visible only to the organisation's designated complaint focal points.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ventanilla.core.fields import BlindIndexedModel, BlindIndexField, EncryptedTextField
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import Scope, ScopedModel


class GatewayKind(models.TextChoices):
    TWILIO = "twilio", _("SMS or WhatsApp, Twilio-compatible")
    GENERIC_JSON = "generic_json", _("SMS, generic JSON gateway (RapidPro external channel style)")
    WHATSAPP_CLOUD = "whatsapp_cloud", _("WhatsApp Cloud API")
    WEB_FORM = "web_form", _("Web feedback form")
    HOTLINE = "hotline", _("Hotline (calls logged by operators)")
    SOCIAL = "social", _("Social media (typed in or imported)")


class Medium(models.TextChoices):
    """What the person used, for counting: the same gateway kind can carry SMS or WhatsApp."""

    SMS = "sms", _("SMS")
    WHATSAPP = "whatsapp", _("WhatsApp")
    WEB = "web", _("Web form")
    HOTLINE = "hotline", _("Hotline")
    SOCIAL = "social", _("Social media")


class Gateway(ScopedModel):
    """One channel of an organisation (optionally of one site), with its credentials encrypted.

    `key` is the unguessable part of its webhook address (/hooks/<kind>/<key>/); `credentials` holds the
    provider's secrets as JSON (auth token, shared secret, app secret, access token), never shown again.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="gateways"
    )
    site = models.ForeignKey(
        "accounts.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    name = models.CharField(_("name"), max_length=120)
    kind = models.CharField(_("type"), max_length=20, choices=GatewayKind.choices)
    medium = models.CharField(_("carries"), max_length=10, choices=Medium.choices, default=Medium.SMS)
    address = models.CharField(_("number or account"), max_length=64, blank=True)
    send_url = models.URLField(_("sending address of the provider"), max_length=300, blank=True)
    credentials = EncryptedTextField(_("credentials (JSON)"), blank=True)
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organisation", "name"]
        verbose_name = _("channel")
        verbose_name_plural = _("channels")

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.organisation_q(Permission.HANDLE_MESSAGES, organisation="organisation") | (
            scope.organisation_q(Permission.MANAGE_ORGANISATION, organisation="organisation")
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)
        forget_webhook_gateway(self.key)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        forget_webhook_gateway(self.key)
        return super().delete(*args, **kwargs)

    @classmethod
    def for_webhook(cls, key: Any) -> Gateway | None:
        """The active gateway of a webhook address, kept in this process.

        Every webhook looks its gateway up before anything else; keeping the row saves a database round
        trip per delivery (benchmarks/bench_ingest.py). Every save or delete of a channel, in any
        worker, moves a generation number in the shared cache (Redis in production), and a kept row of
        an older generation is not used: a deactivated channel or a replaced secret is refused at once
        everywhere. A change the application does not see (SQL by hand, `QuerySet.update()`) takes
        effect within WEBHOOK_GATEWAY_SECONDS. Unknown keys are not kept, so probing addresses cannot
        fill the memory.
        """
        name = str(key)
        now = time.monotonic()
        generation = cache.get(GATEWAY_GENERATION_KEY, 0)
        kept = _WEBHOOK_GATEWAYS.get(name)
        if kept is not None and kept[0] == generation and now - kept[1] < WEBHOOK_GATEWAY_SECONDS:
            return kept[2]
        gateway = cls.objects.filter(key=key, is_active=True).first()
        if gateway is None:
            _WEBHOOK_GATEWAYS.pop(name, None)
        else:
            _WEBHOOK_GATEWAYS[name] = (generation, now, gateway)
        return gateway


WEBHOOK_GATEWAY_SECONDS = 10.0
GATEWAY_GENERATION_KEY = "messaging:gateway-generation"
_WEBHOOK_GATEWAYS: dict[str, tuple[int, float, Gateway]] = {}


def forget_webhook_gateway(key: Any = None) -> None:
    """Drop a kept webhook gateway here (all of them when `key` is None) and in every other worker.

    The generation moves now and again once the change is committed: a worker that read the old row
    between the two (the change not yet visible to it) keeps it under a generation already past.
    """
    if key is None:
        _WEBHOOK_GATEWAYS.clear()
    else:
        _WEBHOOK_GATEWAYS.pop(str(key), None)
    _next_generation()
    transaction.on_commit(_next_generation)


def _next_generation() -> None:
    try:
        cache.incr(GATEWAY_GENERATION_KEY)
    except ValueError:  # not there yet (or evicted): any new value differs from what workers kept
        cache.add(GATEWAY_GENERATION_KEY, 1, timeout=None)


class ResponseTimes(models.Model):
    """How soon an organisation promises to answer a message: a conversation's "answer due" is set from
    these when a message opens or reopens it (no row: the defaults). Kept by its administrators."""

    organisation = models.OneToOneField(
        "accounts.Organisation", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    answer_hours = models.PositiveSmallIntegerField(_("answer within (hours)"), default=24)
    urgent_hours = models.PositiveSmallIntegerField(_("answer urgent messages within (hours)"), default=1)
    # {category code: hours} for categories answered sooner or later than `answer_hours` once triaged
    category_hours = models.JSONField(_("answer within, by category (hours)"), default=dict, blank=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("response times")
        verbose_name_plural = _("response times")

    def __str__(self) -> str:
        return f"{self.answer_hours} h / {self.urgent_hours} h"


class Contact(ScopedModel, BlindIndexedModel):
    """Someone who wrote or called: a number (encrypted, E.164), a language, an area, opt-out state."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    phone = EncryptedTextField(_("phone (E.164)"), blank=True)
    phone_index = BlindIndexField(source="phone", purpose="contact.phone", phone=True)
    handle = EncryptedTextField(_("other address (WhatsApp id, social handle)"), blank=True)
    handle_index = BlindIndexField(source="handle", purpose="contact.handle")
    language = models.CharField(_("language"), max_length=8, blank=True)
    area = models.ForeignKey(
        "areas.AdministrativeArea", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    medium = models.CharField(_("reached by"), max_length=10, choices=Medium.choices, default=Medium.SMS)
    subscriptions = models.JSONField(_("subscriptions"), default=list, blank=True)
    opted_out_at = models.DateTimeField(_("opted out"), null=True, blank=True)
    # The keyword menu last sent (`messaging.menus`): when, and the category codes in the order numbered,
    # so a bare number shortly after it is a choice and the numbers keep meaning what the person read.
    menu_shown_at = models.DateTimeField(_("menu sent"), null=True, blank=True)
    menu_categories = models.JSONField(_("menu categories"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "phone_index"],
                condition=~Q(phone_index=""),
                name="contact_unique_phone",
            ),
            models.UniqueConstraint(
                fields=["organisation", "handle_index"],
                condition=~Q(handle_index=""),
                name="contact_unique_handle",
            ),
        ]

    def __str__(self) -> str:
        return f"contact {self.pk}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.organisation_q(Permission.HANDLE_MESSAGES, organisation="organisation")

    @property
    def opted_out(self) -> bool:
        return self.opted_out_at is not None


class Category(models.TextChoices):
    UNSORTED = "", _("Not triaged")
    QUESTION = "question", _("Question")
    HELP = "help", _("Request for help")
    COMPLAINT = "complaint", _("Complaint")
    SENSITIVE = "sensitive", _("Sensitive complaint (abuse, exploitation or fraud by staff)")
    RUMOUR = "rumour", _("Rumour")
    SERVICE_FEEDBACK = "service_feedback", _("Feedback on a service")
    THANKS = "thanks", _("Thanks")
    OTHER = "other", _("Other")


class ConversationStatus(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    ANSWERED = "answered", _("Answered")
    CLOSED = "closed", _("Closed")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("Normal")
    URGENT = "urgent", _("Urgent: may be a call for help")


class Conversation(ScopedModel):
    """A thread with one contact on one gateway, triaged and answered as a whole."""

    audit_reads = True

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        "accounts.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    gateway = models.ForeignKey(Gateway, on_delete=models.PROTECT, related_name="conversations")
    contact = models.ForeignKey(
        Contact, on_delete=models.PROTECT, null=True, blank=True, related_name="conversations"
    )
    medium = models.CharField(_("channel"), max_length=10, choices=Medium.choices)
    category = models.CharField(
        _("category"), max_length=20, choices=Category.choices, blank=True, default=""
    )
    topics = models.JSONField(_("topics"), default=list, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    area = models.ForeignKey(
        "areas.AdministrativeArea", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    urgent_reason = models.CharField(_("why urgent"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=ConversationStatus.choices, default=ConversationStatus.NEW
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_conversations",
        verbose_name=_("assigned to"),
    )
    # The registered person this conversation is with, once staff have registered or found them
    # (with their consent): from here they can be referred. Set only through `messaging.handover`.
    person = models.ForeignKey(
        "registration.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
        verbose_name=_("registered person"),
    )
    notes = EncryptedTextField(_("notes"), blank=True)
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    last_message_at = models.DateTimeField(_("last message"), db_index=True)
    respond_by = models.DateTimeField(_("answer due"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)

    @property
    def urgent_reason_label(self) -> str:
        """Why it was flagged urgent, in the reader's language."""
        from ventanilla.messaging.urgent import reason_label

        return reason_label(self.urgent_reason)

    class Meta:
        ordering = ["-last_message_at", "-pk"]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")
        indexes = [
            models.Index(fields=["organisation", "status", "last_message_at"], name="conv_org_status_idx"),
            models.Index(fields=["organisation", "last_message_at"], name="conv_org_last_idx"),
            models.Index(fields=["status", "respond_by"], name="conv_status_due_idx"),
            # The inbox list filtered by category, and its urgent view (a few percent of conversations):
            # newest first without reading the organisation's whole history (benchmarks/bench_inbox.py).
            models.Index(
                fields=["organisation", "category", "last_message_at"], name="conv_org_category_last_idx"
            ),
            models.Index(
                fields=["organisation", "last_message_at"],
                condition=Q(urgency="urgent"),
                name="conv_org_urgent_last_idx",
            ),
            # The message counts: conversations an organisation opened in a period (insights.py).
            models.Index(fields=["organisation", "opened_at"], name="conv_org_opened_idx"),
        ]

    def __str__(self) -> str:
        return f"conversation {self.pk}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """Message handlers of the organisation, and someone who registers its people for a conversation
        handed (assigned) to them; sensitive complaints only for its designated focal points."""
        handlers = scope.organisations(Permission.HANDLE_MESSAGES)
        # where the user registers people but handles no messages (elsewhere they see it all anyway,
        # and the inbox query stays one condition on the organisation for them)
        registrars = scope.organisations(Permission.EDIT_PERSONAL_DATA) - handlers
        designated = scope.complaint_organisations()
        condition = Q(pk__in=[])
        if handlers:
            condition |= Q(organisation__in=handlers) & ~Q(category=Category.SENSITIVE)
        if registrars and scope.user_id is not None:
            condition |= Q(organisation__in=registrars, assigned_to_id=scope.user_id) & ~Q(
                category=Category.SENSITIVE
            )
        if designated:
            condition |= Q(organisation__in=designated)
        return condition

    @property
    def audit_organisation_id(self) -> int:
        return int(self.organisation_id)


class Direction(models.TextChoices):
    IN = "in", _("Received")
    OUT = "out", _("Sent")


class MessageStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    DELIVERED = "delivered", _("Delivered")
    READ = "read", _("Read")
    FAILED = "failed", _("Failed")
    HELD = "held", _("Held: no gateway")


class Message(models.Model):
    """One message in or out. `provider_id` is the gateway's id: delivery receipts find it by that."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=3, choices=Direction.choices)
    body = EncryptedTextField(_("text"), blank=True)
    provider_id = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=MessageStatus.choices)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(db_index=True)
    status_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=100, blank=True)
    # Hotline calls: what the operator recorded (no recording is kept).
    call_minutes = models.PositiveSmallIntegerField(null=True, blank=True)
    call_outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [
            models.Index(fields=["conversation", "at"], name="message_conv_at_idx"),
            # The message counts: inbound messages received in a period, read from the index alone (every
            # column the statement reads is in it). Not a partial index on direction: Django binds the
            # direction as a parameter, and SQLite then reads each row to check it (insights.py,
            # benchmarks/bench_inbox.py).
            models.Index(fields=["direction", "at", "conversation"], name="message_direction_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.pk}"


class InboundDelivery(models.Model):
    """What a webhook received, kept encrypted until processed: the idempotency record of ingest."""

    gateway = models.ForeignKey(Gateway, on_delete=models.CASCADE, related_name="deliveries")
    kind = models.CharField(max_length=10, default="message")  # message | status
    provider_id = models.CharField(max_length=100)
    payload = EncryptedTextField()
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    error = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "kind", "provider_id"], name="inbound_once_per_provider_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.gateway_id}:{self.provider_id}"


class ReplyTemplate(ScopedModel):
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    text = models.TextField(_("text"))

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name", "language"], name="reply_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.organisation_q(Permission.HANDLE_MESSAGES, organisation="organisation")


class UrgentAlert(models.Model):
    """A message that may be a call for help: someone on duty must acknowledge it, or it escalates."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="alerts")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=200)
    raised_at = models.DateTimeField()
    notified = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="+", blank=True)
    level = models.PositiveSmallIntegerField(default=1)
    escalate_at = models.DateTimeField(db_index=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-raised_at"]

    def __str__(self) -> str:
        return f"alert {self.pk}"


class DutyShift(models.Model):
    """Who is on duty for urgent messages of an organisation, and when."""

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["organisation", "starts_at", "ends_at"], name="duty_org_time_idx")]

    def __str__(self) -> str:
        return f"duty {self.user_id} {self.starts_at:%Y-%m-%d %H:%M}"
