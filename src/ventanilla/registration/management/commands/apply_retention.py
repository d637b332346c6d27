"""`ventanilla apply-retention [--dry-run]`: erase personal data past each organisation's retention period.

The nightly job does the same (`ventanilla.registration.apply_retention`, 02:30); run this to see what it
would do (`--dry-run`) or to catch up after a change of the retention period.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from ventanilla.accounts.models import Organisation
from ventanilla.registration import services


class Command(BaseCommand):
    help = (
        "Erase the personal data of people with no registration within their organisation's retention "
        "period; the de-identified registrations stay. Audited. --dry-run only counts."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        counts: dict[int, int] = {}
        total = services.apply_retention(dry_run=options["dry_run"], counts=counts)
        names = dict(Organisation.objects.filter(pk__in=counts).values_list("pk", "name"))
        for organisation_id, count in sorted(counts.items()):
            self.stdout.write(f"  {names.get(organisation_id, organisation_id)}: {count}")
        verb = "would be erased" if options["dry_run"] else "erased"
        self.stdout.write(f"{total} people past retention {verb}.")
