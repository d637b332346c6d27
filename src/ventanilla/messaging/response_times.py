"""How soon each organisation answers: the targets behind "answer due" and the overdue view.

A hotline that promises an answer within four hours, or a feedback line within three days, sets its
own targets (administrators, on the channels pages); without a row the defaults hold. A message that
opens or reopens a conversation makes it due `answer_hours` later; a message or a triage that makes it
urgent brings that forward to `urgent_hours` (never later than it already was). A category may have
its own target (a request for help within 4 hours, a complaint within 3 days): once a conversation has
that category (triaged by staff, or chosen on the web form), it is due that long after the person
started waiting. Changing a target applies to what arrives or is triaged next, not to conversations
already waiting: their due time was a promise made when they arrived.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Max, Min
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging.inbox import InboxError, InboxPermissionError
from ventanilla.messaging.inbox_queries import WAITING
from ventanilla.messaging.models_inbox import Category, Conversation, Direction, ResponseTimes, Urgency

ANSWER_HOURS = (1, 720)  # up to 30 days
URGENT_HOURS = (1, 72)


# Categories that may have their own target (not triaged: the general target holds).
TARGET_CATEGORIES = tuple(code for code in Category.values if code)


@dataclass(frozen=True)
class Targets:
    answer_hours: int = 24
    urgent_hours: int = 1
    category_hours: Mapping[str, int] = field(default_factory=dict)

    def hours_for(self, category: str) -> int:
        return self.category_hours.get(category, self.answer_hours)

    def answer_due(self, at: datetime.datetime, category: str = "") -> datetime.datetime:
        return at + datetime.timedelta(hours=self.hours_for(category))

    def urgent_due(self, at: datetime.datetime) -> datetime.datetime:
        return at + datetime.timedelta(hours=self.urgent_hours)


DEFAULT = Targets()


def targets_for(organisation_id: int) -> Targets:
    row = ResponseTimes.objects.filter(organisation_id=organisation_id).first()
    if row is None:
        return DEFAULT
    return Targets(row.answer_hours, row.urgent_hours, _known(row.category_hours))


def _known(stored: Any) -> dict[str, int]:
    """The stored category targets that still name a category (a removed category is ignored)."""
    if not isinstance(stored, dict):
        return {}
    return {code: int(hours) for code, hours in stored.items() if code in TARGET_CATEGORIES}


def _check_category_hours(given: Mapping[str, Any]) -> tuple[dict[str, int], str]:
    """The category targets to keep (a blank one is dropped) and, if any is wrong, what is wrong."""
    labels = dict(Category.choices)
    low, high = ANSWER_HOURS
    kept: dict[str, int] = {}
    wrong: list[str] = []
    for code, hours in given.items():
        if code not in TARGET_CATEGORIES:
            wrong.append(_("%(code)s is not a category.") % {"code": str(code)[:40]})
        elif hours is None or hours == "":
            continue
        elif isinstance(hours, bool) or not isinstance(hours, int) or not low <= hours <= high:
            wrong.append(
                _("%(category)s: choose between %(low)s and %(high)s hours.")
                % {"category": labels[code], "low": low, "high": high}
            )
        else:
            kept[code] = hours
    return kept, " ".join(wrong)


@transaction.atomic
def set_targets(
    organisation: Organisation,
    *,
    answer_hours: int,
    urgent_hours: int,
    by: Any,
    category_hours: Mapping[str, Any] | None = None,
) -> Targets:
    """An administrator of the organisation sets its targets; every wrong value is named.

    `category_hours` maps category codes to hours (None or blank: the category follows
    `answer_hours`); left out (None), the category targets stay as they are."""
    if organisation.pk not in scope_for(by).organisations(Permission.MANAGE_ORGANISATION):
        raise InboxPermissionError(_("Only an administrator of the organisation may set its response times."))
    errors: dict[str, str] = {}
    low, high = ANSWER_HOURS
    if not low <= answer_hours <= high:
        errors["answer_hours"] = _("Choose between %(low)s and %(high)s hours.") % {"low": low, "high": high}
    low, high = URGENT_HOURS
    if not low <= urgent_hours <= high:
        errors["urgent_hours"] = _("Choose between %(low)s and %(high)s hours.") % {"low": low, "high": high}
    elif not errors and urgent_hours > answer_hours:
        errors["urgent_hours"] = _("An urgent message cannot wait longer than any other.")
    by_category: dict[str, int] | None = None
    if category_hours is not None:
        by_category, wrong = _check_category_hours(category_hours)
        if wrong:
            errors["category_hours"] = wrong
    if errors:
        raise InboxError(errors=errors)
    row, _created = ResponseTimes.objects.select_for_update().get_or_create(organisation=organisation)
    if by_category is None:
        by_category = _known(row.category_hours)
    changed = [
        name
        for name, value in (
            ("answer_hours", answer_hours),
            ("urgent_hours", urgent_hours),
            ("category_hours", by_category),
        )
        if getattr(row, name) != value
    ]
    if changed or _created:
        row.answer_hours, row.urgent_hours, row.category_hours = answer_hours, urgent_hours, by_category
        row.save()
        audit.record(
            AuditAction.UPDATE,
            by=by,
            obj=organisation,
            fields=changed,
            detail={"response_hours": answer_hours, "urgent_hours": urgent_hours, **_audited(by_category)},
        )
    return Targets(answer_hours, urgent_hours, by_category)


def _audited(by_category: Mapping[str, int]) -> dict[str, int]:
    """Category targets as audit detail: codes and numbers only."""
    return {f"hours_{code}": hours for code, hours in sorted(by_category.items())}


# --- a conversation's due time once it has a category ---------------------------------------------------


def waiting_since(conversation: Conversation) -> datetime.datetime | None:
    """When the person started waiting: their first message after the last answer (None if none)."""
    messages = conversation.messages.all()
    last_answer = messages.filter(direction=Direction.OUT).aggregate(at=Max("at"))["at"]
    waiting = messages.filter(direction=Direction.IN)
    if last_answer is not None:
        waiting = waiting.filter(at__gt=last_answer)
    since: datetime.datetime | None = waiting.aggregate(at=Min("at"))["at"]
    return since


def due_after_triage(conversation: Conversation, previous_category: str) -> datetime.datetime | None:
    """The new "answer due" of a waiting conversation whose category changed, or None to keep it.

    Only when the old or the new category has its own target (otherwise the promise made on arrival
    stands, even if the general target changed since); an urgent conversation keeps an earlier time."""
    if conversation.status not in WAITING:
        return None
    targets = targets_for(conversation.organisation_id)
    own = targets.category_hours
    if previous_category not in own and conversation.category not in own:
        return None
    since = waiting_since(conversation)
    if since is None:
        return None
    due = targets.answer_due(since, conversation.category)
    if conversation.urgency == Urgency.URGENT and conversation.respond_by is not None:
        due = min(due, conversation.respond_by)
    return None if due == conversation.respond_by else due
