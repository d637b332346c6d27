"""The partner's inbox: only active referrals to the user's organisation, answered through the lifecycle."""

from __future__ import annotations

import datetime
import json

import pytest
from django.utils import timezone
from django.utils.html import escape

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.messaging.models import OutboundMessage
from ventanilla.referrals import projection, services
from ventanilla.referrals.models import Referral, ReferralEvent, ReferralStatus, Urgency, Via
from ventanilla.testing.referrals import pathway, register_person

INBOX = "/en/staff/referrals/inbox/"


def detail_url(referral: Referral) -> str:
    return f"{INBOX}{referral.reference}/"


def answer_url(referral: Referral) -> str:
    return f"{INBOX}{referral.reference}/answer/"


@pytest.fixture
def path(world):
    return pathway(world)


@pytest.fixture
def referral(world, path):
    """A separated child with an injury, sent by A's caseworker to B for medical care."""
    return services.create_referral(
        register_person(world),
        pathway=path,
        category="medical",
        by=world.user("a", "caseworker"),
        need="Herida en la pierna",
    )


@pytest.fixture
def partner(world, client_for):
    return client_for(world.user("b", "partner_focal_point"))


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_inbox_lists_active_referrals_to_the_users_organisation_only(world, client_for, referral):
    # given a referral from A to B
    # when B's and A's partner focal points open their inboxes
    b_page = client_for(world.user("b", "partner_focal_point")).get(INBOX)
    a_page = client_for(world.user("a", "partner_focal_point")).get(INBOX)
    # then B's lists it (with the referral's code, never the person's) and A's does not
    assert b_page.status_code == 200
    assert [r.pk for r in b_page.context["rows"]] == [referral.pk]
    assert referral.reference in b_page.content.decode()
    assert referral.person.reference not in b_page.content.decode()
    assert a_page.status_code == 200
    assert a_page.context["rows"] == []
    assert referral.reference not in a_page.content.decode()


def test_the_inbox_is_only_for_those_who_receive_referrals(world, client_for, referral):
    # given A's caseworker, who sent the referral, and B's administrator
    # when they ask for the inbox
    answers = [
        client_for(world.user(org, role)).get(INBOX).status_code
        for org, role in [("a", "caseworker"), ("b", "administrator")]
    ]
    # then both are refused
    assert answers == [403, 403]


@pytest.mark.parametrize(
    "moves",
    [
        [(ReferralStatus.DECLINED, "no_capacity")],
        [(ReferralStatus.ACCEPTED, ""), (ReferralStatus.DELIVERED, "")],
        [(ReferralStatus.ACCEPTED, ""), (ReferralStatus.NOT_DELIVERED, "did_not_arrive")],
    ],
    ids=["declined", "delivered", "not_delivered"],
)
def test_an_answered_referral_leaves_the_inbox_and_its_page(world, partner, referral, moves):
    # given a referral B's partner has answered to the end
    for status, reason in moves:
        services.transition(
            referral, status, by=world.user("b", "partner_focal_point"), via=Via.PARTNER, reason=reason
        )
    # when the partner opens the inbox and the referral's page
    listed = partner.get(INBOX).context["rows"]
    page = partner.get(detail_url(referral))
    # then it is no longer there
    assert listed == []
    assert page.status_code == 404


def test_withdrawn_referral_leaves_the_inbox(world, partner, referral):
    # given the sender withdraws the referral
    services.transition(
        referral,
        ReferralStatus.WITHDRAWN,
        by=world.user("a", "caseworker"),
        via=Via.STAFF,
        reason="sent_in_error",
    )
    # when the partner looks
    # then it is gone from the list and the page
    assert partner.get(INBOX).context["rows"] == []
    assert partner.get(detail_url(referral)).status_code == 404


def test_the_inbox_read_is_audited_once_with_its_size_and_no_names(world, partner, referral):
    # given one referral in B's inbox
    before = AuditEntry.objects.count()
    # when the partner lists the inbox
    partner.get(INBOX)
    # then one read entry says how many were shown, by whom, and nothing about the person
    entries = list(AuditEntry.objects.order_by("id")[before:])
    assert [(e.action, e.actor_id, e.object_type, e.detail) for e in entries] == [
        (
            AuditAction.READ,
            world.user("b", "partner_focal_point").pk,
            "referrals.referral",
            {"list": True, "inbox": True, "count": 1},
        )
    ]


