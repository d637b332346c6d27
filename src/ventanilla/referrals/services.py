"""Referral domain logic: which pathways fit, creating and sending, every status change, consent.

Views, the API, the link pages and tasks all call these functions; none of them writes
`Referral.status` itself. Each change is one transaction: the referral, its `ReferralEvent`, the
audit entry and the queued messages and webhooks commit together or not at all.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Membership, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission, Role
from ventanilla.core.scoping import scope_for
from ventanilla.directory.models import Category, ServicePoint, Sexes
from ventanilla.referrals import lifecycle, projection
from ventanilla.referrals.lifecycle import Side
from ventanilla.referrals.models import (
    Pathway,
    Referral,
    ReferralEvent,
    ReferralLink,
    ReferralStatus,
    Urgency,
    Via,
)
from ventanilla.registration.models import Consent, ConsentPurpose, Flag, FlagSeverity, Person

if TYPE_CHECKING:
    from ventanilla.core.scoping import UserLike


class ReferralError(ValueError):
    """A refusal with a message for the person who asked; `field` names the input at fault."""

    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


class ReferralPermissionError(ReferralError):
    pass


# --- who may act -----------------------------------------------------------------------------------


def _sender_may(user: User | None, referral: Referral) -> bool:
    """Case staff of the sending organisation, at the referral's site (site-scoped roles)."""
    return scope_for(user).holds_at(Permission.EDIT_PERSONAL_DATA, referral.organisation_id, referral.site_id)


def _partner_may(user: User | None, referral: Referral) -> bool:
    return referral.partner_organisation_id is not None and referral.partner_organisation_id in scope_for(
        user
    ).organisations(Permission.RECEIVE_REFERRALS)


def side_of(user: User | None, referral: Referral) -> Side | None:
    if _sender_may(user, referral):
        return Side.SENDER
    if _partner_may(user, referral) and referral.status in lifecycle.PARTNER_VISIBLE:
        return Side.PARTNER
    return None


def partner_inbox(user: UserLike | None) -> QuerySet[Referral]:
    """Active referrals to the organisations where the user receives referrals: the partner's side only.

    A referral the user's own organisation sent is not here, even when the user could read it as
    sending staff; the inbox pages answer 404 for it.
    """
    organisations = scope_for(user).organisations(Permission.RECEIVE_REFERRALS)
    return Referral.objects.visible_to(user).filter(
        partner_organisation__in=organisations, status__in=lifecycle.PARTNER_VISIBLE
    )


def has_referral_consent(person: Person) -> bool:
    return Consent.objects.filter(
        person=person, purpose=ConsentPurpose.REFERRAL, given=True, withdrawn_at__isnull=True
    ).exists()


def may_contact(person: Person) -> bool:
    return (
        bool(person.phone)
        and Consent.objects.filter(
            person=person, purpose=ConsentPurpose.FOLLOW_UP, given=True, withdrawn_at__isnull=True
        ).exists()
    )


def sent_referrals(user: Any) -> QuerySet[Referral]:
    """The sending side's view: referrals of the sites whose people the user may see (never the
    partner's inbox, even for a user who also receives referrals)."""
    scope = scope_for(user)
    return Referral.objects.visible_to(user).filter(
        scope.site_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation", site="site")
    )


# --- pathways --------------------------------------------------------------------------------------


def _age_of(person: Person, today: datetime.date) -> int | None:
    if person.date_of_birth:
        born = person.date_of_birth
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return person.age_estimate


def eligibility_problems(pathway: Pathway, person: Person, *, today: datetime.date) -> list[str]:
    """Why this person cannot go down this pathway (empty: they can)."""
    problems = []
    age = _age_of(person, today)
    if age is not None and pathway.age_min is not None and age < pathway.age_min:
        problems.append(_("The partner serves people aged %(age)s and over.") % {"age": pathway.age_min})
    if age is not None and pathway.age_max is not None and age > pathway.age_max:
        problems.append(_("The partner serves people up to %(age)s years old.") % {"age": pathway.age_max})
    if pathway.sexes != Sexes.ANY and person.sex in {"female", "male"} and person.sex != pathway.sexes:
        problems.append(_("The partner serves %(who)s only.") % {"who": pathway.get_sexes_display()})
    return problems


