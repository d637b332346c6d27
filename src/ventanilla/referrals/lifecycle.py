"""The referral lifecycle as one table: which status may follow which, and which side may move it.

`services.transition()` is the only writer of `Referral.status`; it consults `ALLOWED` and refuses
anything else, so a new path through the lifecycle is one line here, reviewed in one place.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.utils.translation import gettext_lazy as _

from ventanilla.referrals.models import ReferralStatus as S


class Side(StrEnum):
    SENDER = "sender"  # the referring organisation's case staff
    PARTNER = "partner"  # the receiving organisation, by account, link or API
    SYSTEM = "system"  # the expiry task, consent withdrawal, erasure


# to_status -> (from which statuses, which side may make the move)
ALLOWED: dict[str, tuple[frozenset[str], frozenset[Side]]] = {
    S.SENT: (frozenset({S.DRAFT, S.EXPIRED}), frozenset({Side.SENDER})),
    S.ACCEPTED: (frozenset({S.SENT}), frozenset({Side.PARTNER})),
    S.DECLINED: (frozenset({S.SENT}), frozenset({Side.PARTNER})),
    S.IN_PROGRESS: (frozenset({S.ACCEPTED}), frozenset({Side.PARTNER})),
    S.DELIVERED: (frozenset({S.ACCEPTED, S.IN_PROGRESS}), frozenset({Side.PARTNER})),
    S.NOT_DELIVERED: (frozenset({S.ACCEPTED, S.IN_PROGRESS}), frozenset({Side.PARTNER})),
    S.EXPIRED: (frozenset({S.SENT}), frozenset({Side.SYSTEM})),
    S.WITHDRAWN: (
        frozenset({S.DRAFT, S.SENT, S.ACCEPTED, S.IN_PROGRESS, S.EXPIRED}),
        frozenset({Side.SENDER, Side.SYSTEM}),
    ),
    S.CLOSED: (frozenset({S.DELIVERED, S.NOT_DELIVERED, S.DECLINED, S.EXPIRED}), frozenset({Side.SENDER})),
}

# While a referral is in one of these, the partner sees it (inbox, link, API); never after.
PARTNER_VISIBLE: frozenset[str] = frozenset({S.SENT, S.ACCEPTED, S.IN_PROGRESS})
# Still needing someone's action: counted as open in lists and in the benchmark.
OPEN: frozenset[str] = frozenset({S.DRAFT, S.SENT, S.ACCEPTED, S.IN_PROGRESS, S.EXPIRED})
FINAL: frozenset[str] = frozenset({S.CLOSED, S.WITHDRAWN})

DECLINE_REASONS: dict[str, Any] = {
    "not_eligible": _("Not eligible for the service"),
    "no_capacity": _("No capacity at the moment"),
    "service_not_offered": _("Service not offered"),
    "outside_area": _("Outside our area"),
    "already_receiving": _("Already receiving the service"),
    "other": _("Other reason"),
}
NOT_DELIVERED_REASONS: dict[str, Any] = {
    "did_not_arrive": _("The person did not come"),
    "person_declined": _("The person declined the service"),
    "could_not_contact": _("Could not contact the person"),
    "no_capacity": _("No capacity at the moment"),
    "moved_on": _("The person moved on"),
    "other": _("Other reason"),
}
WITHDRAW_REASONS: dict[str, Any] = {
    "need_met_elsewhere": _("Need met elsewhere"),
    "person_moved_on": _("The person moved on"),
    "person_request": _("The person asked to stop"),
    "sent_in_error": _("Sent in error"),
    "consent_withdrawn": _("Consent to referral withdrawn"),
    "personal_data_erased": _("Personal data erased"),
    "other": _("Other reason"),
}
REASONS: dict[str, dict[str, Any]] = {
    S.DECLINED: DECLINE_REASONS,
    S.NOT_DELIVERED: NOT_DELIVERED_REASONS,
    S.WITHDRAWN: WITHDRAW_REASONS,
}


def next_statuses(current: str, side: Side) -> list[str]:
    """What `side` may move a referral in `current` to: the buttons a page offers."""
    return [to for to, (sources, sides) in ALLOWED.items() if current in sources and side in sides]


def reason_label(status: str, code: str) -> str:
    return str(REASONS.get(status, {}).get(code, code))
