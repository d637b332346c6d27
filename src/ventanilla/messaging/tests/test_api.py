"""The messaging API: conversations (filters, audited reads, triage, assignment, status, replies),
contacts (masked numbers, changes, opt-out) and channels (credentials write-only); sensitive complaints
exist only for designated focal points."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ventanilla.accounts.models import Membership
from ventanilla.core.models import AuditEntry
from ventanilla.messaging import channels, ingest
from ventanilla.messaging.models import Notice
from ventanilla.messaging.models_inbox import Contact, Conversation, Gateway, Message
from ventanilla.testing.factories import AreaFactory
from ventanilla.testing.messaging import gateway


def call(client: Any, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return client.generic(
        method, url, json.dumps(body) if body is not None else "", content_type="application/json"
    )


@pytest.fixture
def channel(world):
    return gateway(world)


def incoming(
    channel: Gateway, sender: str = "+529625550101", text: str = "¿Dónde hay un albergue?"
) -> Conversation:
    message = ingest.record_inbound(channel, sender=sender, text=text)
    assert message is not None
    return message.conversation


def sensitive(channel: Gateway) -> Conversation:
    conversation = incoming(
        channel, sender="+529625550199", text="Un empleado me pidió dinero por el albergue"
    )
    Conversation.objects.filter(pk=conversation.pk).update(category="sensitive")
    return conversation


def designate(world, role: str = "information_officer") -> None:
    Membership.objects.filter(user=world.user("a", role), organisation=world.a.organisation).update(
        handles_sensitive_complaints=True
    )


# --- conversations -------------------------------------------------------------------------------------


def test_handlers_list_their_conversations_with_filters_and_each_list_is_audited(world, client_for, channel):
    # given two conversations of A, one of them closed, and one of B
    first = incoming(channel)
    closed = incoming(channel, sender="+529625550102")
    Conversation.objects.filter(pk=closed.pk).update(status="closed")
    incoming(gateway(world, organisation=world.b.organisation, site=None))
    officer = world.user("a", "information_officer")
    client = client_for(officer)
    # when A's officer lists them, all and then only the new ones
    everything = client.get("/api/v1/conversations/").json()
    new = client.get("/api/v1/conversations/?status=new").json()
    # then they see A's only, filtered as asked, with no texts in the rows
    assert {row["id"] for row in everything["results"]} == {first.pk, closed.pk}
    assert [row["id"] for row in new["results"]] == [first.pk]
    assert new["results"][0]["message_count"] == 1
    assert "albergue" not in json.dumps(everything)
    # and each call that showed conversations is a READ entry with the ids
    reads = AuditEntry.objects.filter(action="read", object_type="messaging.conversation").order_by("id")
    assert [(e.actor_id, e.detail["ids"]) for e in reads] == [
        (officer.pk, sorted([first.pk, closed.pk], reverse=True)),
        (officer.pk, [first.pk]),
    ]


def test_a_bad_filter_is_a_400_naming_it(world, client_for):
    response = client_for(world.user("a", "site_manager")).get("/api/v1/conversations/?status=lost")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["status"]


def test_the_conversation_list_costs_the_same_queries_for_many_rows(world, client_for, channel):
    # given a handler's client, warmed up on a list of one
    client = client_for(world.user("a", "site_manager"))
    incoming(channel)
    client.get("/api/v1/conversations/")
    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/conversations/")
    # when there are eleven
    for number in range(10):
        incoming(channel, sender=f"+5296255502{number:02d}")
    with CaptureQueriesContext(connection) as eleven:
        assert len(client.get("/api/v1/conversations/").json()["results"]) == 11
    # then the list costs the same number of queries
    assert len(eleven.captured_queries) == len(one.captured_queries)


def test_a_sensitive_complaint_exists_only_for_designated_focal_points(world, client_for, channel):
    # given a sensitive complaint of A and A's information officer designated as focal point
    complaint = sensitive(channel)
    designate(world)
    url = f"/api/v1/conversations/{complaint.pk}/"
    # when the site manager (handles messages, not designated) reaches for it every way
    manager = client_for(world.user("a", "site_manager"))
    before = AuditEntry.objects.count()
    answers = {
        "list": [row["id"] for row in manager.get("/api/v1/conversations/").json()["results"]],
        "detail": manager.get(url).status_code,
        "messages": manager.get(f"{url}messages/").status_code,
        "patch": call(manager, "PATCH", url, {"status": "closed"}).status_code,
        "reply": call(manager, "POST", f"{url}reply/", {"text": "Hola"}).status_code,
    }
    # then it is not there at all, and nothing changed
    assert answers == {"list": [], "detail": 404, "messages": 404, "patch": 404, "reply": 404}
    assert Conversation.objects.get(pk=complaint.pk).status == "new"
    assert not Message.objects.filter(direction="out").exists()
    assert AuditEntry.objects.count() == before
    # ... while the designated officer finds it, and reading it is audited
    officer = client_for(world.user("a", "information_officer"))
    assert [row["id"] for row in officer.get("/api/v1/conversations/").json()["results"]] == [complaint.pk]
    assert officer.get(url).json()["category"] == "sensitive"
    texts = [row["text"] for row in officer.get(f"{url}messages/").json()["results"]]
    assert texts == ["Un empleado me pidió dinero por el albergue"]
    assert AuditEntry.objects.filter(action="read", object_id=str(complaint.pk)).count() == 2


def test_a_conversation_is_triaged_assigned_and_closed(world, client_for, channel):
    conversation = incoming(channel)
    area = AreaFactory()
    officer = world.user("a", "information_officer")
    client = client_for(world.user("a", "site_manager"))
    # when the manager triages it and gives it to the officer
    response = call(
        client,
        "PATCH",
        f"/api/v1/conversations/{conversation.pk}/",
        {
            "category": "question",
            "topics": ["Albergue", "albergue", "niños"],
            "area": area.pcode,
            "assigned_to": officer.pk,
            "status": "in_progress",
        },
    )
    # then it says so, and the change is audited with the fields
    assert response.status_code == 200
    body = response.json()
    assert (body["category"], body["topics"], body["area"], body["assigned_to"], body["status"]) == (
        "question",
        ["albergue", "niños"],
        area.pcode,
        officer.pk,
        "in_progress",
    )
    entry = AuditEntry.objects.filter(action="update", object_type="messaging.conversation").get()
    assert entry.fields == sorted(["category", "topics", "area", "assigned_to", "status"])
    assert entry.detail == {"category": "question", "status": "in_progress", "assigned_to": officer.pk}
    # when it is closed, it records when
    closed = call(client, "PATCH", f"/api/v1/conversations/{conversation.pk}/", {"status": "closed"}).json()
    assert closed["closed_at"] is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "gossip"}, "category"),
        ({"status": "archived"}, "status"),
        ({"language": "de"}, "language"),
        ({"area": "XX999"}, "area"),
        ({"assigned_to": 999999}, "assigned_to"),
    ],
)
def test_a_wrong_change_is_a_400_naming_the_field_and_nothing_changes(
    world, client_for, channel, body, field
):
    conversation = incoming(channel)
    response = call(
        client_for(world.user("a", "site_manager")),
        "PATCH",
        f"/api/v1/conversations/{conversation.pk}/",
        body,
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert Conversation.objects.filter(pk=conversation.pk, category="", status="new", language="es").exists()


@pytest.mark.parametrize("role", ["data_analyst", "administrator"])
def test_a_conversation_goes_only_to_someone_who_handles_messages_or_registers_people(
    world, client_for, channel, role
):
    conversation = incoming(channel)
    response = call(
        client_for(world.user("a", "site_manager")),
        "PATCH",
        f"/api/v1/conversations/{conversation.pk}/",
        {"assigned_to": world.user("a", role).pk},
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["assigned_to"]
    assert Conversation.objects.get(pk=conversation.pk).assigned_to is None


def test_a_conversation_is_handed_to_a_caseworker_by_the_api(world, client_for, channel):
    conversation = incoming(channel)
    caseworker = world.user("a", "caseworker")
    response = call(
        client_for(world.user("a", "information_officer")),
        "PATCH",
        f"/api/v1/conversations/{conversation.pk}/",
        {"assigned_to": caseworker.pk},
    )
    assert response.status_code == 200
    assert response.json()["assigned_to"] == caseworker.pk
    # the caseworker is told, and finds that conversation alone, on the page and in the API
    assert Notice.objects.filter(user=caseworker, kind="conversation_assigned").exists()
    client = client_for(caseworker)
    assert client.get(f"/en/staff/inbox/{conversation.pk}/").status_code == 200
    incoming(channel, sender="+529625550177")
    listed = call(client, "GET", "/api/v1/conversations/").json()["results"]
    assert [row["id"] for row in listed] == [conversation.pk]
    # but the channels and contacts stay with message handlers
    assert call(client, "GET", "/api/v1/contacts/").status_code == 403


def test_a_sensitive_complaint_goes_only_to_a_designated_focal_point(world, client_for, channel):
    complaint = sensitive(channel)
    designate(world)
    client = client_for(world.user("a", "information_officer"))
    url = f"/api/v1/conversations/{complaint.pk}/"
    refused = call(client, "PATCH", url, {"assigned_to": world.user("a", "site_manager").pk})
    assert list(refused.json()["error"]["fields"]) == ["assigned_to"]
    assert (
        call(client, "PATCH", url, {"assigned_to": world.user("a", "information_officer").pk}).status_code
        == 200
    )


def test_marking_a_complaint_sensitive_takes_it_from_a_handler_who_is_not_designated(
    world, client_for, channel
):
    conversation = incoming(channel)
    manager = world.user("a", "site_manager")
    Conversation.objects.filter(pk=conversation.pk).update(assigned_to=manager)
    response = call(
        client_for(manager), "PATCH", f"/api/v1/conversations/{conversation.pk}/", {"category": "sensitive"}
    )
    assert response.status_code == 204
    stored = Conversation.objects.get(pk=conversation.pk)
    assert (stored.category, stored.assigned_to) == ("sensitive", None)
    assert client_for(manager).get(f"/api/v1/conversations/{conversation.pk}/").status_code == 404


def test_messages_are_listed_oldest_first(world, client_for, channel):
    conversation = incoming(channel, text="Hola")
    incoming(channel, text="¿Me oyen?")
    body = (
        client_for(world.user("a", "site_manager"))
        .get(f"/api/v1/conversations/{conversation.pk}/messages/")
        .json()
    )
    assert [(row["direction"], row["text"]) for row in body["results"]] == [
        ("in", "Hola"),
        ("in", "¿Me oyen?"),
    ]


def test_a_reply_is_queued_on_the_conversations_channel(world, client_for, channel):
    conversation = incoming(channel)
    officer = world.user("a", "information_officer")
    response = call(
        client_for(officer),
        "POST",
        f"/api/v1/conversations/{conversation.pk}/reply/",
        {"text": "En la calle 5."},
    )
    assert response.status_code == 201
    assert (response.json()["direction"], response.json()["status"], response.json()["sent_by"]) == (
        "out",
        "queued",
        officer.pk,
    )
    assert Conversation.objects.get(pk=conversation.pk).status == "answered"
    entry = AuditEntry.objects.get(object_type="messaging.conversation", action="update")
    assert (entry.actor_id, entry.detail) == (officer.pk, {"message": response.json()["id"]})


def test_a_reply_to_a_contact_who_opted_out_is_a_400_naming_text(world, client_for, channel):
    conversation = incoming(channel)
    Contact.objects.filter(pk=conversation.contact_id).update(opted_out_at=conversation.opened_at)
    response = call(
        client_for(world.user("a", "site_manager")),
        "POST",
        f"/api/v1/conversations/{conversation.pk}/reply/",
        {"text": "Hola"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert list(error["fields"]) == ["text"]
    assert "STOP" in error["fields"]["text"][0]
    assert not Message.objects.filter(direction="out").exists()


# --- contacts ------------------------------------------------------------------------------------------


def test_contacts_show_only_the_last_three_digits(world, client_for, channel):
    conversation = incoming(channel, sender="+52 962 555 0101")
    client = client_for(world.user("a", "site_manager"))
    listed = client.get("/api/v1/contacts/").json()["results"]
    one = client.get(f"/api/v1/contacts/{conversation.contact_id}/").json()
    assert [row["phone"] for row in listed] == ["+*********101"]
    assert one["phone"] == "+*********101"
    assert "5550101" not in json.dumps(listed) + json.dumps(one)


def test_a_contacts_language_area_and_subscriptions_change(world, client_for, channel):
    contact = incoming(channel).contact
    area = AreaFactory()
    client = client_for(world.user("a", "site_manager"))
    response = call(
        client,
        "PATCH",
        f"/api/v1/contacts/{contact.pk}/",
        {"language": "fr", "area": area.pcode, "subscriptions": ["alerts", "Health"]},
    )
    assert response.status_code == 200
    assert (response.json()["language"], response.json()["area"], response.json()["subscriptions"]) == (
        "fr",
        area.pcode,
        ["alerts", "health"],
    )
    assert AuditEntry.objects.get(object_type="messaging.contact").fields == [
        "area",
        "language",
        "subscriptions",
    ]
    bad = call(client, "PATCH", f"/api/v1/contacts/{contact.pk}/", {"subscriptions": ["no spaces please"]})
    assert bad.status_code == 400
    assert list(bad.json()["error"]["fields"]) == ["subscriptions"]


def test_opting_a_contact_out_stops_replies_at_once(world, client_for, channel):
    conversation = incoming(channel)
    client = client_for(world.user("a", "site_manager"))
    response = client.post(f"/api/v1/contacts/{conversation.contact_id}/opt-out/")
    assert (response.status_code, response.json()["opted_out"]) == (200, True)
    reply = call(client, "POST", f"/api/v1/conversations/{conversation.pk}/reply/", {"text": "Hola"})
    assert reply.status_code == 400


def test_another_organisations_contact_is_not_there(world, client_for, channel):
    contact = incoming(gateway(world, organisation=world.b.organisation, site=None)).contact
    client = client_for(world.user("a", "site_manager"))
    assert client.get(f"/api/v1/contacts/{contact.pk}/").status_code == 404
    assert client.post(f"/api/v1/contacts/{contact.pk}/opt-out/").status_code == 404
    assert not Contact.objects.get(pk=contact.pk).opted_out


# --- channels ------------------------------------------------------------------------------------------


def test_channel_credentials_are_write_only_and_a_generated_secret_is_answered_once(world, client_for):
    client = client_for(world.user("a", "administrator"))
    created = call(
        client,
        "POST",
        "/api/v1/channels/",
        {"name": "Gateway", "kind": "generic_json", "send_url": "https://gw.example/send"},
    )
    assert created.status_code == 201
    body = created.json()
    gateway_row = Gateway.objects.get()
    secret = channels.stored_credentials(gateway_row)["secret"]
    assert body["generated_credentials"] == {"secret": secret}
    assert body["credentials_set"] == {"secret": True}
    assert body["webhook_url"] == f"http://testserver/hooks/{gateway_row.key}/"
    assert secret not in client.get(f"/api/v1/channels/{gateway_row.pk}/").content.decode()
    assert secret not in client.get("/api/v1/channels/").content.decode()
    # a given value replaces it, and is never echoed
    changed = call(
        client,
        "PATCH",
        f"/api/v1/channels/{gateway_row.pk}/",
        {"credentials": {"secret": "my-own-long-secret"}},
    )
    assert changed.status_code == 200
    assert "my-own-long-secret" not in changed.content.decode()
    assert changed.json()["generated_credentials"] == {}
    gateway_row.refresh_from_db()
    assert channels.stored_credentials(gateway_row) == {"secret": "my-own-long-secret"}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"kind": "twilio"}, {"kind"}),
        ({"credentials": {"password": "x"}}, {"credentials"}),
        ({"site": 999999}, {"site"}),
    ],
)
def test_a_wrong_channel_change_is_a_400_naming_the_field(world, client_for, channel, body, fields):
    response = call(
        client_for(world.user("a", "administrator")), "PATCH", f"/api/v1/channels/{channel.pk}/", body
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == fields
    assert Gateway.objects.get(pk=channel.pk).kind == "generic_json"


def test_conversations_are_found_by_number_but_never_a_hidden_complaint(world, client_for, channel):
    mine = incoming(channel, sender="+529625550111")
    Conversation.objects.filter(pk=mine.pk).update(status="closed")
    complaint = incoming(channel, sender="+529625550111", text="El guardia me cobró")
    Conversation.objects.filter(pk=complaint.pk).update(category="sensitive")
    incoming(channel, sender="+529625550122")
    client = client_for(world.user("a", "information_officer"))
    found = call(client, "GET", "/api/v1/conversations/?number=%2B52%20962%20555%200111").json()
    assert [row["id"] for row in found["results"]] == [mine.pk]
    entry = AuditEntry.objects.filter(action="read", object_type="messaging.conversation").latest("id")
    assert entry.detail["by_number"] is True
    refused = call(client, "GET", "/api/v1/conversations/?number=12")
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["number"]
