"""The public web feedback form: anonymous or with a number, the organisation chosen by the channel,
and the three spam guards (honeypot, minimum time, rate per address)."""

from __future__ import annotations

import time

import pytest
from django.core import signing
from django.test import Client

from ventanilla.messaging import feedback
from ventanilla.messaging.models import OutboundMessage
from ventanilla.messaging.models_inbox import Contact, Conversation, Message
from ventanilla.testing.messaging import gateway


@pytest.fixture
def form_channel(world):
    return gateway(world, "web_form", address="")


def shown(seconds_ago: int = 30) -> str:
    return signing.dumps(int(time.time()) - seconds_ago, salt=feedback.SALT)


def post(client: Client, channel, **fields: str):
    data = {
        "category": "complaint",
        "text": "Me cobraron por un trámite que es gratuito",
        "phone": "",
        "language": "",
        "website": "",
        "shown": shown(),
        **fields,
    }
    return client.post(f"/es/feedback/?channel={channel.key}", data)


def test_an_anonymous_message_reaches_the_organisation_without_a_contact(world, form_channel, monkeypatch):
    # given the public form of A's web channel, opened by someone with no account
    monkeypatch.setattr(feedback, "MIN_SECONDS", 0)  # sent back at once with the page's own stamp
    client = Client()
    page = client.get(f"/es/feedback/?channel={form_channel.key}")
    assert page.status_code == 200
    # when they send a complaint without a number
    response = post(client, form_channel, shown=page.context["form"]["shown"].value())
    # then they are thanked, and A has a web conversation, with no contact, its category the hint
    assert response.status_code == 302
    assert response["Location"] == f"/es/feedback/thanks/?channel={form_channel.key}"
    message = Message.objects.select_related("conversation").get()
    conversation = message.conversation
    assert (message.body, message.direction, message.sent_by) == (
        "Me cobraron por un trámite que es gratuito",
        "in",
        None,
    )
    assert (conversation.organisation, conversation.medium, conversation.contact, conversation.category) == (
        world.a.organisation,
        "web",
        None,
        "complaint",
    )
    assert conversation.language == "es"  # detected from the text
    assert not Contact.objects.exists()
    assert client.get(response["Location"]).status_code == 200


def test_a_number_makes_a_contact_in_e164_and_the_chosen_language_is_kept(world, form_channel):
    post(Client(), form_channel, phone="+52 962 555 0101", language="fr", text="Bonjour")
    conversation = Conversation.objects.get()
    assert conversation.contact.phone == "+529625550101"
    assert (conversation.language, conversation.contact.language, conversation.contact.medium) == (
        "fr",
        "fr",
        "web",
    )


@pytest.mark.parametrize("phone", ["962 555", "+1 555", "llámame", "9625550101"])
def test_an_invalid_number_is_a_field_error_and_nothing_is_stored(world, form_channel, phone):
    response = post(Client(), form_channel, phone=phone)
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["phone"]
    assert "código de país" in response.context["form"].errors["phone"][0]  # the page is in Spanish
    assert not Message.objects.exists()
    assert not Contact.objects.exists()


def test_stop_written_in_the_form_is_a_message_not_an_opt_out(world, form_channel):
    post(Client(), form_channel, phone="+529625550101", text="STOP")
    assert Message.objects.get().body == "STOP"
    assert not Contact.objects.get().opted_out
    assert not OutboundMessage.objects.exists()


def test_a_filled_honeypot_is_thanked_and_nothing_is_stored(world, form_channel):
    response = post(Client(), form_channel, website="http://spam.example")
    assert response.status_code == 302
    assert not Message.objects.exists()


@pytest.mark.parametrize(
    ("stamp", "says"),
    [
        (lambda: shown(seconds_ago=0), "tómese un momento"),
        (lambda: "forged", "demasiado tiempo"),
        (lambda: signing.dumps(int(time.time()) - 60, salt="other"), "demasiado tiempo"),
        (lambda: shown(seconds_ago=2 * 86400), "demasiado tiempo"),
    ],
    ids=["too fast", "forged", "signed for something else", "stale"],
)
def test_a_form_sent_too_fast_or_with_a_bad_stamp_is_shown_again_and_nothing_is_stored(
    world, form_channel, stamp, says
):
    response = post(Client(), form_channel, shown=stamp())
    assert response.status_code == 200
    assert says in " ".join(response.context["form"].non_field_errors()).lower()
    assert not Message.objects.exists()
    # the form comes back with a fresh stamp, so a person who waits can send it
    assert feedback.seconds_since(response.context["form"]["shown"].value()) is not None


def test_too_many_posts_from_one_address_are_refused(world, form_channel):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for number in range(feedback.RATE):
        assert post(client, form_channel, text=f"Mensaje {number}").status_code == 302
    # the next one from the same address is refused, and not stored
    refused = post(client, form_channel, text="Uno más")
    assert refused.status_code == 429
    assert Message.objects.count() == feedback.RATE
    # another address is still heard
    assert post(Client(REMOTE_ADDR="198.51.100.2"), form_channel, text="Otra persona").status_code == 302
    assert Message.objects.count() == feedback.RATE + 1


def test_signed_in_staff_typing_in_what_people_say_are_not_counted(world, client_for, form_channel):
    client = client_for(world.user("a", "information_officer"))
    for number in range(feedback.RATE + 2):
        assert post(client, form_channel, text=f"Mensaje {number}").status_code == 302
    assert Message.objects.count() == feedback.RATE + 2


def test_the_channel_chooses_the_organisation_and_without_one_there_is_no_form(world, form_channel):
    other = gateway(world, "web_form", organisation=world.b.organisation, site=None, address="")
    # with two web channels, the key decides; without a key there is no single form to show
    post(Client(), other, text="Para Beta")
    assert Conversation.objects.get().organisation == world.b.organisation
    assert Client().get("/es/feedback/").status_code == 404
    # unknown, malformed or inactive channels have no form
    assert Client().get("/es/feedback/?channel=00000000-0000-0000-0000-000000000000").status_code == 404
    assert Client().get("/es/feedback/?channel=not-a-key").status_code == 404
    other.is_active = False
    other.save()
    assert Client().get(f"/es/feedback/?channel={other.key}").status_code == 404
    # with a single active one, the plain address opens it
    assert Client().get("/es/feedback/").status_code == 200
    # an SMS channel's key is not a form
    assert Client().get(f"/es/feedback/?channel={gateway(world).key}").status_code == 404


def test_the_form_works_without_javascript_and_hides_the_honeypot_from_people(world, form_channel):
    html = Client().get(f"/ar/feedback/?channel={form_channel.key}").content.decode()
    assert "<script" not in html
    assert 'class="trap" aria-hidden="true"' in html
    assert 'dir="rtl"' in html
