"""`ventanilla fake-gateway`: the demo's fake SMS/WhatsApp gateway on http://127.0.0.1:8025/.

It reads the demo channels' webhook keys and shared secret (`messaging.demo`) and serves
`messaging.fake_gateway` until Ctrl-C. Start Ventanilla (`make demo`) in another terminal first.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.urls import reverse

from ventanilla.messaging import fake_gateway
from ventanilla.messaging.demo import fake_gateway_channels
from ventanilla.messaging.ingest import credentials


class Command(BaseCommand):
    help = "Serve the demo's fake SMS/WhatsApp gateway (send and receive messages in a browser)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=fake_gateway.DEFAULT_PORT)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument(
            "--app",
            default=settings.PUBLIC_BASE_URL,
            help="where Ventanilla answers (default: PUBLIC_BASE_URL, %(default)s)",
        )
        parser.add_argument("--receipt-delay", type=float, default=1.0)

    def handle(self, *args: Any, **options: Any) -> None:
        sms, whatsapp = fake_gateway_channels()
        if sms is None:
            raise CommandError("The demo SMS channel is missing: run `ventanilla load-demo` first.")
        base = str(options["app"]).rstrip("/")

        def webhook(channel: Any) -> str:
            return f"{base}{reverse('messaging_hook', args=[channel.key])}"

        secret = str(credentials(sms).get("secret", ""))
        fake = fake_gateway.FakeGateway(
            fake_gateway.channels_from(webhook(sms), secret, webhook(whatsapp) if whatsapp else ""),
            receipt_delay=options["receipt_delay"],
        )
        fake_gateway.serve(fake, options["host"], options["port"])
