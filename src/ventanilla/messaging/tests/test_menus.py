"""Keyword menus by SMS: built from the directory, answered in the contact's language, three SMS at most."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from ventanilla.directory.models import PublicationStatus
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory, add_hours, at_position
from ventanilla.messaging import menus, sms
from ventanilla.messaging.models import OutboundMessage, OutboundStatus
from ventanilla.messaging.models_inbox import Contact, Message, UrgentAlert
from ventanilla.testing.factories import AreaFactory
from ventanilla.testing.messaging import gateway, post_generic

PHONE = "+529625550155"


def always_open(point):
    for weekday in range(7):
        add_hours(point, weekday, "00:00", "23:59")
    return point


@pytest.fixture
def places(world):
    mexico = AreaFactory(pcode="MX", level=0, name="Mexico", names={"es": "México"})
    chiapas = AreaFactory(pcode="MX07", level=1, name="Chiapas", parent=mexico, country_pcode="MX")
    tapachula = AreaFactory(
        pcode="MX07089",
        level=2,
        name="Tapachula",
        parent=chiapas,
        country_pcode="MX",
        names={"es": "Tapachula", "ar": "تاباتشولا"},
    )
    suchiate = AreaFactory(pcode="MX07087", level=2, name="Suchiate", parent=chiapas, country_pcode="MX")
    guatemala = AreaFactory(pcode="GT", level=0, name="Guatemala")
    ayutla = AreaFactory(pcode="GT1217", level=2, name="Ayutla", parent=guatemala, country_pcode="GT")
    world.a.organisation.country = mexico
    world.a.organisation.save()
    site = world.a.sites[0]
    site.area = tapachula
    site.save()
    return {"tapachula": tapachula, "suchiate": suchiate, "ayutla": ayutla}


@pytest.fixture
def directory(world, places):
    """In Mexico: a clinic and two shelters (Tapachula, Suchiate), one without hours; nearer ones that must
    not be offered (a draft, one across the border); legal aid only in Guatemala."""
    provider = ProviderFactory(owner=world.a.organisation, name="Red Demo", phone="+529625550100")
    clinic = always_open(
        PointFactory(
            provider=provider,
            name="Clínica Demo Centro",
            area=places["tapachula"],
            address="Avenida 1 Norte 5, Tapachula",
            phone="+529625550101",
            categories=["medical"],
            **at_position(14.906, -92.263),
        )
    )
    shelter = always_open(
        PointFactory(
            provider=provider,
            name="Albergue Demo San José",
            area=places["tapachula"],
            address="Calle 4 Sur 30, Tapachula",
            phone="+529625550103",
            categories=["shelter"],
            **at_position(14.900, -92.270),
        )
    )
    border = always_open(
        PointFactory(
            provider=provider,
            name="Albergue Demo Suchiate",
            area=places["suchiate"],
            address="Calle Central, Ciudad Hidalgo",
            categories=["shelter"],
            **at_position(14.680, -92.150),
        )
    )
    no_hours = PointFactory(
        provider=provider,
        name="Casa Demo Sin Horario",
        area=places["tapachula"],
        categories=["shelter"],
        **at_position(14.905, -92.264),
    )
    always_open(
        PointFactory(
            provider=provider,
            name="Albergue Borrador",
            area=places["tapachula"],
            categories=["shelter"],
            status=PublicationStatus.DRAFT,
            **at_position(14.9059, -92.2633),
        )
    )
    always_open(
        PointFactory(
            provider=provider,
            name="Albergue Demo Tecún Umán",
            area=places["ayutla"],
            categories=["shelter", "legal"],
            time_zone="America/Guatemala",
            **at_position(14.676, -92.139),
        )
    )
    return {"clinic": clinic, "shelter": shelter, "border": border, "no_hours": no_hours}


@pytest.fixture
def channel(world):
    return gateway(world)


@pytest.fixture(autouse=True)
def _run_tasks(run_queued_work):
    """Queued work runs when each request's transaction commits (conftest.run_queued_work)."""


_IDS = itertools.count()


