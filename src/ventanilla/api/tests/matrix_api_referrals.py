"""Matrix rows for the referrals, pathways, webhooks and cases API (added to matrix_referrals' rows).

Objects come from matrix_referrals: `a_referral` (A's caseworker → partner B, medical),
`referral_to_a` (B → A: what A's partner focal point receives), `a_pathway` (A → B) and `a_case`.
Reading a referral needs the sending side's case staff (by site) or, while it is active, the
partner's receivers; anyone else finds nothing (404). The helpers import matrix_referrals when called,
so either module may be imported first.
"""

from __future__ import annotations

from typing import Any

from ventanilla.api.tests.matrix import Row, everyone, expect, user_of
from ventanilla.core.models import AuditAction
from ventanilla.testing.world import World

LIST_READERS = expect(
    anonymous=401,
    a=403,
    site_manager=200,
    caseworker=200,
    partner_focal_point=200,
    other_organisation=403,
    outsider=403,
)
CASE_STAFF_LIST = expect(
    anonymous=401, a=403, site_manager=200, caseworker=200, other_organisation=403, outsider=403
)
CASE_STAFF_OBJECT = expect(
    anonymous=401, a=404, site_manager=200, caseworker=200, other_organisation=404, outsider=404
)
A_PARTNER_OBJECT = expect(anonymous=401, a=404, partner_focal_point=200, other_organisation=404, outsider=404)
POST_ONLY = everyone(405, anonymous=401)


def _rows() -> Any:
    from ventanilla.api.tests import matrix_referrals

    return matrix_referrals


def a_referral(world: World) -> Any:
    return _rows().a_referral(world)


def referral_to_a(world: World) -> Any:
    return _rows().referral_to_a(world)


def a_pathway(world: World) -> Any:
    return _rows().a_pathway(world)


def a_case(world: World) -> Any:
    return _rows().a_case(world)


def a_webhook(world: World) -> Any:
    from ventanilla.referrals import webhooks

    return _rows()._cached(
        world,
        "webhook",
        lambda: webhooks.add_webhook(
            world.a.organisation, url="https://a.example/hook", by=world.user("a", "administrator")
        ),
    )


def a_task(world: World) -> Any:
    from ventanilla.cases import services

    return _rows()._cached(
        world,
        "task",
        lambda: services.add_task(
            a_case(world), title="Llamar", due_on="2026-12-01", by=world.user("a", "caseworker")
        ),
    )


def new_person(world: World) -> Any:
    """Someone of A's first site with consent to referral and no case yet."""
    from ventanilla.testing.referrals import register_person

    return _rows()._cached(world, "api_person", lambda: register_person(world, given_name="Lidia"))


def referral_url(world: World, rest: str = "") -> str:
    return f"/api/v1/referrals/{a_referral(world).reference}/{rest}"


def referral_to_a_url(world: World, rest: str = "") -> str:
    return f"/api/v1/referrals/{referral_to_a(world).reference}/{rest}"


def case_url(world: World, rest: str = "") -> str:
    return f"/api/v1/cases/{a_case(world).reference}/{rest}"


READS = [
    # --- referrals: the sender's case staff, and A's partner focal point for what B sent to A ---------
    Row("referral-list", "GET", lambda w: "/api/v1/referrals/", LIST_READERS),
    Row("referral-detail", "GET", lambda w: referral_url(w), CASE_STAFF_OBJECT),
    Row(
        "referral-detail",
        "GET",
        lambda w: referral_to_a_url(w),
        A_PARTNER_OBJECT,
        id="GET referral-detail (B's referral to A)",
    ),
    Row("referral-events", "GET", lambda w: referral_url(w, "events/"), CASE_STAFF_OBJECT),
    Row(
        "referral-events",
        "GET",
        lambda w: referral_to_a_url(w, "events/"),
        A_PARTNER_OBJECT,
        id="GET referral-events (B's referral to A)",
    ),
    Row("referral-status", "GET", lambda w: referral_url(w, "status/"), POST_ONLY),
    # --- pathways: every member of the referring organisation reads them -----------------------------
    Row("pathway-list", "GET", lambda w: "/api/v1/pathways/", everyone(200, anonymous=401)),
    Row(
        "pathway-detail",
        "GET",
        lambda w: f"/api/v1/pathways/{a_pathway(w).pk}/",
        expect(anonymous=401, a=200, other_organisation=404, outsider=404),
    ),
    # --- webhooks: administrators of the organisation -----------------------------------------------
    Row(
        "webhook-list",
        "GET",
        lambda w: "/api/v1/webhooks/",
        expect(anonymous=401, a=403, administrator=200, other_organisation=200, outsider=403),
    ),
    Row(
        "webhook-detail",
        "GET",
        lambda w: f"/api/v1/webhooks/{a_webhook(w).pk}/",
        expect(anonymous=401, a=404, administrator=200, other_organisation=404, outsider=404),
    ),
    # --- cases: case staff of the case's site ---------------------------------------------------------
    Row("case-list", "GET", lambda w: "/api/v1/cases/", CASE_STAFF_LIST),
    Row("case-detail", "GET", lambda w: case_url(w), CASE_STAFF_OBJECT),
    Row("case-tasks", "GET", lambda w: case_url(w, "tasks/"), CASE_STAFF_OBJECT),
    Row("case-close", "GET", lambda w: case_url(w, "close/"), POST_ONLY),
    Row("case-task-done", "GET", lambda w: case_url(w, f"tasks/{a_task(w).pk}/done/"), POST_ONLY),
]


