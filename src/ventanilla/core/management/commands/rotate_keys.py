"""`ventanilla rotate-keys`: re-encrypt every personal field under the first key, in batches."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from ventanilla.core import audit
from ventanilla.core.crypto import DecryptionError
from ventanilla.core.keys import encrypted_columns, rotate_column
from ventanilla.core.models import AuditAction


class Command(BaseCommand):
    help = "Re-encrypt personal data with the first key of FIELD_ENCRYPTION_KEYS (put the new key first)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        columns = encrypted_columns()
        total = 0
        try:
            with Progress(disable=options["verbosity"] == 0) as progress:
                for column in columns:
                    bar = progress.add_task(f"{column.label}", total=column.count())
                    total += rotate_column(
                        column,
                        batch_size=options["batch_size"],
                        progress=partial(progress.advance, bar),
                    )
        except DecryptionError as error:
            raise CommandError(
                f"{error} Keep the old key in FIELD_ENCRYPTION_KEYS until rotation finishes."
            ) from None
        audit.record(AuditAction.KEY_ROTATION, detail={"values": total, "columns": len(columns)})
        self.stdout.write(f"Re-encrypted {total} values in {len(columns)} columns.")
