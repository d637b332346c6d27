"""Case management through the services: opening, closing, reassigning, tasks, notes and transfers."""

from __future__ import annotations

import datetime

import pytest

from ventanilla.accounts import services as accounts
from ventanilla.cases import services
from ventanilla.cases.models import Case, CaseNote, CaseStatus, CaseTask, CaseTransfer, TransferStatus
from ventanilla.core.models import AuditEntry
from ventanilla.messaging.models import Notice
from ventanilla.registration.models import Consent, Flag, Person, Registration
from ventanilla.testing.factories import UserFactory
from ventanilla.testing.referrals import register_person

DUE = datetime.date(2026, 12, 1)


@pytest.fixture
def child(world):
    return register_person(world)


@pytest.fixture
def case(world, child):
    return services.open_case(child, by=world.a.users["caseworker"], needs="Shelter", plan="Refer")


def second_site_caseworker(world):
    """A caseworker of A who works at A's second site only."""
    user = UserFactory(username="a_second_site_caseworker")
    accounts.grant_membership(
        user=user, organisation=world.a.organisation, role="caseworker", sites=[world.a.sites[1]], by=None
    )
    return user


def test_a_case_opens_at_the_persons_site_owned_by_whoever_opened_it(world, child):
    # when A's caseworker opens a case for a person of A's first site
    case = services.open_case(child, by=world.a.users["caseworker"], needs=" Shelter ", plan="Refer")
    # then it is open, at the person's site, owned by the caseworker, and the change is audited
    assert (case.status, case.organisation, case.site, case.owner, case.needs) == (
        CaseStatus.OPEN,
        world.a.organisation,
        world.a.sites[0],
        world.a.users["caseworker"],
        "Shelter",
    )
    assert AuditEntry.objects.filter(
        action="create", object_type="cases.case", object_id=str(case.pk)
    ).exists()


def test_a_second_open_case_for_the_same_person_is_refused(world, child, case):
    # when someone opens another case for the same person
    with pytest.raises(services.CaseError) as error:
        services.open_case(child, by=world.a.users["site_manager"])
    # then it is refused on the person, and there is still one case
    assert error.value.field == "person"
    assert Case.objects.filter(person=child).count() == 1


def test_after_closing_a_new_case_can_be_opened(world, child, case):
    # given the person's case is closed
    services.close_case(case, by=world.a.users["caseworker"], reason="needs_met")
    # when a new one is opened, then there are two, one of them open
    services.open_case(child, by=world.a.users["caseworker"])
    assert sorted(Case.objects.filter(person=child).values_list("status", flat=True)) == ["closed", "open"]


def test_someone_who_may_not_edit_personal_data_cannot_open_a_case(world, child):
    with pytest.raises(services.CasePermissionError):
        services.open_case(child, by=world.a.users["data_analyst"])
    with pytest.raises(services.CasePermissionError):
        services.open_case(child, by=world.b.users["caseworker"])
    assert not Case.objects.exists()


def test_the_owner_must_work_at_the_persons_site(world, child):
    with pytest.raises(services.CaseError) as error:
        services.open_case(child, by=world.a.users["caseworker"], owner=second_site_caseworker(world))
    assert error.value.field == "owner"
    assert not Case.objects.exists()


def test_closing_with_a_reason_closes_the_open_tasks_and_cancels_a_waiting_transfer(world, case):
    # given an open task, a done task and a transfer waiting for an answer
    caseworker = world.a.users["caseworker"]
    open_task = services.add_task(case, title="Call the shelter", due_on=DUE, by=caseworker)
    done_task = services.add_task(case, title="Call the clinic", due_on=DUE, by=caseworker)
    services.complete_task(done_task, by=caseworker)
    done_at = CaseTask.objects.get(pk=done_task.pk).done_at
    transfer = services.request_transfer(case, to_site=world.a.sites[1], by=caseworker)
    # when the case closes because the needs are met
    services.close_case(case, by=caseworker, reason="needs_met")
    # then it is closed with the reason, the open task is done when the case closed, the done task keeps
    # its date, and the transfer is cancelled
    case.refresh_from_db()
    assert (case.status, case.close_reason, case.closed_at is not None) == ("closed", "needs_met", True)
    assert CaseTask.objects.get(pk=open_task.pk).done_at == case.closed_at
    assert CaseTask.objects.get(pk=done_task.pk).done_at == done_at
    assert CaseTransfer.objects.get(pk=transfer.pk).status == TransferStatus.CANCELLED


