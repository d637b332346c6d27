"""Matrix rows for the case pages' writes: open, change, close, reassign, transfer, tasks, notes, the
receiver's answer to a transfer, and marking notices read.

Objects: `a_case` (matrix_referrals) is the case of A's referred person, opened by A's caseworker at
A's first site; `b_transfer` is a case of B's first site that B asks A's first site to take, so A's case
staff are the receiving side. Each allowed write is checked and put back without the services, so the
next principal finds the same world and the reset leaves no audit entries.
"""

from __future__ import annotations

import datetime
from typing import Any

from ventanilla.api.tests.matrix import LOGIN, Redirect, Row, everyone, expect, user_of
from ventanilla.core.models import AuditAction
from ventanilla.testing.world import World

CASE_PAGE = Redirect(r"/en/staff/cases/CS-[A-Z0-9]{4}-[A-Z0-9]{4}/")
READ, CREATE, UPDATE = AuditAction.READ, AuditAction.CREATE, AuditAction.UPDATE


def case_write(outcome: object) -> dict[str, object]:
    """Writing a case of A's first site: its site manager and caseworker; nobody else."""
    return expect(
        anonymous=LOGIN, a=403, site_manager=outcome, caseworker=outcome, other_organisation=403, outsider=403
    )


def _referrals() -> Any:
    from ventanilla.api.tests import matrix_referrals

    return matrix_referrals


def a_case(world: World) -> Any:
    return _referrals().a_case(world)


def case_url(world: World, rest: str = "") -> str:
    return str(_referrals().case_url(world, rest))


def a_task(world: World) -> Any:
    from ventanilla.cases import services

    return _referrals()._cached(
        world,
        "task",
        lambda: services.add_task(
            a_case(world),
            title="Call the clinic",
            due_on=datetime.date(2026, 12, 1),
            by=world.user("a", "caseworker"),
        ),
    )


def b_transfer(world: World) -> Any:
    """B's caseworker asks A's first site to take the case of a person registered at B."""
    from ventanilla.cases import services
    from ventanilla.registration import services as registration
    from ventanilla.testing.referrals import CHILD_ANSWERS

    def make() -> Any:
        caseworker = world.user("b", "caseworker")
        person = registration.register(
            registration.shipped_form(),
            dict(CHILD_ANSWERS),
            organisation=world.b.organisation,
            site=world.b.sites[0],
            by=caseworker,
            language="es",
            today=datetime.date(2026, 11, 26),
        ).person
        case = services.open_case(person, by=caseworker)
        return services.request_transfer(case, to_site=world.a.sites[0], by=caseworker, note="Family there.")

    return _referrals()._cached(world, "b_transfer", make)


def notices_for_everyone(world: World) -> str:
    """Two unread notices for each principal who signs in; the write marks only one's own read."""
    from ventanilla.messaging import services as messaging
    from ventanilla.messaging.models import Notice

    if not Notice.objects.exists():
        users = [world.outsider, world.b.users["administrator"], *world.a.users.values()]
        for kind in ("overdue", "case_transfer"):
            messaging.notify(users, kind=kind, text="2 things wait.", url="/en/staff/cases/overdue/")
    return "/en/staff/cases/notices/"


# --- what the allowed writes did, and the reset ------------------------------------------------------


def case_opened_then_removed(world: World, principal: str) -> None:
    from ventanilla.cases.models import Case

    person = _referrals().a_referral(world).person
    case = Case.objects.get(person=person)
    assert (case.owner_id, case.needs, case.plan, case.site_id, case.status) == (
        world.user("a", "caseworker").pk,
        "A safe place to sleep.",
        "Shelter referral.",
        world.a.sites[0].pk,
        "open",
    )
    case.delete()


def case_changed_then_reset(world: World, principal: str) -> None:
    from ventanilla.cases.models import Case

    case = Case.objects.get(pk=a_case(world).pk)
    assert (case.needs, case.plan, case.status) == ("Shelter.", "Call the shelter.", "active")
    Case.objects.filter(pk=case.pk).update(needs="", plan="", status="open")


