"""`ventanilla export-registrations`: the staff exports from the command line, with a progress bar.

The export is scoped and audited exactly as in the staff pages: it runs as `--user`, sees what that
user may see, and records the reason (encrypted) on an export record.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ventanilla.accounts.models import User
from ventanilla.registration import exports
from ventanilla.registration.models import ExportKind


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}.") from None


class Command(BaseCommand):
    help = (
        "Export registrations as --user sees them: --kind personal (needs export_personal_data and a "
        "--reason) or deidentified (only registrations with statistics consent). CSV or XLSX with an HXL row."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--kind", required=True, choices=ExportKind.values)
        parser.add_argument("--format", required=True, choices=exports.FORMATS)
        parser.add_argument("--reason", default="", help="why (required for personal data; kept encrypted)")
        parser.add_argument("--user", required=True, help="username of the staff member taking the export")
        parser.add_argument("--output", default=None, help="file to write (default: a name in this folder)")
        parser.add_argument("--site", type=int, default=None, help="only this site (id)")
        parser.add_argument(
            "--from", dest="registered_from", default=None, help="registered on or after (YYYY-MM-DD)"
        )
        parser.add_argument(
            "--to", dest="registered_to", default=None, help="registered on or before (YYYY-MM-DD)"
        )
        parser.add_argument("--flag", default="", help="only people or registrations with this flag code")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user is called {options['user']!r}.")
        filters = exports.Filters(
            site=options["site"],
            registered_from=_day(options["registered_from"]) if options["registered_from"] else None,
            registered_to=_day(options["registered_to"]) if options["registered_to"] else None,
            flag=options["flag"],
        )
        try:
            job = exports.request_export(
                by=user,
                kind=options["kind"],
                file_format=options["format"],
                reason=options["reason"],
                filters=filters,
            )
        except exports.InvalidExport as error:
            raise CommandError(
                " ".join(f"--{name.replace('_', '-')}: {message}" for name, message in error.errors.items())
            ) from None
        except exports.ExportRefused:
            raise CommandError(f"{user.username} may not take a {options['kind']} export.") from None
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            transient=True,
            disable=options["verbosity"] == 0,
        ) as progress:
            bar = progress.add_task("Exporting", total=None)
            written = exports.run_export(
                job,
                store=False,
                progress=lambda done, total: progress.update(bar, completed=done, total=total),
            )
        assert written is not None  # a job just created is pending
        path = Path(options["output"] or exports.download_name(job))
        try:
            path.write_bytes(written.content)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror or error}.") from None
        self.stdout.write(f"Wrote {written.rows} rows to {path} (export #{job.pk}, audited).")
