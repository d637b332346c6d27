"""Urgent alerts: whoever is on duty is told at once and must acknowledge, or the alert goes up a level.

A message that may be a call for help (`urgent.reason`) raises an `UrgentAlert`. Who hears of it, by
level:

1. whoever is on duty for the organisation now (`DutyShift`); with nobody on duty, the site managers of
   the conversation's site; with none there, everyone in the organisation who handles messages;
2. every site manager of the organisation;
3. every site manager and every administrator of the organisation.

Each is told by SMS (when their account has a phone), by email and in the app. The texts name the
conversation's id and the reason, never what the person wrote nor their number. `escalate_due()` (every
five minutes) moves an alert nobody acknowledged within `URGENT_ESCALATE_MINUTES` one level up; at the
top level it reminds the same people at the same interval until someone acknowledges.

A sensitive complaint (abuse, exploitation or fraud by staff) is only ever announced to the
organisation's designated complaint focal points, at every level, as only they may open it.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Membership, User
from ventanilla.accounts.services import memberships_holding, users_of
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission, Role, roles_with
from ventanilla.core.scoping import scope_for
from ventanilla.messaging import services, urgent
from ventanilla.messaging.models import Channel
from ventanilla.messaging.models_inbox import (
    Category,
    Conversation,
    DutyShift,
    Gateway,
    GatewayKind,
    Medium,
    Message,
    UrgentAlert,
)

logger = logging.getLogger(__name__)

TOP_LEVEL = 3
HANDLER_ROLES = tuple(roles_with(Permission.HANDLE_MESSAGES))


class AlertError(ValueError):
    """A refused change, with the form field it is about ("" when it is about the whole request)."""

    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


class AlertPermissionError(AlertError):
    pass


def escalate_after() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.URGENT_ESCALATE_MINUTES)


# --- Who is told ------------------------------------------------------------------------------------


def _users(memberships: QuerySet[Membership]) -> QuerySet[User]:
    return users_of(memberships).order_by("pk")


def handlers(organisation_id: int) -> QuerySet[User]:
    """Everyone who handles the organisation's messages (who may be put on duty)."""
    return _users(memberships_holding(organisation_id, HANDLER_ROLES))


def on_duty(organisation_id: int, *, now: datetime.datetime) -> QuerySet[User]:
    """Who is on duty now: shifts covering `now`, of people who still handle the messages."""
    shifts = DutyShift.objects.filter(organisation_id=organisation_id, starts_at__lte=now, ends_at__gt=now)
    return handlers(organisation_id).filter(pk__in=shifts.values("user_id"))


def _first_responders(conversation: Conversation, now: datetime.datetime) -> list[User]:
    organisation_id = int(conversation.organisation_id)
    found = list(on_duty(organisation_id, now=now))
    if not found and conversation.site_id is not None:
        found = list(
            _users(memberships_holding(organisation_id, (Role.SITE_MANAGER,), sites=conversation.site_id))
        )
    return found or list(handlers(organisation_id))


def recipients(conversation: Conversation, level: int, *, now: datetime.datetime) -> list[User]:
    """Who is told of an alert on this conversation at this level (see the module's docstring)."""
    organisation_id = int(conversation.organisation_id)
    if conversation.category == Category.SENSITIVE:
        focal = list(
            _users(memberships_holding(organisation_id, HANDLER_ROLES, handles_sensitive_complaints=True))
        )
        if level <= 1:
            first = [user for user in _first_responders(conversation, now) if user in focal]
            return first or focal
        return focal
    if level <= 1:
        return _first_responders(conversation, now)
    roles: tuple[str, ...] = (Role.SITE_MANAGER,) if level == 2 else (Role.SITE_MANAGER, Role.ADMINISTRATOR)
    return list(_users(memberships_holding(organisation_id, roles))) or list(handlers(organisation_id))


# --- Telling them -----------------------------------------------------------------------------------


def _sms_gateway(conversation: Conversation) -> Gateway | None:
    """The organisation's own SMS channel for staff alerts (the conversation's when it is one)."""
    channels = Gateway.objects.filter(
        organisation_id=conversation.organisation_id,
        is_active=True,
        medium=Medium.SMS,
        kind__in=[GatewayKind.TWILIO, GatewayKind.GENERIC_JSON],
    ).order_by("pk")
    return channels.filter(pk=conversation.gateway_id).first() or channels.first()


def _text(alert: UrgentAlert, *, reminder: bool) -> str:
    values = {"id": alert.conversation_id, "reason": urgent.reason_label(alert.reason)}
    if reminder:
        values["minutes"] = settings.URGENT_ESCALATE_MINUTES
        return (
            _(
                "URGENT, not acknowledged after %(minutes)s minutes: conversation %(id)s may be a call for "
                "help (%(reason)s)."
            )
            % values
        )
    return _("URGENT: conversation %(id)s may be a call for help (%(reason)s).") % values


