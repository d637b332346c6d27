"""Channel configuration by administrators: credentials per kind (encrypted, never shown again, never
audited), generated secrets shown once, the webhook address and its key rotation, and the designation
of complaint focal points."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client

from ventanilla.accounts.models import Membership, User
from ventanilla.core.models import AuditEntry
from ventanilla.messaging import channels
from ventanilla.messaging.channels import ChannelError, ChannelInput, ChannelInvalid
from ventanilla.messaging.models_inbox import Conversation, Gateway, InboundDelivery
from ventanilla.testing.messaging import SECRET, gateway, post_generic

TOKEN = "tw-auth-token-very-secret"


def audit_text() -> str:
    return json.dumps(list(AuditEntry.objects.values("fields", "detail")), ensure_ascii=False)


def raw_credentials(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT credentials FROM messaging_gateway WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def twilio_form(**extra: str) -> dict[str, str]:
    return {
        "kind": "twilio",
        "name": "SMS Tapachula",
        "medium": "sms",
        "address": "+529621000000",
        "site": "",
        "is_active": "on",
        "credential_account_sid": "AC0123456789",
        "credential_auth_token": TOKEN,
        **extra,
    }


def test_an_administrator_adds_a_twilio_channel_whose_credentials_are_never_shown_or_audited(
    world, client_for
):
    # given A's administrator
    client = client_for(world.user("a", "administrator"))
    # when they add a Twilio-compatible channel with its account SID and auth token
    response = client.post("/en/staff/channels/new/", twilio_form())
    # then it is saved, with the credentials encrypted at rest ...
    gateway = Gateway.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/en/staff/channels/{gateway.pk}/"
    assert (gateway.organisation, gateway.kind, gateway.medium) == (world.a.organisation, "twilio", "sms")
    assert channels.stored_credentials(gateway) == {"account_sid": "AC0123456789", "auth_token": TOKEN}
    assert TOKEN not in raw_credentials(gateway.pk)
    # ... the page afterwards says they are set, never what they are ...
    page = client.get(f"/en/staff/channels/{gateway.pk}/").content.decode()
    assert TOKEN not in page
    assert "AC0123456789" not in page
    assert page.count("Set. Leave blank to keep it") == 2
    # ... it shows the webhook address to give the provider ...
    assert f"http://testserver/hooks/{gateway.key}/" in page
    # ... and the audit entry names fields and credentials, never a value
    entry = AuditEntry.objects.get(object_type="messaging.gateway")
    assert (entry.action, entry.detail) == (
        "create",
        {"kind": "twilio", "credentials": ["account_sid", "auth_token"]},
    )
    assert TOKEN not in audit_text()
    assert "AC0123456789" not in audit_text()


def test_a_blank_credential_keeps_the_stored_one_and_a_typed_one_replaces_it(world, client_for):
    # given A's Twilio channel
    client = client_for(world.user("a", "administrator"))
    client.post("/en/staff/channels/new/", twilio_form())
    gateway = Gateway.objects.get()
    form = twilio_form(credential_account_sid="", credential_auth_token="")
    # when the administrator renames it and leaves the credentials blank
    client.post(f"/en/staff/channels/{gateway.pk}/", {**form, "name": "SMS renamed"})
    # then the name changes and the credentials stay
    gateway.refresh_from_db()
    assert gateway.name == "SMS renamed"
    assert channels.stored_credentials(gateway)["auth_token"] == TOKEN
    last = AuditEntry.objects.latest("id")
    assert (last.action, last.fields, last.detail) == ("update", ["name"], {"kind": "twilio"})
    # when they type a new auth token only
    client.post(
        f"/en/staff/channels/{gateway.pk}/",
        {**form, "name": "SMS renamed", "credential_auth_token": "new-token-value"},
    )
    # then only that one is replaced, and the audit says which (by name)
    gateway.refresh_from_db()
    assert channels.stored_credentials(gateway) == {
        "account_sid": "AC0123456789",
        "auth_token": "new-token-value",
    }
    last = AuditEntry.objects.latest("id")
    assert (last.fields, last.detail) == (["credentials"], {"kind": "twilio", "credentials": ["auth_token"]})
    assert "new-token-value" not in audit_text()


def test_a_missing_credential_is_named_and_nothing_is_saved(world, client_for):
    client = client_for(world.user("a", "administrator"))
    # when the administrator leaves out the auth token of a new Twilio channel
    response = client.post("/en/staff/channels/new/", twilio_form(credential_auth_token=""))
    # then the form says so next to that field, and nothing is saved or audited
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "credential_auth_token": ["Auth token is needed for this channel."]
    }
    assert not Gateway.objects.exists()
    assert not AuditEntry.objects.filter(object_type="messaging.gateway").exists()


def test_a_generated_shared_secret_is_shown_once_and_verifies_the_gateway(world, client_for):
    client = client_for(world.user("a", "administrator"))
    # when a generic JSON gateway is added without a shared secret
    response = client.post(
        "/en/staff/channels/new/",
        {
            "kind": "generic_json",
            "name": "Fake gateway",
            "medium": "sms",
            "send_url": "http://127.0.0.1:9/send",
            "address": "+529621000000",
            "is_active": "on",
        },
    )
    # then one is generated and shown on that answer, this once
    gateway = Gateway.objects.get()
    secret = channels.stored_credentials(gateway)["secret"]
    assert response.status_code == 200
    assert len(secret) >= 30
    assert secret in response.content.decode()
    assert secret not in client.get(f"/en/staff/channels/{gateway.pk}/").content.decode()
    # and the gateway signing with it is let in
    assert (
        post_generic(
            Client(), gateway, {"id": "g1", "from": "+529625550101", "text": "hola"}, secret=secret
        ).status_code
        == 200
    )


def test_rotating_the_key_stops_the_old_webhook_address(world, client_for):
    # given A's SMS channel, whose gateway posts to its webhook address
    channel = gateway(world)
    old_key = channel.key
    client = client_for(world.user("a", "administrator"))
    # when the administrator rotates the key
    response = client.post(f"/en/staff/channels/{channel.pk}/rotate-key/")
    # then the channel has a new address, the old one is refused and the new one works
    channel.refresh_from_db()
    assert response.status_code == 302
    assert channel.key != old_key
    old = Client().post(
        f"/hooks/{old_key}/",
        data=json.dumps({"id": "r1", "from": "+529625550101", "text": "hola"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {SECRET}",
    )
    assert old.status_code == 404
    assert (
        post_generic(Client(), channel, {"id": "r2", "from": "+529625550101", "text": "hola"}).status_code
        == 200
    )
    assert list(InboundDelivery.objects.values_list("provider_id", flat=True)) == ["r2"]
    assert AuditEntry.objects.filter(action="key_rotation", object_id=str(channel.pk)).count() == 1
    assert str(channel.key) in client.get(f"/en/staff/channels/{channel.pk}/").content.decode()


def test_a_channel_keeps_its_kind_and_its_site_must_be_of_its_organisation(world):
    channel = gateway(world)
    admin = world.user("a", "administrator")
    # when the kind is changed, or a site of organisation B is chosen
    with pytest.raises(ChannelInvalid) as error:
        channels.save_channel(
            channel,
            ChannelInput(name="x", kind="twilio", address="+529621000000", site=world.b.sites[0]),
            by=admin,
        )
    # then both are named, and nothing changed
    assert set(error.value.errors) == {"kind", "site"}
    channel.refresh_from_db()
    assert channel.kind == "generic_json"


def test_only_an_administrator_of_the_organisation_changes_its_channels(world):
    channel = gateway(world)
    for user in (world.user("a", "site_manager"), world.user("b", "administrator")):
        with pytest.raises(channels.ChannelPermissionError):
            channels.save_channel(channel, ChannelInput(name="x", kind="generic_json"), by=user)
        with pytest.raises(channels.ChannelPermissionError):
            channels.rotate_key(channel, by=user)
    channel.refresh_from_db()
    assert channel.name == "generic_json channel"


def test_fixed_medium_kinds_carry_their_own_medium_and_take_no_credentials(world):
    saved = channels.save_channel(
        None,
        ChannelInput(name="Línea", kind="hotline", address="800 123 4567"),
        by=world.user("a", "administrator"),
        organisation=world.a.organisation,
    )
    assert (saved.gateway.medium, saved.generated, channels.webhook_url(saved.gateway)) == ("hotline", {}, "")
    with pytest.raises(ChannelInvalid) as error:
        channels.save_channel(
            None,
            ChannelInput(name="x", kind="hotline", medium="sms", credentials={"secret": "x"}),
            by=world.user("a", "administrator"),
            organisation=world.a.organisation,
        )
    assert set(error.value.errors) == {"medium", "credentials.secret"}


# --- Complaint focal points ----------------------------------------------------------------------------


def membership(world, role: str) -> Membership:
    return Membership.objects.get(user=world.user("a", role), organisation=world.a.organisation)


def test_the_administrator_designates_focal_points_who_then_see_sensitive_complaints(world, client_for):
    # given a sensitive complaint of A, which no handler sees yet
    channel = gateway(world)
    conversation = Conversation.objects.create(
        organisation=world.a.organisation,
        gateway=channel,
        medium="sms",
        category="sensitive",
        last_message_at=channel.created_at,
    )
    officer, manager = world.user("a", "information_officer"), world.user("a", "site_manager")
    assert not Conversation.objects.visible_to(officer).filter(pk=conversation.pk).exists()
    client = client_for(world.user("a", "administrator"))
    page = client.get("/en/staff/channels/focal-points/").content.decode()
    # the page lists the staff who handle messages, not the others
    assert f'value="{membership(world, "information_officer").pk}"' in page
    assert f'value="{membership(world, "caseworker").pk}"' not in page
    # when the administrator ticks the information officer
    response = client.post(
        "/en/staff/channels/focal-points/",
        {
            "organisation": world.a.organisation.pk,
            "membership": [membership(world, "information_officer").pk],
        },
    )
    # then the officer is designated (audited, naming the field) and sees the complaint; the manager not
    assert response.status_code == 302
    assert membership(world, "information_officer").handles_sensitive_complaints is True
    entry = AuditEntry.objects.get(
        action="role_change",
        object_id=str(membership(world, "information_officer").pk),
        fields=["handles_sensitive_complaints"],
    )
    assert entry.detail == {"user": officer.pk, "change": "complaints", "designated": True}
    officer, manager = User.objects.get(pk=officer.pk), User.objects.get(pk=manager.pk)  # scopes afresh
    assert Conversation.objects.visible_to(officer).filter(pk=conversation.pk).exists()
    assert not Conversation.objects.visible_to(manager).filter(pk=conversation.pk).exists()
    # when the box is unticked, the designation ends
    client.post("/en/staff/channels/focal-points/", {"organisation": world.a.organisation.pk})
    assert membership(world, "information_officer").handles_sensitive_complaints is False


def test_someone_who_does_not_handle_messages_cannot_be_designated(world):
    before = list(Membership.objects.values_list("pk", "handles_sensitive_complaints"))
    with pytest.raises(ChannelError) as error:
        channels.set_complaint_focal_points(
            world.a.organisation,
            designated=[membership(world, "caseworker").pk, membership(world, "site_manager").pk],
            by=world.user("a", "administrator"),
        )
    assert error.value.field == "memberships"
    assert list(Membership.objects.values_list("pk", "handles_sensitive_complaints")) == before
    assert not AuditEntry.objects.filter(
        action="role_change", fields=["handles_sensitive_complaints"]
    ).exists()


@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("twilio", ["credential_account_sid", "credential_auth_token"]),
        ("generic_json", ["credential_secret"]),
        ("whatsapp_cloud", ["credential_app_secret", "credential_access_token", "credential_verify_token"]),
        ("web_form", []),
        ("hotline", []),
        ("social", []),
    ],
)
def test_each_kind_of_channel_asks_for_its_own_credentials(world, client_for, kind, fields):
    response = client_for(world.user("a", "administrator")).get(f"/en/staff/channels/new/?kind={kind}")
    form = response.context["form"]
    assert [field.name for field in form.credential_fields()] == fields
    assert all(form.fields[name].widget.input_type == "password" for name in fields)