# --- effects of the allowed writes (each undoes itself, so the next allowed principal can act) -------


def referral_created_then_removed(world: World, principal: str) -> None:
    from ventanilla.referrals.models import Referral

    referral = Referral.objects.filter(person=new_person(world)).get()
    assert (referral.created_by, referral.status) == (user_of(world, principal), "sent")
    assert list(referral.events.values_list("via", flat=True)) == ["api"]
    referral.delete()


def _undo_last_transition(referral: Any, status: str) -> None:
    from ventanilla.referrals.models import Referral

    Referral.objects.filter(pk=referral.pk).update(
        status="sent", reason="", closed_at=None, accepted_at=None, answered_at=None, outcome_note=""
    )
    referral.events.filter(to_status=status).delete()


def referral_withdrawn_then_reset(world: World, principal: str) -> None:
    referral = a_referral(world)
    event = referral.events.get(to_status="withdrawn")
    assert (event.by, event.via, event.reason) == (user_of(world, principal), "api", "sent_in_error")
    _undo_last_transition(referral, "withdrawn")


def referral_accepted_then_reset(world: World, principal: str) -> None:
    referral = referral_to_a(world)
    event = referral.events.get(to_status="accepted")
    assert (event.by, event.via) == (user_of(world, principal), "api")
    _undo_last_transition(referral, "accepted")


def pathway_data(world: World) -> dict[str, Any]:
    path = a_pathway(world)
    return {
        "organisation": world.a.organisation.pk,
        "provider": path.provider_id,
        "name": "A → B (shelter)",
        "categories": ["medical"],
        "valid_from": "2026-01-01",
    }


def pathway_created_then_removed(world: World, principal: str) -> None:
    from ventanilla.referrals.models import Pathway

    path = Pathway.objects.get(name="A → B (shelter)")
    assert path.organisation == world.a.organisation
    path.delete()


def pathway_changed_then_reset(world: World, principal: str) -> None:
    from ventanilla.referrals.models import Pathway

    path = a_pathway(world)
    path.refresh_from_db()
    assert path.response_hours == 24
    Pathway.objects.filter(pk=path.pk).update(response_hours=48)


def webhook_created_then_removed(world: World, principal: str) -> None:
    from ventanilla.referrals.models import PartnerWebhook

    hook = PartnerWebhook.objects.get(url="https://a.example/new")
    assert hook.organisation == world.a.organisation
    hook.delete()


def webhook_removed(world: World, principal: str) -> None:
    from ventanilla.referrals.models import PartnerWebhook

    assert not PartnerWebhook.objects.filter(pk=a_webhook(world).pk).exists()


def case_opened_then_removed(world: World, principal: str) -> None:
    from ventanilla.cases.models import Case

    case = Case.objects.get(person=new_person(world))
    assert case.owner == user_of(world, principal)
    case.delete()


def case_changed_then_reset(world: World, principal: str) -> None:
    from ventanilla.cases.models import Case

    case = Case.objects.get(pk=a_case(world).pk)
    assert case.plan == "Albergue"
    Case.objects.filter(pk=case.pk).update(plan="")


