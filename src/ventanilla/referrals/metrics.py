"""Referral metrics per partner, service category or site, for a period: how partners answer and serve.

Computed with aggregate queries over `Referral` timestamps and `ReferralEvent` rows: counts, ids, codes
and datetimes only — no personal value is read, so the rows are not read through `visible_to` (which
is about who may see a person) but through `scope_q` below, which says whose referrals a user may count.

Definitions (the page and the API repeat them):

- **Period**: referrals whose `sent_at` (the last time they were sent) falls between the two dates,
  inclusive, in the current time zone. Drafts never sent are not counted.
- **Sent**: every referral in the period, whatever happened next.
- **Accepted**, **declined**, **expired**: the partner's answer. Each referral counts in at most one of
  the three, the best that happened: accepted (it has `accepted_at`), else declined (a `declined`
  event), else expired (an `expired` event: no answer within the committed time, even if it was sent
  again and is waiting once more). Referrals still waiting for a first answer, or withdrawn before one,
  count in none.
- **Withdrawn**: referrals the sender (or a consent withdrawal) ended; at any stage, so a withdrawn
  referral may also count as accepted.
- **Delivered**, **not delivered**: the outcome the partner recorded (`delivered_at`, or a
  `not_delivered` event).
- **Acceptance rate** = accepted ÷ (accepted + declined + expired): of the referrals that got an answer
  or ran out of time, the share accepted. Waiting referrals are left out rather than counted as failures.
- **Time to acceptance** (median and 90th percentile, hours) = `accepted_at` − `sent_at`, over accepted
  referrals; **time to service** (median, hours) = `delivered_at` − `sent_at`, over delivered ones.
  Percentiles interpolate between the two nearest values (as PostgreSQL's `percentile_cont`).
- **Completion rate** = delivered ÷ (delivered + not delivered): of the accepted referrals whose outcome
  was recorded, the share where the service was given. Referrals still in progress are left out, so a
  recent period is not penalised for work not yet finished (delivered ÷ accepted would be).
- Small counts are shown as they are: these count referrals, not people, and a row names a partner,
  service or site, never a person.

Who counts what: referrals sent by the organisations where the user holds `view_aggregates` (for a
site-scoped role such as a site manager, by their sites only, as everywhere else), plus referrals those
organisations received as a partner (organisation-wide roles only: a received referral belongs to no
site of the partner).
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ventanilla.core import tabular
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory.models import Category
from ventanilla.referrals.models import Referral, ReferralEvent, ReferralStatus

DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366

GROUPINGS: dict[str, Any] = {
    "partner": _("Partner"),
    "category": _("Service"),
    "site": _("Site"),
}
SIDES: dict[str, Any] = {
    "all": _("Sent and received"),
    "sent": _("Sent by us"),
    "received": _("Received by us as partner"),
}
# The counted columns, in the order pages and files show them.
COUNTS = ("sent", "accepted", "declined", "expired", "withdrawn", "delivered", "not_delivered")


class MetricsError(ValueError):
    def __init__(self, message: str, *, field: str = ""):
        self.field = field
        super().__init__(message)


def may_view(user: Any) -> bool:
    return scope_for(user).has(Permission.VIEW_AGGREGATES)


def scope_q(user: Any, *, side: str = "all") -> Q:
    """The referrals the user may count (see the module docstring); none without view_aggregates."""
    scope = scope_for(user)
    sent = scope.site_q(Permission.VIEW_AGGREGATES, organisation="organisation", site="site")
    whole = {
        grant.organisation_id
        for grant in scope.grants
        if Permission.VIEW_AGGREGATES in grant.permissions and not grant.site_scoped
    }
    received = Q(partner_organisation__in=whole) if whole else Q(pk__in=[])
    if side == "sent":
        return sent
    if side == "received":
        return received
    return sent | received


def default_period(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=DEFAULT_DAYS - 1), today


def percentile(values: list[float], fraction: float) -> float | None:
    """Linear interpolation between the closest ranks (PostgreSQL's percentile_cont); None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * fraction
    lower, upper = math.floor(position), math.ceil(position)
    return ordered[lower] + (ordered[upper] - ordered[lower]) * (position - lower)


def _rate(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass(frozen=True)
class MetricsRow:
    """One partner, service or site (or the total): counts, rates (0–1) and durations (hours)."""

    key: str
    label: str
    sent: int = 0
    accepted: int = 0
    declined: int = 0
    expired: int = 0
    withdrawn: int = 0
    delivered: int = 0
    not_delivered: int = 0
    acceptance_rate: float | None = None
    hours_to_acceptance_median: float | None = None
    hours_to_acceptance_p90: float | None = None
    hours_to_service_median: float | None = None
    completion_rate: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass(frozen=True)
class Metrics:
    group_by: str
    side: str
    date_from: datetime.date
    date_to: datetime.date
    rows: list[MetricsRow] = field(default_factory=list)
    total: MetricsRow = field(default_factory=lambda: MetricsRow(key="total", label=""))


def _ever(status: str) -> Exists:
    return Exists(ReferralEvent.objects.filter(referral=OuterRef("pk"), to_status=status))


def _counters() -> dict[str, Count]:
    answered_before = Q(accepted_at__isnull=True)
    declined = Q(answered_before, _ever(ReferralStatus.DECLINED))
    return {
        "sent": Count("pk"),
        "accepted": Count("pk", filter=Q(accepted_at__isnull=False)),
        "declined": Count("pk", filter=declined),
        "expired": Count(
            "pk", filter=Q(answered_before, ~Q(_ever(ReferralStatus.DECLINED)), _ever(ReferralStatus.EXPIRED))
        ),
        "withdrawn": Count("pk", filter=Q(status=ReferralStatus.WITHDRAWN)),
        "delivered": Count("pk", filter=Q(delivered_at__isnull=False)),
        "not_delivered": Count("pk", filter=Q(_ever(ReferralStatus.NOT_DELIVERED))),
    }


_KEYS = {"partner": "pathway__provider_id", "category": "category", "site": "site_id"}


def _labels(group_by: str, keys: Iterable[Any]) -> dict[Any, str]:
    from ventanilla.accounts.models import Site
    from ventanilla.directory.models import ServiceProvider

    keys = [key for key in keys if key is not None]
    if group_by == "partner":
        return dict(ServiceProvider.objects.filter(pk__in=keys).values_list("pk", "name"))
    if group_by == "site":
        return {
            site.pk: f"{site.name} ({site.organisation.short_name or site.organisation.name})"
            for site in Site.objects.filter(pk__in=keys).select_related("organisation")
        }
    return {code: str(Category(code).label) if code in Category.values else code for code in keys}


def _row(
    key: str, label: str, counts: dict[str, int], durations: list[tuple[float, float | None]]
) -> MetricsRow:
    to_acceptance = [accepted for accepted, _delivered in durations]
    to_service = [delivered for _accepted, delivered in durations if delivered is not None]
    answered = counts["accepted"] + counts["declined"] + counts["expired"]
    outcome = counts["delivered"] + counts["not_delivered"]
    return MetricsRow(
        key=key,
        label=label,
        **{name: counts[name] for name in COUNTS},
        acceptance_rate=_rate(counts["accepted"], answered),
        hours_to_acceptance_median=_hours(percentile(to_acceptance, 0.5)),
        hours_to_acceptance_p90=_hours(percentile(to_acceptance, 0.9)),
        hours_to_service_median=_hours(percentile(to_service, 0.5)),
        completion_rate=_rate(counts["delivered"], outcome),
    )


def referrals_in(
    user: Any, *, date_from: datetime.date, date_to: datetime.date, side: str = "all"
) -> QuerySet[Referral]:
    """The referrals counted for the user in the period (no personal field is read from them here)."""
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    return Referral.objects.filter(scope_q(user, side=side), sent_at__gte=start, sent_at__lt=end)


def referral_metrics(
    user: Any,
    *,
    group_by: str = "partner",
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    side: str = "all",
) -> Metrics:
    """The table for one grouping and period: one row per partner, service or site, and the total.

    Three queries: the counts per group, the counts in total, and the (accepted, delivered) times of
    accepted referrals, from which medians and percentiles are taken in Python.
    """
    if group_by not in GROUPINGS:
        raise MetricsError(str(_("Group by partner, service or site.")), field="group_by")
    if side not in SIDES:
        raise MetricsError(str(_("Choose sent, received or both.")), field="side")
    default_from, default_to = default_period()
    date_from = date_from or (
        date_to - datetime.timedelta(days=DEFAULT_DAYS - 1) if date_to else default_from
    )
    date_to = date_to or max(default_to, date_from)
    if date_from > date_to:
        raise MetricsError(str(_("The end date is before the start date.")), field="to")
    if (date_to - date_from).days >= MAX_DAYS:
        raise MetricsError(str(_("Choose a period of at most three years.")), field="from")
    referrals = referrals_in(user, date_from=date_from, date_to=date_to, side=side)
    key = _KEYS[group_by]
    grouped = {row[key]: row for row in referrals.order_by().values(key).annotate(**_counters())}
    total_counts = referrals.aggregate(**_counters())
    durations: dict[Any, list[tuple[float, float | None]]] = defaultdict(list)
    every: list[tuple[float, float | None]] = []
    timed = (
        referrals.filter(accepted_at__isnull=False)
        .order_by()
        .values_list(key, "sent_at", "accepted_at", "delivered_at")
    )
    for group, sent_at, accepted_at, delivered_at in timed:
        pair = (
            (accepted_at - sent_at).total_seconds() / 3600,
            (delivered_at - sent_at).total_seconds() / 3600 if delivered_at else None,
        )
        durations[group].append(pair)
        every.append(pair)
    labels = _labels(group_by, grouped)
    rows = [
        _row(
            "" if group is None else str(group),
            labels.get(group, "") if group is not None else str(_("No site")),
            counts,
            durations[group],
        )
        for group, counts in grouped.items()
    ]
    rows.sort(key=lambda row: (-row.sent, row.label.lower(), row.key))
    return Metrics(
        group_by=group_by,
        side=side,
        date_from=date_from,
        date_to=date_to,
        rows=rows,
        total=_row("total", str(_("Total")), total_counts, every),
    )


# The definitions, for the page, the CSV and the API's description (the module docstring says the same).
DEFINITIONS: list[tuple[Any, Any]] = [
    (_("Period"), _("Referrals sent (last sent) between the two dates, both included.")),
    (
        _("Accepted, declined, expired"),
        _(
            "The partner's answer. Each referral counts in one of the three at most: accepted if it "
            "was ever accepted, else declined, else expired (no answer within the committed time)."
        ),
    ),
    (_("Withdrawn"), _("Ended by the sender or by a consent withdrawal, at any stage.")),
    (_("Delivered, not delivered"), _("The outcome the partner recorded.")),
    (
        _("Acceptance rate"),
        _("Accepted ÷ (accepted + declined + expired). Referrals still waiting are left out."),
    ),
    (
        _("Time to acceptance"),
        _("Hours from sending to acceptance, over accepted referrals: the median and the 90th percentile."),
    ),
    (_("Time to service"), _("Hours from sending to the service being delivered: the median.")),
    (
        _("Completion rate"),
        _(
            "Delivered ÷ (delivered + not delivered): of the accepted referrals whose outcome was "
            "recorded, the share served. Referrals still in progress are left out."
        ),
    ),
    (
        _("Small numbers"),
        _(
            "Counts are shown as they are, however small: they count referrals, not people, and no "
            "row names a person. With few referrals, rates and times change a lot from one to the next."
        ),
    ),
]


# --- as a table (the page's CSV) -------------------------------------------------------------------

_HXL_GROUP = {"partner": "#org+partner", "category": "#sector", "site": "#loc+site"}
RATES = (
    "acceptance_rate",
    "hours_to_acceptance_median",
    "hours_to_acceptance_p90",
    "hours_to_service_median",
    "completion_rate",
)
COLUMN_LABELS: dict[str, Any] = {
    "sent": _("Sent"),
    "accepted": _("Accepted"),
    "declined": _("Declined"),
    "expired": _("Expired"),
    "withdrawn": _("Withdrawn"),
    "delivered": _("Delivered"),
    "not_delivered": _("Not delivered"),
    "acceptance_rate": _("Acceptance rate"),
    "hours_to_acceptance_median": _("Hours to acceptance (median)"),
    "hours_to_acceptance_p90": _("Hours to acceptance (90th percentile)"),
    "hours_to_service_median": _("Hours to service (median)"),
    "completion_rate": _("Completion rate"),
}


def as_sheet(result: Metrics) -> tabular.Sheet:
    """The table as the CSV gives it: one row per group, then the total; rates as fractions (0–1)."""
    names = [*COUNTS, *RATES]
    columns = [str(GROUPINGS[result.group_by]), *(str(COLUMN_LABELS[name]) for name in names)]
    hxl = [
        _HXL_GROUP[result.group_by],
        *(f"#indicator+{'num' if name in COUNTS else 'value'}+{name}" for name in names),
    ]
    rows = [[row.label, *(getattr(row, name) for name in names)] for row in [*result.rows, result.total]]
    return tabular.Sheet(name=f"referral-metrics-{result.group_by}", columns=columns, hxl=hxl, rows=rows)
