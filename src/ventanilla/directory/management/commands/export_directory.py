"""`ventanilla export-directory FILE [--format csv|xlsx]`: service points with an HXL hashtag row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from ventanilla.accounts.models import Organisation
from ventanilla.directory.exports import FORMATS, export_points
from ventanilla.directory.models import PublicationStatus, ServicePoint


class Command(BaseCommand):
    help = (
        "Write service points to a .csv or .xlsx file (the columns the import reads, an HXL row under the "
        "header). By default every published point; --organisation and --status choose others. Audited."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", help="where to write; the format follows the extension unless --format")
        parser.add_argument("--format", choices=FORMATS, default=None, help="csv or xlsx")
        parser.add_argument(
            "--organisation", type=int, default=None, help="only points this organisation keeps"
        )
        parser.add_argument(
            "--status",
            choices=[*PublicationStatus.values, "all"],
            default=PublicationStatus.PUBLISHED,
            help="points in this status (default: published)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        file_format = options["format"] or path.suffix.lstrip(".").lower() or "csv"
        if file_format not in FORMATS:
            raise CommandError(
                f"Cannot tell the format from {path.name}: give --format csv or --format xlsx."
            )
        points = ServicePoint.objects.all()
        organisation_id = options["organisation"]
        if organisation_id is not None:
            if not Organisation.objects.filter(pk=organisation_id).exists():
                raise CommandError(f"No organisation has the id {organisation_id}.")
            points = points.filter(owner_id=organisation_id)
        if options["status"] != "all":
            points = points.filter(status=options["status"])
        exported = export_points(points, file_format=file_format, by=None, organisation_id=organisation_id)
        try:
            path.write_bytes(exported.content)
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror or error}.") from None
        self.stdout.write(f"Wrote {exported.rows} service points to {path} ({file_format}).")
