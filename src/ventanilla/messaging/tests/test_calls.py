"""What operators enter by hand: hotline calls, social media messages, and CSV imports of the latter
(every bad row reported with its row and column, nothing written unless all rows are valid)."""

from __future__ import annotations

import datetime
import io
import json

import pytest
from django.utils import timezone

from ventanilla.core.models import AuditEntry
from ventanilla.messaging import entries
from ventanilla.messaging.channels import ChannelError, ChannelInvalid
from ventanilla.messaging.models import OutboundMessage
from ventanilla.messaging.models_inbox import Contact, Conversation, Message
from ventanilla.testing.messaging import gateway


@pytest.fixture
def hotline(world):
    return gateway(world, "hotline", address="800 123 4567")


@pytest.fixture
def social(world):
    return gateway(world, "social", address="facebook.com/casa-alfa")


def call_form(hotline, **extra: str) -> dict[str, str]:
    return {
        "channel": str(hotline.pk),
        "caller": "+52 962 555 0177",
        "language": "es",
        "category": "help",
        "topics": "Albergue, documentos, albergue",
        "minutes": "7",
        "outcome": "referred",
        "notes": "Busca albergue para su familia; se refirió a Casa Beta.",
        **extra,
    }


def test_an_operator_logs_a_call_as_a_conversation_with_its_minutes_and_outcome(world, client_for, hotline):
    # given A's information officer at the hotline desk
    officer = world.user("a", "information_officer")
    client = client_for(officer)
    assert client.get("/en/staff/channels/calls/new/").status_code == 200
    # when they log a call
    response = client.post("/en/staff/channels/calls/new/", call_form(hotline))
    # then a conversation holds one received message with what they recorded
    assert response.status_code == 302
    message = Message.objects.select_related("conversation__contact").get()
    conversation = message.conversation
    assert (message.direction, message.call_minutes, message.call_outcome, message.sent_by) == (
        "in",
        7,
        "referred",
        officer,
    )
    assert message.body == "Busca albergue para su familia; se refirió a Casa Beta."
    assert (conversation.medium, conversation.category, conversation.topics, conversation.language) == (
        "hotline",
        "help",
        ["albergue", "documentos"],
        "es",
    )
    assert (conversation.contact.phone, conversation.contact.language) == ("+529625550177", "es")
    # ... audited without the number or the notes
    entry = AuditEntry.objects.get(object_type="messaging.message")
    assert (entry.action, entry.actor_id, entry.organisation_id) == (
        "create",
        officer.pk,
        world.a.organisation.pk,
    )
    assert "0177" not in json.dumps(entry.detail)
    assert "albergue" not in json.dumps(entry.detail)


def test_a_call_without_a_number_has_no_contact_and_each_call_is_its_own_conversation(world, hotline):
    officer = world.user("a", "site_manager")
    for _ in range(2):
        entries.log_call(hotline, entries.CallInput(outcome="dropped", minutes=0), by=officer)
    assert Conversation.objects.filter(contact__isnull=True, medium="hotline").count() == 2
    assert not Contact.objects.exists()