def text(channel, body, sender=PHONE, *, key=None):
    """The contact sends an SMS through the gateway's webhook; returns what was sent back."""
    before = set(OutboundMessage.objects.values_list("pk", flat=True))
    response = post_generic(Client(), channel, {"id": key or f"m-{next(_IDS)}", "from": sender, "text": body})
    assert response.status_code == 200
    return list(OutboundMessage.objects.exclude(pk__in=before).order_by("pk"))


# --- Segments -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "count"),
    [
        ("", 0),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("€" * 80, 1),  # extension characters take two places
        ("€" * 81, 2),
        ("a" * 152 + "€" + "a" * 152, 3),  # 306 places, but the € is not split: 152 | 2 + 151 | 1
        ("م" * 70, 1),
        ("م" * 71, 2),
        ("م" * 134, 2),
        ("م" * 135, 3),
        ("a" * 69 + "á", 1),  # á is not GSM-7: the whole message is UCS-2
        ("a" * 70 + "á", 2),
    ],
)
def test_segments_follow_gsm_7_and_ucs_2(value, count):
    assert sms.segments(value) == count


def test_latin_text_is_folded_to_gsm_7_and_arabic_left_alone():
    assert sms.fold("Atención – “sí” … ¿Dónde? Ñandú, café") == 'Atencion - "si" ... ¿Donde? Ñandu, café'
    assert sms.encoding(sms.fold("Atención médica")) == sms.GSM
    arabic = "مأوى قرب Tapachula – مفتوح"
    assert sms.fold(arabic) == arabic


@pytest.mark.parametrize(("word", "limit"), [("palabra", 3), ("كلمة", 3), ("palabra", 1)])
def test_fit_cuts_cleanly_at_a_word(word, limit):
    long = " ".join([word] * 300)
    cut = sms.fit(long, limit)
    assert sms.segments(cut) <= limit
    assert cut.endswith(word + "...")
    assert sms.fit("corto", 1) == "corto"


# --- Parsing ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("3 Tapachula", (3, "tapachula")),
        ("3. Tapáchula", (3, "tapachula")),
        ("3", (3, "")),
        ("Tapachula 3", (3, "tapachula")),
        ("٢ تاباتشولا", (2, "تاباتشولا")),
        ("12345", None),
        ("hola", None),
    ],
)
def test_a_choice_is_a_number_and_a_place(value, parsed):
    assert menus.parse_choice(value) == parsed


@pytest.mark.parametrize(
    ("word", "language"), [("AYUDA", "es"), ("Aide", "fr"), ("مساعدة", "ar"), ("Menú", ""), ("info!", "")]
)
def test_menu_keywords_in_each_language(word, language):
    assert menus.keyword_language(word) == language


def test_places_resolve_by_any_name_without_accents(world, places):
    assert menus.resolve_place("TAPÁCHULA") == places["tapachula"]
    assert menus.resolve_place("تاباتشولا") == places["tapachula"]
    assert menus.resolve_place("ayutla") == places["ayutla"]
    assert menus.resolve_place("Atlantis") is None


# --- The exchange -------------------------------------------------------------------------------------


def test_a_feature_phone_user_finds_the_nearest_shelter_in_spanish_in_two_messages(world, channel, directory):
    # when the person sends AYUDA
    [menu] = text(channel, "AYUDA")
    # then a numbered menu comes back, built from the directory of the channel's country, in Spanish
    with translation.override("es"):
        medical, shelter, legal = (
            str(label)
            for label in (
                menus.Category.MEDICAL.label,
                menus.Category.SHELTER.label,
                menus.Category.LEGAL.label,
            )
        )
    assert menu.purpose == "menu"
    assert menu.recipient == PHONE
    assert f"\n1 {sms.fold(medical)}" in menu.body
    assert f"\n2 {sms.fold(shelter)}" in menu.body
    assert sms.fold(legal) not in menu.body  # legal aid exists only in Guatemala
    assert "2 Tapachula" in menu.body  # the example uses the shelter's number and the channel's town
    assert sms.segments(menu.body) <= 3
    # when they answer "2 Tapachula"
    [answer] = text(channel, "2 Tapachula")
    # then the nearest open shelters come back in at most three SMS, with address, phone and state
    assert answer.purpose == "menu_answer"
    assert sms.segments(answer.body) <= 3
    assert sms.encoding(answer.body) == sms.GSM
    lines = answer.body.split("\n")
    assert lines[0].startswith(sms.fold(shelter))
    assert lines[1].startswith("1) Albergue Demo San José. Calle 4 Sur 30, Tapachula")
    assert "+529625550103" in lines[1]
    assert lines[2].startswith("2) Albergue Demo Suchiate")
    body = answer.body
    assert "Borrador" not in body  # a draft is never offered
    assert "Tecun" not in body  # nor a shelter across the border
    assert "Sin Horario" not in body  # nor one whose hours are unknown, while others are open
    # and the exchange is not an inbox conversation; the contact's place is kept
    assert not Message.objects.exists()
    contact = Contact.objects.get()
    assert (contact.language, contact.area.pcode) == ("es", "MX07089")