def case_closed_then_reopened(world: World, principal: str) -> None:
    from ventanilla.cases.models import Case

    case = Case.objects.get(pk=a_case(world).pk)
    assert (case.status, case.close_reason, case.closed_at is not None) == ("closed", "needs_met", True)
    Case.objects.filter(pk=case.pk).update(status="open", close_reason="", closed_at=None)


def case_reassigned_then_reset(world: World, principal: str) -> None:
    from ventanilla.cases.models import Case

    assert Case.objects.get(pk=a_case(world).pk).owner_id == world.user("a", "site_manager").pk
    Case.objects.filter(pk=a_case(world).pk).update(owner=world.user("a", "caseworker"))


def transfer_asked_then_removed(world: World, principal: str) -> None:
    from ventanilla.cases.models import CaseTransfer
    from ventanilla.messaging.models import Notice

    transfer = CaseTransfer.objects.get(case=a_case(world))
    assert (transfer.status, transfer.to_site_id, transfer.requested_by_id, transfer.note) == (
        "pending",
        world.b.sites[0].pk,
        user_of(world, principal).pk,
        "Closer to her family.",
    )
    transfer.delete()
    Notice.objects.filter(kind="case_transfer").delete()


def task_added_then_removed(world: World, principal: str) -> None:
    from ventanilla.cases.models import CaseTask

    task = CaseTask.objects.get(case=a_case(world))
    assert (task.title, task.due_on, task.assigned_to_id, task.created_by_id, task.site_id) == (
        "Call the shelter",
        datetime.date(2026, 12, 1),
        world.user("a", "caseworker").pk,
        user_of(world, principal).pk,
        world.a.sites[0].pk,
    )
    task.delete()


def task_done_then_reopened(world: World, principal: str) -> None:
    from ventanilla.cases.models import CaseTask

    assert CaseTask.objects.get(pk=a_task(world).pk).done_at is not None
    CaseTask.objects.filter(pk=a_task(world).pk).update(done_at=None)


def note_added_then_removed(world: World, principal: str) -> None:
    from ventanilla.cases.models import CaseNote

    note = CaseNote.objects.get(case=a_case(world))
    assert (note.text, note.author_id) == ("She called from the shelter.", user_of(world, principal).pk)
    note.delete()


def transfer_declined_then_reset(world: World, principal: str) -> None:
    from ventanilla.cases.models import Case, CaseTransfer

    transfer = CaseTransfer.objects.get(pk=b_transfer(world).pk)
    assert (transfer.status, transfer.decided_by_id) == ("declined", user_of(world, principal).pk)
    # nothing moved: the case is still B's
    assert Case.objects.get(pk=transfer.case_id).organisation_id == world.b.organisation.pk
    CaseTransfer.objects.filter(pk=transfer.pk).update(status="pending", decided_by=None, decided_at=None)


def transfer_accepted_then_moved_back(world: World, principal: str) -> None:
    from ventanilla.cases import services
    from ventanilla.cases.models import Case, CaseTransfer

    transfer = CaseTransfer.objects.get(pk=b_transfer(world).pk)
    case = Case.objects.select_related("person").get(pk=transfer.case_id)
    actor = user_of(world, principal)
    assert (transfer.status, transfer.decided_by_id) == ("accepted", actor.pk)
    assert (case.organisation_id, case.site_id, case.owner_id) == (
        world.a.organisation.pk,
        world.a.sites[0].pk,
        actor.pk,
    )
    assert (case.person.organisation_id, case.person.site_id) == (
        world.a.organisation.pk,
        world.a.sites[0].pk,
    )
    services._move_person(case.person, world.b.organisation, world.b.sites[0])
    Case.objects.filter(pk=case.pk).update(owner=world.user("b", "caseworker"))
    CaseTransfer.objects.filter(pk=transfer.pk).update(status="pending", decided_by=None, decided_at=None)


