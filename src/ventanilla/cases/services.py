"""Case management: open, plan, follow up, note, reassign, transfer, close.

Permission checks live here (not in views) so the API, pages and command line refuse the same things.
Reading a case goes through `Case.objects.get_for` (audited) like any personal record.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Membership, Organisation, Site, User
from ventanilla.cases.models import (
    Case,
    CaseNote,
    CaseStatus,
    CaseTask,
    CaseTransfer,
    CloseReason,
    TransferStatus,
)
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.registration.models import Person


class CaseError(ValueError):
    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


class CasePermissionError(CaseError):
    pass


def may_edit_at(user: User | None, organisation_id: int, site_id: int | None) -> bool:
    return scope_for(user).holds_at(Permission.EDIT_PERSONAL_DATA, organisation_id, site_id)


def _require_edit(user: User | None, case: Case) -> None:
    if not may_edit_at(user, case.organisation_id, case.site_id):
        raise CasePermissionError(_("You cannot change this case."))


def _require_open(case: Case) -> None:
    if case.is_closed:
        raise CaseError(_("The case is closed."), field="status")


def case_staff(organisation_id: int, site_id: int | None) -> QuerySet[User]:
    """Who may own a case at a site: active case staff of the organisation holding that site."""
    members = Membership.objects.filter(
        organisation_id=organisation_id, is_active=True, role__in=["caseworker", "site_manager"]
    )
    if site_id is not None:
        members = members.filter(sites=site_id)
    return User.objects.filter(pk__in=members.values("user_id"), is_active=True).order_by("username")


@transaction.atomic
def open_case(
    person: Person, *, by: User, owner: User | None = None, needs: str = "", plan: str = ""
) -> Case:
    if not may_edit_at(by, person.organisation_id, person.site_id):
        raise CasePermissionError(_("You cannot open a case for this person."))
    if person.erased_at is not None or person.merged_into_id is not None:
        raise CaseError(_("This record was erased or merged."))
    if Case.objects.filter(person=person).exclude(status=CaseStatus.CLOSED).exists():
        raise CaseError(_("This person already has an open case."), field="person")
    owner = owner or by
    if not case_staff(person.organisation_id, person.site_id).filter(pk=owner.pk).exists():
        raise CaseError(_("The caseworker must work at the person's site."), field="owner")
    case = Case.objects.create(
        organisation_id=person.organisation_id,
        site_id=person.site_id,
        person=person,
        owner=owner,
        needs=needs.strip(),
        plan=plan.strip(),
    )
    audit.record_change(AuditAction.CREATE, case, by=by, fields=["needs", "plan", "owner"])
    return case


@transaction.atomic
def update_case(
    case: Case, *, by: User, needs: str | None = None, plan: str | None = None, status: str | None = None
) -> Case:
    _require_edit(by, case)
    _require_open(case)
    changed = []
    if needs is not None and needs.strip() != case.needs:
        case.needs = needs.strip()
        changed.append("needs")
    if plan is not None and plan.strip() != case.plan:
        case.plan = plan.strip()
        changed.append("plan")
    if status is not None and status != case.status:
        if status not in {CaseStatus.OPEN, CaseStatus.ACTIVE, CaseStatus.ON_HOLD}:
            raise CaseError(_("Close a case with a reason."), field="status")
        case.status = status
        changed.append("status")
    if changed:
        case.save(update_fields=[*changed, "updated_at"])
        audit.record_change(AuditAction.UPDATE, case, by=by, fields=changed)
    return case


@transaction.atomic
def close_case(case: Case, *, by: User, reason: str) -> Case:
    _require_edit(by, case)
    _require_open(case)
    if reason not in CloseReason.values:
        raise CaseError(_("Choose a reason."), field="reason")
    case.status = CaseStatus.CLOSED
    case.close_reason = reason
    case.closed_at = timezone.now()
    case.save(update_fields=["status", "close_reason", "closed_at", "updated_at"])
    CaseTask.objects.filter(case=case, done_at__isnull=True).update(done_at=case.closed_at)
    CaseTransfer.objects.filter(case=case, status=TransferStatus.PENDING).update(
        status=TransferStatus.CANCELLED
    )
    audit.record_change(AuditAction.UPDATE, case, by=by, fields=["status"], detail={"reason": reason})
    return case


@transaction.atomic
def reassign(case: Case, *, to: User, by: User) -> Case:
    _require_edit(by, case)
    _require_open(case)
    if not case_staff(case.organisation_id, case.site_id).filter(pk=to.pk).exists():
        raise CaseError(_("The caseworker must work at the case's site."), field="owner")
    case.owner = to
    case.save(update_fields=["owner", "updated_at"])
    audit.record_change(AuditAction.UPDATE, case, by=by, fields=["owner"], detail={"owner": to.pk})
    return case


@transaction.atomic
def add_task(
    case: Case, *, title: str, due_on: datetime.date, by: User, assigned_to: User | None = None
) -> CaseTask:
    _require_edit(by, case)
    _require_open(case)
    if not title.strip():
        raise CaseError(_("Say what is to be done."), field="title")
    assignee = assigned_to or case.owner or by
    if not case_staff(case.organisation_id, case.site_id).filter(pk=assignee.pk).exists():
        raise CaseError(_("The task must go to someone working at the case's site."), field="assigned_to")
    task = CaseTask.objects.create(
        organisation_id=case.organisation_id,
        site_id=case.site_id,
        case=case,
        title=title.strip()[:500],
        due_on=due_on,
        assigned_to=assignee,
        created_by=by,
    )
    audit.record_change(AuditAction.CREATE, task, by=by, fields=["title", "due_on"])
    return task


@transaction.atomic
def complete_task(task: CaseTask, *, by: User) -> CaseTask:
    _require_edit(by, task.case)
    if task.done_at is None:
        task.done_at = timezone.now()
        task.save(update_fields=["done_at"])
        audit.record_change(AuditAction.UPDATE, task, by=by, fields=["done_at"])
    return task


@transaction.atomic
def add_note(case: Case, *, text: str, by: User) -> CaseNote:
    _require_edit(by, case)
    _require_open(case)
    if not text.strip():
        raise CaseError(_("The note is empty."), field="text")
    note = CaseNote.objects.create(case=case, text=text.strip(), author=by)
    audit.record_change(AuditAction.CREATE, case, by=by, fields=["notes"], detail={"note": note.pk})
    return note


# --- transfers -------------------------------------------------------------------------------------


@transaction.atomic
def request_transfer(case: Case, *, to_site: Site, by: User, note: str = "") -> CaseTransfer:
    """Ask another site (of this or another organisation) to take the case; nothing moves until it accepts."""
    _require_edit(by, case)
    _require_open(case)
    if to_site.pk == case.site_id:
        raise CaseError(_("The case is already at that site."), field="to_site")
    if not to_site.is_active or not to_site.organisation.is_active:
        raise CaseError(_("That site is not active."), field="to_site")
    if to_site.organisation_id != case.organisation_id:
        from ventanilla.referrals.services import has_referral_consent

        if not has_referral_consent(case.person):
            raise CaseError(
                _("Moving a case to another organisation needs the person's consent to referral."),
                field="to_site",
            )
    if CaseTransfer.objects.filter(case=case, status=TransferStatus.PENDING).exists():
        raise CaseError(_("A transfer of this case is already waiting."), field="to_site")
    transfer = CaseTransfer.objects.create(
        case=case,
        from_organisation_id=case.organisation_id,
        from_site_id=case.site_id,
        to_organisation_id=to_site.organisation_id,
        to_site=to_site,
        note=note.strip(),
        requested_by=by,
    )
    audit.record_change(AuditAction.CREATE, transfer, by=by, fields=["to_site"], detail={"case": case.pk})
    from ventanilla.messaging import services as messaging

    receivers = case_staff(to_site.organisation_id, to_site.pk).filter(
        memberships__role="site_manager",
        memberships__organisation_id=to_site.organisation_id,
        memberships__is_active=True,
    )
    messaging.notify(
        receivers.distinct(),
        kind="case_transfer",
        text=_("A case transfer waits for your answer (%(reference)s).") % {"reference": case.reference},
        url=reverse("cases:transfers"),
    )
    return transfer


def _move_person(person: Person, organisation: Organisation, site: Site) -> None:
    """Every personal row of the person follows the case; de-identified statistics stay where counted."""
    from ventanilla.questionnaires.models import Submission
    from ventanilla.registration.models import Consent, DuplicateCandidate, Flag, PersonLink, Registration

    values = {"organisation_id": organisation.pk, "site_id": site.pk}
    Person.objects.filter(pk=person.pk).update(**values)
    for model in (Registration, Consent, Flag, PersonLink, Case):
        model.objects.filter(person=person).update(**values)
    Submission.objects.filter(registration__person=person).update(**values)
    DuplicateCandidate.objects.filter(person=person).update(**values)
    # Within one organisation the person's referrals follow to the new site; across organisations
    # they stay with the sender, whose pathway they went along (the receiver refers anew).
    from ventanilla.referrals.models import Referral

    Referral.objects.filter(person=person, organisation_id=organisation.pk).update(site_id=site.pk)
    CaseTask.objects.filter(case__person=person).update(**values)


@transaction.atomic
def decide_transfer(transfer: CaseTransfer, *, accept: bool, by: User) -> CaseTransfer:
    transfer = (
        CaseTransfer.objects.select_for_update(of=("self",))
        .select_related("case", "to_site")
        .get(pk=transfer.pk)
    )
    if transfer.status != TransferStatus.PENDING:
        raise CaseError(_("This transfer was already decided."), field="status")
    if not may_edit_at(by, transfer.to_organisation_id, transfer.to_site_id):
        raise CasePermissionError(_("Only the receiving site can answer this transfer."))
    transfer.status = TransferStatus.ACCEPTED if accept else TransferStatus.DECLINED
    transfer.decided_by = by
    transfer.decided_at = timezone.now()
    transfer.save(update_fields=["status", "decided_by", "decided_at"])
    case = transfer.case
    if accept:
        assert transfer.to_site is not None
        _move_person(case.person, transfer.to_site.organisation, transfer.to_site)
        Case.objects.filter(pk=case.pk).update(owner=by)
        # Open tasks follow the case: whoever no longer works at its site hands them to the new owner.
        staff = case_staff(transfer.to_organisation_id, transfer.to_site_id).values("pk")
        CaseTask.objects.filter(case=case, done_at__isnull=True).exclude(assigned_to__in=staff).update(
            assigned_to=by
        )
    audit.record_change(
        AuditAction.UPDATE, transfer, by=by, fields=["status"], detail={"case": case.pk, "accepted": accept}
    )
    return transfer


def cancel_transfer(transfer: CaseTransfer, *, by: User) -> None:
    _require_edit(by, transfer.case)
    if transfer.status == TransferStatus.PENDING:
        transfer.status = TransferStatus.CANCELLED
        transfer.save(update_fields=["status"])
        audit.record_change(AuditAction.UPDATE, transfer, by=by, fields=["status"])


def cases(user: Any) -> QuerySet[Case]:
    return Case.objects.visible_to(user)


def filter_cases(
    rows: QuerySet[Case], *, user: Any, mine: bool = False, status: str = "", site: Site | None = None
) -> QuerySet[Case]:
    """The case list's filters: `status` is a CaseStatus, "all", or empty for every case not closed."""
    if mine:
        rows = rows.filter(owner=user)
    if status in CaseStatus.values:
        rows = rows.filter(status=status)
    elif status != "all":
        rows = rows.exclude(status=CaseStatus.CLOSED)
    if site is not None:
        rows = rows.filter(site=site)
    return rows