def test_a_second_call_from_the_same_number_joins_the_open_conversation(world, hotline):
    officer = world.user("a", "site_manager")
    first = entries.log_call(
        hotline, entries.CallInput(caller="+529625550177", topics=["trabajo"]), by=officer
    )
    second = entries.log_call(
        hotline, entries.CallInput(caller="+52 962 555 0177", topics=["salud"]), by=officer
    )
    assert second.conversation_id == first.conversation_id
    assert Conversation.objects.get().topics == ["trabajo", "salud"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"caller": "12"}, "caller"),
        ({"minutes": "-1"}, "minutes"),
        ({"outcome": "vanished"}, "outcome"),
        ({"category": "gossip"}, "category"),
    ],
)
def test_a_bad_call_entry_names_the_field_and_nothing_is_stored(world, client_for, hotline, change, field):
    response = client_for(world.user("a", "information_officer")).post(
        "/en/staff/channels/calls/new/", call_form(hotline, **change)
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == [field]
    assert not Message.objects.exists()
    assert not Contact.objects.exists()


def test_stop_in_call_notes_opts_nobody_out(world, hotline):
    entries.log_call(
        hotline, entries.CallInput(caller="+529625550177", notes="stop"), by=world.user("a", "site_manager")
    )
    assert not Contact.objects.get().opted_out
    assert not OutboundMessage.objects.exists()


def test_a_call_goes_only_to_a_hotline_of_the_operators_organisation(world, client_for, hotline):
    b_hotline = gateway(world, "hotline", organisation=world.b.organisation, site=None)
    officer = world.user("a", "information_officer")
    # the page does not offer B's hotline ...
    response = client_for(officer).post("/en/staff/channels/calls/new/", call_form(b_hotline))
    assert list(response.context["form"].errors) == ["channel"]
    # ... and the service refuses it, as it refuses a channel that is not a hotline
    with pytest.raises(ChannelError) as error:
        entries.log_call(b_hotline, entries.CallInput(), by=officer)
    assert error.value.field == "channel"
    with pytest.raises(ChannelError):
        entries.log_call(gateway(world), entries.CallInput(), by=officer)
    assert not Message.objects.exists()


# --- Social media --------------------------------------------------------------------------------------


def test_a_social_media_message_is_entered_with_its_platform_handle_and_date(world, client_for, social):
    officer = world.user("a", "information_officer")
    response = client_for(officer).post(
        "/en/staff/channels/social/new/",
        {
            "channel": social.pk,
            "platform": "facebook",
            "handle": "@Vecina_Tapachula",
            "text": "Dicen que van a cerrar el albergue, ¿es cierto?",
            "date": "2026-03-01 10:30",
        },
    )
    assert response.status_code == 302
    message = Message.objects.select_related("conversation__contact").get()
    assert message.at == timezone.make_aware(datetime.datetime(2026, 3, 1, 10, 30))
    assert message.conversation.medium == "social"
    assert message.conversation.contact.handle == "facebook:vecina_tapachula"
    assert message.conversation.contact.phone == ""


def test_a_social_message_dated_in_the_future_is_refused(world, social):
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    with pytest.raises(ChannelInvalid) as error:
        entries.record_social(
            social,
            entries.SocialInput(platform="facebook", handle="x", text="hola", at=tomorrow),
            by=world.user("a", "site_manager"),
        )
    assert set(error.value.errors) == {"date"}
    assert not Message.objects.exists()


def upload(content: str, name: str = "social.csv") -> io.BytesIO:
    file = io.BytesIO(content.encode())
    file.name = name
    return file


GOOD_CSV = (
    "Platform,Handle,Text,Date\n"
    "facebook,@vecina,Otra pregunta,2026-03-03 18:00\n"
    "instagram,maria.r,Gracias por la ayuda,2026-03-02T09:15\n"
    "\n"
    "facebook,@vecina,¿Es cierto que cierran la frontera?,2026-03-01\n"
)


def test_a_csv_of_social_media_messages_is_imported_whole(world, client_for, social):
    officer = world.user("a", "information_officer")
    response = client_for(officer).post(
        "/en/staff/channels/social/import/", {"channel": social.pk, "file": upload(GOOD_CSV)}
    )
    assert response.status_code == 302
    assert list(Message.objects.order_by("at").values_list("body", flat=True)) == [
        "¿Es cierto que cierran la frontera?",
        "Gracias por la ayuda",
        "Otra pregunta",
    ]
    # the same handle is one contact, in one conversation, whose last message is its newest
    assert Contact.objects.count() == 2
    assert Conversation.objects.count() == 2
    vecina = Conversation.objects.get(
        contact__handle_index=Contact._meta.get_field("handle_index").compute("facebook:vecina")
    )
    assert vecina.last_message_at == timezone.make_aware(datetime.datetime(2026, 3, 3, 18, 0))
    entry = AuditEntry.objects.get(object_type="messaging.message")
    assert entry.detail == {"gateway": social.pk, "medium": "social", "count": 3, "import": "csv"}


def test_every_bad_row_is_reported_with_its_row_and_column_and_nothing_is_imported(world, client_for, social):
    content = (
        "platform,handle,text,date\n"
        "facebook,@vecina,Bien,2026-03-01\n"
        "myspace,@x,Hola,2026-03-01\n"
        "facebook,,,2026-02-30\n"
        "tiktok,@y,Hola,ayer\n"
    )
    response = client_for(world.user("a", "information_officer")).post(
        "/en/staff/channels/social/import/", {"channel": social.pk, "file": upload(content)}
    )
    assert response.status_code == 200
    assert [(p.row, p.column) for p in response.context["problems"]] == [
        (3, "platform"),
        (4, "handle"),
        (4, "text"),
        (4, "date"),
        (5, "date"),
    ]
    assert (
        "<tr><td>4</td><td><code>handle</code></td><td>Write the account&#x27;s handle.</td></tr>"
        in response.content.decode()
    )
    assert not Message.objects.exists()
    assert not Contact.objects.exists()
    assert not AuditEntry.objects.filter(object_type="messaging.message").exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("platform,handle,date\nfacebook,x,2026-03-01\n", [(1, "text")]),
        ("platform,handle,text,date\n", [(0, "file")]),
    ],
    ids=["missing column", "no rows"],
)
def test_a_file_without_the_columns_or_rows_is_refused(world, social, content, expected):
    with pytest.raises(entries.ImportRefused) as error:
        entries.import_social(social, content.encode(), by=world.user("a", "site_manager"))
    assert [(p.row, p.column) for p in error.value.problems] == expected
    assert not Message.objects.exists()


def test_a_file_that_is_not_utf8_is_refused(world, social):
    with pytest.raises(entries.ImportRefused) as error:
        entries.import_social(
            social,
            "platform,handle,text,date\nfacebook,x,Qué,2026-03-01\n".encode("latin-1"),
            by=world.user("a", "site_manager"),
        )
    assert [(p.row, p.column) for p in error.value.problems] == [(0, "file")]


def test_only_message_handlers_enter_calls_and_social_media(world, client_for, hotline, social):
    for role in ("administrator", "caseworker"):
        client = client_for(world.user("a", role))
        assert client.post("/en/staff/channels/calls/new/", call_form(hotline)).status_code == 403
        assert (
            client.post(
                "/en/staff/channels/social/import/", {"channel": social.pk, "file": upload(GOOD_CSV)}
            ).status_code
            == 403
        )
    assert not Message.objects.exists()
