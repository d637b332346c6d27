"""Links for partners without an account: signed, expiring, revocable, optionally behind a one-time code.

The token is `signing.dumps((link id, secret))`; only a hash of the secret is stored, so a database
copy cannot mint links. Expiry and revocation are checked on the server at every use, and a link works
only while its referral is active. Every use is an audit entry naming the referral and the link.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ventanilla.accounts.models import User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.messaging import services as messaging
from ventanilla.messaging.models import Channel
from ventanilla.referrals import lifecycle
from ventanilla.referrals.models import FocalPoint, Referral, ReferralLink
from ventanilla.referrals.services import (
    ReferralError,
    ReferralPermissionError,
    has_referral_consent,
    side_of,
)

SALT = "ventanilla.referral-link"
DEFAULT_DAYS = 7
MAX_DAYS = 30
MAX_CODE_ATTEMPTS = 5


class LinkUnusable(Exception):
    """Any reason a link shows nothing; the page says the same thing whatever the reason."""


def _hash(value: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedLink:
    link: ReferralLink
    url: str
    code: str  # shown once to the sender when it could not be sent by another channel; else ""


@transaction.atomic
def issue(
    referral: Referral,
    *,
    by: User,
    focal_point: FocalPoint | None = None,
    channel: str = Channel.EMAIL,
    with_code: bool = False,
    days: int = DEFAULT_DAYS,
) -> IssuedLink:
    """Make a link and send it to the focal point; the one-time code goes by the other channel."""
    if side_of(by, referral) != lifecycle.Side.SENDER:
        raise ReferralPermissionError(_("You cannot share this referral."))
    if referral.status not in lifecycle.PARTNER_VISIBLE:
        raise ReferralError(_("Only an active referral can be shared."), field="status")
    if not 1 <= days <= MAX_DAYS:
        raise ReferralError(_("A link lives between 1 and %(days)s days.") % {"days": MAX_DAYS}, field="days")
    if focal_point is not None and focal_point.pathway_id != referral.pathway_id:
        raise ReferralError(_("That focal point is not on this pathway."), field="focal_point")
    if channel not in Channel.values:
        raise ReferralError(_("Choose email or SMS."), field="channel")
    if focal_point is not None:
        address = focal_point.email if channel == Channel.EMAIL else focal_point.phone
        if not address:
            raise ReferralError(_("The focal point has no address for that channel."), field="channel")
        if with_code and not (focal_point.email and focal_point.phone):
            raise ReferralError(
                _(
                    "A one-time code goes by another channel: the focal point needs both an email "
                    "and a phone."
                ),
                field="with_code",
            )
    secret = secrets.token_urlsafe(18)
    code = f"{secrets.randbelow(10**6):06d}" if with_code else ""
    link = ReferralLink.objects.create(
        referral=referral,
        secret_hash=_hash(secret),
        code_hash=_hash(f"{secret}:{code}") if code else "",
        sent_to=focal_point,
        channel=channel if focal_point is not None else "",
        created_by=by,
        expires_at=timezone.now() + datetime.timedelta(days=days),
    )
    token = signing.dumps([link.pk, secret], salt=SALT, compress=True)
    url = settings.PUBLIC_BASE_URL + reverse("referral_link", kwargs={"token": token})
    audit.record_change(
        AuditAction.CREATE, referral, by=by, fields=["link"], detail={"link": link.pk, "code": bool(code)}
    )
    shown_code = code
    if focal_point is not None:
        with translation.override(focal_point.language):
            body = _(
                "A referral (%(reference)s) was sent to you by %(organisation)s. Open it here: %(url)s "
                "— the link works until %(date)s."
            ) % {
                "reference": referral.reference,
                "organisation": referral.organisation.short_name or referral.organisation.name,
                "url": url,
                "date": link.expires_at.date().isoformat(),
            }
            messaging.send(
                channel,
                focal_point.email if channel == Channel.EMAIL else focal_point.phone,
                body,
                subject=_("Referral %(reference)s") % {"reference": referral.reference},
                purpose="referral_link",
                organisation_id=referral.organisation_id,
                language=focal_point.language,
                about=referral,
            )
            if code:
                other = Channel.SMS if channel == Channel.EMAIL else Channel.EMAIL
                messaging.send(
                    other,
                    focal_point.phone if other == Channel.SMS else focal_point.email,
                    _("Your code for referral %(reference)s: %(code)s")
                    % {"reference": referral.reference, "code": code},
                    subject=_("Referral code"),
                    purpose="referral_link_code",
                    organisation_id=referral.organisation_id,
                    language=focal_point.language,
                    about=referral,
                )
                shown_code = ""
    return IssuedLink(link, url, shown_code)


def resolve(token: str) -> ReferralLink:
    """The link if it may be used now; else LinkUnusable (stale, tampered, revoked or inactive)."""
    try:
        link_id, secret = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError):
        raise LinkUnusable from None
    link = (
        ReferralLink.objects.select_related("referral", "referral__pathway", "referral__organisation")
        .filter(pk=link_id)
        .first()
    )
    if link is None or not hmac.compare_digest(link.secret_hash, _hash(str(secret))):
        raise LinkUnusable
    if link.revoked_at is not None or link.expires_at <= timezone.now():
        raise LinkUnusable
    referral = link.referral
    if referral.status not in lifecycle.PARTNER_VISIBLE or not has_referral_consent(referral.person):
        raise LinkUnusable
    setattr(link, "_secret", str(secret))  # noqa: B010 - kept for this request's code check
    return link


def needs_code(link: ReferralLink) -> bool:
    return bool(link.code_hash)


@transaction.atomic
def check_code(link: ReferralLink, code: str) -> bool:
    """Too many wrong codes revoke the link: a guessed code is as bad as a leaked one."""
    secret = getattr(link, "_secret", "")
    if hmac.compare_digest(link.code_hash, _hash(f"{secret}:{code.strip()}")):
        return True
    ReferralLink.objects.filter(pk=link.pk).update(code_attempts=F("code_attempts") + 1)
    link.refresh_from_db(fields=["code_attempts"])
    if link.code_attempts >= MAX_CODE_ATTEMPTS:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit.record(
            AuditAction.UPDATE,
            obj=link.referral,
            fields=["link"],
            detail={"link": link.pk, "revoked": "too_many_codes"},
        )
    return False


def record_use(link: ReferralLink, *, what: str) -> None:
    """Every use of a link is audited: the referral and link ids, never who the person is."""
    ReferralLink.objects.filter(pk=link.pk).update(uses=F("uses") + 1, last_used_at=timezone.now())
    audit.record(AuditAction.READ, obj=link.referral, detail={"link": link.pk, "via": "link", "what": what})


@transaction.atomic
def revoke(link: ReferralLink, *, by: User) -> None:
    if side_of(by, link.referral) != lifecycle.Side.SENDER:
        raise ReferralPermissionError(_("You cannot change this referral."))
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit.record_change(
            AuditAction.UPDATE,
            link.referral,
            by=by,
            fields=["link"],
            detail={"link": link.pk, "revoked": "by_sender"},
        )
