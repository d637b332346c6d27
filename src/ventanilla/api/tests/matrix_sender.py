"""Matrix rows for the sending side of referrals (create, status, links) and for pathway pages.

Writes only: the GET rows of these pages are in `matrix_referrals`. Allowed writes go back where they
were when they can be done once only (a withdrawal, a revocation, a name), so the next allowed
principal can do the same.
"""

from __future__ import annotations

from typing import Any

from ventanilla.api.tests import matrix_referrals as referrals
from ventanilla.api.tests.matrix import LOGIN, Redirect, Row, expect, org_a_only, user_of
from ventanilla.core.models import AuditAction
from ventanilla.testing.world import World

REFERRAL_PAGE = Redirect(r"/en/staff/referrals/RF-[A-Z0-9]{4}-[A-Z0-9]{4}/")
PATHWAYS_PAGE = Redirect("/en/staff/referrals/pathways/")


def sending_write(outcome: object) -> dict[str, object]:
    """The case staff of A's first site (where the person and referral are); everyone else refused."""
    return expect(
        anonymous=LOGIN, a=403, site_manager=outcome, caseworker=outcome, other_organisation=403, outsider=403
    )


def a_sender_link(world: World) -> Any:
    """A link on A's referral, shown to the sender (no focal point)."""
    from ventanilla.referrals import links

    return referrals._cached(
        world,
        "sender_link",
        lambda: links.issue(referrals.a_referral(world), by=world.user("a", "caseworker")).link,
    )


# --- effects ----------------------------------------------------------------------------------------


def referral_created(world: World, principal: str) -> None:
    from ventanilla.referrals.models import Referral

    referral = Referral.objects.filter(created_by=user_of(world, principal)).latest("pk")
    assert (referral.person_id, referral.category, referral.status, referral.need) == (
        referrals.a_referral(world).person_id,
        "medical",
        "sent",
        "Wound on the leg",
    )


def referral_withdrawn_then_reset(world: World, principal: str) -> None:
    from ventanilla.referrals.models import Referral

    referral = Referral.objects.get(pk=referrals.a_referral(world).pk)
    event = referral.events.latest("pk")
    assert (referral.status, referral.reason) == ("withdrawn", "sent_in_error")
    assert (event.to_status, event.by_id, event.via) == ("withdrawn", user_of(world, principal).pk, "staff")
    Referral.objects.filter(pk=referral.pk).update(status="sent", reason="", closed_at=None)


def link_issued(world: World, principal: str) -> None:
    from ventanilla.messaging.models import OutboundMessage
    from ventanilla.referrals.models import ReferralLink

    link = ReferralLink.objects.filter(
        referral=referrals.a_referral(world), created_by=user_of(world, principal)
    ).get()
    assert (link.sent_to_id, link.channel, link.revoked_at) == (
        referrals.a_pathway(world).focal_points.get().pk,
        "email",
        None,
    )
    assert OutboundMessage.objects.filter(purpose="referral_link", object_id=str(link.referral_id)).exists()


def link_revoked_then_reset(world: World, principal: str) -> None:
    from ventanilla.referrals.models import ReferralLink

    link = ReferralLink.objects.get(pk=a_sender_link(world).pk)
    assert link.revoked_at is not None
    ReferralLink.objects.filter(pk=link.pk).update(revoked_at=None)


def pathway_created_then_removed(world: World, principal: str) -> None:
    from ventanilla.core.scoping import scope_for
    from ventanilla.referrals.models import Pathway

    pathway = Pathway.objects.get(name="Matrix pathway")
    assert pathway.organisation_id in scope_for(user_of(world, principal)).organisations()
    assert list(pathway.categories.values_list("code", flat=True)) == ["medical"]
    assert list(pathway.focal_points.values_list("name", "phone")) == [("Desk", "+50255556666")]
    pathway.delete()


def pathway_renamed_then_reset(world: World, principal: str) -> None:
    from ventanilla.referrals.models import Pathway

    pathway = Pathway.objects.get(pk=referrals.a_pathway(world).pk)
    assert (pathway.name, pathway.response_hours) == ("A → renamed", 24)
    assert list(pathway.focal_points.values_list("name", flat=True)) == ["Focal Point"]
    Pathway.objects.filter(pk=pathway.pk).update(name=referrals.a_pathway(world).name, response_hours=48)


