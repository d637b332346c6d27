"""Referral pathways between organisations, the referrals sent along them, and how partners answer.

A referral carries its own encrypted *projection* — the fields its service category may share — and
partners read that, never the person's record (ADR 8). Partners with accounts reach a referral only
while it is active; partners without accounts reach it through a signed, expiring, revocable link.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ventanilla.core.fields import EncryptedTextField
from ventanilla.core.references import random_reference
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import Scope, ScopedModel
from ventanilla.directory.models import Category, Sexes


def new_referral_reference() -> str:
    """What the person shows at the partner's desk (RF-XXXX-XXXX): random, so it reveals nothing."""
    return random_reference("RF")


class Pathway(ScopedModel):
    """An agreement: `organisation` may refer people to `provider` for these categories and points.

    The referring organisation's pathway managers keep it; the partner organisation (when it has
    accounts) can read it, so both sides see the same committed response time.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="pathways",
        verbose_name=_("referring organisation"),
    )
    provider = models.ForeignKey(
        "directory.ServiceProvider",
        on_delete=models.PROTECT,
        related_name="pathways",
        verbose_name=_("partner"),
    )
    name = models.CharField(_("name"), max_length=200)
    categories = models.ManyToManyField(
        "directory.ServiceCategory", related_name="pathways", verbose_name=_("services")
    )
    service_points = models.ManyToManyField(
        "directory.ServicePoint",
        blank=True,
        related_name="pathways",
        verbose_name=_("service points (none: any of the partner's points)"),
    )
    age_min = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    sexes = models.CharField(_("for"), max_length=10, choices=Sexes.choices, default=Sexes.ANY)
    eligibility = models.TextField(_("other eligibility conditions"), blank=True)
    response_hours = models.PositiveIntegerField(
        _("committed answer time (hours)"),
        default=48,
        help_text=_("The partner accepts or declines within this time, or the referral expires."),
    )
    language = models.CharField(
        _("language of shared information"), max_length=8, choices=settings.LANGUAGES, default="es"
    )
    shared_fields = models.JSONField(
        _("fields shared (empty: the default for each service)"), default=list, blank=True
    )
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("referral pathway")
        verbose_name_plural = _("referral pathways")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
                name="pathway_valid_range",
            ),
            models.CheckConstraint(condition=Q(response_hours__gte=1), name="pathway_response_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        partner_orgs = scope.organisations(Permission.RECEIVE_REFERRALS)
        return scope.organisation_q(None, organisation="organisation") | (
            Q(provider__organisation__in=partner_orgs) if partner_orgs else Q(pk__in=[])
        )

    @property
    def partner_organisation_id(self) -> int | None:
        return self.provider.organisation_id


class FocalPoint(models.Model):
    """Who receives referrals at the partner: a work contact, told by email or SMS."""

    pathway = models.ForeignKey(Pathway, on_delete=models.CASCADE, related_name="focal_points")
    name = models.CharField(_("name"), max_length=120)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone (international format)"), max_length=20, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="es")

    class Meta:
        ordering = ["pathway", "name"]
        verbose_name = _("focal point")
        verbose_name_plural = _("focal points")

    def __str__(self) -> str:
        return self.name


class ReferralStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SENT = "sent", _("Sent")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    IN_PROGRESS = "in_progress", _("In progress")
    DELIVERED = "delivered", _("Service delivered")
    NOT_DELIVERED = "not_delivered", _("Service not delivered")
    CLOSED = "closed", _("Closed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    EXPIRED = "expired", _("Expired: no answer in time")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("Urgent: same day")
    NORMAL = "normal", _("Normal")


class Referral(ScopedModel):
    """One person sent to one partner for one service; the sender follows it to the end."""

    audit_reads = True

    reference = models.CharField(
        _("reference"), max_length=20, unique=True, default=new_referral_reference, editable=False
    )
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        "accounts.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        "registration.Person", on_delete=models.PROTECT, related_name="referrals", verbose_name=_("person")
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    flag = models.ForeignKey(
        "registration.Flag", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    # The inbox conversation the referral was made from, when it was (a call, an SMS asking for help).
    conversation = models.ForeignKey(
        "messaging.Conversation", on_delete=models.SET_NULL, null=True, blank=True, related_name="referrals"
    )
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="referrals")
    category = models.CharField(_("service"), max_length=40, choices=Category.choices)
    service_point = models.ForeignKey(
        "directory.ServicePoint",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("service point"),
    )
    # Denormalised from the pathway's provider at creation, so the partner's scope is one indexed column.
    partner_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    status = models.CharField(
        _("status"), max_length=16, choices=ReferralStatus.choices, default=ReferralStatus.DRAFT
    )
    need = EncryptedTextField(_("what the person needs (shared with the partner)"), blank=True)
    shared = EncryptedTextField(_("shared information"), blank=True)  # the projection, JSON
    shared_fields = models.JSONField(_("fields shared"), default=list, blank=True)  # names, never values
    language = models.CharField(_("language of shared information"), max_length=8, default="es")
    appointment = EncryptedTextField(_("where and when to go"), blank=True)
    outcome_note = EncryptedTextField(_("partner's notes"), blank=True)
    reason = models.CharField(_("reason"), max_length=40, blank=True)  # decline / not-delivered code
    tell_person = models.BooleanField(_("tell the person by SMS"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    respond_by = models.DateTimeField(_("answer due"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("service delivered"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)
    status_changed_at = models.DateTimeField(_("status changed"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        indexes = [
            models.Index(fields=["status", "respond_by"], name="referral_status_due_idx"),
            models.Index(fields=["organisation", "status", "respond_by"], name="referral_org_due_idx"),
            models.Index(fields=["site", "status", "respond_by"], name="referral_site_due_idx"),
            models.Index(fields=["partner_organisation", "status"], name="referral_partner_idx"),
            # The overdue list: a site's referrals waiting for an answer, already in the list's order, so
            # a page is read off the index without sorting every waiting row (bench_overdue.py).
            models.Index(
                fields=["site", "respond_by", "id"],
                condition=Q(status__in=["sent", "expired"]),
                name="referral_site_waiting_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """Case staff of the sending side by site; the partner's receivers only while it is active."""
        from ventanilla.referrals.lifecycle import PARTNER_VISIBLE

        partner_orgs = scope.organisations(Permission.RECEIVE_REFERRALS)
        condition = scope.site_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation", site="site")
        if partner_orgs:
            condition |= Q(partner_organisation__in=partner_orgs, status__in=PARTNER_VISIBLE)
        return condition

    @property
    def audit_organisation_id(self) -> int:
        return int(self.organisation_id)


