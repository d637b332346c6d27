"""The daily overdue list and its reminders: what is late, for whom, and what the reminder says."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from ventanilla.accounts import services as accounts
from ventanilla.cases import overdue
from ventanilla.cases import services as cases
from ventanilla.messaging.models import Channel, Notice, OutboundMessage
from ventanilla.referrals import services as referrals
from ventanilla.referrals.models import ReferralStatus, Via
from ventanilla.testing.factories import UserFactory
from ventanilla.testing.referrals import pathway, register_person

LATER = datetime.timedelta(hours=49)  # past the pathway's 48 hours


@pytest.fixture
def path(world):
    return pathway(world)


def refer(world, person, path):
    return referrals.create_referral(
        person, pathway=path, category="medical", by=world.a.users["caseworker"], need="Herida"
    )


def second_site_staff(world, role):
    user = UserFactory(username=f"a_second_site_{role}")
    accounts.grant_membership(
        user=user, organisation=world.a.organisation, role=role, sites=[world.a.sites[1]], by=None
    )
    return user


def test_a_sent_referral_past_its_answer_time_is_overdue_an_answered_one_is_not(world, path):
    # given two referrals sent now; the partner accepts one of them
    waiting = refer(world, register_person(world), path)
    answered = refer(world, register_person(world), path)
    referrals.transition(
        answered, ReferralStatus.ACCEPTED, by=world.b.users["partner_focal_point"], via=Via.PARTNER
    )
    caseworker = world.a.users["caseworker"]
    # when the caseworker looks before and after the 48 hours
    before = overdue.overdue_list(caseworker, now=timezone.now() + datetime.timedelta(hours=47))
    after = overdue.overdue_list(caseworker, now=timezone.now() + LATER)
    # then only the unanswered one is late, and only after its time
    assert (before.referrals, before.referral_count) == ([], 0)
    assert ([r.reference for r in after.referrals], after.referral_count) == ([waiting.reference], 1)


def test_an_expired_referral_stays_on_the_list_until_someone_acts(world, path):
    referral = refer(world, register_person(world), path)
    now = timezone.now() + LATER
    referrals.expire_overdue(now=now)
    found = overdue.overdue_list(world.a.users["site_manager"], now=now)
    assert [(r.reference, r.status, r.escalated_at is not None) for r in found.referrals] == [
        (referral.reference, ReferralStatus.EXPIRED, True)
    ]
    referrals.transition(
        referral,
        ReferralStatus.WITHDRAWN,
        by=world.a.users["caseworker"],
        via=Via.STAFF,
        reason="need_met_elsewhere",
    )
    assert overdue.overdue_list(world.a.users["site_manager"], now=now).empty


def test_a_task_past_due_is_overdue_a_done_one_is_not(world):
    # given a case with two tasks due yesterday, one of them done, and one due today
    case = cases.open_case(register_person(world), by=world.a.users["caseworker"])
    today = timezone.localdate()
    by = world.a.users["caseworker"]
    late = cases.add_task(case, title="Call the shelter", due_on=today - datetime.timedelta(days=1), by=by)
    done = cases.add_task(case, title="Call the clinic", due_on=today - datetime.timedelta(days=1), by=by)
    cases.complete_task(done, by=by)
    cases.add_task(case, title="Visit", due_on=today, by=by)
    # when the caseworker looks today, and again two days on
    found = overdue.overdue_list(by)
    later = overdue.overdue_list(by, now=timezone.now() + datetime.timedelta(days=2))
    # then only the undone task past its day is late (and, later, the one due today too)
    assert ([t.pk for t in found.tasks], found.task_count) == ([late.pk], 1)
    assert later.task_count == 2


def test_second_site_staff_do_not_see_the_first_sites_items(world, path):
    # given a late referral and a late task at A's first site
    person = register_person(world)
    refer(world, person, path)
    case = cases.open_case(person, by=world.a.users["caseworker"])
    cases.add_task(case, title="x", due_on=datetime.date(2020, 1, 1), by=world.a.users["caseworker"])
    now = timezone.now() + LATER
    # then the first site's staff see both, the second site's staff and organisation B see nothing
    assert not overdue.overdue_list(world.a.users["site_manager"], now=now).empty
    for user in (
        second_site_staff(world, "caseworker"),
        second_site_staff(world, "site_manager"),
        world.b.users["site_manager"],
        world.b.users["partner_focal_point"],
        world.a.users["administrator"],
    ):
        assert overdue.overdue_list(user, now=now).empty, user.username


def test_mine_is_what_i_sent_and_what_is_assigned_to_me(world, path):
    # given a late referral sent by A's caseworker and a late task assigned to the site manager
    person = register_person(world)
    refer(world, person, path)
    case = cases.open_case(person, by=world.a.users["caseworker"])
    manager = world.a.users["site_manager"]
    cases.add_task(case, title="x", due_on=datetime.date(2020, 1, 1), by=manager, assigned_to=manager)
    now = timezone.now() + LATER
    # then each sees their own under "mine", both under their sites
    mine = overdue.overdue_list(world.a.users["caseworker"], now=now, mine=True)
    managers = overdue.overdue_list(manager, now=now, mine=True)
    sites = overdue.overdue_list(manager, now=now)
    assert (mine.referral_count, mine.task_count) == (1, 0)
    assert (managers.referral_count, managers.task_count) == (0, 1)
    assert (sites.referral_count, sites.task_count) == (1, 1)


def test_counts_go_beyond_the_page(world, path):
    for _ in range(3):
        refer(world, register_person(world), path)
    found = overdue.overdue_list(world.a.users["caseworker"], now=timezone.now() + LATER, limit=2)
    assert (len(found.referrals), found.referral_count) == (2, 3)


def test_reminders_go_to_each_user_with_something_overdue_once_without_names(world, path):
    # given a late referral sent by A's caseworker, for a person with a name, and a late task for them
    person = register_person(world)
    refer(world, person, path)
    case = cases.open_case(person, by=world.a.users["caseworker"])
    cases.add_task(
        case, title="Call her brother", due_on=datetime.date(2020, 1, 1), by=world.a.users["caseworker"]
    )
    # when the morning reminders run
    sent = overdue.send_reminders(now=timezone.now() + LATER)
    # then A's caseworker and site manager each get one notice and one email; nobody else
    who = {world.a.users["caseworker"], world.a.users["site_manager"]}
    assert sent == 2
    assert sorted(n.user.username for n in Notice.objects.filter(kind="overdue")) == sorted(
        u.username for u in who
    )
    emails = list(OutboundMessage.objects.filter(channel=Channel.EMAIL, purpose="overdue_reminder"))
    assert sorted(m.recipient for m in emails) == sorted(u.email for u in who)
    # and the texts say how many and where, never who or what
    texts = (
        [n.text for n in Notice.objects.filter(kind="overdue")]
        + [m.body for m in emails]
        + [m.subject for m in emails]
    )
    for text in texts:
        assert "1 referrals without an answer, 1 follow-up tasks" in text
        for value in ("Ana", "López", "brother", person.reference, case.reference):
            assert value not in text
    assert {n.url for n in Notice.objects.filter(kind="overdue")} == {"/en/staff/cases/overdue/"}


def test_no_reminder_when_nothing_is_overdue(world, path):
    # given a referral still within its time and a task due tomorrow
    person = register_person(world)
    refer(world, person, path)
    case = cases.open_case(person, by=world.a.users["caseworker"])
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    cases.add_task(case, title="x", due_on=tomorrow, by=world.a.users["caseworker"])
    # when the reminders run, then nothing is sent
    assert overdue.send_reminders() == 0
    assert not Notice.objects.filter(kind="overdue").exists()
    assert not OutboundMessage.objects.filter(purpose="overdue_reminder").exists()
