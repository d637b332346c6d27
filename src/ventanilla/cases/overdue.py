"""The daily overdue list: referrals past the partner's committed answer time, tasks past due.

Both pages are read in order off a partial index per site (`referral_site_waiting_idx`: waiting
referrals by `(site, respond_by, id)`; `task_site_open_due_idx`: open tasks by `(site, due_on, id)`), so a
page costs 100 index entries however many are overdue; the counts are index-only scans.
benchmarks/bench_overdue.py holds the list to p95 ≤ 200 ms with 100,000 open referrals.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Membership, User
from ventanilla.cases.models import CaseTask
from ventanilla.core.roles import Permission, Role
from ventanilla.core.scoping import scope_for
from ventanilla.referrals.models import Referral, ReferralStatus

LIMIT = 100
WAITING = (ReferralStatus.SENT, ReferralStatus.EXPIRED)


def _site_q(user: Any) -> Any:
    return scope_for(user).site_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation", site="site")


def referrals(user: Any, *, now: datetime.datetime | None = None, mine: bool = False) -> QuerySet[Referral]:
    """Sent referrals without an answer past the agreed time (expired ones stay until someone acts)."""
    now = now or timezone.now()
    rows = Referral.objects.filter(_site_q(user), status__in=WAITING, respond_by__lt=now)
    if mine:
        rows = rows.filter(created_by=user)
    return rows.order_by("respond_by", "pk")


def tasks(user: Any, *, today: datetime.date | None = None, mine: bool = False) -> QuerySet[CaseTask]:
    today = today or timezone.localdate()
    rows = CaseTask.objects.filter(_site_q(user), done_at__isnull=True, due_on__lt=today)
    if mine:
        rows = rows.filter(assigned_to=user)
    return rows.order_by("due_on", "pk")


@dataclass
class OverdueList:
    referrals: list[Referral] = field(default_factory=list)
    referral_count: int = 0
    tasks: list[CaseTask] = field(default_factory=list)
    task_count: int = 0

    @property
    def empty(self) -> bool:
        return not (self.referral_count or self.task_count)


def overdue_list(
    user: Any, *, now: datetime.datetime | None = None, mine: bool = False, limit: int = LIMIT
) -> OverdueList:
    now = now or timezone.now()
    referral_rows = referrals(user, now=now, mine=mine)
    task_rows = tasks(user, today=timezone.localdate(now), mine=mine)
    page = list(
        referral_rows.select_related("pathway__provider", "site", "person").only(
            "reference",
            "status",
            "category",
            "urgency",
            "respond_by",
            "sent_at",
            "escalated_at",
            "site__name",
            "pathway__name",
            "pathway__provider__name",
            "person__reference",
        )[:limit]
    )
    task_page = list(task_rows.select_related("case", "assigned_to")[:limit])
    return OverdueList(
        referrals=page,
        referral_count=len(page) if len(page) < limit else referral_rows.count(),
        tasks=task_page,
        task_count=len(task_page) if len(task_page) < limit else task_rows.count(),
    )


def send_reminders(*, now: datetime.datetime | None = None) -> int:
    """Each case worker and site manager with something overdue gets one notice and one email."""
    from ventanilla.messaging import services as messaging
    from ventanilla.messaging.models import Channel

    now = now or timezone.now()
    user_ids = (
        Membership.objects.filter(
            is_active=True, organisation__is_active=True, role__in=[Role.CASEWORKER, Role.SITE_MANAGER]
        )
        .values_list("user_id", flat=True)
        .distinct()
    )
    sent = 0
    for user in User.objects.filter(pk__in=list(user_ids), is_active=True):
        manager = Membership.objects.filter(user=user, role=Role.SITE_MANAGER, is_active=True).exists()
        found = overdue_list(user, now=now, mine=not manager, limit=1)
        if found.empty:
            continue
        text = _("Overdue: %(referrals)s referrals without an answer, %(tasks)s follow-up tasks.") % {
            "referrals": found.referral_count,
            "tasks": found.task_count,
        }
        url = reverse("cases:overdue")
        messaging.notify([user], kind="overdue", text=text, url=url)
        if user.email:
            messaging.send(
                Channel.EMAIL, user.email, text + "\n" + url, subject=text, purpose="overdue_reminder"
            )
        sent += 1
    return sent
