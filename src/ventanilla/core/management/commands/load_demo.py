"""`ventanilla load-demo`: fictional demo data for the embedded set-up; safe to run twice."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from ventanilla.accounts.demo import DEMO_PASSWORD, load_demo_accounts
from ventanilla.areas.services import AreaImportError, import_areas
from ventanilla.directory.demo import DemoDataError, load_demo_directory
from ventanilla.hub.demo import DemoContentError, load_demo_content
from ventanilla.messaging.demo import load_demo_messaging
from ventanilla.referrals.demo import load_demo_referrals
from ventanilla.registration.demo import load_demo_registrations

CORRIDOR_FILE = settings.PACKAGE_DIR / "areas" / "data" / "corridor_gt_mx.csv"


class Command(BaseCommand):
    help = (
        "Load the demo corridor (Guatemala–Mexico areas), organisations, sites, one user per role, "
        "a fictional service directory, articles and alerts, demo people, referrals and cases, and messages."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            areas = import_areas(CORRIDOR_FILE)
        except AreaImportError as error:
            raise CommandError(f"The demo area file is invalid: {error}") from None
        logins = load_demo_accounts()
        try:
            directory = load_demo_directory()
            content = load_demo_content()
        except (DemoDataError, DemoContentError) as error:
            raise CommandError(f"The demo directory or content could not be loaded: {error}") from None
        registered, already = load_demo_registrations()
        referrals = load_demo_referrals()
        messaging = load_demo_messaging()
        console = Console()
        console.print(
            f"Demo data ready: {areas.created} new areas ({areas.unchanged} already there). "
            "All organisations and people in the demo are fictional."
        )
        console.print(
            f"Find Help: {directory.points_created} new service points ({directory.points_total} in the demo "
            f"directory, {directory.providers_created} new providers), {content.articles_created} new "
            f"articles ({content.articles_total} in all), {content.alerts_created} new alerts "
            f"({content.alerts_total} in all). Every service point in the demo is fictional."
        )
        console.print(
            f"Registration: {registered} demo people registered now ({already} already there) with the "
            "shipped form — a family of three, a separated child, a duplicate in two scripts. All fictional."
        )
        console.print(
            f"Referrals: {referrals.pathways_created} new pathways, {referrals.referrals_created} new "
            f"referrals at every stage and {referrals.cases_created} new cases for the demo people "
            "(Casa Ventana to Red Salud Frontera, a child protection office, a counter-trafficking line "
            "and a shelter). All fictional."
        )
        console.print(
            f"Messages: {messaging.channels_created} new channels (SMS and WhatsApp through the fake "
            f"gateway, a hotline, a web form), {messaging.conversations_created} new conversations in four "
            f"languages and {messaging.templates_created} new reply templates; casa_site_manager is on duty "
            "for urgent alerts. All fictional."
        )
        console.print(
            "To text Ventanilla as a phone would, run `make fake-gateway` in another terminal and open "
            "http://127.0.0.1:8025/ (try AYUDA, then 3 Tapachula)."
        )
        table = Table(title=f"Demo logins (password for all: {DEMO_PASSWORD})")
        for column in ("username", "role", "organisation"):
            table.add_column(column)
        for row in logins:
            table.add_row(*row)
        console.print(table)
