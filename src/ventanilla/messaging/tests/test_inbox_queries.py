"""The inbox list's query: one statement, last inbound previews, filters, cursor pages, the scope."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ventanilla.accounts.models import Membership
from ventanilla.core.scoping import scope_for
from ventanilla.messaging import inbox_queries, ingest
from ventanilla.messaging.inbox_queries import InboxFilters, inbox_page
from ventanilla.messaging.models_inbox import Conversation, Direction, Message
from ventanilla.testing.messaging import gateway

UTC = datetime.UTC


def moment(minute: int) -> datetime.datetime:
    return datetime.datetime(2026, 3, 2, 9, 0, tzinfo=UTC) + datetime.timedelta(minutes=minute)


@pytest.fixture
def inbox(world):
    """Six conversations of A (one of them a sensitive complaint) and one of B."""
    a = gateway(world)
    b = gateway(world, organisation=world.b.organisation, site=world.b.sites[0], name="B")
    made = {}
    for number in range(6):
        message = ingest.record_inbound(
            a, sender=f"+5025550030{number}", text=f"Pregunta número {number}", at=moment(number)
        )
        made[number] = message.conversation
    ingest.record_inbound(a, sender="+50255500305", text="x" * 300, at=moment(10))
    Conversation.objects.filter(pk=made[1].pk).update(status="in_progress", category="question")
    Conversation.objects.filter(pk=made[2].pk).update(category="help", urgency="urgent")
    Conversation.objects.filter(pk=made[3].pk).update(category="sensitive")
    made["b"] = ingest.record_inbound(b, sender="+50255500399", text="Hola", at=moment(20)).conversation
    return made


def test_one_query_gives_the_page_with_the_last_inbound_message_of_each(world, inbox):
    # given an information officer whose scope is already known (as in a request, after the first read)
    officer = world.user("a", "information_officer")
    scope_for(officer)
    # when the first page is read
    with CaptureQueriesContext(connection) as queries:
        page = inbox_page(officer)
        previews = [
            (c.pk, c.last_inbound_preview, c.gateway.name, c.contact.phone) for c in page.conversations
        ]
    # then one statement answered it, newest activity first, without the sensitive complaint or B's
    assert len(queries.captured_queries) == 1
    assert [pk for pk, *_ in previews] == [inbox[n].pk for n in (5, 4, 2, 1, 0)]
    # and each carries its last inbound text (the long one cut), decrypted
    assert previews[0][1] == "x" * 119 + "…"
    assert previews[1][1] == "Pregunta número 4"
    assert previews[0][2] == "generic_json channel"
    assert previews[0][3] == "+50255500305"
    assert page.next_cursor == ""


def test_the_preview_is_the_last_inbound_message_not_a_reply(world, inbox):
    officer = world.user("a", "site_manager")
    conversation = inbox[4]
    ingest.record_inbound(conversation.gateway, sender="+50255500304", text="Segunda pregunta", at=moment(30))
    Message.objects.create(
        conversation=conversation, direction=Direction.OUT, body="Respuesta", status="sent", at=moment(31)
    )
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=moment(31))
    first = inbox_page(officer).conversations[0]
    assert first.pk == conversation.pk
    assert first.last_inbound_preview == "Segunda pregunta"
    assert first.last_inbound_at == moment(30)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (InboxFilters(status="new"), [5, 4, 2, 0]),
        (InboxFilters(status="in_progress"), [1]),
        (InboxFilters(category="help"), [2]),
        (InboxFilters(category="untriaged"), [5, 4, 0]),
        (InboxFilters(urgency="urgent"), [2]),
        (InboxFilters(status="new", category="help", urgency="urgent"), [2]),
        (InboxFilters(assigned_to="nobody"), [5, 4, 2, 1, 0]),
        (InboxFilters(assigned_to="me"), []),
        (InboxFilters(medium="whatsapp"), []),
    ],
)
def test_filters(world, inbox, filters, expected):
    page = inbox_page(world.user("a", "site_manager"), filters)
    assert [c.pk for c in page.conversations] == [inbox[n].pk for n in expected]


def test_pages_follow_the_cursor_to_the_end(world, inbox):
    officer = world.user("a", "information_officer")
    first = inbox_page(officer, limit=2)
    second = inbox_page(officer, InboxFilters(before=first.next_cursor), limit=2)
    third = inbox_page(officer, InboxFilters(before=second.next_cursor), limit=2)
    assert [c.pk for c in first.conversations + second.conversations + third.conversations] == [
        inbox[n].pk for n in (5, 4, 2, 1, 0)
    ]
    assert third.next_cursor == ""


def test_a_cursor_with_ties_on_the_time_goes_by_id(world, inbox):
    Conversation.objects.filter(organisation=world.a.organisation).update(last_message_at=moment(50))
    officer = world.user("a", "information_officer")
    first = inbox_page(officer, limit=3)
    second = inbox_page(officer, InboxFilters(before=first.next_cursor), limit=3)
    ids = [c.pk for c in first.conversations + second.conversations]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 5


def test_the_designated_focal_point_also_sees_the_sensitive_complaint(world, inbox):
    manager = world.user("a", "site_manager")
    Membership.objects.filter(user=manager).update(handles_sensitive_complaints=True)
    assert inbox[3].pk in [c.pk for c in inbox_page(manager).conversations]
    assert inbox[3].pk not in [c.pk for c in inbox_page(world.user("a", "information_officer")).conversations]


def test_nobody_else_sees_anything(world, inbox):
    assert inbox_page(world.user("a", "caseworker")).conversations == []
    assert inbox_page(world.user("a", "data_analyst")).conversations == []
    assert [c.pk for c in inbox_page(world.user("b", "site_manager")).conversations] == [inbox["b"].pk]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "lost"}, "status"),
        ({"category": "gossip"}, "category"),
        ({"medium": "pigeon"}, "medium"),
        ({"assigned_to": "someone"}, "assigned_to"),
        ({"before": "yesterday_3"}, "before"),
        ({"before": "2026-03-02T09:00:00_3"}, "before"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(world, query, field):
    with pytest.raises(inbox_queries.InboxFilterError) as refused:
        inbox_page(world.user("a", "site_manager"), InboxFilters.from_query(query))
    assert refused.value.field == field


def test_filters_from_a_query_string():
    from django.http import QueryDict

    filters = InboxFilters.from_query(QueryDict("status=new&category=help&urgent=1&site=4&assigned_to=me"))
    assert filters == InboxFilters(status="new", category="help", urgency="urgent", site=4, assigned_to="me")