def test_closing_without_a_known_reason_changes_nothing(world, case):
    with pytest.raises(services.CaseError) as error:
        services.close_case(case, by=world.a.users["caseworker"], reason="bored")
    assert error.value.field == "reason"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.OPEN


def test_a_closed_case_is_read_only(world, case):
    # given a closed case
    caseworker = world.a.users["caseworker"]
    services.close_case(case, by=caseworker, reason="lost_contact")
    # then every change is refused
    changes = [
        lambda: services.update_case(case, by=caseworker, needs="x"),
        lambda: services.add_task(case, title="x", due_on=DUE, by=caseworker),
        lambda: services.add_note(case, text="x", by=caseworker),
        lambda: services.reassign(case, to=world.a.users["site_manager"], by=caseworker),
        lambda: services.request_transfer(case, to_site=world.a.sites[1], by=caseworker),
        lambda: services.close_case(case, by=caseworker, reason="needs_met"),
    ]
    for change in changes:
        with pytest.raises(services.CaseError):
            change()
    assert not CaseNote.objects.exists()
    assert not CaseTask.objects.exists()
    assert Case.objects.get(pk=case.pk).owner == caseworker


def test_status_changes_but_closing_needs_a_reason(world, case):
    caseworker = world.a.users["caseworker"]
    services.update_case(case, by=caseworker, status=CaseStatus.ON_HOLD)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ON_HOLD
    with pytest.raises(services.CaseError) as error:
        services.update_case(case, by=caseworker, status=CaseStatus.CLOSED)
    assert error.value.field == "status"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ON_HOLD


def test_reassigning_to_someone_outside_the_cases_site_is_refused(world, case):
    # given a caseworker of A's second site and B's caseworker
    for outsider in (second_site_caseworker(world), world.b.users["caseworker"]):
        # when the case is given to them
        with pytest.raises(services.CaseError) as error:
            services.reassign(case, to=outsider, by=world.a.users["site_manager"])
        # then it is refused on the owner, and the owner stays
        assert error.value.field == "owner"
        assert Case.objects.get(pk=case.pk).owner == world.a.users["caseworker"]
    # while the site manager of the case's site can take it
    services.reassign(case, to=world.a.users["site_manager"], by=world.a.users["caseworker"])
    assert Case.objects.get(pk=case.pk).owner == world.a.users["site_manager"]


def test_a_task_goes_to_someone_at_the_cases_site(world, case):
    with pytest.raises(services.CaseError) as error:
        services.add_task(
            case,
            title="x",
            due_on=DUE,
            by=world.a.users["caseworker"],
            assigned_to=world.b.users["caseworker"],
        )
    assert error.value.field == "assigned_to"
    with pytest.raises(services.CaseError) as error:
        services.add_task(case, title="  ", due_on=DUE, by=world.a.users["caseworker"])
    assert error.value.field == "title"
    task = services.add_task(case, title="Call", due_on=DUE, by=world.a.users["site_manager"])
    assert (CaseTask.objects.count(), task.assigned_to, task.site) == (
        1,
        world.a.users["caseworker"],
        world.a.sites[0],
    )


def test_transfer_to_another_organisation_needs_consent_to_referral(world):
    # given a person who did not consent to referral, with a case
    person = register_person(world, consent_referral="no")
    case = services.open_case(person, by=world.a.users["caseworker"])
    # when the case is to go to organisation B
    with pytest.raises(services.CaseError) as error:
        services.request_transfer(case, to_site=world.b.sites[0], by=world.a.users["caseworker"])
    # then it is refused and nothing is asked
    assert error.value.field == "to_site"
    assert not CaseTransfer.objects.exists()
    # while another site of the same organisation can be asked
    transfer = services.request_transfer(case, to_site=world.a.sites[1], by=world.a.users["caseworker"])
    assert transfer.status == TransferStatus.PENDING


def test_transfer_refuses_the_same_site_an_inactive_site_and_a_second_waiting_one(world, case):
    caseworker = world.a.users["caseworker"]
    with pytest.raises(services.CaseError):
        services.request_transfer(case, to_site=world.a.sites[0], by=caseworker)
    inactive = world.a.sites[1]
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    with pytest.raises(services.CaseError):
        services.request_transfer(case, to_site=inactive, by=caseworker)
    services.request_transfer(case, to_site=world.b.sites[0], by=caseworker)
    with pytest.raises(services.CaseError):
        services.request_transfer(case, to_site=world.b.sites[1], by=caseworker)
    assert CaseTransfer.objects.count() == 1


