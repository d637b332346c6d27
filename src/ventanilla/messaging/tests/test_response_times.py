"""Each organisation's answer targets: set by its administrators, used when messages arrive and when a
conversation is marked urgent, refused with every wrong value named."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from ventanilla.core.models import AuditEntry
from ventanilla.messaging import inbox, ingest, response_times
from ventanilla.messaging.inbox import InboxError, InboxPermissionError
from ventanilla.messaging.models_inbox import ResponseTimes
from ventanilla.testing.messaging import gateway

PAGE = "/en/staff/channels/response-times/"


def hours_between(later: datetime.datetime, earlier: datetime.datetime) -> float:
    return round((later - earlier).total_seconds() / 3600, 2)


def test_without_targets_the_defaults_hold(world):
    at = timezone.now()
    message = ingest.record_inbound(gateway(world), sender="+529625550101", text="Hola", at=at)
    assert hours_between(message.conversation.respond_by, at) == 24


def test_the_organisations_targets_set_when_a_message_is_due(world):
    administrator = world.user("a", "administrator")
    response_times.set_targets(world.a.organisation, answer_hours=4, urgent_hours=1, by=administrator)
    channel = gateway(world)
    at = timezone.now()
    # an ordinary message is due four hours later
    plain = ingest.record_inbound(channel, sender="+529625550101", text="¿Dónde hay albergue?", at=at)
    assert hours_between(plain.conversation.respond_by, at) == 4
    # a call for help within the urgent target
    urgent = ingest.record_inbound(channel, sender="+529625550102", text="Me quitaron el pasaporte", at=at)
    assert hours_between(urgent.conversation.respond_by, at) == 1
    # and marking a conversation urgent by hand brings it forward to the organisation's urgent target
    response_times.set_targets(world.a.organisation, answer_hours=48, urgent_hours=3, by=administrator)
    later = ingest.record_inbound(channel, sender="+529625550103", text="Necesito hablar con alguien")
    assert hours_between(later.conversation.respond_by, later.at) == 48
    inbox.change(later.conversation, by=world.user("a", "information_officer"), urgency="urgent")
    later.conversation.refresh_from_db()
    assert 2.9 < hours_between(later.conversation.respond_by, timezone.now()) <= 3


@pytest.mark.parametrize(
    ("answer", "urgent", "fields"),
    [
        (0, 1, {"answer_hours"}),
        (24, 0, {"urgent_hours"}),
        (800, 100, {"answer_hours", "urgent_hours"}),
        (4, 8, {"urgent_hours"}),
    ],
)
def test_wrong_targets_are_refused_naming_each_field(world, answer, urgent, fields):
    with pytest.raises(InboxError) as refused:
        response_times.set_targets(
            world.a.organisation,
            answer_hours=answer,
            urgent_hours=urgent,
            by=world.user("a", "administrator"),
        )
    assert set(refused.value.errors) == fields
    assert not ResponseTimes.objects.exists()


def test_only_an_administrator_of_the_organisation_sets_them(world):
    for user in (world.user("a", "site_manager"), world.user("b", "administrator")):
        with pytest.raises(InboxPermissionError):
            response_times.set_targets(world.a.organisation, answer_hours=4, urgent_hours=1, by=user)
    assert not ResponseTimes.objects.exists()


def test_the_page_shows_and_saves_the_targets_and_audits_the_change(world, client_for):
    client = client_for(world.user("a", "administrator"))
    organisation = world.a.organisation
    prefix = f"org{organisation.pk}-"
    shown = client.get(PAGE)
    assert shown.status_code == 200
    assert shown.context["forms"][0].initial == {"answer_hours": 24, "urgent_hours": 1}
    wrong = client.post(
        PAGE, {"organisation": organisation.pk, prefix + "answer_hours": "4", prefix + "urgent_hours": "6"}
    )
    assert wrong.status_code == 422
    assert wrong.context["forms"][0].errors["urgent_hours"]
    saved = client.post(
        PAGE, {"organisation": organisation.pk, prefix + "answer_hours": "4", prefix + "urgent_hours": "2"}
    )
    assert (saved.status_code, saved["Location"]) == (302, PAGE)
    assert response_times.targets_for(organisation.pk) == response_times.Targets(4, 2)
    entry = AuditEntry.objects.get(action="update", object_type="accounts.organisation")
    assert entry.detail == {"response_hours": 4, "urgent_hours": 2}


def test_the_api_lists_and_sets_the_targets(world, client_for):
    client = client_for(world.user("a", "administrator"))
    organisation = world.a.organisation
    assert client.get("/api/v1/response-times/").json() == [
        {"organisation": organisation.pk, "answer_hours": 24, "urgent_hours": 1, "category_hours": {}}
    ]
    url = f"/api/v1/response-times/{organisation.pk}/"
    wrong = client.put(url, {"answer_hours": 2, "urgent_hours": 5}, content_type="application/json")
    assert wrong.status_code == 400
    assert list(wrong.json()["error"]["fields"]) == ["urgent_hours"]
    saved = client.put(url, {"answer_hours": 6, "urgent_hours": 2}, content_type="application/json")
    assert saved.json() == {
        "organisation": organisation.pk,
        "answer_hours": 6,
        "urgent_hours": 2,
        "category_hours": {},
    }
    other = client_for(world.user("b", "administrator"))
    assert (
        other.put(url, {"answer_hours": 6, "urgent_hours": 2}, content_type="application/json").status_code
        == 404
    )


# --- targets by category ------------------------------------------------------------------------------


def test_a_categorys_target_sets_the_due_time_once_triaged_from_when_the_person_started_waiting(world):
    administrator, officer = world.user("a", "administrator"), world.user("a", "information_officer")
    response_times.set_targets(
        world.a.organisation,
        answer_hours=24,
        urgent_hours=1,
        category_hours={"help": 4, "complaint": 72, "question": None},
        by=administrator,
    )
    channel = gateway(world)
    first = timezone.now() - datetime.timedelta(hours=2)
    message = ingest.record_inbound(channel, sender="+529625550101", text="Hola", at=first)
    ingest.record_inbound(
        channel, sender="+529625550101", text="¿Me ayudan?", at=first + datetime.timedelta(hours=1)
    )
    conversation = message.conversation
    # not triaged: the general target, from the first message
    conversation.refresh_from_db()
    assert hours_between(conversation.respond_by, first) == 24
    # a request for help: 4 hours from the first message, not from the triage (so 2 hours from now)
    inbox.triage(conversation, category="help", by=officer)
    conversation.refresh_from_db()
    assert hours_between(conversation.respond_by, first) == 4
    # a question has no target of its own (blank): back to the general one
    inbox.triage(conversation, category="question", by=officer)
    conversation.refresh_from_db()
    assert hours_between(conversation.respond_by, first) == 24
    # after an answer, the next message starts the wait again, with the conversation's category
    inbox.triage(conversation, category="complaint", by=officer)
    inbox.reply(conversation, "Recibimos su queja.", by=officer)
    inbox.set_status(conversation, "answered", by=officer)
    again = timezone.now()
    ingest.record_inbound(channel, sender="+529625550101", text="¿Alguna novedad?", at=again)
    conversation.refresh_from_db()
    assert hours_between(conversation.respond_by, again) == 72


def complaints_within_three_days(world):
    response_times.set_targets(
        world.a.organisation,
        answer_hours=24,
        urgent_hours=1,
        category_hours={"complaint": 72},
        by=world.user("a", "administrator"),
    )


def test_a_category_target_never_delays_an_urgent_conversation(world):
    complaints_within_three_days(world)
    at = timezone.now()
    urgent = ingest.record_inbound(
        gateway(world), sender="+529625550102", text="Me quitaron el pasaporte", at=at
    )
    inbox.triage(urgent.conversation, category="complaint", by=world.user("a", "information_officer"))
    urgent.conversation.refresh_from_db()
    assert hours_between(urgent.conversation.respond_by, at) == 1


def test_a_general_target_changed_later_does_not_move_a_waiting_conversation_on_triage(world):
    administrator = world.user("a", "administrator")
    at = timezone.now()
    message = ingest.record_inbound(gateway(world), sender="+529625550101", text="Hola", at=at)
    response_times.set_targets(world.a.organisation, answer_hours=48, urgent_hours=1, by=administrator)
    inbox.triage(message.conversation, category="question", by=world.user("a", "information_officer"))
    message.conversation.refresh_from_db()
    assert hours_between(message.conversation.respond_by, at) == 24  # the promise made on arrival


def test_the_web_forms_category_uses_its_target(world):
    from ventanilla.messaging import feedback

    complaints_within_three_days(world)
    web = gateway(world, "web_form", name="Web")
    message = feedback.submit(web, category="complaint", text="La fila fue de cinco horas.")
    message.conversation.refresh_from_db()
    assert hours_between(message.conversation.respond_by, message.at) == 72


@pytest.mark.parametrize(
    ("given", "wrong"),
    [
        ({"help": 0}, "Request for help: choose between 1 and 720 hours."),
        ({"help": 800}, "Request for help: choose between 1 and 720 hours."),
        ({"help": "4"}, "Request for help: choose between 1 and 720 hours."),
        ({"weather": 4}, "weather is not a category."),
    ],
)
def test_wrong_category_targets_are_refused_and_nothing_is_kept(world, given, wrong):
    with pytest.raises(InboxError) as refused:
        response_times.set_targets(
            world.a.organisation,
            answer_hours=24,
            urgent_hours=1,
            category_hours=given,
            by=world.user("a", "administrator"),
        )
    assert refused.value.errors == {"category_hours": wrong}
    assert not ResponseTimes.objects.exists()


def test_category_targets_on_the_page_and_in_the_api(world, client_for):
    client = client_for(world.user("a", "administrator"))
    organisation = world.a.organisation
    prefix = f"org{organisation.pk}-"
    saved = client.post(
        PAGE,
        {
            "organisation": organisation.pk,
            prefix + "answer_hours": "24",
            prefix + "urgent_hours": "1",
            prefix + "category_help": "4",
            prefix + "category_thanks": "",
        },
    )
    assert saved.status_code == 302
    assert response_times.targets_for(organisation.pk).category_hours == {"help": 4}
    entry = AuditEntry.objects.get(action="update", object_type="accounts.organisation")
    assert entry.detail == {"response_hours": 24, "urgent_hours": 1, "hours_help": 4}
    # the page shows it back, and the API too
    page = client.get(PAGE)
    assert page.context["forms"][0]["category_help"].value() == 4
    url = f"/api/v1/response-times/{organisation.pk}/"
    assert client.get("/api/v1/response-times/").json()[0]["category_hours"] == {"help": 4}
    # a PUT without category_hours keeps them; with them, replaces them
    kept = client.put(url, {"answer_hours": 12, "urgent_hours": 1}, content_type="application/json")
    assert kept.json()["category_hours"] == {"help": 4}
    body = {"answer_hours": 12, "urgent_hours": 1, "category_hours": {"complaint": 72, "help": None}}
    replaced = client.put(url, body, content_type="application/json")
    assert replaced.json()["category_hours"] == {"complaint": 72}
    wrong = client.put(
        url,
        {"answer_hours": 12, "urgent_hours": 1, "category_hours": {"complaint": 0}},
        content_type="application/json",
    )
    assert wrong.status_code == 400
    assert list(wrong.json()["error"]["fields"]) == ["category_hours"]
