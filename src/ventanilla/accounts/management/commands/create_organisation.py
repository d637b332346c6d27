"""`ventanilla create-organisation`: bootstrap an organisation and its first administrator.

Everything after that happens in the app (the administrator adds colleagues and sites); this is the
one step that has nobody to authorise it but the operator at the server.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from ventanilla.accounts import services
from ventanilla.accounts.models import Organisation, OrganisationKind, User
from ventanilla.core.roles import Role


class Command(BaseCommand):
    help = "Create an organisation and give a user (created if missing) the administrator role in it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--kind", required=True, choices=OrganisationKind.values)
        parser.add_argument("--short-name", default="")
        parser.add_argument("--admin", required=True, help="username of the first administrator")
        parser.add_argument("--admin-email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        if Organisation.objects.filter(name=options["name"]).exists():
            raise CommandError(f"An organisation named {options['name']!r} already exists.")
        with transaction.atomic():
            organisation = services.create_organisation(
                name=options["name"], kind=options["kind"], short_name=options["short_name"]
            )
            user = User.objects.filter(username=options["admin"]).first()
            temporary = None
            if user is None:
                temporary = services.new_temporary_password()
                user = services.create_user(
                    username=options["admin"],
                    password=temporary,
                    email=options["admin_email"],
                    must_change_password=True,
                )
            services.grant_membership(user=user, organisation=organisation, role=Role.ADMINISTRATOR, by=None)
        self.stdout.write(
            f"Created {organisation.name} (id {organisation.pk}); {user.username} is its administrator."
        )
        if temporary:
            self.stdout.write(f"One-time password for {user.username}: {temporary}")