def own_notices_read(world: World, principal: str) -> None:
    from ventanilla.messaging.models import Notice

    mine = Notice.objects.filter(user=user_of(world, principal))
    assert (mine.count(), mine.filter(read_at__isnull=True).count()) == (2, 0)


READS: list[Row] = []

WRITES = [
    Row(
        "cases:open",
        "POST",
        lambda w: f"/en/staff/cases/open/{_referrals().a_referral(w).person.reference}/",
        case_write(CASE_PAGE),
        data=lambda w: {
            "owner": w.user("a", "caseworker").pk,
            "needs": "A safe place to sleep.",
            "plan": "Shelter referral.",
        },
        effect=case_opened_then_removed,
        audit_actions=(READ, CREATE),
    ),
    Row(
        "cases:edit",
        "POST",
        lambda w: case_url(w, "edit/"),
        case_write(CASE_PAGE),
        data=lambda w: {"needs": "Shelter.", "plan": "Call the shelter.", "status": "active"},
        effect=case_changed_then_reset,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "cases:close",
        "POST",
        lambda w: case_url(w, "close/"),
        case_write(CASE_PAGE),
        data=lambda w: {"reason": "needs_met"},
        effect=case_closed_then_reopened,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "cases:reassign",
        "POST",
        lambda w: case_url(w, "reassign/"),
        case_write(CASE_PAGE),
        data=lambda w: {"owner": w.user("a", "site_manager").pk},
        effect=case_reassigned_then_reset,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "cases:transfer",
        "POST",
        lambda w: case_url(w, "transfer/"),
        case_write(CASE_PAGE),
        data=lambda w: {"to_site": w.b.sites[0].pk, "note": "Closer to her family."},
        effect=transfer_asked_then_removed,
        audit_actions=(READ, CREATE),
    ),
    Row(
        "cases:add_task",
        "POST",
        lambda w: case_url(w, "tasks/"),
        case_write(CASE_PAGE),
        data=lambda w: {
            "title": "Call the shelter",
            "due_on": "2026-12-01",
            "assigned_to": w.user("a", "caseworker").pk,
        },
        effect=task_added_then_removed,
        audit_actions=(READ, CREATE),
    ),
    Row(
        "cases:complete_task",
        "POST",
        lambda w: case_url(w, f"tasks/{a_task(w).pk}/done/"),
        case_write(CASE_PAGE),
        effect=task_done_then_reopened,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "cases:add_note",
        "POST",
        lambda w: case_url(w, "notes/"),
        case_write(CASE_PAGE),
        data=lambda w: {"text": "She called from the shelter."},
        effect=note_added_then_removed,
        audit_actions=(READ, CREATE),
    ),
    Row(
        "cases:decide_transfer",
        "POST",
        lambda w: f"/en/staff/cases/transfers/{b_transfer(w).pk}/decide/",
        case_write("302 /en/staff/cases/transfers/"),
        data=lambda w: {"decision": "decline"},
        effect=transfer_declined_then_reset,
        audit_actions=(READ, UPDATE),
        id="POST cases:decide_transfer (decline)",
    ),
    Row(
        "cases:decide_transfer",
        "POST",
        lambda w: f"/en/staff/cases/transfers/{b_transfer(w).pk}/decide/",
        case_write("302 /en/staff/cases/transfers/"),
        data=lambda w: {"decision": "accept"},
        effect=transfer_accepted_then_moved_back,
        audit_actions=(READ, UPDATE),
        id="POST cases:decide_transfer (accept)",
    ),
    Row(
        "cases:notices",
        "POST",
        notices_for_everyone,
        everyone("302 /en/staff/cases/notices/"),
        effect=own_notices_read,
        id="POST cases:notices (mark all read)",
    ),
]
