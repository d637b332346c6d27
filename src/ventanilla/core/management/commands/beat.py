"""`ventanilla beat`: periodic jobs — Celery beat with a broker, an in-process loop without one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the periodic job scheduler."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.CELERY_BROKER_URL:
            from ventanilla.celery_app import app

            app.start(
                ["beat", "--loglevel=INFO", "--schedule", str(settings.DATA_DIR / "celerybeat-schedule")]
            )
            return
        from ventanilla.core.tasks import run_in_process_beat

        self.stdout.write("No broker configured: running periodic jobs in this process.")
        run_in_process_beat()
