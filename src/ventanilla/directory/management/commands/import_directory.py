"""`ventanilla import-directory FILE --organisation ID [--skip-invalid]`: points from a .csv or .xlsx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from ventanilla.accounts.models import Organisation
from ventanilla.directory.imports import DirectoryImportError, count_rows, import_directory


class Command(BaseCommand):
    help = (
        "Create service points, kept by an organisation, from a .csv or .xlsx file with the columns of "
        "an export (provider, name, categories ...); rows with an id update that point of the organisation. "
        "Every row is checked first; on any problem nothing "
        "is written, unless --skip-invalid is given. Unknown providers are created as drafts."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="a .csv or .xlsx file")
        parser.add_argument(
            "--organisation", type=int, required=True, help="id of the organisation that keeps the rows"
        )
        parser.add_argument(
            "--skip-invalid", action="store_true", help="import the valid rows and skip the invalid ones"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        organisation = Organisation.objects.filter(pk=options["organisation"], is_active=True).first()
        if organisation is None:
            raise CommandError(f"No active organisation has the id {options['organisation']}.")
        columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
        try:
            # The bar goes to stderr, so that stdout carries only the result.
            with Progress(
                *columns, console=Console(stderr=True), transient=True, disable=options["verbosity"] == 0
            ) as progress:
                checking = progress.add_task("Checking rows", total=count_rows(Path(path)) or None)
                writing = progress.add_task("Writing points", total=None, visible=False)

                def wrote(count: int) -> None:
                    progress.update(writing, visible=True)
                    progress.advance(writing, count)

                result = import_directory(
                    path,
                    organisation=organisation,
                    by=None,
                    skip_invalid=options["skip_invalid"],
                    progress=lambda count: progress.advance(checking, count),
                    write_progress=wrote,
                )
        except DirectoryImportError as error:
            for problem in error.report.errors:
                self.stderr.write(str(problem))
            raise CommandError(
                f"{len(error.report.errors)} problem(s) in {path}; nothing was imported."
            ) from None
        except FileNotFoundError:
            raise CommandError(f"{path} does not exist.") from None
        self.stdout.write(
            f"Imported {result.points_created} new service points and updated {result.points_updated} "
            f"from {path} for {organisation.name}: "
            f"{result.providers_created} new providers (drafts), {result.rows_skipped} invalid rows skipped, "
            f"{result.warnings} warnings."
        )
