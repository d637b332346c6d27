"""Urgent alerts: who is told, how, what they read; escalation when nobody acknowledges; the pages."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone, translation

from ventanilla.core.models import AuditEntry
from ventanilla.messaging import alerts, ingest, tasks, urgent
from ventanilla.messaging.models import Notice, OutboundMessage
from ventanilla.messaging.models_inbox import Conversation, DutyShift, UrgentAlert
from ventanilla.testing.messaging import gateway, post_generic

URGENT_TEXT = "Me quitaron el pasaporte en el hotel de la calle 5"
NUMBER = "+529625550177"


@pytest.fixture
def channel(world):
    return gateway(world)


@pytest.fixture
def officer(world):
    user = world.user("a", "information_officer")
    user.phone = "+529625550001"
    user.save()
    return user


def on_duty(world, user, *, now=None):
    now = now or timezone.now()
    return DutyShift.objects.create(
        organisation=world.a.organisation,
        user=user,
        starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(hours=8),
    )


def urgent_message(channel, text=URGENT_TEXT, sender=NUMBER, at=None):
    return ingest.record_inbound(channel, sender=sender, text=text, provider_id="u1", at=at)


def sent_to(user, channel_kind=None):
    rows = OutboundMessage.objects.filter(purpose="urgent_alert")
    return [
        row
        for row in rows
        if row.recipient in {user.phone, user.email} and (channel_kind is None or row.channel == channel_kind)
    ]


def test_an_urgent_message_alerts_whoever_is_on_duty_by_sms_email_and_in_the_app(world, channel, officer):
    # given the information officer on duty (and a site manager who is not)
    on_duty(world, officer)
    # when a message that may be a call for help arrives
    message = urgent_message(channel)
    # then one alert is raised with the reason, and only the officer on duty is told
    alert = UrgentAlert.objects.get()
    assert (alert.reason, alert.level, alert.message_id) == ("documents taken", 1, message.pk)
    assert list(alert.notified.all()) == [officer]
    sms = sent_to(officer, "sms")
    email = sent_to(officer, "email")
    assert len(sms) == len(email) == 1
    assert sms[0].gateway_id == channel.pk  # through the organisation's own SMS channel
    conversation_id = str(message.conversation_id)
    for row in (sms[0], email[0]):
        # the text names the conversation and the reason, never what the person wrote nor their number
        assert f"conversation {conversation_id}" in row.body
        assert "documents taken" in row.body
        assert "pasaporte" not in row.body
        assert "5550177" not in row.body
        assert "/en/staff/alerts/" in row.body
    notice = Notice.objects.get(user=officer)
    assert notice.kind == "urgent_alert"
    assert notice.url == "/en/staff/alerts/"
    assert not sent_to(world.user("a", "site_manager"))
    assert AuditEntry.objects.filter(object_type="messaging.urgentalert", action="create").count() == 1


def test_a_second_urgent_message_in_the_same_conversation_keeps_the_open_alert(world, channel, officer):
    on_duty(world, officer)
    urgent_message(channel)
    ingest.record_inbound(channel, sender=NUMBER, text="Estoy en peligro", provider_id="u2")
    assert UrgentAlert.objects.count() == 1
    assert len(sent_to(officer, "sms")) == 1


def test_without_anyone_on_duty_the_site_managers_of_the_site_are_alerted(world, channel):
    # given no duty shift (only an expired one)
    DutyShift.objects.create(
        organisation=world.a.organisation,
        user=world.user("a", "information_officer"),
        starts_at=timezone.now() - datetime.timedelta(days=2),
        ends_at=timezone.now() - datetime.timedelta(days=1),
    )
    urgent_message(channel)
    # then the site manager of the channel's site is told
    alert = UrgentAlert.objects.get()
    assert list(alert.notified.all()) == [world.user("a", "site_manager")]


def test_without_a_site_manager_at_the_site_everyone_handling_messages_is_alerted(world):
    # given a channel of the second site, where no site manager works
    channel = gateway(world, site=world.a.sites[1])
    urgent_message(channel)
    alert = UrgentAlert.objects.get()
    assert set(alert.notified.all()) == {
        world.user("a", "site_manager"),
        world.user("a", "information_officer"),
    }


def test_an_unacknowledged_alert_escalates_level_by_level(world, channel, officer, settings):
    # given an alert raised at a known time, nobody acknowledging
    settings.URGENT_ESCALATE_MINUTES = 15
    raised = timezone.now()
    on_duty(world, officer, now=raised)
    urgent_message(channel, at=raised)
    alert = UrgentAlert.objects.get()
    assert alert.escalate_at == alert.raised_at + datetime.timedelta(minutes=15)
    # when the periodic job runs before the time: nothing happens
    assert alerts.escalate_due(now=alert.raised_at + datetime.timedelta(minutes=14)).alerts == 0
    # when it runs after 15 minutes: level 2, every site manager is told
    later = alert.raised_at + datetime.timedelta(minutes=16)
    assert alerts.escalate_due(now=later).alerts == 1
    alert.refresh_from_db()
    assert alert.level == 2
    assert alert.escalate_at == later + datetime.timedelta(minutes=15)
    manager = world.user("a", "site_manager")
    assert len(sent_to(manager, "email")) == 1
    assert "not acknowledged after 15 minutes" in sent_to(manager, "email")[0].body
    assert not sent_to(world.user("a", "administrator"))
    # running again at the same moment changes nothing
    assert alerts.escalate_due(now=later).alerts == 0
    # after another 15 minutes: level 3, the administrators are told too
    latest = later + datetime.timedelta(minutes=16)
    assert alerts.escalate_due(now=latest).alerts == 1
    alert.refresh_from_db()
    assert alert.level == 3
    assert set(alert.notified.all()) == {officer, manager, world.user("a", "administrator")}
    assert len(sent_to(world.user("a", "administrator"), "email")) == 1
    # and nobody of organisation B hears of it
    assert not any(sent_to(user) for user in world.b.users.values())


def test_an_acknowledged_alert_does_not_escalate(world, channel, officer):
    on_duty(world, officer)
    urgent_message(channel)
    alert = UrgentAlert.objects.get()
    # when the officer acknowledges
    alerts.acknowledge(alert, by=officer)
    # then the periodic job finds nothing to do, long after
    assert alerts.escalate_due(now=alert.raised_at + datetime.timedelta(hours=3)).alerts == 0
    alert.refresh_from_db()
    assert (alert.level, alert.acknowledged_by) == (1, officer)
    assert not sent_to(world.user("a", "site_manager"))
    # and a second acknowledgement is refused, naming why
    with pytest.raises(alerts.AlertError, match="already acknowledged"):
        alerts.acknowledge(alert, by=world.user("a", "site_manager"))


def test_someone_of_another_organisation_cannot_acknowledge(world, channel):
    urgent_message(channel)
    alert = UrgentAlert.objects.get()
    with pytest.raises(alerts.AlertPermissionError):
        alerts.acknowledge(alert, by=world.user("b", "site_manager"))
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_the_periodic_task_escalates_and_is_scheduled(world, channel, settings):
    urgent_message(channel, at=timezone.now() - datetime.timedelta(hours=1))
    UrgentAlert.objects.update(escalate_at=timezone.now() - datetime.timedelta(minutes=1))
    assert tasks.escalate_alerts() == 1
    assert UrgentAlert.objects.get().level == 2
    entry = settings.CELERY_BEAT_SCHEDULE["escalate-urgent-alerts"]
    assert entry["task"] == tasks.escalate_alerts.name


def test_a_sensitive_complaint_is_announced_only_to_designated_focal_points(world, channel, officer):
    # given a conversation triaged as a sensitive complaint, the site manager its focal point
    from ventanilla.accounts.models import Membership

    on_duty(world, officer)
    message = ingest.record_inbound(
        channel, sender=NUMBER, text="Un trabajador me pidió dinero", provider_id="s1"
    )
    Conversation.objects.filter(pk=message.conversation_id).update(category="sensitive")
    Membership.objects.filter(user=world.user("a", "site_manager")).update(handles_sensitive_complaints=True)
    # when an urgent message follows in it
    ingest.record_inbound(channel, sender=NUMBER, text="Ahora me amenazan", provider_id="s2")
    # then only the focal point is told, though the officer is on duty, at every level
    alert = UrgentAlert.objects.get()
    assert list(alert.notified.all()) == [world.user("a", "site_manager")]
    alerts.escalate_due(now=alert.escalate_at)
    alerts.escalate_due(now=alert.escalate_at + datetime.timedelta(hours=1))
    assert list(alert.notified.all()) == [world.user("a", "site_manager")]
    # and the alert is not in the officer's list
    assert not alerts.visible_alerts(officer).exists()
    assert not alerts.visible_alerts(world.user("a", "administrator")).exists()


def dummy_classifier(text: str) -> str:
    """A stand-in for a model: flags fires, which the rules do not know."""
    return "fire" if "incendio" in text.lower() else ""


def test_a_pluggable_classifier_adds_its_reason_beside_the_rules(world, channel, settings):
    settings.URGENT_CLASSIFIER = "ventanilla.messaging.tests.test_alerts:dummy_classifier"
    urgent._classifier.cache_clear()
    try:
        assert urgent.reason("Hay un incendio en el albergue") == "fire"
        assert urgent.reason("Me quitaron el pasaporte") == "documents taken"  # the rules still come first
        assert urgent.reason("Gracias por todo") == ""
        urgent_message(channel, text="Hay un incendio en el albergue")
        assert UrgentAlert.objects.get().reason == "fire"
    finally:
        settings.URGENT_CLASSIFIER = ""
        urgent._classifier.cache_clear()


# --- Pages ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("run_queued_work")
def test_the_list_shows_the_reason_and_acknowledging_stops_the_alert(world, channel, officer, client_for):
    # given an urgent SMS through the webhook, the officer on duty
    on_duty(world, officer)
    post_generic(Client(), channel, {"id": "w-1", "from": NUMBER, "text": URGENT_TEXT})
    alert = UrgentAlert.objects.get()
    client = client_for(officer)
    # when the officer opens the alerts
    page = client.get("/en/staff/alerts/").content.decode()
    # then the reason and the conversation are shown, never the message or the number
    assert "documents taken" in page
    assert f"Conversation {alert.conversation_id}" in page
    assert "pasaporte" not in page
    assert "5550177" not in page
    # when they take it on
    response = client.post(f"/en/staff/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 302
    alert.refresh_from_db()
    assert alert.acknowledged_by == officer
    page = client.get("/en/staff/alerts/").content.decode()
    assert "No alert is waiting." in page
    assert "Acknowledged by a_information_officer" in page
    # and acknowledging again says so instead of failing
    again = client.post(f"/en/staff/alerts/{alert.pk}/acknowledge/", follow=True)
    assert "already acknowledged" in again.content.decode()


def test_the_reason_is_shown_in_the_readers_language(world, channel, officer, client_for):
    # given an alert, and the reason as the Spanish catalogue gives it
    urgent_message(channel)
    with translation.override("es"):
        reason = urgent.reason_label("documents taken")
    # then the Spanish page shows it
    page = client_for(officer).get("/es/staff/alerts/").content.decode()
    assert reason in page


def test_another_organisations_alert_cannot_be_acknowledged(world, channel, client_for):
    urgent_message(channel)
    alert = UrgentAlert.objects.get()
    response = client_for(world.user("b", "site_manager")).post(f"/en/staff/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 404
    alert.refresh_from_db()
    assert alert.acknowledged_at is None


def test_the_duty_rota_adds_a_shift_for_someone_who_handles_messages(world, client_for, officer):
    client = client_for(world.user("a", "site_manager"))
    # when the site manager puts the officer on duty for the night
    response = client.post(
        "/en/staff/alerts/duty/",
        {
            "organisation": world.a.organisation.pk,
            "user": officer.pk,
            "starts_at": "2030-01-10T20:00",
            "ends_at": "2030-01-11T08:00",
        },
    )
    assert response.status_code == 302
    shift = DutyShift.objects.get()
    assert (shift.user, shift.ends_at - shift.starts_at) == (officer, datetime.timedelta(hours=12))
    assert officer.get_full_name() in client.get("/en/staff/alerts/duty/").content.decode()


@pytest.mark.parametrize(
    ("who", "starts", "ends", "field", "message"),
    [
        ("caseworker", "2030-01-10T20:00", "2030-01-11T08:00", "user", "Select a valid choice"),
        (
            "information_officer",
            "2030-01-10T20:00",
            "2030-01-10T19:00",
            "ends_at",
            "must end after it starts",
        ),
    ],
)
def test_a_wrong_shift_is_refused_next_to_its_field(world, client_for, who, starts, ends, field, message):
    client = client_for(world.user("a", "site_manager"))
    response = client.post(
        "/en/staff/alerts/duty/",
        {
            "organisation": world.a.organisation.pk,
            "user": world.user("a", who).pk,
            "starts_at": starts,
            "ends_at": ends,
        },
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    assert response.context["form"].errors[field]
    assert not DutyShift.objects.exists()


def test_the_service_refuses_a_shift_for_someone_who_does_not_handle_messages(world):
    with pytest.raises(alerts.AlertError) as refused:
        alerts.add_shift(
            world.a.organisation.pk,
            user=world.user("a", "caseworker"),
            starts_at=timezone.now(),
            ends_at=timezone.now() + datetime.timedelta(hours=1),
            by=world.user("a", "site_manager"),
        )
    assert refused.value.field == "user"
    with pytest.raises(alerts.AlertPermissionError):
        alerts.add_shift(
            world.a.organisation.pk,
            user=world.user("a", "information_officer"),
            starts_at=timezone.now(),
            ends_at=timezone.now() + datetime.timedelta(hours=1),
            by=world.user("b", "site_manager"),
        )
    assert not DutyShift.objects.exists()


def test_a_shift_is_removed_only_by_its_organisation(world, client_for, officer):
    shift = on_duty(world, officer)
    assert (
        client_for(world.user("b", "administrator"))
        .post(f"/en/staff/alerts/duty/{shift.pk}/remove/")
        .status_code
        == 404
    )
    assert DutyShift.objects.exists()
    assert (
        client_for(world.user("a", "administrator"))
        .post(f"/en/staff/alerts/duty/{shift.pk}/remove/")
        .status_code
        == 302
    )
    assert not DutyShift.objects.exists()


def test_the_alert_list_reads_a_fixed_number_of_queries(
    world, channel, officer, client_for, django_assert_max_num_queries
):
    for number in range(5):
        ingest.record_inbound(
            channel, sender=f"+5296255502{number:02d}", text=URGENT_TEXT, provider_id=f"q{number}"
        )
    assert UrgentAlert.objects.count() == 5
    client = client_for(officer)
    client.get("/en/staff/alerts/")
    with django_assert_max_num_queries(20):
        response = client.get("/en/staff/alerts/")
    assert response.content.decode().count("I take it on") == 5