def test_the_receiving_site_manager_is_told_without_a_name(world, case, child):
    services.request_transfer(case, to_site=world.b.sites[0], by=world.a.users["caseworker"])
    notices = list(Notice.objects.all())
    assert [n.user for n in notices] == [world.b.users["site_manager"]]
    assert notices[0].url == "/en/staff/cases/transfers/"
    assert case.reference in notices[0].text
    assert child.given_name not in notices[0].text


def test_accepting_a_transfer_moves_the_person_and_the_case(world, client_for, child, case):
    # given an open task of A's caseworker and a transfer to B's first site
    a_caseworker, b_caseworker = world.a.users["caseworker"], world.b.users["caseworker"]
    task = services.add_task(case, title="Call the shelter", due_on=DUE, by=a_caseworker)
    transfer = services.request_transfer(case, to_site=world.b.sites[0], by=a_caseworker, note="Family")
    # and the sender cannot answer it
    with pytest.raises(services.CasePermissionError):
        services.decide_transfer(transfer, accept=True, by=a_caseworker)
    # when B's caseworker accepts
    services.decide_transfer(transfer, accept=True, by=b_caseworker)
    # then the person's rows, the case and its task are B's, owned by whoever accepted
    b_site = (world.b.organisation.pk, world.b.sites[0].pk)
    assert Person.objects.filter(pk=child.pk).values_list("organisation", "site").get() == b_site
    for model in (Registration, Consent, Flag, Case, CaseTask):
        assert set(
            model.objects.filter(**{"case__person" if model is CaseTask else "person": child}).values_list(
                "organisation", "site"
            )
        ) == {b_site}, model
    assert Case.objects.get(pk=case.pk).owner == b_caseworker
    assert CaseTask.objects.get(pk=task.pk).assigned_to == b_caseworker
    assert CaseTransfer.objects.get(pk=transfer.pk).status == TransferStatus.ACCEPTED
    # and A's caseworker no longer finds the case or the person, while B's caseworker does
    a, b = client_for(a_caseworker), client_for(b_caseworker)
    pages = [f"/en/staff/cases/{case.reference}/", f"/en/staff/people/{child.reference}/"]
    assert [a.get(page).status_code for page in pages] == [404, 404]
    assert [b.get(page).status_code for page in pages] == [200, 200]


def test_declining_a_transfer_moves_nothing(world, client_for, child, case):
    # given a transfer to B's first site
    transfer = services.request_transfer(case, to_site=world.b.sites[0], by=world.a.users["caseworker"])
    # when B's site manager declines it
    services.decide_transfer(transfer, accept=False, by=world.b.users["site_manager"])
    # then everything stays with A, and the decision cannot be taken again
    a_site = (world.a.organisation.pk, world.a.sites[0].pk)
    assert Person.objects.filter(pk=child.pk).values_list("organisation", "site").get() == a_site
    assert Case.objects.filter(pk=case.pk).values_list("organisation", "site").get() == a_site
    assert Case.objects.get(pk=case.pk).owner == world.a.users["caseworker"]
    assert CaseTransfer.objects.get(pk=transfer.pk).status == TransferStatus.DECLINED
    with pytest.raises(services.CaseError):
        services.decide_transfer(transfer, accept=True, by=world.b.users["site_manager"])
    assert (
        client_for(world.b.users["caseworker"]).get(f"/en/staff/cases/{case.reference}/").status_code == 404
    )
    assert (
        client_for(world.a.users["caseworker"]).get(f"/en/staff/cases/{case.reference}/").status_code == 200
    )


def test_erasure_blanks_what_caseworkers_wrote(world, child, case):
    caseworker = world.a.users["caseworker"]
    services.add_note(case, text="Her brother is in Tapachula", by=caseworker)
    services.add_task(case, title="Call her brother", due_on=DUE, by=caseworker)
    services.blank_for_person(child)
    case.refresh_from_db()
    assert (case.needs, case.plan, CaseNote.objects.count()) == ("", "", 0)
    assert list(CaseTask.objects.values_list("title", flat=True)) == ["-"]
