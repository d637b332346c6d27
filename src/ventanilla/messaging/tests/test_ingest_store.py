"""Storing a webhook delivery in one statement: a repeat is None, the payload is encrypted at rest."""

from __future__ import annotations

from django.db import connection

from ventanilla.messaging.ingest import store_delivery
from ventanilla.messaging.models_inbox import InboundDelivery
from ventanilla.testing.messaging import gateway


def test_a_delivery_is_stored_once_and_a_repeat_leaves_the_transaction_usable(world):
    channel = gateway(world)
    # when the same provider id arrives twice
    first = store_delivery(channel, kind="message", provider_id="gw-7", payload='{"text": "hola"}')
    again = store_delivery(channel, kind="message", provider_id="gw-7", payload='{"text": "hola"}')
    # then one row, the repeat answered None, and the test's transaction still works
    assert first is not None
    assert again is None
    assert InboundDelivery.objects.count() == 1
    # the same id for another kind, or on another gateway, is another delivery
    assert store_delivery(channel, kind="status", provider_id="gw-7", payload="{}") is not None
    other = gateway(world, name="other")
    assert store_delivery(other, kind="message", provider_id="gw-7", payload="{}") is not None
    assert InboundDelivery.objects.count() == 3


def test_the_payload_is_encrypted_at_rest_and_reads_back(world):
    channel = gateway(world)
    pk = store_delivery(channel, kind="message", provider_id="gw-8", payload='{"text": "me robaron"}')
    with connection.cursor() as cursor:
        cursor.execute("SELECT payload FROM messaging_inbounddelivery WHERE id = %s", [pk])
        stored = cursor.fetchone()[0]
    assert "robaron" not in stored
    delivery = InboundDelivery.objects.get(pk=pk)
    assert delivery.payload == '{"text": "me robaron"}'
    assert delivery.received_at is not None
    assert delivery.processed_at is None


def test_the_webhook_gateway_is_kept_briefly_and_forgotten_when_saved(
    world, monkeypatch, django_assert_num_queries
):
    from ventanilla.messaging import models_inbox
    from ventanilla.messaging.models_inbox import Gateway

    channel = gateway(world)
    # given the gateway looked up once
    assert Gateway.for_webhook(channel.key).pk == channel.pk
    # then the next deliveries find it without a query
    with django_assert_num_queries(0):
        assert Gateway.for_webhook(channel.key).pk == channel.pk
    # a change saved in this process takes effect at once
    channel.is_active = False
    channel.save()
    assert Gateway.for_webhook(channel.key) is None
    # a change made elsewhere (here: an update() that bypasses save) within WEBHOOK_GATEWAY_SECONDS
    Gateway.objects.filter(pk=channel.pk).update(is_active=True)
    assert Gateway.for_webhook(channel.key).pk == channel.pk
    Gateway.objects.filter(pk=channel.pk).update(is_active=False)
    assert Gateway.for_webhook(channel.key) is not None  # still kept
    later = models_inbox.time.monotonic() + models_inbox.WEBHOOK_GATEWAY_SECONDS + 1
    monkeypatch.setattr(models_inbox.time, "monotonic", lambda: later)
    assert Gateway.for_webhook(channel.key) is None
    # unknown addresses are never kept
    assert "00000000-0000-0000-0000-000000000000" not in models_inbox._WEBHOOK_GATEWAYS
    Gateway.for_webhook("00000000-0000-0000-0000-000000000000")
    assert "00000000-0000-0000-0000-000000000000" not in models_inbox._WEBHOOK_GATEWAYS


def test_a_channel_deactivated_in_another_worker_is_refused_at_once(
    world, django_capture_on_commit_callbacks
):
    from ventanilla.messaging import models_inbox
    from ventanilla.messaging.models_inbox import Gateway

    channel = gateway(world)
    # given this worker keeps the channel
    assert Gateway.for_webhook(channel.key).pk == channel.pk
    kept = dict(models_inbox._WEBHOOK_GATEWAYS)
    # when another worker deactivates it (its save moves the generation in the shared cache)
    with django_capture_on_commit_callbacks(execute=True):
        channel.is_active = False
        channel.save()
    models_inbox._WEBHOOK_GATEWAYS.update(kept)  # this worker's memory never saw the save
    # then this worker refuses the channel's next delivery without waiting
    assert Gateway.for_webhook(channel.key) is None