# --- bodies -----------------------------------------------------------------------------------------


def new_referral_data(world: World) -> dict[str, Any]:
    return {
        "option": f"{referrals.a_pathway(world).pk}:medical",
        "need": "Wound on the leg",
        "urgency": "normal",
        "appointment": "",
        "case": "",
        "link_to": "",
        "link_channel": "email",
    }


def _focal_points(rows: list[dict[str, Any]], initial: int = 0) -> dict[str, Any]:
    data: dict[str, Any] = {
        "focal_points-TOTAL_FORMS": str(len(rows)),
        "focal_points-INITIAL_FORMS": str(initial),
        "focal_points-MIN_NUM_FORMS": "0",
        "focal_points-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"focal_points-{index}-{key}": value for key, value in row.items()})
    return data


def pathway_data(world: World, **changes: Any) -> dict[str, Any]:
    path = referrals.a_pathway(world)
    return {
        "name": "Matrix pathway",
        "provider": str(path.provider_id),
        "categories": ["medical"],
        "sexes": "any",
        "response_hours": "48",
        "language": "es",
        "valid_from": "2026-01-01",
        "is_active": "on",
        **_focal_points([{"name": "Desk", "email": "", "phone": "+502 5555 6666", "language": "es"}]),
        **changes,
    }


def renamed_pathway_data(world: World) -> dict[str, Any]:
    path = referrals.a_pathway(world)
    focal = path.focal_points.get()
    return pathway_data(
        world,
        name="A → renamed",
        categories=["medical", "child_protection", "counter_trafficking"],
        response_hours="24",
        **_focal_points(
            [
                {
                    "id": focal.pk,
                    "name": focal.name,
                    "email": focal.email,
                    "phone": focal.phone,
                    "language": "es",
                }
            ],
            initial=1,
        ),
    )


READS: list[Row] = []

WRITES = [
    Row(
        "referrals:create",
        "POST",
        lambda w: f"/en/staff/referrals/new/{referrals.a_referral(w).person.reference}/",
        sending_write(REFERRAL_PAGE),
        data=new_referral_data,
        effect=referral_created,
        audit_actions=(AuditAction.READ, AuditAction.CREATE, AuditAction.UPDATE),
    ),
    Row(
        "referrals:change_status",
        "POST",
        lambda w: referrals.referral_url(w, "status/"),
        sending_write(REFERRAL_PAGE),
        data=lambda w: {"to": "withdrawn", "reason": "sent_in_error", "note": ""},
        effect=referral_withdrawn_then_reset,
        audit_actions=(AuditAction.READ, AuditAction.UPDATE),
        id="POST referrals:change_status (withdraw)",
    ),
    Row(
        "referrals:issue_link",
        "POST",
        lambda w: referrals.referral_url(w, "links/"),
        sending_write(REFERRAL_PAGE),
        data=lambda w: {
            "focal_point": str(referrals.a_pathway(w).focal_points.get().pk),
            "channel": "email",
            "days": "3",
        },
        effect=link_issued,
        audit_actions=(AuditAction.READ, AuditAction.CREATE),
    ),
    Row(
        "referrals:revoke_link",
        "POST",
        lambda w: referrals.referral_url(w, f"links/{a_sender_link(w).pk}/revoke/"),
        sending_write(REFERRAL_PAGE),
        effect=link_revoked_then_reset,
        audit_actions=(AuditAction.READ, AuditAction.UPDATE),
    ),
    Row(
        "referrals:pathway_create",
        "POST",
        lambda w: "/en/staff/referrals/pathways/new/",
        expect(
            anonymous=LOGIN,
            a=403,
            administrator=PATHWAYS_PAGE,
            site_manager=PATHWAYS_PAGE,
            other_organisation=PATHWAYS_PAGE,
            outsider=403,
        ),
        data=pathway_data,
        effect=pathway_created_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "referrals:pathway_edit",
        "POST",
        lambda w: f"/en/staff/referrals/pathways/{referrals.a_pathway(w).pk}/",
        org_a_only(403, administrator=PATHWAYS_PAGE, site_manager=PATHWAYS_PAGE),
        data=renamed_pathway_data,
        effect=pathway_renamed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
]