def test_the_inbox_puts_urgent_first_then_newest_and_marks_past_due(world, partner, path):
    # given three referrals: an old normal one past its answer time, a newer normal one, an urgent one
    person = register_person(world)
    caseworker = world.user("a", "caseworker")
    now = timezone.now()
    old = services.create_referral(
        person, pathway=path, category="medical", by=caseworker, now=now - datetime.timedelta(days=3)
    )
    newer = services.create_referral(person, pathway=path, category="child_protection", by=caseworker)
    urgent = services.create_referral(
        person, pathway=path, category="counter_trafficking", by=caseworker, urgency=Urgency.URGENT
    )
    # when the partner lists the inbox
    response = partner.get(INBOX)
    # then the urgent one comes first, then the newest; only the old one is past due
    rows = response.context["rows"]
    assert [r.pk for r in rows] == [urgent.pk, newer.pk, old.pk]
    assert [r.late for r in rows] == [False, False, True]
    assert response.content.decode().count("past due") == 1


def test_the_inbox_filters_by_status_and_service(world, partner, path):
    # given a medical referral (accepted) and a child protection one (sent)
    person = register_person(world)
    caseworker = world.user("a", "caseworker")
    medical = services.create_referral(person, pathway=path, category="medical", by=caseworker)
    child = services.create_referral(person, pathway=path, category="child_protection", by=caseworker)
    services.transition(
        medical, ReferralStatus.ACCEPTED, by=world.user("b", "partner_focal_point"), via=Via.PARTNER
    )
    # when the partner filters
    by_status = partner.get(INBOX, {"status": "accepted"}).context["rows"]
    by_service = partner.get(INBOX, {"service": "child_protection"}).context["rows"]
    both = partner.get(INBOX, {"status": "sent", "service": "medical"}).context["rows"]
    # then each filter keeps what it says
    assert [r.pk for r in by_status] == [medical.pk]
    assert [r.pk for r in by_service] == [child.pk]
    assert both == []


def test_the_inbox_takes_the_same_queries_for_one_or_many_referrals(
    world, partner, path, django_assert_num_queries
):
    # given one referral, and the number of queries its inbox takes
    person = register_person(world)
    caseworker = world.user("a", "caseworker")
    services.create_referral(person, pathway=path, category="medical", by=caseworker)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    partner.get(INBOX)  # the first request of a session loads what later ones find cached
    with CaptureQueriesContext(connection) as one:
        partner.get(INBOX)
    # when there are five more, for another person
    other = register_person(world, given_name="Berta")
    for _ in range(5):
        services.create_referral(other, pathway=path, category="medical", by=caseworker)
    # then the inbox takes exactly as many queries
    with django_assert_num_queries(len(one.captured_queries)):
        response = partner.get(INBOX)
    assert len(response.context["rows"]) == 6


def test_the_detail_shows_what_the_partner_needs_and_audits_the_read(world, partner, referral):
    # given a referral to B
    before = AuditEntry.objects.count()
    # when the partner opens it
    response = partner.get(detail_url(referral))
    # then the page shows the need, the shared items, the sender and the history, never the person's reference
    html = response.content.decode()
    assert response.status_code == 200
    assert "Herida en la pierna" in html
    assert "Casa Alfa" in html
    assert referral.person.reference not in html
    items = projection.loads(referral.shared)
    assert {i.field for i in items} >= {"age", "health"}
    for item in items:
        assert f'<dt>{escape(item.label)}</dt><dd dir="auto">{escape(item.value)}</dd>' in html
    assert [e.get_to_status_display() for e in response.context["events"]] == ["Sent"]
    # and offers exactly the answers the lifecycle allows the partner now
    context = response.context
    assert (context["may_accept"], context["may_decline"], context["may_start"], context["may_deliver"]) == (
        True,
        True,
        False,
        False,
    )
    # and the read is one audit entry by the partner, naming the referral only
    entries = list(AuditEntry.objects.order_by("id")[before:])
    assert [(e.action, e.actor_id, e.object_type, e.object_id) for e in entries] == [
        (AuditAction.READ, world.user("b", "partner_focal_point").pk, "referrals.referral", str(referral.pk))
    ]