def valid_pathways(
    organisation_id: int, *, on: datetime.date, category: str | None = None
) -> QuerySet[Pathway]:
    pathways = Pathway.objects.filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on),
        organisation_id=organisation_id,
        is_active=True,
        valid_from__lte=on,
        provider__status="published",
    )
    if category:
        pathways = pathways.filter(categories__code=category)
    return pathways.select_related("provider").distinct().order_by("name")


@dataclass(frozen=True)
class Option:
    """One place a person could be referred to, with the reasons it does not fit (if any)."""

    pathway: Pathway
    category: str
    problems: tuple[str, ...]

    @property
    def category_label(self) -> str:
        return str(Category(self.category).label)


def options_for(
    person: Person, *, categories: Iterable[str] | None = None, today: datetime.date | None = None
) -> list[Option]:
    """The pathways of the person's organisation for the categories asked (all when None)."""
    today = today or timezone.localdate()
    wanted = list(categories) if categories is not None else None
    options = []
    for pathway in valid_pathways(person.organisation_id, on=today).prefetch_related("categories"):
        problems = tuple(eligibility_problems(pathway, person, today=today))
        for category in pathway.categories.all():
            if wanted is None or category.code in wanted:
                options.append(Option(pathway, category.code, problems))
    order = {code: i for i, code in enumerate(wanted or [])}
    options.sort(key=lambda o: (bool(o.problems), order.get(o.category, 99), o.pathway.name))
    return options


# --- creating and sending --------------------------------------------------------------------------