def test_the_whole_exchange_in_arabic(world, channel, directory):
    [menu] = text(channel, "مساعدة")
    with translation.override("ar"):
        shelter = str(menus.Category.SHELTER.label)
    assert f"\n2 {shelter}" in menu.body
    assert sms.encoding(menu.body) == sms.UCS2
    assert sms.segments(menu.body) <= 3
    [answer] = text(channel, "٢ تاباتشولا")
    assert sms.segments(answer.body) <= 3
    assert answer.body.startswith(shelter)
    assert "Albergue Demo San José" in answer.body
    assert Contact.objects.get().language == "ar"


def test_a_bare_number_uses_the_last_place_shortly_after_a_menu(world, channel, directory, places):
    text(channel, "AYUDA")
    text(channel, "2 Tapachula")
    # a bare number, a moment later: the clinic in Tapachula
    [answer] = text(channel, "1")
    assert "Clinica Demo Centro" in answer.body
    # long after the menu, a bare number is a message for the inbox
    Contact.objects.update(menu_shown_at=timezone.now() - menus.MENU_WINDOW - datetime.timedelta(minutes=1))
    assert text(channel, "1") == []
    assert Message.objects.get().body == "1"


def test_a_bare_number_without_a_known_place_asks_for_the_town(world, channel, directory):
    text(channel, "AYUDA")
    [reply] = text(channel, "2")
    assert reply.purpose == "menu"
    assert "2 Tapachula" in reply.body
    assert not Message.objects.exists()


def test_a_number_that_is_not_in_the_menu_sends_the_menu_again(world, channel, directory):
    text(channel, "AYUDA")
    [again] = text(channel, "9 Tapachula")
    assert again.purpose == "menu"
    assert "\n2 " in again.body


def test_a_number_with_words_that_are_no_place_is_a_message(world, channel, directory):
    # given no menu was asked for
    assert text(channel, "2 niños estamos en la estación") == []
    assert Message.objects.get().body == "2 niños estamos en la estación"


def test_a_possible_call_for_help_is_never_taken_for_a_menu_choice(world, channel, directory):
    text(channel, "AYUDA")
    text(channel, "2 me golpearon")
    assert Message.objects.get().conversation.urgency == "urgent"
    assert UrgentAlert.objects.count() == 1


def test_nothing_is_sent_to_a_contact_who_sent_stop(world, channel, directory):
    text(channel, "STOP")
    assert text(channel, "AYUDA") == []
    assert Message.objects.get().body == "AYUDA"  # it reaches the inbox instead
    assert not OutboundMessage.objects.filter(purpose__startswith="menu").exists()


def test_when_nothing_is_open_the_nearest_are_given_with_their_state(world, channel, directory):
    import zoneinfo

    from ventanilla.directory.models import OpeningHours
    from ventanilla.directory.tests.factories import add_exception

    # given the Tapachula shelter closed today and the Suchiate one without hours any more
    today = timezone.now().astimezone(zoneinfo.ZoneInfo("America/Mexico_City")).date()
    add_exception(directory["shelter"], today)
    OpeningHours.objects.filter(point=directory["border"]).delete()
    text(channel, "INFO")
    [answer] = text(channel, "2 Tapachula")
    # then the nearest are given all the same, each with its state, in the contact's language (Spanish)
    with translation.override("es"):
        closed, unknown = gettext("Closed now"), gettext("Opening hours not known")
    lines = answer.body.split("\n")
    assert "ninguno atiende ahora" in lines[0]
    assert lines[1] == f"1) Casa Demo Sin Horario. Tel. +529625550100. {unknown}"
    assert lines[2].startswith("2) Albergue Demo San José. ")
    assert lines[2].endswith(closed)
    assert lines[3].startswith("3) Albergue Demo Suchiate. ")
    assert lines[3].endswith(unknown)


