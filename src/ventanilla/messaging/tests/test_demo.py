"""The demo's channels and conversations: what `make demo` shows, and loading twice adds nothing."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from ventanilla.accounts.models import Membership, Organisation, User
from ventanilla.messaging import alerts, handover, menus, response_times
from ventanilla.messaging.demo import (
    CONVERSATIONS,
    DEMO_SECRET,
    ORGANISATION,
    SMS_CHANNEL,
    WHATSAPP_CHANNEL,
    fake_gateway_channels,
    load_demo_messaging,
)
from ventanilla.messaging.ingest import credentials
from ventanilla.messaging.models_inbox import (
    Contact,
    Conversation,
    DutyShift,
    Gateway,
    Message,
    ReplyTemplate,
    UrgentAlert,
)
from ventanilla.referrals.services import has_referral_consent
from ventanilla.registration.demo import demo_people


def counts() -> dict[str, int]:
    models = (Gateway, Contact, Conversation, Message, ReplyTemplate, UrgentAlert, DutyShift)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def demo(db, capsys):
    call_command("load_demo")
    return " ".join(capsys.readouterr().out.split())


def test_the_demo_has_four_channels_and_conversations_in_four_languages(demo):
    assert f"{len(CONVERSATIONS)} new conversations in four languages" in demo
    assert "run `make fake-gateway` in another terminal and open http://127.0.0.1:8025/" in demo
    kinds = dict(Gateway.objects.values_list("name", "medium"))
    assert kinds[SMS_CHANNEL] == "sms"
    assert kinds[WHATSAPP_CHANNEL] == "whatsapp"
    assert sorted(kinds.values()) == ["hotline", "sms", "web", "whatsapp"]
    sms, whatsapp = fake_gateway_channels()
    assert sms.send_url == "http://127.0.0.1:8025/send"
    assert whatsapp.send_url == "http://127.0.0.1:8025/whatsapp/send"
    assert credentials(sms) == {"secret": DEMO_SECRET}
    # conversations in four languages across the categories, some answered
    assert Conversation.objects.count() == len(CONVERSATIONS)
    assert set(Conversation.objects.values_list("language", flat=True)) == {"es", "fr", "ar", "en"}
    assert {"question", "rumour", "complaint", "sensitive", "thanks", "help"} <= set(
        Conversation.objects.values_list("category", flat=True)
    )
    assert Conversation.objects.filter(status="answered").count() >= 4
    assert set(ReplyTemplate.objects.values_list("language", flat=True)) == {"es", "fr", "ar", "en"}
    # the urgent message raised its alert to the site manager on duty, who is the complaint focal point
    manager = User.objects.get(username="casa_site_manager")
    alert = UrgentAlert.objects.get()
    assert alert.reason == "documents taken"
    assert list(alert.notified.all()) == [manager]
    assert list(alerts.on_duty(alert.conversation.organisation_id, now=alert.raised_at)) == [manager]
    assert Membership.objects.get(user=manager, role="site_manager").handles_sensitive_complaints
    sensitive = Conversation.objects.get(category="sensitive")
    assert Conversation.objects.visible_to(manager).filter(pk=sensitive.pk).exists()
    officer = User.objects.get(username="casa_information_officer")
    assert not Conversation.objects.visible_to(officer).filter(pk=sensitive.pk).exists()


def test_the_demo_offers_a_registered_persons_record_from_her_conversation(demo):
    # Rosa Elena wrote from the number she gave at registration: the site manager is offered her record
    manager = User.objects.get(username="casa_site_manager")
    fever = Conversation.objects.get(messages__provider_id="demo-family-fever")
    [offered] = handover.same_number(manager, fever)
    assert offered == demo_people()["family-mother"]
    assert has_referral_consent(offered)


def test_the_demo_caseworker_finds_the_conversation_handed_to_them(demo):
    caseworker = User.objects.get(username="casa_caseworker")
    handed = Conversation.objects.get(messages__provider_id="demo-unpaid-wages")
    assert list(Conversation.objects.visible_to(caseworker)) == [handed]
    assert handover.may_hand_over(caseworker, handed)


def test_the_demo_menu_offers_shelter_as_the_readme_says(demo):
    sms, _whatsapp = fake_gateway_channels()
    codes = menus.menu_categories(sms)
    assert codes.index("shelter") + 1 == 3  # "try AYUDA, then 3 Tapachula"


def test_loading_twice_adds_nothing(demo):
    before = counts()
    # (two months later: the duty shift has ended, but loading again adds no other)
    result = load_demo_messaging(now=timezone.now() + datetime.timedelta(days=60))
    assert (result.channels_created, result.conversations_created, result.templates_created) == (0, 0, 0)
    assert counts() == before


def test_the_fake_gateway_command_serves_the_demo_channels(demo, monkeypatch):
    from ventanilla.messaging import fake_gateway

    served: dict[str, object] = {}
    monkeypatch.setattr(
        fake_gateway, "serve", lambda fake, host, port: served.update(fake=fake, at=(host, port))
    )
    # when the command starts
    call_command("fake_gateway", "--app", "http://127.0.0.1:8000/")
    # then it posts to the demo channels' webhooks with their secret, on 127.0.0.1:8025
    sms, whatsapp = fake_gateway_channels()
    channels = served["fake"].channels
    assert served["at"] == ("127.0.0.1", 8025)
    assert channels["sms"] == fake_gateway.Channel(
        "sms", f"http://127.0.0.1:8000/hooks/{sms.key}/", DEMO_SECRET
    )
    assert channels["whatsapp"].webhook == f"http://127.0.0.1:8000/hooks/{whatsapp.key}/"


def test_the_fake_gateway_command_needs_the_demo(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="load-demo"):
        call_command("fake_gateway")


def test_the_demo_answers_requests_for_help_within_four_hours(demo):
    targets = response_times.targets_for(Organisation.objects.get(name=ORGANISATION).pk)
    assert targets.category_hours == {"help": 4, "complaint": 72}
    handed = Conversation.objects.get(messages__provider_id="demo-unpaid-wages")
    first = handed.messages.get().at
    assert handed.respond_by == first + datetime.timedelta(hours=4)