@transaction.atomic
def create_referral(
    person: Person,
    *,
    pathway: Pathway,
    category: str,
    by: User,
    need: str = "",
    service_point: ServicePoint | None = None,
    flag: Flag | None = None,
    case: Any = None,
    conversation: Any = None,
    urgency: str | None = None,
    appointment: str = "",
    tell_person: bool = True,
    send: bool = True,
    via: str = Via.STAFF,
    now: datetime.datetime | None = None,
) -> Referral:
    """Check everything that can refuse a referral, store its projection, and send it (the sending
    event records `via`: the staff page or the API)."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if not Person.objects.visible_to(by).filter(pk=person.pk).exists() or not scope_for(by).has(
        Permission.EDIT_PERSONAL_DATA
    ):
        raise ReferralPermissionError(_("You cannot refer this person."))
    if person.erased_at is not None or person.merged_into_id is not None:
        raise ReferralError(_("This record was erased or merged; refer the surviving record."))
    if not has_referral_consent(person):
        raise ReferralError(
            _("The person has not consented to be referred (or withdrew that consent)."), field="consent"
        )
    if pathway.organisation_id != person.organisation_id:
        raise ReferralError(_("This pathway belongs to another organisation."), field="pathway")
    if not valid_pathways(person.organisation_id, on=today).filter(pk=pathway.pk).exists():
        raise ReferralError(_("This pathway is not in force today."), field="pathway")
    if category not in Category.values or not pathway.categories.filter(code=category).exists():
        raise ReferralError(_("This partner does not take referrals for that service."), field="category")
    problems = eligibility_problems(pathway, person, today=today)
    if problems:
        raise ReferralError(" ".join(problems), field="pathway")
    if service_point is not None:
        allowed = (
            pathway.service_points.all()
            if pathway.service_points.exists()
            else ServicePoint.objects.filter(provider=pathway.provider)
        )
        if not allowed.filter(pk=service_point.pk, categories__code=category).exists():
            raise ReferralError(_("That service point is not part of this pathway."), field="service_point")
    if flag is not None and flag.person_id != person.pk:
        raise ReferralError(_("That flag belongs to someone else."), field="flag")
    if conversation is not None and conversation.person_id != person.pk:
        raise ReferralError(_("That conversation is not linked to this person."), field="conversation")
    if case is not None:
        if case.person_id != person.pk:
            raise ReferralError(_("That case belongs to someone else."), field="case")
        if case.is_closed:
            raise ReferralError(_("The case is closed; reopen it or open a new one."), field="case")
    if urgency is None:
        urgency = (
            Urgency.URGENT if flag is not None and flag.severity == FlagSeverity.CRITICAL else Urgency.NORMAL
        )
    fields = projection.fields_for(category, pathway.shared_fields)
    items = projection.compute(
        person, category=category, fields=fields, language=pathway.language, today=today
    )
    referral = Referral.objects.create(
        organisation_id=person.organisation_id,
        site_id=person.site_id,
        person=person,
        case=case,
        flag=flag,
        conversation=conversation,
        pathway=pathway,
        category=category,
        service_point=service_point,
        partner_organisation_id=pathway.provider.organisation_id,
        urgency=urgency,
        need=need.strip(),
        shared=projection.dumps(items),
        shared_fields=[item.field for item in items],
        language=pathway.language,
        appointment=appointment.strip(),
        tell_person=tell_person,
        created_by=by,
    )
    audit.record_change(
        AuditAction.CREATE,
        referral,
        by=by,
        fields=referral.shared_fields,
        detail={"category": category, "pathway": pathway.pk},
    )
    if send:
        transition(referral, ReferralStatus.SENT, by=by, via=via, now=now)
    return referral


def service_points_for(pathway: Pathway, category: str) -> QuerySet[ServicePoint]:
    """Where the person could be sent on this pathway for this service: the pathway's points, or any
    published point of the partner when the pathway names none."""
    points = (
        pathway.service_points.all()
        if pathway.service_points.exists()
        else ServicePoint.objects.filter(provider=pathway.provider, status="published")
    )
    return points.filter(categories__code=category).distinct().order_by("name")


@dataclass(frozen=True)
class LinkRequest:
    """The first partner link to issue with a new referral (focal point None: shown to the sender)."""

    focal_point: Any = None
    channel: str = "email"
    with_code: bool = False


def create_and_share(
    person: Person, *, link: LinkRequest | None = None, **kwargs: Any
) -> tuple[Referral, Any]:
    """`create_referral`, then the first link, in one transaction: if the link is refused, so is the
    referral. Returns the referral and the `links.IssuedLink` (or None)."""
    from ventanilla.referrals import links

    with transaction.atomic():
        referral = create_referral(person, **kwargs)
        issued = None
        if link is not None:
            issued = links.issue(
                referral,
                by=kwargs["by"],
                focal_point=link.focal_point,
                channel=link.channel,
                with_code=link.with_code,
            )
    return referral, issued


# --- the one writer of status ----------------------------------------------------------------------


@transaction.atomic
def transition(
    referral: Referral,
    to: str,
    *,
    by: User | None,
    via: str,
    reason: str = "",
    note: str = "",
    link: ReferralLink | None = None,
    now: datetime.datetime | None = None,
) -> ReferralEvent:
    """Move a referral along the lifecycle table or refuse; the row is locked so two answers cannot race."""
    now = now or timezone.now()
    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if to not in lifecycle.ALLOWED:
        raise ReferralError(_("Unknown status."), field="status")
    sources, sides = lifecycle.ALLOWED[to]
    if via == Via.SYSTEM:
        side: Side | None = Side.SYSTEM
    elif via == Via.LINK:
        side = Side.PARTNER if link is not None and link.referral_id == locked.pk else None
    else:
        side = side_of(by, locked)
    if side is None:
        raise ReferralPermissionError(_("You cannot change this referral."))
    if side not in sides:
        raise ReferralPermissionError(
            _("Only the partner can do that.")
            if Side.PARTNER in sides
            else _("Only the sender can do that.")
            if Side.SENDER in sides
            else _("This happens on its own when the partner's answer time has passed.")
        )
    if locked.status not in sources:
        raise ReferralError(
            _("A referral that is %(current)s cannot become %(next)s.")
            % {
                "current": ReferralStatus(locked.status).label,
                "next": ReferralStatus(to).label,
            },
            field="status",
        )
    reasons = lifecycle.REASONS.get(to)
    if reasons is not None and reason not in reasons:
        raise ReferralError(_("Choose a reason."), field="reason")
    previous = locked.status
    locked.status = to
    locked.status_changed_at = now
    changed = ["status", "status_changed_at"]
    if to == ReferralStatus.SENT:
        locked.sent_at = now
        locked.respond_by = now + datetime.timedelta(hours=locked.pathway.response_hours)
        locked.escalated_at = None
        changed += ["sent_at", "respond_by", "escalated_at"]
    elif to in {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED}:
        locked.answered_at = now
        changed.append("answered_at")
        if to == ReferralStatus.ACCEPTED:
            locked.accepted_at = now
            changed.append("accepted_at")
    elif to == ReferralStatus.DELIVERED:
        locked.delivered_at = now
        changed.append("delivered_at")
    elif to in {ReferralStatus.CLOSED, ReferralStatus.WITHDRAWN}:
        locked.closed_at = now
        changed.append("closed_at")
    if reason:
        locked.reason = reason
        changed.append("reason")
    if note and side == Side.PARTNER:
        locked.outcome_note = "\n\n".join(p for p in (locked.outcome_note, note.strip()) if p)
        changed.append("outcome_note")
    locked.save(update_fields=changed)
    event = ReferralEvent.objects.create(
        referral=locked,
        from_status=previous,
        to_status=to,
        at=now,
        by=by if by is not None and by.is_authenticated else None,
        via=via,
        link=link,
        reason=reason,
        note=note.strip(),
    )
    audit.record_change(
        AuditAction.UPDATE,
        locked,
        by=by,
        fields=["status"],
        detail={"from": previous, "to": to, "via": via, "reason": reason, "link": link.pk if link else None},
    )
    referral.__dict__.update({name: getattr(locked, name) for name in changed})
    _after_transition(locked, event)
    return event


def _after_transition(referral: Referral, event: ReferralEvent) -> None:
    from ventanilla.referrals import notifications, webhooks

    webhooks.queue(event)
    if event.to_status == ReferralStatus.SENT:
        notifications.partner_has_referral(referral)
        if event.from_status == ReferralStatus.DRAFT:
            notifications.tell_person(referral)
    elif event.to_status in {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.NOT_DELIVERED}:
        notifications.sender_has_answer(referral, event)
    if event.to_status not in lifecycle.PARTNER_VISIBLE:
        ReferralLink.objects.filter(referral=referral, revoked_at__isnull=True).update(revoked_at=event.at)


def update_appointment(
    referral: Referral, *, appointment: str, by: User | None, via: str, link: ReferralLink | None = None
) -> None:
    """The partner (or sender) says where and when; the person is told again if they may be contacted."""
    if via == Via.LINK:
        allowed = link is not None and link.referral_id == referral.pk
    else:
        allowed = side_of(by, referral) is not None
    if not allowed or referral.status not in lifecycle.PARTNER_VISIBLE:
        raise ReferralPermissionError(_("You cannot change this referral."))
    referral.appointment = appointment.strip()[:300]
    referral.save(update_fields=["appointment"])
    audit.record_change(AuditAction.UPDATE, referral, by=by, fields=["appointment"], detail={"via": via})
    from ventanilla.referrals import notifications

    notifications.tell_person(referral)


# --- consent and erasure ---------------------------------------------------------------------------


@transaction.atomic
def withdraw_for_person(person: Person, *, reason: str, by: User | None, blank: bool) -> int:
    """Consent withdrawn or data erased: every open referral is withdrawn; with `blank`, projections
    (and what the partner wrote about the person) are emptied too."""
    count = 0
    for referral in Referral.objects.filter(person=person).select_related("pathway"):
        if referral.status in lifecycle.ALLOWED[ReferralStatus.WITHDRAWN][0]:
            transition(referral, ReferralStatus.WITHDRAWN, by=None, via=Via.SYSTEM, reason=reason)
            count += 1
        if blank and (referral.shared or referral.need or referral.outcome_note or referral.appointment):
            Referral.objects.filter(pk=referral.pk).update(
                shared="", need="", outcome_note="", appointment=""
            )
    if blank:
        ReferralEvent.objects.filter(referral__person=person).update(note="")
    return count


# --- expiry ----------------------------------------------------------------------------------------


def site_managers(referral: Referral) -> QuerySet[User]:
    memberships = Membership.objects.filter(
        organisation_id=referral.organisation_id, role=Role.SITE_MANAGER, is_active=True
    )
    if referral.site_id is not None:
        memberships = memberships.filter(sites=referral.site_id)
    return User.objects.filter(pk__in=memberships.values("user_id"), is_active=True)


def expire_overdue(*, now: datetime.datetime | None = None, only: list[int] | None = None) -> int:
    """Referrals past the partner's committed answer time expire and go to the site manager."""
    from ventanilla.referrals import notifications

    now = now or timezone.now()
    expired = 0
    due = Referral.objects.filter(status=ReferralStatus.SENT, respond_by__lt=now).values_list("pk", flat=True)
    if only is not None:  # the demo ages one referral without touching anyone else's
        due = due.filter(pk__in=only)
    for pk in list(due[:5000]):
        with transaction.atomic():
            referral = Referral.objects.select_related("pathway").get(pk=pk)
            if referral.status != ReferralStatus.SENT:
                continue
            transition(referral, ReferralStatus.EXPIRED, by=None, via=Via.SYSTEM, reason="no_answer", now=now)
            Referral.objects.filter(pk=pk).update(escalated_at=now)
            notifications.escalate(referral)
            expired += 1
    return expired
