"""`ventanilla audit-verify`: prove the audit log was not edited, shortened in the middle or reordered."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from rich.progress import Progress

from ventanilla.core.audit import verify_chain
from ventanilla.core.models import AuditEntry


class Command(BaseCommand):
    help = "Verify the hash chain of the audit log and name the first broken entry."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--expect-head", default=None, help="the head hash recorded earlier, to detect a cut-off tail"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with Progress(transient=True, disable=options["verbosity"] == 0) as progress:
            bar = progress.add_task("Verifying audit log", total=AuditEntry.objects.count())
            result = verify_chain(
                expected_head=options["expect_head"], progress=lambda n: progress.advance(bar, n)
            )
        if not result.ok:
            where = "the end of the log" if result.broken_id == -1 else f"entry #{result.broken_id}"
            raise CommandError(
                f"Audit log broken at {where}: {result.reason}. {result.checked} entries verified."
            )
        self.stdout.write(f"Audit log intact: {result.checked} entries. Head: {result.head}")
