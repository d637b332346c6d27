"""The inbox: triage, assignment, status, notes and replies; who sees which conversation; the list's cost."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.test_no_inline_code import inline_code
from ventanilla.accounts.models import Membership
from ventanilla.core.models import AuditEntry
from ventanilla.core.scoping import forget_scope
from ventanilla.messaging import inbox, ingest
from ventanilla.messaging.models import Notice
from ventanilla.messaging.models_inbox import Contact, Conversation, Message, ReplyTemplate
from ventanilla.testing.messaging import gateway

NUMBER = "+529625550101"


@pytest.fixture
def channel(world):
    return gateway(world)


@pytest.fixture
def officer(world):
    return world.user("a", "information_officer")


def conversation_from(channel, text="¿Dónde hay un albergue en Tapachula?", sender=NUMBER, **fields):
    message = ingest.record_inbound(channel, sender=sender, text=text)
    conversation = message.conversation
    if fields:
        Conversation.objects.filter(pk=conversation.pk).update(**fields)
        conversation.refresh_from_db()
    return conversation


def designate(user, organisation):
    """Make the user a focal point for sensitive complaints in the organisation."""
    Membership.objects.filter(user=user, organisation=organisation).update(handles_sensitive_complaints=True)
    forget_scope(user)


def audit_entries(conversation):
    return list(
        AuditEntry.objects.filter(object_type="messaging.conversation", object_id=str(conversation.pk))
        .exclude(action="read")
        .order_by("id")
        .values_list("action", "actor_id", "fields", "detail")
    )


# --- services --------------------------------------------------------------------------------------


def test_triage_sorts_the_conversation_and_audits_only_field_names(world, channel, officer):
    # given a new conversation in Spanish
    conversation = conversation_from(channel)
    # when the officer triages it
    inbox.triage(
        conversation,
        by=officer,
        category="question",
        topics=["albergue", " Documentos ", "ALBERGUE", ""],
        urgency="normal",
        language="es",
    )
    # then the values are kept, topics trimmed, lower-case and without repeats
    conversation.refresh_from_db()
    assert (conversation.category, conversation.topics, conversation.language) == (
        "question",
        ["albergue", "documentos"],
        "es",
    )
    # and the audit names the fields that changed and the category's code, never a topic
    assert audit_entries(conversation) == [
        ("update", officer.pk, ["category", "topics"], {"category": "question"})
    ]


def test_marking_urgent_brings_the_answer_forward_and_normal_clears_the_reason(world, channel, officer):
    conversation = conversation_from(channel, text="Me quitaron el pasaporte")
    assert conversation.urgent_reason == "documents taken"
    inbox.triage(conversation, by=officer, urgency="normal")
    conversation.refresh_from_db()
    assert (conversation.urgency, conversation.urgent_reason) == ("normal", "")
    # when it is marked urgent again by hand
    Conversation.objects.filter(pk=conversation.pk).update(
        respond_by=timezone.now() + datetime.timedelta(days=1)
    )
    conversation.refresh_from_db()
    inbox.triage(conversation, by=officer, urgency="urgent")
    conversation.refresh_from_db()
    # then the answer is due within the hour
    assert conversation.respond_by <= timezone.now() + datetime.timedelta(hours=1)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"category": "gossip"}, "category"),
        ({"urgency": "very"}, "urgency"),
        ({"language": "xx"}, "language"),
        ({"topics": ["x" * 41]}, "topics"),
        ({"topics": [f"t{n}" for n in range(11)]}, "topics"),
    ],
)
def test_triage_refuses_unknown_values_naming_the_field_and_changes_nothing(
    world, channel, officer, fields, field
):
    conversation = conversation_from(channel)
    with pytest.raises(inbox.InboxError) as refused:
        inbox.triage(conversation, by=officer, **fields)
    assert refused.value.field == field
    conversation.refresh_from_db()
    assert (conversation.category, conversation.topics, conversation.urgency) == ("", [], "normal")
    assert audit_entries(conversation) == []


def test_someone_who_may_not_read_the_conversation_cannot_change_it(world, channel):
    conversation = conversation_from(channel)
    for user in (world.user("b", "information_officer"), world.user("a", "caseworker")):
        for change in (
            lambda u: inbox.triage(conversation, by=u, category="question"),
            lambda u: inbox.assign(conversation, to=u, by=u),
            lambda u: inbox.set_status(conversation, "closed", by=u),
            lambda u: inbox.add_note(conversation, "x", by=u),
            lambda u: inbox.reply(conversation, "x", by=u),
        ):
            with pytest.raises(inbox.InboxPermissionError):
                change(user)
    conversation.refresh_from_db()
    assert (conversation.category, conversation.assigned_to, conversation.status, conversation.notes) == (
        "",
        None,
        "new",
        "",
    )
    assert not Message.objects.filter(direction="out").exists()


def test_assign_to_a_message_handler_or_caseworker_of_the_organisation_only(world, channel, officer):
    conversation = conversation_from(channel)
    manager = world.user("a", "site_manager")
    # when the officer assigns it to the site manager
    inbox.assign(conversation, to=manager, by=officer)
    conversation.refresh_from_db()
    assert conversation.assigned_to == manager
    # then the site manager is told, with a link and no personal values
    notice = Notice.objects.get(user=manager)
    assert (notice.kind, notice.url) == ("conversation_assigned", f"/en/staff/inbox/{conversation.pk}/")
    # and someone of A who neither handles messages nor registers people, or B's officer, cannot be
    # given it (a caseworker can: tests/test_handover.py)
    for stranger in (world.user("a", "data_analyst"), world.user("b", "information_officer")):
        with pytest.raises(inbox.InboxError) as refused:
            inbox.assign(conversation, to=stranger, by=officer)
        assert refused.value.field == "assigned_to"
    # and assigning to nobody takes it off
    inbox.assign(conversation, to=None, by=officer)
    conversation.refresh_from_db()
    assert conversation.assigned_to is None
    assert [e[2] for e in audit_entries(conversation)] == [["assigned_to"], ["assigned_to"]]


def test_status_closing_stamps_the_time_and_reopening_clears_it(world, channel, officer):
    conversation = conversation_from(channel)
    inbox.set_status(conversation, "closed", by=officer)
    conversation.refresh_from_db()
    assert conversation.status == "closed"
    assert conversation.closed_at is not None
    inbox.set_status(conversation, "in_progress", by=officer)
    conversation.refresh_from_db()
    assert (conversation.status, conversation.closed_at) == ("in_progress", None)
    with pytest.raises(inbox.InboxError):
        inbox.set_status(conversation, "lost", by=officer)
    assert [e[2] for e in audit_entries(conversation)] == [["closed_at", "status"], ["closed_at", "status"]]


def test_notes_are_appended_signed_dated_and_kept_encrypted(world, channel, officer):
    conversation = conversation_from(channel)
    manager = world.user("a", "site_manager")
    inbox.add_note(conversation, "Called back, no answer.", by=officer)
    inbox.add_note(conversation, "Sent the shelter's address.", by=manager)
    conversation.refresh_from_db()
    first, second = conversation.notes.split("\n\n")
    assert first.endswith(f"{officer.get_full_name()}\nCalled back, no answer.")
    assert second.endswith(f"{manager.get_full_name()}\nSent the shelter's address.")
    assert first.startswith(f"— {timezone.now():%Y-%m-%d}")
    with connection.cursor() as cursor:
        cursor.execute("SELECT notes FROM messaging_conversation WHERE id = %s", [conversation.pk])
        stored = cursor.fetchone()[0]
    assert "Called back" not in stored
    with pytest.raises(inbox.InboxError) as refused:
        inbox.add_note(conversation, "   ", by=officer)
    assert refused.value.field == "text"
    assert [e[2] for e in audit_entries(conversation)] == [["notes"], ["notes"]]


def test_a_reply_to_a_contact_who_sent_stop_is_refused_and_nothing_is_written(world, channel, officer):
    conversation = conversation_from(channel)
    Contact.objects.filter(pk=conversation.contact_id).update(opted_out_at=timezone.now())
    conversation.refresh_from_db()
    with pytest.raises(inbox.InboxError) as refused:
        inbox.reply(conversation, "¿Sigue ahí?", by=officer)
    assert refused.value.field == "text"
    assert not Message.objects.filter(direction="out").exists()
    assert audit_entries(conversation) == []
    conversation.refresh_from_db()
    assert conversation.status == "new"


def test_a_reply_is_queued_on_the_same_channel_and_audited(world, channel, officer):
    conversation = conversation_from(channel)
    message = inbox.reply(conversation, "Casa del Migrante, Calle 5 #10.", by=officer)
    assert (message.direction, message.status, message.sent_by) == ("out", "queued", officer)
    conversation.refresh_from_db()
    assert conversation.status == "answered"
    assert audit_entries(conversation) == [
        ("update", officer.pk, ["messages", "status"], {"message": message.pk})
    ]


def test_marking_a_sensitive_complaint_hands_it_to_the_focal_points(world, channel, officer):
    # given a conversation assigned to the officer, and A's site manager designated focal point
    conversation = conversation_from(channel, text="El guardia me pidió dinero")
    manager = world.user("a", "site_manager")
    designate(manager, world.a.organisation)
    inbox.assign(conversation, to=officer, by=officer)
    # when the officer marks it a sensitive complaint
    inbox.triage(conversation, by=officer, category="sensitive")
    # then it leaves the officer's sight and assignment, and the focal point is told
    conversation.refresh_from_db()
    assert conversation.assigned_to is None
    forget_scope(officer)
    assert not inbox.conversations(officer).filter(pk=conversation.pk).exists()
    assert inbox.conversations(manager).filter(pk=conversation.pk).exists()
    assert Notice.objects.get(kind="sensitive_complaint").user == manager
    # and only a focal point can be given it now
    with pytest.raises(inbox.InboxPermissionError):
        inbox.assign(conversation, to=officer, by=officer)
    with pytest.raises(inbox.InboxError):
        inbox.assign(conversation, to=officer, by=manager)
    inbox.assign(conversation, to=manager, by=manager)


def test_one_refusal_names_every_wrong_field_and_writes_nothing(world, channel, officer):
    conversation = conversation_from(channel)
    stranger = world.user("b", "information_officer")
    with pytest.raises(inbox.InboxError) as refused:
        inbox.change(
            conversation,
            by=officer,
            category="gossip",
            topics=[f"t{n}" for n in range(11)],
            status="archived",
            assigned_to=stranger,
        )
    assert set(refused.value.errors) == {"category", "topics", "status", "assigned_to"}
    conversation.refresh_from_db()
    assert (conversation.category, conversation.topics, conversation.status) == ("", [], "new")
    assert audit_entries(conversation) == []


def test_the_api_and_the_page_share_the_sensitive_complaint_rules(world, client_for, channel, officer):
    # given a conversation assigned to the officer and a designated focal point
    conversation = conversation_from(channel, text="El guardia me pidió dinero")
    manager = world.user("a", "site_manager")
    designate(manager, world.a.organisation)
    inbox.assign(conversation, to=officer, by=officer)
    # when the officer marks it a sensitive complaint through the API
    response = client_for(officer).patch(
        f"/api/v1/conversations/{conversation.pk}/",
        {"category": "sensitive"},
        content_type="application/json",
    )
    # then it is gone from the officer's sight, unassigned, and the focal point is told (as on the page)
    assert response.status_code == 204
    conversation.refresh_from_db()
    assert conversation.assigned_to is None
    assert Notice.objects.get(kind="sensitive_complaint").user == manager


def test_template_names_are_unique_per_language_and_only_for_handlers(world, officer):
    organisation = world.a.organisation
    template = inbox.save_template(
        organisation=organisation, name="Shelter", language="es", text="Casa del Migrante", by=officer
    )
    inbox.save_template(
        organisation=organisation, name="Shelter", language="ar", text="بيت المهاجر", by=officer
    )
    with pytest.raises(inbox.InboxError) as refused:
        inbox.save_template(organisation=organisation, name="Shelter", language="es", text="x", by=officer)
    assert refused.value.field == "name"
    with pytest.raises(inbox.InboxPermissionError):
        inbox.save_template(
            organisation=organisation, name="X", language="es", text="x", by=world.user("a", "caseworker")
        )
    edited = inbox.save_template(
        organisation=organisation, name="Shelter", language="es", text="Casa", by=officer, template=template
    )
    assert edited.text == "Casa"
    assert ReplyTemplate.objects.count() == 2


# --- pages -----------------------------------------------------------------------------------------


def test_the_list_shows_each_conversation_with_its_preview_and_audits_the_read(
    world, channel, officer, client_for
):
    conversation_from(channel, text="Me quitaron el pasaporte y no me dejan salir")
    conversation_from(channel, sender="+529625550102", text="Gracias por la ayuda")
    response = client_for(officer).get("/en/staff/inbox/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Me quitaron el pasaporte y no me dejan salir" in page
    assert "documents taken" in page
    assert "Gracias por la ayuda" in page
    assert NUMBER not in page
    entry = AuditEntry.objects.filter(action="read", object_type="messaging.conversation").get()
    assert (entry.actor_id, entry.detail) == (officer.pk, {"list": True, "count": 2})


def test_the_reason_for_urgency_is_shown_in_the_readers_language(world, channel, officer, client_for):
    conversation = conversation_from(channel, text="Me quitaron el pasaporte y no me dejan salir")
    assert conversation.urgent_reason == "documents taken"  # the code is stored, the words are shown
    client = client_for(officer)
    assert "retención de documentos" in client.get("/es/staff/inbox/").content.decode()
    assert "retención de documentos" in client.get(f"/es/staff/inbox/{conversation.pk}/").content.decode()


def _listed(client, query=""):
    response = client.get(f"/en/staff/inbox/{query}")
    assert response.status_code == 200
    return {c.pk for c in response.context["conversations"]}


def test_the_list_filters(world, channel, officer, client_for):
    # given conversations of every kind
    now = timezone.now()
    plain = conversation_from(channel, sender="+529625550111")
    urgent = conversation_from(channel, sender="+529625550112", text="Me quitaron el pasaporte")
    triaged = conversation_from(
        channel, sender="+529625550113", category="question", language="fr", medium="whatsapp"
    )
    mine = conversation_from(channel, sender="+529625550114", assigned_to=officer, status="in_progress")
    late = conversation_from(channel, sender="+529625550115", respond_by=now - datetime.timedelta(hours=1))
    answered_late = conversation_from(
        channel, sender="+529625550116", respond_by=now - datetime.timedelta(hours=1), status="answered"
    )
    everything = {plain.pk, urgent.pk, triaged.pk, mine.pk, late.pk, answered_late.pk}
    client = client_for(officer)
    # then each filter keeps exactly its conversations
    assert _listed(client) == everything
    assert _listed(client, "?category=untriaged") == everything - {triaged.pk}
    assert _listed(client, "?category=question") == {triaged.pk}
    assert _listed(client, "?urgency=urgent") == {urgent.pk}
    assert _listed(client, "?medium=whatsapp") == {triaged.pk}
    assert _listed(client, "?language=fr") == {triaged.pk}
    assert _listed(client, "?assigned=me") == {mine.pk}
    assert _listed(client, "?assigned=nobody") == everything - {mine.pk}
    assert _listed(client, "?status=answered") == {answered_late.pk}
    assert _listed(client, "?overdue=on") == {late.pk}
    assert _listed(client, "overdue/") == {late.pk}
    assert _listed(client, "overdue/?assigned=me") == set()


def test_a_search_by_number_finds_its_conversations_but_never_a_hidden_complaint(
    world, channel, officer, client_for
):
    # given two conversations from one number (the later a sensitive complaint) and one from another
    question = conversation_from(channel, text="¿Dónde hay albergue?", status="closed")
    complaint = conversation_from(channel, text="El guardia me pidió dinero", category="sensitive")
    assert complaint.pk != question.pk
    assert complaint.contact_id == question.contact_id
    other = conversation_from(channel, sender="+529625550199")
    client = client_for(officer)
    # when the officer searches the number, written as people write it
    found = _listed(client, "?number=%2B52%20962%20555%200101")
    # then only that number's conversations they may read are listed: not the complaint, not the other
    assert found == {question.pk}
    assert other.pk not in found
    # and the audit says it was a search by number, without the number
    entry = AuditEntry.objects.filter(action="read", object_type="messaging.conversation").latest("id")
    assert entry.detail == {"list": True, "count": len(found), "by_number": True}
    assert "555" not in str(entry.detail)
    # a focal point finds the complaint by the same search
    manager = world.user("a", "site_manager")
    designate(manager, world.a.organisation)
    assert complaint.pk in _listed(client_for(manager), "?number=%2B529625550101")
    # and a number without its country code is refused next to the field
    response = client.get("/en/staff/inbox/?number=9625550101")
    assert response.status_code == 200
    assert response.context["form"].errors["number"]


def test_the_list_is_newest_first_and_paginated(world, channel, officer, client_for, monkeypatch):
    from ventanilla.messaging import views_inbox

    monkeypatch.setattr(views_inbox, "PAGE_SIZE", 2)
    now = timezone.now()
    made = [
        conversation_from(
            channel, sender=f"+5296255501{n:02d}", last_message_at=now - datetime.timedelta(minutes=n)
        )
        for n in range(3)
    ]
    client = client_for(officer)
    first = client.get("/en/staff/inbox/?status=new")
    assert 'rel="next"' in first.content.decode()
    # the "Older" link carries the filters and the cursor
    second = client.get("/en/staff/inbox/", {"status": "new", "before": first.context["next_cursor"]})
    assert [c.pk for c in first.context["conversations"] + second.context["conversations"]] == [
        c.pk for c in made
    ]
    assert second.context["next_cursor"] == ""
    assert 'rel="next"' not in second.content.decode()
    # and a cursor that is not one of the list's shows the newest page rather than an error
    assert (
        client.get("/en/staff/inbox/?before=yesterday").context["conversations"]
        == first.context["conversations"]
    )


def test_the_list_costs_the_same_number_of_queries_for_three_or_thirty_conversations(
    world, channel, officer, client_for
):
    manager = world.user("a", "site_manager")
    client = client_for(officer)

    def make(count, start):
        for n in range(start, start + count):
            conversation = conversation_from(channel, sender=f"+52962555{n:04d}", text=f"mensaje {n}")
            ingest.record_inbound(channel, sender=f"+52962555{n:04d}", text=f"otro {n}")
            inbox.assign(conversation, to=manager if n % 2 else officer, by=officer)

    make(3, 0)
    client.get("/en/staff/inbox/")  # first request of the session: caches warm up
    with CaptureQueriesContext(connection) as few:
        assert len(client.get("/en/staff/inbox/").context["conversations"]) == 3
    make(27, 3)
    with CaptureQueriesContext(connection) as many:
        assert len(client.get("/en/staff/inbox/").context["conversations"]) == 30
    assert len(many) == len(few)
    # and no query counts or joins the messages beyond the page's previews
    message_table = Message._meta.db_table
    touching = [q["sql"] for q in many.captured_queries if message_table in q["sql"]]
    assert len(touching) == 1
    assert "COUNT(" not in touching[0].upper()


def test_handlers_open_a_conversation_others_are_refused_and_another_organisation_gets_404(
    world, channel, officer, client_for
):
    conversation = conversation_from(channel)
    url = f"/en/staff/inbox/{conversation.pk}/"
    response = client_for(officer).get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "¿Dónde hay un albergue en Tapachula?" in page
    assert NUMBER not in page
    assert "+•••••••••101" in page
    # a caseworker opens the inbox (for what is handed to them) but not this conversation
    assert client_for(world.user("a", "caseworker")).get(url).status_code == 404
    assert client_for(world.user("a", "data_analyst")).get(url).status_code == 403
    assert client_for(world.user("b", "information_officer")).get(url).status_code == 404
    assert client_for(world.user("b", "site_manager")).get(url).status_code == 404
    reads = AuditEntry.objects.filter(action="read", object_id=str(conversation.pk))
    assert list(reads.values_list("actor_id", "detail")) == [(officer.pk, {"purpose": "inbox"})]


def test_a_sensitive_complaint_exists_only_for_designated_focal_points(world, channel, officer, client_for):
    # given a sensitive complaint and an ordinary conversation
    ordinary = conversation_from(channel, sender="+529625550120")
    complaint = conversation_from(channel, text="El guardia me pidió dinero", category="sensitive")
    manager = world.user("a", "site_manager")
    # then for the officer (not designated) it is not in the list, the filter, nor at its address
    client = client_for(officer)
    assert _listed(client) == {ordinary.pk}
    assert _listed(client, "?category=sensitive") == set()
    assert _listed(client, "?urgency=normal") == {ordinary.pk}
    assert client.get(f"/en/staff/inbox/{complaint.pk}/").status_code == 404
    assert client.post(f"/en/staff/inbox/{complaint.pk}/notes/", {"text": "x"}).status_code == 404
    assert "El guardia" not in client.get("/en/staff/inbox/").content.decode()
    # when the site manager is designated focal point
    designate(manager, world.a.organisation)
    focal = client_for(manager)
    # then they find it and open it
    assert _listed(focal) == {ordinary.pk, complaint.pk}
    assert _listed(focal, "?category=sensitive") == {complaint.pk}
    response = focal.get(f"/en/staff/inbox/{complaint.pk}/")
    assert response.status_code == 200
    assert "El guardia me pidió dinero" in response.content.decode()
    # and B's designated focal point does not
    designate(world.user("b", "site_manager"), world.b.organisation)
    assert (
        client_for(world.user("b", "site_manager")).get(f"/en/staff/inbox/{complaint.pk}/").status_code == 404
    )


def test_triage_assign_status_and_note_from_the_page(world, channel, officer, client_for):
    conversation = conversation_from(channel)
    client = client_for(officer)
    base = f"/en/staff/inbox/{conversation.pk}/"
    # when the officer triages, assigns to themself, notes and marks it in progress
    response = client.post(
        base + "triage/",
        {"category": "question", "topics": "albergue, Tapachula", "urgency": "normal", "language": "es"},
    )
    assert response.status_code == 302
    assert response["Location"] == base
    assert client.post(base + "assign/", {"assigned_to": officer.pk}).status_code == 302
    assert client.post(base + "notes/", {"text": "Pidió dirección"}).status_code == 302
    assert client.post(base + "status/", {"status": "in_progress"}).status_code == 302
    # then everything is kept
    conversation.refresh_from_db()
    assert (conversation.category, conversation.topics, conversation.assigned_to, conversation.status) == (
        "question",
        ["albergue", "tapachula"],
        officer,
        "in_progress",
    )
    assert conversation.notes.endswith("Pidió dirección")
    page = client.get(base).content.decode()
    assert "albergue, tapachula" in page
    assert "Pidió dirección" in page


def test_refusals_are_shown_next_to_their_field(world, channel, officer, client_for):
    conversation = conversation_from(channel)
    client = client_for(officer)
    base = f"/en/staff/inbox/{conversation.pk}/"
    response = client.post(base + "assign/", {"assigned_to": world.user("a", "data_analyst").pk})
    assert response.status_code == 422
    assert response.context["assign_form"].errors["assigned_to"]
    response = client.post(base + "notes/", {"text": " "})
    assert response.status_code == 422
    assert response.context["note_form"].errors["text"] == ["The note is empty."]
    # a contact who sent STOP: the reply is refused next to the text, and nothing is sent
    Contact.objects.filter(pk=conversation.contact_id).update(opted_out_at=timezone.now())
    page = client.get(base).content.decode()
    assert 'id="opted-out"' in page
    response = client.post(base + "reply/", {"text": "¿Sigue ahí?"})
    assert response.status_code == 422
    assert response.context["reply_form"].errors["text"] == [
        "This contact sent STOP: nothing can be sent to them."
    ]
    assert 'id="reply_text-error"' in response.content.decode()
    assert not Message.objects.filter(direction="out").exists()


def test_triaging_out_of_sight_leads_back_to_the_list(world, channel, officer, client_for):
    conversation = conversation_from(channel)
    response = client_for(officer).post(
        f"/en/staff/inbox/{conversation.pk}/triage/", {"category": "sensitive", "urgency": "normal"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/en/staff/inbox/"


def test_a_template_prefills_the_answer_and_another_organisations_template_does_not(
    world, channel, officer, client_for
):
    conversation = conversation_from(channel)
    mine = inbox.save_template(
        organisation=world.a.organisation,
        name="Albergue",
        language="es",
        text="Casa del Migrante",
        by=officer,
    )
    theirs = inbox.save_template(
        organisation=world.b.organisation,
        name="Beta",
        language="es",
        text="Refugio Beta secreto",
        by=world.user("b", "information_officer"),
    )
    client = client_for(officer)
    response = client.get(f"/en/staff/inbox/{conversation.pk}/?template={mine.pk}")
    assert response.context["reply_form"]["text"].value() == "Casa del Migrante"
    response = client.get(f"/en/staff/inbox/{conversation.pk}/?template={theirs.pk}")
    assert response.context["reply_form"]["text"].value() == ""
    assert "Refugio Beta" not in response.content.decode()


def test_reply_templates_are_listed_created_and_edited_per_organisation(world, officer, client_for):
    client = client_for(officer)
    response = client.post(
        "/en/staff/inbox/templates/new/", {"name": "Horario", "language": "fr", "text": "Ouvert de 9h à 17h."}
    )
    assert response.status_code == 302
    template = ReplyTemplate.objects.get()
    assert (template.organisation, template.language) == (world.a.organisation, "fr")
    # a second one with the same name and language is refused next to the name
    response = client.post(
        "/en/staff/inbox/templates/new/", {"name": "Horario", "language": "fr", "text": "Autre"}
    )
    assert response.status_code == 422
    assert response.context["form"].errors["name"]
    response = client.post(
        f"/en/staff/inbox/templates/{template.pk}/",
        {"name": "Horario", "language": "fr", "text": "Ouvert de 8h à 16h."},
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.text == "Ouvert de 8h à 16h."
    assert "Horario" in client.get("/en/staff/inbox/templates/").content.decode()
    # B's handlers neither see nor edit it
    other = client_for(world.user("b", "information_officer"))
    assert "Horario" not in other.get("/en/staff/inbox/templates/").content.decode()
    assert other.get(f"/en/staff/inbox/templates/{template.pk}/").status_code == 404
    assert client_for(world.user("a", "caseworker")).get("/en/staff/inbox/templates/").status_code == 403


@pytest.mark.parametrize("language", ["en", "ar"])
def test_inbox_pages_have_no_inline_code(world, channel, officer, client_for, language):
    conversation = conversation_from(channel)
    template = inbox.save_template(
        organisation=world.a.organisation, name="Albergue", language="ar", text="بيت المهاجر", by=officer
    )
    client = client_for(officer)
    for path in (
        "",
        "overdue/",
        f"{conversation.pk}/",
        f"{conversation.pk}/?template={template.pk}",
        "templates/",
        "templates/new/",
        f"templates/{template.pk}/",
    ):
        response = client.get(f"/{language}/staff/inbox/{path}")
        assert response.status_code == 200, path
        assert inline_code(response.content.decode()) == [], path


def test_registering_the_person_is_offered_to_those_who_may_register(world, channel, officer, client_for):
    from django.urls import reverse

    conversation = conversation_from(channel)
    register = reverse("registration:register")
    assert (
        register
        in client_for(world.user("a", "site_manager"))
        .get(f"/en/staff/inbox/{conversation.pk}/")
        .content.decode()
    )
    page = client_for(officer).get(f"/en/staff/inbox/{conversation.pk}/").content.decode()
    assert register not in page
    assert "To have the person registered, assign this conversation to a caseworker" in page


def test_a_hotline_conversation_is_answered_by_phone_not_from_the_page(world, officer, client_for):
    hotline = gateway(world, "hotline", name="Hotline")
    conversation = conversation_from(hotline, text="Llamada: pregunta por albergue")
    client = client_for(officer)
    page = client.get(f"/en/staff/inbox/{conversation.pk}/").content.decode()
    assert "Answers on this channel are given by phone or in person" in page
    response = client.post(f"/en/staff/inbox/{conversation.pk}/reply/", {"text": "x"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Answers on this channel are given by phone or in person; record it as a note."
    ]
    assert not Message.objects.filter(direction="out").exists()