def _tell(alert: UrgentAlert, users: list[User], *, reminder: bool) -> None:
    conversation = alert.conversation
    gateway = _sms_gateway(conversation)
    for user in users:
        with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
            text = _text(alert, reminder=reminder)
            path = reverse("alerts:list")
            link = f"{settings.PUBLIC_BASE_URL}{path}"
            acknowledge = _("Acknowledge it here: %(link)s") % {"link": link}
            subject = _("Urgent: conversation %(id)s") % {"id": alert.conversation_id}
        organisation_id = int(conversation.organisation_id)
        if user.phone:
            services.send(
                Channel.SMS,
                user.phone,
                f"{text} {acknowledge}",
                purpose="urgent_alert",
                organisation_id=organisation_id,
                about=alert,
                gateway=gateway,
            )
        if user.email:
            services.send(
                Channel.EMAIL,
                user.email,
                f"{text}\n\n{acknowledge}",
                subject=subject,
                purpose="urgent_alert",
                organisation_id=organisation_id,
                about=alert,
            )
        services.notify([user], kind="urgent_alert", text=text, url=path)
    alert.notified.add(*users)


# --- Raising, acknowledging, escalating --------------------------------------------------------------


@transaction.atomic
def raise_alert(
    conversation: Conversation, message: Message, reason: str, *, now: datetime.datetime | None = None
) -> UrgentAlert:
    """Alert whoever is on duty; a conversation whose alert is still open keeps that one alert."""
    now = now or timezone.now()
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    open_alert = conversation.alerts.filter(acknowledged_at__isnull=True).first()
    if open_alert is not None:
        return open_alert
    alert = UrgentAlert.objects.create(
        conversation=conversation,
        message=message,
        reason=reason[:200],
        raised_at=now,
        level=1,
        escalate_at=now + escalate_after(),
    )
    told = recipients(conversation, 1, now=now)
    _tell(alert, told, reminder=False)
    audit.record(
        AuditAction.CREATE,
        obj=alert,
        organisation_id=int(conversation.organisation_id),
        detail={"conversation": conversation.pk, "level": 1, "notified": len(told)},
    )
    if not told:
        logger.warning(
            "Urgent alert %s: nobody in organisation %s to tell", alert.pk, conversation.organisation_id
        )
    return alert


def visible_alerts(user: Any) -> QuerySet[UrgentAlert]:
    """Alerts on conversations the user may open; administrators also see their organisations' alerts
    (the reason and the conversation's id only), except on sensitive complaints."""
    scope = scope_for(user)
    if scope.is_anonymous:
        return UrgentAlert.objects.none()
    condition = Q(conversation__in=Conversation.objects.visible_to(user).values("pk"))
    administered = scope.organisations(Permission.MANAGE_ORGANISATION)
    if administered:
        condition |= Q(conversation__organisation__in=administered) & ~Q(
            conversation__category=Category.SENSITIVE
        )
    return UrgentAlert.objects.filter(condition)


def may_see_alerts(user: Any) -> bool:
    scope = scope_for(user)
    return bool(
        scope.organisations(Permission.HANDLE_MESSAGES) or scope.organisations(Permission.MANAGE_ORGANISATION)
    )


@transaction.atomic
def acknowledge(alert: UrgentAlert, *, by: User, now: datetime.datetime | None = None) -> UrgentAlert:
    """Someone takes the alert on: escalation stops and the others who were told hear who did."""
    if not visible_alerts(by).filter(pk=alert.pk).exists():
        raise AlertPermissionError(_("You cannot acknowledge this alert."))
    locked = UrgentAlert.objects.select_for_update().select_related("conversation").get(pk=alert.pk)
    if locked.acknowledged_at is not None:
        raise AlertError(_("This alert was already acknowledged."))
    locked.acknowledged_at = now or timezone.now()
    locked.acknowledged_by = by
    locked.save(update_fields=["acknowledged_at", "acknowledged_by"])
    audit.record_change(
        AuditAction.UPDATE,
        locked,
        by=by,
        fields=["acknowledged_at", "acknowledged_by"],
        detail={"conversation": locked.conversation_id, "level": locked.level},
    )
    others = list(locked.notified.exclude(pk=by.pk).filter(is_active=True))
    for user in others:
        with translation.override(user.preferred_language or settings.LANGUAGE_CODE):
            text = _("The urgent alert on conversation %(id)s was acknowledged by %(username)s.") % {
                "id": locked.conversation_id,
                "username": by.username,
            }
            path = reverse("alerts:list")
        services.notify([user], kind="urgent_alert_acknowledged", text=text, url=path)
    alert.acknowledged_at, alert.acknowledged_by = locked.acknowledged_at, by
    return locked


