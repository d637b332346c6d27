"""Template helpers for referral pages: what a referral shared, read from its stored projection."""

from __future__ import annotations

from django import template

from ventanilla.referrals import projection
from ventanilla.referrals.models import Referral

register = template.Library()


@register.filter
def shared_items(referral: Referral) -> list[projection.Item]:
    """The projection's items (field, label, value); empty once blanked by withdrawal or erasure."""
    return projection.loads(referral.shared)
