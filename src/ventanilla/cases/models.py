"""A case per person: who owns it, the needs and plan, follow-up tasks, notes and transfers.

Cases, tasks and notes are personal records (scoped by organisation and site, reads audited); notes,
needs, plans and task titles are encrypted because caseworkers write names and circumstances in them.
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
from ventanilla.registration.models import PersonalRecord


def new_case_reference() -> str:
    return random_reference("CS")


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACTIVE = "active", _("Active")
    ON_HOLD = "on_hold", _("On hold")
    CLOSED = "closed", _("Closed")


class CloseReason(models.TextChoices):
    NEEDS_MET = "needs_met", _("Needs met")
    PERSON_MOVED_ON = "person_moved_on", _("The person moved on")
    LOST_CONTACT = "lost_contact", _("Lost contact")
    PERSON_REQUEST = "person_request", _("The person asked to close it")
    TRANSFERRED = "transferred", _("Transferred")
    OTHER = "other", _("Other reason")


class Case(PersonalRecord):
    reference = models.CharField(
        _("reference"), max_length=20, unique=True, default=new_case_reference, editable=False
    )
    person = models.ForeignKey(
        "registration.Person", on_delete=models.PROTECT, related_name="cases", verbose_name=_("person")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_cases",
        verbose_name=_("caseworker"),
    )
    status = models.CharField(_("status"), max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    needs = EncryptedTextField(_("needs"), blank=True)
    plan = EncryptedTextField(_("plan"), blank=True)
    close_reason = models.CharField(
        _("closed because"), max_length=20, choices=CloseReason.choices, blank=True
    )
    opened_at = models.DateTimeField(_("opened"), auto_now_add=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-opened_at", "-pk"]
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=~Q(status="closed"), name="case_one_open_per_person"
            )
        ]
        indexes = [models.Index(fields=["owner", "status"], name="case_owner_status_idx")]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_closed(self) -> bool:
        return self.status == CaseStatus.CLOSED


class CaseTask(PersonalRecord):
    """A follow-up with a due date; organisation and site are copied from the case for the overdue list."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    title = EncryptedTextField(_("what to do"))
    due_on = models.DateField(_("due"))
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="case_tasks",
        verbose_name=_("assigned to"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        verbose_name = _("follow-up task")
        verbose_name_plural = _("follow-up tasks")
        indexes = [
            models.Index(fields=["organisation", "done_at", "due_on"], name="task_org_due_idx"),
            models.Index(fields=["site", "done_at", "due_on"], name="task_site_due_idx"),
            # The overdue list: a site's open tasks in the list's order (see referral_site_waiting_idx).
            models.Index(
                fields=["site", "due_on", "id"],
                condition=Q(done_at__isnull=True),
                name="task_site_open_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"task {self.pk} of {self.case_id}"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    text = EncryptedTextField(_("note"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("case note")
        verbose_name_plural = _("case notes")

    def __str__(self) -> str:
        return f"note {self.pk} on {self.case_id}"


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the receiver")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


class CaseTransfer(ScopedModel):
    """A request to hand a case (and the person's record) to another site or organisation."""

    audit_reads = True

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="transfers")
    from_organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    from_site = models.ForeignKey(
        "accounts.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    to_organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("to organisation")
    )
    to_site = models.ForeignKey(
        "accounts.Site",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("to site"),
    )
    note = EncryptedTextField(_("why"), blank=True)
    status = models.CharField(max_length=10, choices=TransferStatus.choices, default=TransferStatus.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]
        verbose_name = _("case transfer")
        verbose_name_plural = _("case transfers")
        constraints = [
            models.UniqueConstraint(
                fields=["case"], condition=Q(status="pending"), name="transfer_one_pending_per_case"
            )
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk} of {self.case_id}"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """The sending side by site, and the receiving side's case staff (by the site asked for)."""
        sender = scope.site_q(
            Permission.VIEW_PERSONAL_DATA, organisation="from_organisation", site="from_site"
        )
        receiver = scope.site_q(Permission.VIEW_PERSONAL_DATA, organisation="to_organisation", site="to_site")
        return sender | receiver

    @property
    def audit_organisation_id(self) -> int:
        return int(self.from_organisation_id)
