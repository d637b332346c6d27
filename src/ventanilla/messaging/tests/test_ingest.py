"""Inbound webhooks: signatures as providers compute them, replays, STOP and START, urgent messages."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from ventanilla.messaging import outbound
from ventanilla.messaging.gateways import twilio, whatsapp
from ventanilla.messaging.models import OutboundMessage, OutboundStatus
from ventanilla.messaging.models_inbox import Contact, Conversation, InboundDelivery, Message
from ventanilla.testing.messaging import APP_SECRET, TWILIO_TOKEN, gateway, post_generic


@pytest.fixture
def channel(world):
    return gateway(world)


@pytest.fixture(autouse=True)
def _run_tasks(run_queued_work):
    """Queued work runs when each request's transaction commits (conftest.run_queued_work)."""


def test_a_message_reaches_the_inbox_once_however_often_the_gateway_retries(world, channel):
    client = Client()
    body = {"id": "gw-1", "from": "+52 962 555 0101", "text": "Hola, ¿dónde hay un albergue?"}
    for _ in range(3):
        assert post_generic(client, channel, body).status_code == 200
    message = Message.objects.get()
    assert message.body == "Hola, ¿dónde hay un albergue?"
    conversation = message.conversation
    assert conversation.language == "es"
    assert conversation.contact.phone == "+529625550101"
    assert InboundDelivery.objects.count() == 1


def test_a_bad_signature_is_refused_and_nothing_is_stored(world, channel):
    response = post_generic(
        Client(), channel, {"id": "x", "from": "+529625550101", "text": "hola"}, secret="wrong"
    )
    assert response.status_code == 403
    assert not InboundDelivery.objects.exists()
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"from": "+529625550101", "text": "x"}, "id"),
        ({"id": "1", "text": "x"}, "from"),
        ({"id": "1", "status": "exploded"}, "status"),
    ],
)
def test_a_malformed_payload_is_refused_naming_the_field(world, channel, body, field):
    response = post_generic(Client(), channel, body)
    assert response.status_code == 400
    assert field in response.json()["error"]
    assert not InboundDelivery.objects.exists()


def test_an_unknown_channel_is_refused(world):
    response = Client().post(
        "/hooks/00000000-0000-0000-0000-000000000000/", data="{}", content_type="application/json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("word", ["STOP", "Alto", "arrêt", "ARRET", "توقف"])
def test_stop_in_each_language_opts_out_at_once_and_is_confirmed(world, channel, word):
    post_generic(Client(), channel, {"id": "s-1", "from": "+529625550101", "text": word})
    contact = Contact.objects.get()
    assert contact.opted_out
    assert not Message.objects.exists()  # a command, not a conversation
    confirmation = OutboundMessage.objects.get(purpose="system")
    assert "START" in confirmation.body
    # then nothing is sent to them any more
    conversation = Conversation.objects.create(
        organisation=world.a.organisation,
        gateway=channel,
        contact=contact,
        medium="sms",
        last_message_at=contact.created_at,
    )
    with pytest.raises(outbound.ReplyRefused):
        outbound.reply(conversation, "¿Sigue ahí?", by=world.a.users["information_officer"])
    queued = outbound.send_to_contact(channel, contact, "Alerta: puente cerrado")
    assert queued.status == OutboundStatus.OPTED_OUT
    # and START brings them back
    post_generic(Client(), channel, {"id": "s-2", "from": "+529625550101", "text": "start"})
    contact.refresh_from_db()
    assert not contact.opted_out


def test_an_urgent_message_is_flagged_with_its_reason(world, channel):
    post_generic(
        Client(),
        channel,
        {"id": "u-1", "from": "+529625550102", "text": "Me quitaron el pasaporte y no me dejan salir"},
    )
    conversation = Conversation.objects.get()
    assert conversation.urgency == "urgent"
    assert conversation.urgent_reason == "documents taken"


def test_twilio_signature_is_checked_as_twilio_computes_it(world, settings):
    channel = gateway(world, "twilio")
    url = f"http://testserver/hooks/{channel.key}/"
    params = {
        "MessageSid": "SM1",
        "From": "+529625550103",
        "To": "+529621000000",
        "Body": "Bonjour, j'ai besoin d'aide",
    }
    # Twilio's documented algorithm, written out independently of the adapter
    data = url + "".join(k + params[k] for k in sorted(params))
    expected = base64.b64encode(
        hmac.new(TWILIO_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    ).decode()
    assert twilio.signature(url, params, TWILIO_TOKEN) == expected
    form = "application/x-www-form-urlencoded"
    ok = Client().post(
        f"/hooks/{channel.key}/", urlencode(params), content_type=form, HTTP_X_TWILIO_SIGNATURE=expected
    )
    assert ok.status_code == 200
    assert Message.objects.get().conversation.language == "fr"
    bad = Client().post(
        f"/hooks/{channel.key}/", {**params, "MessageSid": "SM2"}, HTTP_X_TWILIO_SIGNATURE=expected
    )
    assert bad.status_code == 403


def test_whatsapp_cloud_signature_and_delivery_receipts(world):
    channel = gateway(world, "whatsapp_cloud")
    message = {
        "from": "529625550104",
        "id": "wamid.1",
        "timestamp": "1764150000",
        "type": "text",
        "text": {"body": "مرحبا، أحتاج مساعدة"},
    }
    body = json.dumps(
        {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [message]}}]}]}
    ).encode()
    signature = "sha256=" + hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert whatsapp.signature(body, APP_SECRET) == signature
    response = Client().post(
        f"/hooks/{channel.key}/", body, content_type="application/json", HTTP_X_HUB_SIGNATURE_256=signature
    )
    assert response.status_code == 200
    received = Message.objects.get()
    assert received.conversation.language == "ar"
    assert received.conversation.contact.phone == "+529625550104"
    # a reply's delivery receipt updates its status
    out = Message.objects.create(
        conversation=received.conversation,
        direction="out",
        body="ok",
        provider_id="wamid.out",
        status="sent",
        at=received.at,
    )
    receipt = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"value": {"statuses": [{"id": "wamid.out", "status": "delivered"}]}}]}],
        }
    ).encode()
    Client().post(
        f"/hooks/{channel.key}/",
        receipt,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256="sha256="
        + hmac.new(APP_SECRET.encode(), receipt, hashlib.sha256).hexdigest(),
    )
    out.refresh_from_db()
    assert out.status == "delivered"
    # the webhook check of Meta echoes the challenge only with the verify token
    assert (
        Client()
        .get(f"/hooks/{channel.key}/?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=42")
        .content
        == b"42"
    )
    assert (
        Client()
        .get(f"/hooks/{channel.key}/?hub.mode=subscribe&hub.verify_token=no&hub.challenge=42")
        .status_code
        == 404
    )
