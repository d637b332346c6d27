"""Who hears of a referral, and what they are told: never more than the reference and the service.

The person gets an SMS (if they agreed to be contacted) in their language with where and when to go.
For services whose very name would disclose something (violence, trafficking), the SMS names neither
the service nor the place: it says the referral is arranged and when, and the caseworker says the rest.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Membership, User
from ventanilla.core.roles import Role
from ventanilla.directory.models import Category
from ventanilla.messaging import services as messaging
from ventanilla.messaging.models import Channel
from ventanilla.referrals.models import Referral, ReferralEvent, ReferralStatus
from ventanilla.registration.models import Consent, ConsentPurpose

# Naming these in an SMS could put the person at risk if someone else reads their phone.
DISCREET_CATEGORIES = frozenset({Category.GBV, Category.COUNTER_TRAFFICKING, Category.CHILD_PROTECTION})
SMS_MAX = 300


def _receivers(referral: Referral) -> QuerySet[User]:
    if referral.partner_organisation_id is None:
        return User.objects.none()
    members = Membership.objects.filter(
        organisation_id=referral.partner_organisation_id, role=Role.PARTNER_FOCAL_POINT, is_active=True
    )
    return User.objects.filter(pk__in=members.values("user_id"), is_active=True)


def _email(users: QuerySet[User], subject: str, body: str, referral: Referral, purpose: str) -> None:
    for user in users:
        if user.email:
            messaging.send(
                Channel.EMAIL,
                user.email,
                body,
                subject=subject,
                purpose=purpose,
                organisation_id=referral.organisation_id,
                about=referral,
            )


def partner_has_referral(referral: Referral) -> None:
    receivers = _receivers(referral)
    if not receivers.exists():
        return
    label = str(Category(referral.category).label)
    text = _("New referral %(reference)s: %(service)s") % {"reference": referral.reference, "service": label}
    url = reverse("referrals:inbox_detail", args=[referral.reference])
    messaging.notify(receivers, kind="referral_received", text=text, url=url)
    _email(receivers, text, text + "\n" + url, referral, "referral_received")


def sender_has_answer(referral: Referral, event: ReferralEvent) -> None:
    if referral.created_by is None:
        return
    text = _("Referral %(reference)s: %(status)s") % {
        "reference": referral.reference,
        "status": ReferralStatus(event.to_status).label,
    }
    messaging.notify(
        [referral.created_by],
        kind="referral_answered",
        text=text,
        url=reverse("referrals:detail", args=[referral.reference]),
    )


def escalate(referral: Referral) -> None:
    from ventanilla.referrals.services import site_managers

    managers = site_managers(referral)
    text = _("Referral %(reference)s expired without an answer from the partner.") % {
        "reference": referral.reference
    }
    messaging.notify(
        managers,
        kind="referral_expired",
        text=text,
        url=reverse("referrals:detail", args=[referral.reference]),
    )
    _email(managers, text, text, referral, "referral_expired")


def _person_language(referral: Referral) -> str:
    consent = (
        Consent.objects.filter(person=referral.person, purpose=ConsentPurpose.FOLLOW_UP)
        .exclude(language="")
        .first()
    )
    return (consent.language if consent else "") or referral.language or "es"


def person_sms(referral: Referral, language: str) -> str:
    """What the person reads: where and when, the reference to show, nothing sensitive."""
    organisation = referral.organisation.short_name or referral.organisation.name
    with translation.override(language):
        when = referral.appointment or _("your caseworker will tell you when")
        if referral.category in DISCREET_CATEGORIES or referral.service_point is None:
            text = _(
                "%(organisation)s: your appointment is arranged. When: %(when)s. "
                "Show this code: %(reference)s."
            ) % {
                "organisation": organisation,
                "when": when,
                "reference": referral.reference,
            }
        else:
            point = referral.service_point
            where = ", ".join(p for p in (point.name, point.address) if p)
            text = _(
                "%(organisation)s: please go to %(where)s. When: %(when)s. Show this code: %(reference)s."
            ) % {
                "organisation": organisation,
                "where": where,
                "when": when,
                "reference": referral.reference,
            }
    return text[:SMS_MAX]


def tell_person(referral: Referral) -> bool:
    """An SMS to the person, only with their consent to follow-up contact and a phone on record."""
    from ventanilla.referrals.services import may_contact

    person = referral.person
    if not referral.tell_person or not may_contact(person):
        return False
    language = _person_language(referral)
    messaging.send(
        Channel.SMS,
        person.phone,
        person_sms(referral, language),
        purpose="referral_person",
        organisation_id=referral.organisation_id,
        language=language,
        about=referral,
    )
    return True