def transfer_sites(exclude_site_id: int | None = None) -> QuerySet[Site]:
    """Where a case can go: any active site of any active organisation (sites are not personal data)."""
    sites = Site.objects.filter(is_active=True, organisation__is_active=True).select_related("organisation")
    if exclude_site_id is not None:
        sites = sites.exclude(pk=exclude_site_id)
    return sites.order_by("organisation__name", "name", "pk")


def incoming_transfers(user: Any) -> QuerySet[CaseTransfer]:
    """Transfers asked of the sites where the user keeps cases (the receiving side)."""
    receiver = scope_for(user).site_q(
        Permission.VIEW_PERSONAL_DATA, organisation="to_organisation", site="to_site"
    )
    return CaseTransfer.objects.visible_to(user).filter(receiver)


def sent_transfers(user: Any) -> QuerySet[CaseTransfer]:
    """Transfers the user's sites asked for (the sending side)."""
    sender = scope_for(user).site_q(
        Permission.VIEW_PERSONAL_DATA, organisation="from_organisation", site="from_site"
    )
    return CaseTransfer.objects.visible_to(user).filter(sender)


def blank_for_person(person: Person) -> None:
    """Erasure: what caseworkers wrote about the person goes; the case's dates and statuses stay."""
    Case.objects.filter(person=person).update(needs="", plan="")
    CaseNote.objects.filter(case__person=person).delete()
    CaseTask.objects.filter(case__person=person).update(title="-")
    CaseTransfer.objects.filter(case__person=person).update(note="")
