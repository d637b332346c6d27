"""How soon each organisation answers: the targets behind "answer due" and the overdue view.

A hotline that promises an answer within four hours, or a feedback line within three days, sets its
own targets (administrators, on the channels pages); without a row the defaults hold. A message that
opens or reopens a conversation makes it due `answer_hours` later; a message or a triage that makes it
urgent brings that forward to `urgent_hours` (never later than it already was). Changing a target
applies to what arrives next, not to conversations already waiting: their due time was a promise made
when they arrived.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging.inbox import InboxError, InboxPermissionError
from ventanilla.messaging.models_inbox import ResponseTimes

ANSWER_HOURS = (1, 720)  # up to 30 days
URGENT_HOURS = (1, 72)


@dataclass(frozen=True)
class Targets:
    answer_hours: int = 24
    urgent_hours: int = 1

    def answer_due(self, at: datetime.datetime) -> datetime.datetime:
        return at + datetime.timedelta(hours=self.answer_hours)

    def urgent_due(self, at: datetime.datetime) -> datetime.datetime:
        return at + datetime.timedelta(hours=self.urgent_hours)


DEFAULT = Targets()


def targets_for(organisation_id: int) -> Targets:
    row = ResponseTimes.objects.filter(organisation_id=organisation_id).first()
    return Targets(row.answer_hours, row.urgent_hours) if row is not None else DEFAULT


@transaction.atomic
def set_targets(organisation: Organisation, *, answer_hours: int, urgent_hours: int, by: Any) -> Targets:
    """An administrator of the organisation sets its targets; every wrong value is named."""
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
    if errors:
        raise InboxError(errors=errors)
    row, _created = ResponseTimes.objects.select_for_update().get_or_create(organisation=organisation)
    changed = [
        name
        for name, value in (("answer_hours", answer_hours), ("urgent_hours", urgent_hours))
        if getattr(row, name) != value
    ]
    if changed or _created:
        row.answer_hours, row.urgent_hours = answer_hours, urgent_hours
        row.save()
        audit.record(
            AuditAction.UPDATE,
            by=by,
            obj=organisation,
            fields=changed,
            detail={"response_hours": answer_hours, "urgent_hours": urgent_hours},
        )
    return Targets(answer_hours, urgent_hours)