class Via(models.TextChoices):
    STAFF = "staff", _("Staff page")
    PARTNER = "partner", _("Partner inbox")
    LINK = "link", _("Partner link")
    API = "api", _("API")
    SYSTEM = "system", _("Automatic")


class ReferralEvent(models.Model):
    """One transition: from, to, who, when, how, and the reason code. Metrics are computed from these."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=ReferralStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ReferralStatus.choices)
    at = models.DateTimeField(db_index=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    via = models.CharField(max_length=10, choices=Via.choices)
    link = models.ForeignKey(
        "ReferralLink", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.CharField(max_length=40, blank=True)
    note = EncryptedTextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("referral event")
        verbose_name_plural = _("referral events")

    def __str__(self) -> str:
        return f"{self.referral_id}: {self.from_status}→{self.to_status}"


class ReferralLink(models.Model):
    """A link for a partner without an account. Only a hash of its secret is kept; revoking is final."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="links")
    secret_hash = models.CharField(max_length=64, unique=True)
    code_hash = models.CharField(max_length=64, blank=True)  # the optional one-time code, hashed
    code_attempts = models.PositiveSmallIntegerField(default=0)
    sent_to = models.ForeignKey(
        FocalPoint, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=10, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("partner link")
        verbose_name_plural = _("partner links")

    def __str__(self) -> str:
        return f"link {self.pk} for {self.referral_id}"


class PartnerWebhook(ScopedModel):
    """Where a partner's own system hears of status changes; payloads carry no personal values."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.CASCADE, related_name="referral_webhooks"
    )
    url = models.URLField(_("address"), max_length=300)
    secret = EncryptedTextField(_("signing secret"))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")

    def __str__(self) -> str:
        return self.url

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.organisation_q(Permission.MANAGE_ORGANISATION, organisation="organisation")


class WebhookDelivery(models.Model):
    webhook = models.ForeignKey(PartnerWebhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(ReferralEvent, on_delete=models.CASCADE, related_name="+")
    attempts = models.PositiveSmallIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webhook", "event"], name="webhook_delivery_once")]

    def __str__(self) -> str:
        return f"{self.webhook_id}/{self.event_id}"