def test_the_detail_of_a_referral_the_users_organisation_sent_is_not_found(world, client_for, referral):
    # given a referral A sent to B, and A's partner focal point
    client = client_for(world.user("a", "partner_focal_point"))
    # when A's partner asks for it in the inbox, or answers it
    page = client.get(detail_url(referral))
    answer = client.post(answer_url(referral), {"action": "accepted"})
    # then it is not there, and nothing changed
    assert (page.status_code, answer.status_code) == (404, 404)
    referral.refresh_from_db()
    assert referral.status == ReferralStatus.SENT


def test_accept_with_where_and_when_tells_the_person(world, partner, referral):
    # given a sent referral (the person agreed to follow-up contact and has a phone)
    sms_before = OutboundMessage.objects.filter(purpose="referral_person").count()
    # when the partner accepts it and says where and when
    response = partner.post(
        answer_url(referral), {"action": "accepted", "appointment": "Lunes 9:00, ventanilla 2", "note": "Ok"}
    )
    # then it is accepted by the partner from the inbox, the appointment is kept and the person is told
    assert response.status_code == 302
    assert response["Location"] == detail_url(referral)
    referral.refresh_from_db()
    assert (referral.status, referral.appointment, referral.outcome_note) == (
        ReferralStatus.ACCEPTED,
        "Lunes 9:00, ventanilla 2",
        "Ok",
    )
    event = referral.events.latest("pk")
    assert (event.to_status, event.via, event.by_id) == (
        "accepted",
        Via.PARTNER,
        world.user("b", "partner_focal_point").pk,
    )
    assert OutboundMessage.objects.filter(purpose="referral_person").count() == sms_before + 1
    page = partner.get(response["Location"])
    assert messages_of(page) == [f"Referral {referral.reference}: Accepted."]
    assert "Lunes 9:00, ventanilla 2" in page.content.decode()


def test_decline_with_a_reason_closes_it_for_the_partner(world, partner, referral):
    # when the partner declines with a reason
    response = partner.post(
        answer_url(referral), {"action": "declined", "reason": "no_capacity", "note": "Lleno"}
    )
    # then it is declined with that reason, and the partner goes back to the inbox
    referral.refresh_from_db()
    assert (referral.status, referral.reason) == (ReferralStatus.DECLINED, "no_capacity")
    assert response["Location"] == INBOX
    assert messages_of(partner.get(INBOX)) == [f"Referral {referral.reference}: Declined."]


def test_deliver_records_the_service_given(world, partner, referral):
    # given an accepted referral, then in progress
    partner.post(answer_url(referral), {"action": "accepted"})
    partner.post(answer_url(referral), {"action": "in_progress"})
    # when the partner records the service given
    response = partner.post(answer_url(referral), {"action": "delivered", "note": "Curación y vacuna"})
    # then it is delivered with the note, and gone from the inbox
    referral.refresh_from_db()
    assert (referral.status, referral.outcome_note) == (ReferralStatus.DELIVERED, "Curación y vacuna")
    assert list(referral.events.values_list("to_status", flat=True)) == [
        "sent",
        "accepted",
        "in_progress",
        "delivered",
    ]
    assert response["Location"] == INBOX


