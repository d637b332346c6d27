"""`ventanilla load-demo`: fictional demo data for the embedded set-up; safe to run twice."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from ventanilla.accounts.demo import DEMO_PASSWORD, load_demo_accounts
from ventanilla.areas.services import AreaImportError, import_areas

CORRIDOR_FILE = settings.PACKAGE_DIR / "areas" / "data" / "corridor_gt_mx.csv"


class Command(BaseCommand):
    help = "Load the demo corridor (Guatemala–Mexico areas), organisations, sites and one user per role."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            areas = import_areas(CORRIDOR_FILE)
        except AreaImportError as error:
            raise CommandError(f"The demo area file is invalid: {error}") from None
        logins = load_demo_accounts()
        console = Console()
        console.print(
            f"Demo data ready: {areas.created} new areas ({areas.unchanged} already there). "
            "All organisations and people in the demo are fictional."
        )
        table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
        for column in ("username", "role", "organisation"):
            table.add_column(column)
        for row in logins:
            table.add_row(*row)
        console.print(table)
