"""Matrix rows for the partner's answers: from the inbox (an account) and through a referral link.

Objects come from `matrix_referrals`: `referral_to_a` is sent by B to A, so A's partner focal point
answers it from the inbox; `a_referral` (A to B) has a live link, which anyone holding it may use,
signed in or not. An allowed accept is checked and then put back, so the next principal can accept too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ventanilla.api.tests.matrix import LOGIN, Redirect, Row, everyone, expect
from ventanilla.core.models import AuditAction
from ventanilla.testing.world import World


def _accepted_then_reset(
    referral_of: Callable[[World], Any], via: str, by_of: Callable[[World], int | None]
) -> Callable[[World, str], None]:
    """The referral was accepted (via `via`, by `by_of`'s user id); then it is sent again."""

    def check(world: World, principal: str) -> None:
        from ventanilla.referrals.models import Referral, ReferralEvent, ReferralStatus

        referral = Referral.objects.get(pk=referral_of(world).pk)
        event = referral.events.latest("pk")
        assert (referral.status, referral.accepted_at is not None) == (ReferralStatus.ACCEPTED, True)
        assert (event.from_status, event.to_status, event.via, event.by_id) == (
            ReferralStatus.SENT,
            ReferralStatus.ACCEPTED,
            via,
            by_of(world),
        )
        ReferralEvent.objects.filter(pk=event.pk).delete()
        Referral.objects.filter(pk=referral.pk).update(
            status=ReferralStatus.SENT, accepted_at=None, answered_at=None
        )

    return check


def _referral_to_a(world: World) -> Any:
    from ventanilla.api.tests.matrix_referrals import referral_to_a

    return referral_to_a(world)


def _a_referral(world: World) -> Any:
    from ventanilla.api.tests.matrix_referrals import a_referral

    return a_referral(world)


def _link_token(world: World) -> str:
    from ventanilla.api.tests.matrix_referrals import a_link_token

    return a_link_token(world)


READS: list[Row] = []

WRITES = [
    # A's partner focal point accepts what B referred to A; nobody else may answer it.
    Row(
        "referrals:inbox_answer",
        "POST",
        lambda w: f"/en/staff/referrals/inbox/{_referral_to_a(w).reference}/answer/",
        expect(
            anonymous=LOGIN,
            a=403,
            partner_focal_point=Redirect(r"/en/staff/referrals/inbox/RF-[A-Z0-9]{4}-[A-Z0-9]{4}/"),
            other_organisation=403,
            outsider=403,
        ),
        data=lambda w: {"action": "accepted"},
        effect=_accepted_then_reset(
            _referral_to_a, "partner", lambda w: w.user("a", "partner_focal_point").pk
        ),
        audit_actions=(AuditAction.READ, AuditAction.UPDATE),
    ),
    # The link is the key: whoever holds it may answer, signed in or not; the entries name no user.
    Row(
        "referral_link",
        "POST",
        lambda w: f"/en/r/{_link_token(w)}/",
        everyone(Redirect(r"/en/r/[^/]+/"), anonymous=Redirect(r"/en/r/[^/]+/")),
        data=lambda w: {"action": "accepted"},
        effect=_accepted_then_reset(_a_referral, "link", lambda w: None),
        audit_actions=(AuditAction.READ, AuditAction.UPDATE),
        audit_actor_is_principal=False,
    ),
]
