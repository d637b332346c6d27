"""Background work: `enqueue()` and the periodic schedule.

Tasks take ids, load their rows themselves and are safe to run twice. They run after the surrounding
transaction commits, so a worker never sees a row that was rolled back: in-process when no broker is
configured (the embedded set-up), on a Celery worker otherwise.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from celery.app.task import Task
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)


def enqueue(task: Task, *ids: int | str) -> None:
    """Run `task(*ids)` once the current transaction commits (immediately when there is none)."""
    if any(not isinstance(value, int | str) for value in ids):
        raise TypeError("Tasks take ids (int or str), never objects: the worker loads what it needs.")

    def dispatch() -> None:
        if settings.ENQUEUE_IN_PROCESS:
            result = task.apply(args=ids)
            if result.failed():
                logger.error("In-process task %s failed (%s)", task.name, type(result.result).__name__)
        else:
            task.apply_async(args=ids)

    transaction.on_commit(dispatch, robust=False)


def periodic_schedule() -> dict[str, dict[str, Any]]:
    """The beat schedule, shared by Celery beat and the in-process scheduler."""
    return dict(settings.CELERY_BEAT_SCHEDULE)


def run_in_process_beat(*, stop: Callable[[], bool] | None = None, tick_seconds: float = 30.0) -> None:
    """Run the periodic schedule without a broker (the embedded set-up): each due task runs here."""
    from celery import current_app

    # A worker imports every app's tasks.py at start; this loop must too, or a scheduled task whose
    # module nothing else imported is missing from the registry (KeyError) when it first falls due.
    autodiscover_modules("tasks")
    last_run: dict[str, datetime] = {}
    while stop is None or not stop():
        now = timezone.now()
        for name, entry in periodic_schedule().items():
            schedule = entry["schedule"]
            previous = last_run.setdefault(name, now)
            due, _next_in = schedule.is_due(previous)
            if due:
                last_run[name] = now
                task = current_app.tasks[entry["task"]]
                result = task.apply(args=entry.get("args", ()))
                if result.failed():
                    logger.error("Periodic task %s failed (%s)", name, type(result.result).__name__)
        time.sleep(tick_seconds)