def test_an_answer_with_long_addresses_is_cut_to_three_segments(world, channel, directory):
    from ventanilla.directory.models import ServicePoint

    ServicePoint.objects.update(address="Calle muy larga " * 12)
    text(channel, "مساعدة")
    [answer] = text(channel, "2 Tapachula")
    assert sms.segments(answer.body) <= 3
    assert "Albergue Demo San José" in answer.body


def test_the_menu_follows_the_directory_and_keeps_its_numbers_for_the_contact(world, channel, directory):
    from ventanilla.directory.freshness import mark_changed

    text(channel, "AYUDA")
    # the clinic closes for good: the menu no longer lists medical care ...
    directory["clinic"].status = PublicationStatus.ARCHIVED
    directory["clinic"].save()
    mark_changed()
    assert menus.menu_categories(channel) == ["shelter"]
    # ... but "2" still means what the contact read: shelter
    [answer] = text(channel, "2 Tapachula")
    assert "Albergue Demo San José" in answer.body
    # and the next menu is numbered afresh
    [menu] = text(channel, "MENU")
    assert Contact.objects.get().menu_categories == ["shelter"]
    assert "\n1 " in menu.body
    assert "\n2 " not in menu.body


def test_menus_are_answered_only_on_channels_that_can_send(world, directory):
    web = gateway(world, "web_form", name="web")
    from ventanilla.messaging import ingest

    ingest.record_inbound(web, sender=PHONE, text="AYUDA")
    assert Message.objects.get().body == "AYUDA"
    assert not OutboundMessage.objects.exists()


def test_an_answer_stays_within_three_segments_for_every_language(world, channel, directory):
    for language, keyword in (("es", "AYUDA"), ("fr", "AIDE"), ("ar", "مساعدة"), ("en", "INFO")):
        Contact.objects.update(language=language)
        [menu] = text(channel, keyword)
        [answer] = text(channel, "2 Tapachula")
        assert sms.segments(menu.body) <= 3, language
        assert sms.segments(answer.body) <= 3, language
        assert answer.status != OutboundStatus.OPTED_OUT


def test_a_menu_too_long_for_three_sms_goes_on_with_0(world, channel, directory, places):
    # given a directory with every category in Tapachula (too many for three Arabic SMS)
    provider = ProviderFactory(owner=world.a.organisation, name="Red Completa")
    everything = always_open(
        PointFactory(
            provider=provider,
            name="Centro Demo Integral",
            area=places["tapachula"],
            categories=list(menus.Category.values),
            **at_position(14.903, -92.266),
        )
    )
    # when the person asks in Arabic
    [first] = text(channel, "مساعدة")
    # then the first page fits three SMS and ends with 0 for more
    assert sms.segments(first.body) <= 3
    assert first.body.split("\n")[-1].startswith("0 ")
    seen = Contact.objects.get().menu_categories
    assert 3 < len(seen) < len(menus.Category.values)
    # when they send 0, the next page is numbered on from there
    [second] = text(channel, "0")
    assert sms.segments(second.body) <= 3
    assert f"\n{len(seen) + 1} " in second.body
    assert "\n1 " not in second.body
    read = Contact.objects.get().menu_categories
    assert read[: len(seen)] == seen
    assert len(read) > len(seen)
    # and a category of the second page can be chosen
    number = read.index("counter_trafficking") + 1 if "counter_trafficking" in read else len(read)
    [answer] = text(channel, f"{number} Tapachula")
    assert answer.purpose == "menu_answer"
    assert everything.name in answer.body
    # pages follow until every category has been shown
    while len(Contact.objects.get().menu_categories) < len(menus.Category.values):
        [page] = text(channel, "0")
        assert sms.segments(page.body) <= 3
    assert Contact.objects.get().menu_categories == menus.menu_categories(channel)
