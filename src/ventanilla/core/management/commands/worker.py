"""`ventanilla worker`: a Celery worker (needs CELERY_BROKER_URL)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Run a Celery worker for background tasks."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.CELERY_BROKER_URL:
            raise CommandError(
                "CELERY_BROKER_URL is not set: without a broker, tasks already run in-process."
            )
        from ventanilla.celery_app import app

        app.worker_main(
            ["worker", "--loglevel=INFO", f"--concurrency={options['concurrency']}", "--without-gossip"]
        )