def case_closed_then_reset(world: World, principal: str) -> None:
    from ventanilla.cases.models import Case

    case = Case.objects.get(pk=a_case(world).pk)
    assert (case.status, case.close_reason) == ("closed", "needs_met")
    Case.objects.filter(pk=case.pk).update(status="open", close_reason="", closed_at=None)


def task_added_then_removed(world: World, principal: str) -> None:
    from ventanilla.cases.models import CaseTask

    task = CaseTask.objects.filter(case=a_case(world)).latest("pk")
    assert (task.title, task.created_by) == ("Acompañar", user_of(world, principal))
    task.delete()


def task_done_then_reset(world: World, principal: str) -> None:
    from ventanilla.cases.models import CaseTask

    task = CaseTask.objects.get(pk=a_task(world).pk)
    assert task.done_at is not None
    CaseTask.objects.filter(pk=task.pk).update(done_at=None)


CASE_STAFF_WRITE = expect(
    anonymous=401, a=404, site_manager=200, caseworker=200, other_organisation=404, outsider=404
)

WRITES = [
    Row(
        "referral-list",
        "POST",
        lambda w: "/api/v1/referrals/",
        expect(anonymous=401, a=403, site_manager=201, caseworker=201, other_organisation=403, outsider=403),
        data=lambda w: {"person": new_person(w).reference, "pathway": a_pathway(w).pk, "category": "medical"},
        effect=referral_created_then_removed,
        audit_actions=(AuditAction.CREATE, AuditAction.UPDATE),
    ),
    Row(
        "referral-status",
        "POST",
        lambda w: referral_url(w, "status/"),
        CASE_STAFF_WRITE,
        data=lambda w: {"status": "withdrawn", "reason": "sent_in_error"},
        effect=referral_withdrawn_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "referral-status",
        "POST",
        lambda w: referral_to_a_url(w, "status/"),
        A_PARTNER_OBJECT,
        data=lambda w: {"status": "accepted"},
        effect=referral_accepted_then_reset,
        audit_actions=(AuditAction.UPDATE,),
        id="POST referral-status (A's partner accepts B's referral)",
    ),
    Row(
        "pathway-list",
        "POST",
        lambda w: "/api/v1/pathways/",
        # manage_pathways in A; B's administrator manages B's pathways only: a field error on the owner.
        expect(
            anonymous=401,
            a=403,
            administrator=201,
            site_manager=201,
            other_organisation=400,
            outsider=403,
        ),
        data=pathway_data,
        effect=pathway_created_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "pathway-detail",
        "PATCH",
        lambda w: f"/api/v1/pathways/{a_pathway(w).pk}/",
        expect(
            anonymous=401, a=403, administrator=200, site_manager=200, other_organisation=404, outsider=404
        ),
        data=lambda w: {"response_hours": 24},
        effect=pathway_changed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "webhook-list",
        "POST",
        lambda w: "/api/v1/webhooks/",
        expect(anonymous=401, a=403, administrator=201, other_organisation=400, outsider=403),
        data=lambda w: {"url": "https://a.example/new", "organisation": w.a.organisation.pk},
        effect=webhook_created_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "webhook-detail",
        "DELETE",
        lambda w: f"/api/v1/webhooks/{a_webhook(w).pk}/",
        expect(anonymous=401, a=404, administrator=204, other_organisation=404, outsider=404),
        effect=webhook_removed,
        audit_actions=(AuditAction.DELETE,),
    ),
    Row(
        "case-list",
        "POST",
        lambda w: "/api/v1/cases/",
        CASE_STAFF_LIST | {"site_manager": 201, "caseworker": 201},
        data=lambda w: {"person": new_person(w).reference},
        effect=case_opened_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "case-detail",
        "PATCH",
        lambda w: case_url(w),
        CASE_STAFF_WRITE,
        data=lambda w: {"plan": "Albergue"},
        effect=case_changed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "case-close",
        "POST",
        lambda w: case_url(w, "close/"),
        CASE_STAFF_WRITE,
        data=lambda w: {"reason": "needs_met"},
        effect=case_closed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "case-tasks",
        "POST",
        lambda w: case_url(w, "tasks/"),
        CASE_STAFF_WRITE | {"site_manager": 201, "caseworker": 201},
        data=lambda w: {"title": "Acompañar", "due_on": "2026-12-02"},
        effect=task_added_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "case-task-done",
        "POST",
        lambda w: case_url(w, f"tasks/{a_task(w).pk}/done/"),
        CASE_STAFF_WRITE,
        effect=task_done_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
]