def test_not_delivered_needs_a_reason(world, partner, referral):
    # given an accepted referral
    partner.post(answer_url(referral), {"action": "accepted"}, follow=True)
    # when the partner records "not delivered" without a reason, then with one
    refused = partner.post(answer_url(referral), {"action": "not_delivered"})
    status_after_refusal = Referral.objects.get(pk=referral.pk).status
    refusal_messages = messages_of(partner.get(refused["Location"]))
    partner.post(answer_url(referral), {"action": "not_delivered", "reason": "did_not_arrive"})
    # then the first is refused with nothing changed, the second recorded
    assert status_after_refusal == ReferralStatus.ACCEPTED
    assert refusal_messages == ["Choose a reason."]
    referral.refresh_from_db()
    assert (referral.status, referral.reason) == (ReferralStatus.NOT_DELIVERED, "did_not_arrive")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "declined"}, "Choose a reason."),
        ({"action": "declined", "reason": "made_up"}, "Choose a reason."),
        ({"action": "delivered", "note": "x"}, "A referral that is Sent cannot become Service delivered."),
        ({"action": "closed"}, "Only the sender can do that."),
        ({"action": "withdrawn", "reason": "other"}, "Only the sender can do that."),
        ({"action": "expired"}, "This happens on its own when the partner's answer time has passed."),
        ({"action": "nonsense"}, "Unknown answer."),
        ({"action": "appointment", "appointment": " "}, "Say where and when the person should go."),
        (
            {"action": "accepted", "appointment": "x" * 301},
            "Ensure this value has at most 300 characters (it has 301).",
        ),
    ],
    ids=[
        "no-reason",
        "unknown-reason",
        "skip-ahead",
        "close",
        "withdraw",
        "expire",
        "nonsense",
        "blank-appointment",
        "long",
    ],
)
def test_answers_the_lifecycle_does_not_allow_change_nothing(world, partner, referral, data, message):
    # given a sent referral and the state of everything an answer could change
    before = (
        list(Referral.objects.filter(pk=referral.pk).values()),
        list(ReferralEvent.objects.values_list("pk", flat=True)),
        OutboundMessage.objects.count(),
        AuditEntry.objects.exclude(action=AuditAction.READ).count(),
    )
    # when the partner sends the answer
    response = partner.post(answer_url(referral), data)
    # then it is refused with a message and nothing changed
    assert response["Location"] == detail_url(referral)
    assert messages_of(partner.get(detail_url(referral))) == [message]
    after = (
        list(Referral.objects.filter(pk=referral.pk).values()),
        list(ReferralEvent.objects.values_list("pk", flat=True)),
        OutboundMessage.objects.count(),
        AuditEntry.objects.exclude(action=AuditAction.READ).count(),
    )
    assert after == before


def test_the_appointment_alone_can_be_set_and_changed(world, partner, referral):
    # when the partner sets where and when, then changes it
    partner.post(answer_url(referral), {"action": "appointment", "appointment": "Martes 10:00"})
    partner.post(answer_url(referral), {"action": "appointment", "appointment": "Miércoles 11:00"})
    # then the latest is kept, the status is unchanged, and each change is audited without the text
    referral.refresh_from_db()
    assert (referral.status, referral.appointment) == (ReferralStatus.SENT, "Miércoles 11:00")
    changes = AuditEntry.objects.filter(
        action=AuditAction.UPDATE, object_id=str(referral.pk), fields=["appointment"]
    )
    assert changes.count() == 2
    assert "Miércoles" not in json.dumps(list(changes.values_list("detail", flat=True)))


def test_a_failed_appointment_on_accept_leaves_the_referral_sent(world, partner, referral, monkeypatch):
    # given the person cannot be told (the outbox fails) while accepting with an appointment
    from ventanilla.referrals import notifications

    def broken(referral):
        raise services.ReferralError("The message could not be queued.")

    monkeypatch.setattr(notifications, "tell_person", broken)
    # when the partner accepts with where and when
    partner.post(answer_url(referral), {"action": "accepted", "appointment": "Lunes"})
    # then nothing was half-written: still sent, no appointment, no new event
    referral.refresh_from_db()
    assert (referral.status, referral.appointment) == (ReferralStatus.SENT, "")
    assert list(referral.events.values_list("to_status", flat=True)) == ["sent"]


def test_no_person_name_reaches_the_audit_log(world, partner, referral):
    # given a child protection referral, which shares the child's name with the partner
    child = services.create_referral(
        referral.person,
        pathway=referral.pathway,
        category="child_protection",
        by=world.user("a", "caseworker"),
    )
    # when the partner reads and answers it
    partner.get(INBOX)
    partner.get(detail_url(child))
    partner.post(
        answer_url(child), {"action": "accepted", "appointment": "Hoy 15:00", "note": "Ana llega hoy"}
    )
    # then the name is on the page, but no audit entry carries it (or the notes)
    assert "Ana López" in partner.get(detail_url(child)).content.decode()
    details = json.dumps(list(AuditEntry.objects.values_list("detail", flat=True)), ensure_ascii=False)
    assert "Ana" not in details
    assert "López" not in details
    assert "Hoy" not in details
