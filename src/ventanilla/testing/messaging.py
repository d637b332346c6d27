"""Builders for messaging tests: a gateway of each kind for organisation A, and signed webhook calls."""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from ventanilla.messaging.models_inbox import Gateway
from ventanilla.testing.world import World

SECRET = "s3cret-shared"  # noqa: S105 - test credentials
TWILIO_TOKEN = "twilio-auth-token"  # noqa: S105
APP_SECRET = "meta-app-secret"  # noqa: S105


def gateway(world: World, kind: str = "generic_json", **fields: Any) -> Gateway:
    credentials = {
        "generic_json": {"secret": SECRET},
        "twilio": {"account_sid": "AC123", "auth_token": TWILIO_TOKEN},
        "whatsapp_cloud": {"app_secret": APP_SECRET, "access_token": "token", "verify_token": "verify-me"},
    }.get(kind, {})
    defaults: dict[str, Any] = {
        "organisation": world.a.organisation,
        "site": world.a.sites[0],
        "name": f"{kind} channel",
        "kind": kind,
        "medium": {
            "whatsapp_cloud": "whatsapp",
            "web_form": "web",
            "hotline": "hotline",
            "social": "social",
        }.get(kind, "sms"),
        "address": "+529621000000",
        "credentials": json.dumps(credentials),
        "send_url": "http://127.0.0.1:9/send" if kind == "generic_json" else "",
    }
    defaults.update(fields)
    return Gateway.objects.create(**defaults)


def post_generic(client: Client, channel: Gateway, body: dict[str, Any], *, secret: str = SECRET) -> Any:
    return client.post(
        f"/hooks/{channel.key}/",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {secret}",
    )
