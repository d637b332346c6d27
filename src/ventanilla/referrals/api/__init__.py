"""API of referrals: referrals for both sides (`referrals`, with status updates and the timeline),
the pathways they go along (`pathways`) and partners' webhooks (`webhooks`).

A referral is read through `Referral.objects.visible_to` (the sender's case staff by site; the
partner's receivers only while it is active) and answered with the interoperable payload
(`referrals.interop`); every status change goes through `services.transition`.
"""

from ventanilla.referrals.api.pathways import PathwayViewSet
from ventanilla.referrals.api.referrals import ReferralViewSet
from ventanilla.referrals.api.webhooks import WebhookViewSet

__all__ = ["PathwayViewSet", "ReferralViewSet", "WebhookViewSet"]
