"""From a conversation to a registration and a referral, with the person's consent (`messaging.handover`)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from ventanilla.accounts.services import grant_membership
from ventanilla.core.models import AuditEntry
from ventanilla.messaging import handover, inbox, ingest
from ventanilla.messaging.models_inbox import Conversation
from ventanilla.referrals.models import Referral
from ventanilla.referrals.tests.test_sender_views import form_data
from ventanilla.registration import services as registration
from ventanilla.registration.models import Person
from ventanilla.registration.tests.test_register import answers
from ventanilla.testing.factories import UserFactory
from ventanilla.testing.messaging import gateway
from ventanilla.testing.referrals import pathway, register_person

NUMBER = "+529625550101"


@pytest.fixture
def conversation(world):
    channel = gateway(world)
    return ingest.record_inbound(
        channel, sender=NUMBER, text="Me quitaron el pasaporte, necesito ayuda"
    ).conversation


@pytest.fixture
def manager(world):
    """A's site manager: handles messages and registers people at A's first site."""
    return world.user("a", "site_manager")


def page(client, conversation):
    response = client.get(f"/en/staff/inbox/{conversation.pk}/")
    assert response.status_code == 200
    return response


def test_a_registration_started_from_a_conversation_is_prefilled_and_linked(
    world, conversation, manager, client_for
):
    form = registration.shipped_form()
    client = client_for(manager)
    Conversation.objects.filter(pk=conversation.pk).update(language="fr")
    # given the conversation page offers to start a registration from it
    assert (
        f"/staff/people/register/?conversation={conversation.pk}"
        in page(client, conversation).content.decode()
    )
    # when the manager starts it, the number and the receipt's language are filled in
    url = (
        reverse("registration:register")
        + f"?conversation={conversation.pk}&site={world.a.sites[0].pk}&form={form.questionnaire.pk}"
    )
    first = client.get(url)
    assert first.status_code == 200
    started = json.loads(first.context["answers_json"])
    assert (started["phone"], started["receipt_language"]) == (NUMBER, "fr")
    # and when the form (with the person's consent) is finished
    last = first.context["page"].count - 1
    done = client.post(
        url,
        {
            "_answers": json.dumps(answers(phone=NUMBER)),
            "_page": str(last),
            "_action": "finish",
            "_language": "es",
            "_site": str(world.a.sites[0].pk),
            "_form": str(form.questionnaire.pk),
            "_conversation": str(conversation.pk),
        },
    )
    # then the new record is linked to the conversation and the manager is back on it
    person = Person.objects.get()
    assert done.status_code == 302
    assert done["Location"] == f"/en/staff/inbox/{conversation.pk}/"
    conversation.refresh_from_db()
    assert conversation.person == person
    entry = AuditEntry.objects.get(object_type="messaging.conversation", action="update")
    assert (entry.fields, entry.detail) == (["person"], {"person": person.pk})
    # and the page now offers a referral made from this conversation
    content = page(client, conversation).content.decode()
    assert person.reference in content
    assert f"/staff/referrals/new/{person.reference}/?conversation={conversation.pk}" in content


@pytest.mark.parametrize(("role", "status"), [("information_officer", 403), ("caseworker", 404)])
def test_only_someone_who_handles_the_conversation_and_registers_people_may_start_from_it(
    world, conversation, client_for, role, status
):
    # an information officer reads the conversation but registers nobody; a caseworker registers
    # people but cannot read the conversation (until it is handed to them: below)
    client = client_for(world.user("a", role))
    assert (
        client.get(reverse("registration:register") + f"?conversation={conversation.pk}").status_code
        == status
    )
    if role == "information_officer":
        content = page(client, conversation).content.decode()
        assert "To have the person registered, assign this conversation to a caseworker" in content
        assert "?conversation=" not in content


def test_an_officer_hands_the_conversation_to_a_caseworker_who_registers_the_person(
    world, conversation, client_for
):
    officer = world.user("a", "information_officer")
    caseworker = world.user("a", "caseworker")
    other_caseworker = UserFactory(username="a_caseworker_2")
    grant_membership(
        user=other_caseworker,
        organisation=world.a.organisation,
        role="caseworker",
        sites=world.a.sites[:1],
        by=None,
    )
    other = ingest.record_inbound(gateway(world), sender="+529625550199", text="Hola").conversation
    # given the officer's assignment list marks the caseworker as one who registers people
    form = page(client_for(officer), conversation).context["assign_form"]
    labels = {choice.instance.pk: label for choice, label in form.fields["assigned_to"].choices if choice}
    assert labels[caseworker.pk].endswith(" · registers people")
    assert labels[officer.pk] == officer.get_full_name()
    # when the officer hands it over
    response = client_for(officer).post(
        f"/en/staff/inbox/{conversation.pk}/assign/", {"assigned_to": caseworker.pk}
    )
    assert response.status_code == 302
    # then the caseworker's inbox lists that conversation alone, and the page offers the registration
    client = client_for(caseworker)
    listed = client.get("/en/staff/inbox/")
    assert [c.pk for c in listed.context["conversations"]] == [conversation.pk]
    assert "Reply templates" not in listed.content.decode()
    assert client.get(f"/en/staff/inbox/{other.pk}/").status_code == 404
    assert f"?conversation={conversation.pk}" in page(client, conversation).content.decode()
    start = reverse("registration:register") + f"?conversation={conversation.pk}"
    assert client.get(start).status_code == 200
    # and links the record they registered (or found), with the audit naming them
    person = register_person(world, phone="+52 962 555 0101")
    done = client.post(f"/en/staff/inbox/{conversation.pk}/person/", {"person": person.reference})
    assert done["Location"] == f"/en/staff/inbox/{conversation.pk}/"
    conversation.refresh_from_db()
    assert conversation.person == person
    # another caseworker sees none of it, and reply templates stay with message handlers
    assert client_for(other_caseworker).get(f"/en/staff/inbox/{conversation.pk}/").status_code == 404
    assert client.get("/en/staff/inbox/templates/").status_code == 403
    # when the caseworker hands it back, it leaves their inbox
    back = client.post(f"/en/staff/inbox/{conversation.pk}/assign/", {"assigned_to": officer.pk})
    assert back["Location"] == "/en/staff/inbox/"
    assert client.get(f"/en/staff/inbox/{conversation.pk}/").status_code == 404
    assert [c.pk for c in client.get("/en/staff/inbox/").context["conversations"]] == []


def test_a_conversation_handed_to_a_caseworker_leaves_them_when_it_becomes_a_sensitive_complaint(
    world, conversation, client_for
):
    officer = world.user("a", "information_officer")
    caseworker = world.user("a", "caseworker")
    inbox.assign(conversation, to=caseworker, by=officer)
    assert handover.may_hand_over(caseworker, conversation)
    inbox.triage(conversation, category="sensitive", by=officer)
    conversation.refresh_from_db()
    assert conversation.assigned_to is None
    assert not Conversation.objects.visible_to(caseworker).exists()
    # and a sensitive complaint cannot be handed to them at all (only to designated focal points)
    assert caseworker in inbox.assignable(world.a.organisation.pk)
    assert caseworker not in inbox.assignable(world.a.organisation.pk, sensitive=True)


def test_a_record_with_the_same_number_is_offered_linked_and_referred(
    world, conversation, manager, client_for
):
    # given a registered person with the conversation's number (who consented to referral)
    person = register_person(world, phone="+52 962 555 0101")
    path = pathway(world)
    client = client_for(manager)
    # then the conversation page offers their record
    response = page(client, conversation)
    assert [p.pk for p in response.context["same_number"]] == [person.pk]
    # when the manager links it
    linked = client.post(f"/en/staff/inbox/{conversation.pk}/person/", {"person": person.reference.lower()})
    assert linked.status_code == 302
    conversation.refresh_from_db()
    assert conversation.person == person
    # and refers the person from the conversation
    new = f"/en/staff/referrals/new/{person.reference}/?conversation={conversation.pk}"
    assert client.get(new).context["conversation"] == conversation
    sent = client.post(new, form_data(path, conversation=str(conversation.pk)))
    # then the referral records the conversation, and the conversation lists it
    assert sent.status_code == 302
    referral = Referral.objects.get()
    assert referral.conversation == conversation
    assert page(client, conversation).context["conversation_referrals"] == [referral]


def test_a_link_to_a_record_of_another_organisation_or_an_unknown_one_is_refused(
    world, conversation, manager, client_for
):
    # given a person registered by organisation B with the same number
    other = registration.register(
        registration.shipped_form(),
        answers(phone=NUMBER),
        organisation=world.b.organisation,
        site=world.b.sites[0],
        by=world.user("b", "caseworker"),
        language="es",
    ).person
    assert other is not None
    client = client_for(manager)
    # then it is not offered, and linking it by reference is refused next to the field
    assert page(client, conversation).context["same_number"] == []
    for reference in (other.reference, "VT-NOPE-NOPE"):
        refused = client.post(f"/en/staff/inbox/{conversation.pk}/person/", {"person": reference})
        assert refused.status_code == 422
        assert refused.context["person_form"].errors["person"]
    conversation.refresh_from_db()
    assert conversation.person is None
    # and the service refuses it too
    with pytest.raises(inbox.InboxError) as error:
        handover.link_person(conversation, other, by=manager)
    assert error.value.field == "person"


def test_a_referral_from_a_conversation_not_linked_to_the_person_is_not_found(
    world, conversation, manager, client_for
):
    person = register_person(world)
    pathway(world)
    response = client_for(manager).get(
        f"/en/staff/referrals/new/{person.reference}/?conversation={conversation.pk}"
    )
    assert response.status_code == 404


def test_without_consent_to_referral_the_page_says_so_and_offers_no_referral(
    world, conversation, manager, client_for
):
    person = register_person(world, consent_referral="no")
    handover.link_person(conversation, person, by=manager)
    content = page(client_for(manager), conversation).content.decode()
    assert "The person has not consented to be referred." in content
    assert f"/staff/referrals/new/{person.reference}/" not in content


def test_erasing_the_person_leaves_the_conversation_but_not_who_it_was_with(world, conversation, manager):
    person = register_person(world)
    handover.link_person(conversation, person, by=manager)
    registration.erase_person(person, by=manager, reason="asked")
    conversation.refresh_from_db()
    assert conversation.person is None
    assert Conversation.objects.filter(pk=conversation.pk).exists()


def test_the_referral_service_refuses_a_conversation_with_someone_else(world, conversation, manager):
    person = register_person(world)
    someone_else = register_person(world, given_name="Berta", phone="+50299990000")
    handover.link_person(conversation, someone_else, by=manager)
    from ventanilla.referrals import services as referrals

    with pytest.raises(referrals.ReferralError) as refused:
        referrals.create_referral(
            person, pathway=pathway(world), category="medical", by=manager, conversation=conversation
        )
    assert refused.value.field == "conversation"
    assert not Referral.objects.exists()


def test_the_api_links_a_conversation_and_refers_from_it(world, conversation, manager, client_for):
    person = register_person(world)
    path = pathway(world)
    client = client_for(manager)
    url = f"/api/v1/conversations/{conversation.pk}/"
    # an unknown reference is a 400 naming the field, and nothing changes (not even the rest of the change)
    refused = client.patch(
        url, {"person": "VT-NOPE-NOPE", "status": "in_progress"}, content_type="application/json"
    )
    assert refused.status_code == 400
    assert list(refused.json()["error"]["fields"]) == ["person"]
    conversation.refresh_from_db()
    assert (conversation.person, conversation.status) == (None, "new")
    # an information officer handles the conversation but may not link records
    officer = client_for(world.user("a", "information_officer"))
    assert (
        officer.patch(url, {"person": person.reference}, content_type="application/json").status_code == 403
    )
    # the site manager links it, and the conversation says who it is with
    linked = client.patch(url, {"person": person.reference}, content_type="application/json")
    assert (linked.status_code, linked.json()["person"]) == (200, person.reference)
    # and a referral made through the API from the conversation records it
    made = client.post(
        "/api/v1/referrals/",
        {
            "person": person.reference,
            "pathway": path.pk,
            "category": "medical",
            "conversation": conversation.pk,
        },
        content_type="application/json",
    )
    assert made.status_code == 201
    assert Referral.objects.get().conversation == conversation
