"""`ventanilla import-areas FILE`: load administrative areas (P-codes) from a COD-AB table, .csv or .xlsx."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from ventanilla.areas.services import AreaImportError, import_areas


class Command(BaseCommand):
    help = (
        "Create or update administrative areas from a COD-AB table (ADM0_PCODE, ADM0_EN, ADM1_PCODE, "
        "ADM1_EN, ADM2_PCODE, ADM2_EN, optionally ADM1_ES ...). Every row is checked first; on any problem "
        "nothing is written."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="a .csv or .xlsx file in the COD-AB tabular layout")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        try:
            # The bar goes to stderr, so that stdout carries only the result.
            console = Console(stderr=True)
            with Progress(
                *columns, console=console, transient=True, disable=options["verbosity"] == 0
            ) as progress:
                # The number of rows is known only once the file is read: the bar pulses and counts.
                bar = progress.add_task("Checking rows", total=None)
                result = import_areas(path, progress=lambda n: progress.advance(bar, n))
        except AreaImportError as error:
            for problem in error.errors:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(error.errors)} problem(s) in {path}; nothing was imported.") from None
        self.stdout.write(
            f"Imported {result.total} areas from {path}: {result.created} created, {result.updated} updated, "
            f"{result.unchanged} unchanged."
        )