@dataclass(frozen=True)
class Escalated:
    alerts: int
    notified: int


def escalate_due(*, now: datetime.datetime | None = None) -> Escalated:
    """Alerts nobody acknowledged in time go one level up (safe to run twice or late)."""
    now = now or timezone.now()
    due = UrgentAlert.objects.filter(acknowledged_at__isnull=True, escalate_at__lte=now).order_by(
        "escalate_at"
    )
    alerts = notified = 0
    for pk in list(due.values_list("pk", flat=True)[:1000]):
        with transaction.atomic():
            alert = UrgentAlert.objects.select_for_update().select_related("conversation").get(pk=pk)
            if alert.acknowledged_at is not None or alert.escalate_at > now:
                continue  # acknowledged or escalated meanwhile
            alert.level = min(alert.level + 1, TOP_LEVEL)
            alert.escalate_at = now + escalate_after()
            alert.save(update_fields=["level", "escalate_at"])
            told = recipients(alert.conversation, alert.level, now=now)
            _tell(alert, told, reminder=True)
            audit.record(
                AuditAction.UPDATE,
                obj=alert,
                organisation_id=int(alert.conversation.organisation_id),
                fields=["level", "escalate_at"],
                detail={"conversation": alert.conversation_id, "level": alert.level, "notified": len(told)},
            )
            alerts += 1
            notified += len(told)
    return Escalated(alerts, notified)


def conversation_url(conversation_id: int) -> str:
    """The inbox page of a conversation, or "" while the inbox has none (the id is shown instead)."""
    for arguments in ({"args": [conversation_id]}, {"kwargs": {"pk": conversation_id}}):
        try:
            return reverse("inbox:detail", **arguments)
        except NoReverseMatch:
            continue
    return ""


# --- Duty shifts ------------------------------------------------------------------------------------


def duty_organisations(user: Any) -> set[int]:
    """Organisations whose duty rota the user may read and change: message handlers and administrators."""
    scope = scope_for(user)
    return scope.organisations(Permission.HANDLE_MESSAGES) | scope.organisations(
        Permission.MANAGE_ORGANISATION
    )


def shifts_for(user: Any, *, now: datetime.datetime | None = None) -> QuerySet[DutyShift]:
    """Current and coming shifts of the user's organisations."""
    now = now or timezone.now()
    return (
        DutyShift.objects.filter(organisation_id__in=duty_organisations(user), ends_at__gt=now)
        .select_related("user", "organisation")
        .order_by("starts_at", "pk")
    )


def duty_candidates(user: Any) -> QuerySet[User]:
    """Who the user may put on duty: the message handlers of the organisations whose rota they keep."""
    memberships = Membership.objects.filter(
        organisation_id__in=duty_organisations(user), role__in=HANDLER_ROLES, is_active=True
    )
    return _users(memberships).order_by("username")


@transaction.atomic
def add_shift(
    organisation_id: int,
    *,
    user: User,
    starts_at: datetime.datetime,
    ends_at: datetime.datetime,
    by: User,
) -> DutyShift:
    if organisation_id not in duty_organisations(by):
        raise AlertPermissionError(_("You cannot change this organisation's duty rota."))
    if not handlers(organisation_id).filter(pk=user.pk).exists():
        raise AlertError(
            _("Only someone who handles the organisation's messages can be on duty."), field="user"
        )
    if ends_at <= starts_at:
        raise AlertError(_("The shift must end after it starts."), field="ends_at")
    if ends_at - starts_at > datetime.timedelta(days=31):
        raise AlertError(_("A shift lasts at most 31 days."), field="ends_at")
    shift = DutyShift.objects.create(
        organisation_id=organisation_id, user=user, starts_at=starts_at, ends_at=ends_at
    )
    audit.record(
        AuditAction.CREATE,
        by=by,
        obj=shift,
        organisation_id=organisation_id,
        detail={"user": user.pk},
    )
    return shift


@transaction.atomic
def remove_shift(shift: DutyShift, *, by: User) -> None:
    if shift.organisation_id not in duty_organisations(by):
        raise AlertPermissionError(_("You cannot change this organisation's duty rota."))
    audit.record(
        AuditAction.DELETE,
        by=by,
        obj=shift,
        organisation_id=int(shift.organisation_id),
        detail={"user": shift.user_id},
    )
    shift.delete()
