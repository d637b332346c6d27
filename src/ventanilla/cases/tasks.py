"""Background work for cases: the morning reminders."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="ventanilla.cases.send_overdue_reminders")
def send_overdue_reminders() -> int:
    from ventanilla.cases import overdue

    return overdue.send_reminders()
