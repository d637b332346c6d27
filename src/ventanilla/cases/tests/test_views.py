"""The case pages without JavaScript: list, open, the case and its forms, transfers, overdue, notices."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ventanilla.cases import services
from ventanilla.cases.models import Case, CaseNote, CaseTask, CaseTransfer, TransferStatus
from ventanilla.core.models import AuditEntry
from ventanilla.messaging import services as messaging
from ventanilla.messaging.models import Notice
from ventanilla.referrals import services as referrals
from ventanilla.testing.referrals import pathway, register_person

DUE = datetime.date(2026, 12, 1)
CASES = "/en/staff/cases/"


@pytest.fixture
def child(world):
    return register_person(world)


@pytest.fixture
def case(world, child):
    return services.open_case(child, by=world.a.users["caseworker"], needs="Shelter", plan="Refer")


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def last_entry() -> int:
    return AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0


def reads(object_type, *, after):
    entries = AuditEntry.objects.filter(action="read", object_type=object_type, id__gt=after)
    return list(entries.values_list("detail", flat=True))


# --- the list ---------------------------------------------------------------------------------------


def test_caseworkers_see_their_own_cases_first_site_managers_all_of_their_sites(world, client_for, case):
    # given a second case at the same site, owned by the site manager
    other = services.open_case(
        register_person(world), by=world.a.users["site_manager"], owner=world.a.users["site_manager"]
    )
    caseworker, manager = client_for(world.a.users["caseworker"]), client_for(world.a.users["site_manager"])
    # when each opens the list; and the caseworker asks for every case of the site
    mine = caseworker.get(CASES).context["cases"]
    everything = caseworker.get(CASES + "?whose=all").context["cases"]
    managers = manager.get(CASES).context["cases"]
    # then the caseworker sees theirs by default, the site manager everything at their site
    assert [c.pk for c in mine] == [case.pk]
    assert {c.pk for c in everything} == {case.pk, other.pk}
    assert {c.pk for c in managers} == {case.pk, other.pk}


def test_the_list_shows_references_counts_and_is_audited_once(world, client_for, child, case):
    # given one open task past due and one due later
    by = world.a.users["caseworker"]
    services.add_task(case, title="Call", due_on=timezone.localdate() - datetime.timedelta(days=2), by=by)
    services.add_task(case, title="Visit", due_on=timezone.localdate() + datetime.timedelta(days=2), by=by)
    mark = last_entry()
    # when the caseworker opens the list
    response = client_for(by).get(CASES)
    row = response.context["cases"][0]
    content = response.content.decode()
    # then the case, the person's reference (linked) and the counts show, without the person's name
    assert (row.open_tasks, row.overdue_tasks) == (2, 1)
    assert f'href="/en/staff/cases/{case.reference}/"' in content
    assert f'href="/en/staff/people/{child.reference}/"' in content
    assert "Ana" not in content
    assert reads("cases.case", after=mark) == [{"list": True, "count": 1}]


def test_status_and_site_filters(world, client_for, case):
    client = client_for(world.a.users["site_manager"])
    services.close_case(case, by=world.a.users["caseworker"], reason="needs_met")
    assert list(client.get(CASES).context["cases"]) == []
    assert [c.pk for c in client.get(CASES + "?status=closed").context["cases"]] == [case.pk]
    assert [c.pk for c in client.get(CASES + "?status=all").context["cases"]] == [case.pk]
    assert list(client.get(CASES + "?status=active").context["cases"]) == []
    site = world.a.sites[0].pk
    assert [c.pk for c in client.get(f"{CASES}?status=all&site={site}").context["cases"]] == [case.pk]


def test_the_list_costs_the_same_queries_for_one_case_or_many(world, client_for, case):
    client = client_for(world.a.users["site_manager"])
    baseline = queries_for(client, CASES)
    for _ in range(5):
        services.open_case(register_person(world), by=world.a.users["caseworker"])
    assert queries_for(client, CASES) <= baseline
    assert len(client.get(CASES).context["cases"]) == 6


# --- opening a case ---------------------------------------------------------------------------------


def test_opening_a_case_from_the_person_page(world, client_for, child):
    client = client_for(world.a.users["caseworker"])
    person_page = f"/en/staff/people/{child.reference}/"
    # given the person page offers to open a case
    assert f'href="/en/staff/cases/open/{child.reference}/"' in page(client, person_page)
    # when the caseworker fills the form
    response = client.post(
        f"{CASES}open/{child.reference}/",
        {"owner": world.a.users["caseworker"].pk, "needs": "A bed tonight", "plan": "Shelter"},
    )
    # then the case is open and its page follows; the person page links to it
    case = Case.objects.get(person=child)
    assert response["Location"] == f"{CASES}{case.reference}/"
    assert (case.needs, case.plan, case.owner) == ("A bed tonight", "Shelter", world.a.users["caseworker"])
    assert f'href="/en/staff/cases/{case.reference}/"' in page(client, person_page)
    assert f"/en/staff/cases/open/{child.reference}/" not in page(client, person_page)


def test_a_second_case_is_refused_with_a_link_to_the_open_one(world, client_for, child, case):
    client = client_for(world.a.users["site_manager"])
    url = f"{CASES}open/{child.reference}/"
    assert f'href="/en/staff/cases/{case.reference}/"' in page(client, url)
    response = client.post(url, {"owner": world.a.users["site_manager"].pk})
    assert response.status_code == 409
    assert Case.objects.filter(person=child).count() == 1


def test_the_owner_must_be_case_staff_of_the_persons_site(world, client_for, child):
    client = client_for(world.a.users["caseworker"])
    response = client.post(f"{CASES}open/{child.reference}/", {"owner": world.b.users["caseworker"].pk})
    assert response.status_code == 422
    assert response.context["form"].errors["owner"]
    assert not Case.objects.exists()


# --- the case ---------------------------------------------------------------------------------------


def test_the_case_page_shows_tasks_notes_referrals_and_is_audited(world, client_for, child, case):
    # given a task, two notes, a referral of this case and one sent before the case
    by = world.a.users["caseworker"]
    path = pathway(world)
    before = referrals.create_referral(child, pathway=path, category="medical", by=by)
    of_case = referrals.create_referral(child, pathway=path, category="child_protection", by=by, case=case)
    services.add_task(case, title="Call the shelter", due_on=DUE, by=by)
    services.add_note(case, text="First note", by=by)
    services.add_note(case, text="Second note", by=by)
    mark = last_entry()
    # when the caseworker opens the case
    content = page(client_for(by), f"{CASES}{case.reference}/")
    # then it shows all of it, notes newest first, with the forms and links to act
    assert "Call the shelter" in content
    assert content.index("Second note") < content.index("First note")
    for referral in (before, of_case):
        assert f'href="/en/staff/referrals/{referral.reference}/"' in content
    assert f'href="/en/staff/referrals/new/{child.reference}/?case={case.reference}"' in content
    for action in ("edit/", "reassign/", "transfer/", "close/", "tasks/", "notes/"):
        assert f"{CASES}{case.reference}/{action}" in content
    assert AuditEntry.objects.filter(action="read", object_type="cases.case", object_id=str(case.pk)).exists()
    assert reads("referrals.referral", after=mark) == [{"list": True, "count": 2, "case": case.pk}]


def test_a_closed_case_has_no_forms_and_its_change_pages_send_back(world, client_for, case):
    client = client_for(world.a.users["caseworker"])
    services.close_case(case, by=world.a.users["caseworker"], reason="person_moved_on")
    content = page(client, f"{CASES}{case.reference}/")
    assert "The person moved on" in content
    for action in ("edit/", "reassign/", "transfer/", "close/", "tasks/", "notes/"):
        assert f"{CASES}{case.reference}/{action}" not in content
        if action not in ("tasks/", "notes/"):
            response = client.get(f"{CASES}{case.reference}/{action}")
            assert response["Location"] == f"{CASES}{case.reference}/"
    response = client.post(f"{CASES}{case.reference}/notes/", {"text": "Too late"}, follow=True)
    assert "The case is closed." in response.content.decode()
    assert not CaseNote.objects.exists()


def test_adding_and_completing_a_task(world, client_for, case):
    client = client_for(world.a.users["site_manager"])
    response = client.post(
        f"{CASES}{case.reference}/tasks/",
        {"title": "Call the shelter", "due_on": "2026-12-01", "assigned_to": world.a.users["caseworker"].pk},
    )
    assert response["Location"] == f"{CASES}{case.reference}/"
    task = CaseTask.objects.get()
    assert (task.title, task.due_on, task.assigned_to) == (
        "Call the shelter",
        DUE,
        world.a.users["caseworker"],
    )
    client.post(f"{CASES}{case.reference}/tasks/{task.pk}/done/")
    assert CaseTask.objects.get().done_at is not None


def test_a_task_without_title_is_shown_back_next_to_the_field(world, client_for, case):
    client = client_for(world.a.users["caseworker"])
    response = client.post(f"{CASES}{case.reference}/tasks/", {"title": "", "due_on": "2026-12-01"})
    assert response.status_code == 422
    assert response.context["task_form"].errors["title"]
    assert 'id="id_title-error"' in response.content.decode()
    assert not CaseTask.objects.exists()


def test_a_task_of_another_case_is_not_found(world, client_for, case):
    other = services.open_case(register_person(world), by=world.a.users["caseworker"])
    task = services.add_task(other, title="x", due_on=DUE, by=world.a.users["caseworker"])
    response = client_for(world.a.users["caseworker"]).post(f"{CASES}{case.reference}/tasks/{task.pk}/done/")
    assert response.status_code == 404
    assert CaseTask.objects.get().done_at is None


def test_edit_close_and_reassign_pages(world, client_for, case):
    client = client_for(world.a.users["caseworker"])
    url = f"{CASES}{case.reference}/"
    assert client.post(url + "edit/", {"needs": "N", "plan": "P", "status": "on_hold"})["Location"] == url
    assert client.post(url + "reassign/", {"owner": world.a.users["site_manager"].pk})["Location"] == url
    refused = client.post(url + "reassign/", {"owner": world.b.users["caseworker"].pk})
    assert refused.status_code == 422
    case.refresh_from_db()
    assert (case.needs, case.plan, case.status, case.owner) == (
        "N",
        "P",
        "on_hold",
        world.a.users["site_manager"],
    )
    assert client.post(url + "close/", {"reason": "other"})["Location"] == url
    assert Case.objects.get(pk=case.pk).close_reason == "other"


def test_another_organisations_case_staff_get_404(world, client_for, case):
    client = client_for(world.b.users["caseworker"])
    for action in ("", "edit/", "close/", "reassign/", "transfer/"):
        assert client.get(f"{CASES}{case.reference}/{action}").status_code == 404
    for action in ("tasks/", "notes/"):
        assert client.post(f"{CASES}{case.reference}/{action}", {"text": "x"}).status_code == 404
    assert client.get(f"{CASES}open/{case.person.reference}/").status_code == 404
    assert not CaseNote.objects.exists()


# --- transfers --------------------------------------------------------------------------------------


def test_the_transfer_form_groups_sites_by_organisation_and_refuses_without_consent(world, client_for):
    # given a person without consent to referral, with a case
    person = register_person(world, consent_referral="no")
    case = services.open_case(person, by=world.a.users["caseworker"])
    client = client_for(world.a.users["caseworker"])
    url = f"{CASES}{case.reference}/transfer/"
    # then the form offers every other active site, grouped by organisation
    content = page(client, url)
    assert f'<optgroup label="{world.b.organisation.name}">' in content
    assert f'value="{world.b.sites[1].pk}"' in content
    assert f'value="{world.a.sites[0].pk}"' not in content
    # when B's site is chosen, it is refused next to the field and nothing is asked
    response = client.post(url, {"to_site": world.b.sites[0].pk, "note": "x"})
    assert response.status_code == 422
    assert "consent to referral" in response.context["form"].errors["to_site"][0]
    assert not CaseTransfer.objects.exists()


def test_a_transfer_from_request_to_acceptance_through_the_pages(world, client_for, child, case):
    a, b = client_for(world.a.users["caseworker"]), client_for(world.b.users["site_manager"])
    # when A's caseworker asks B's first site
    response = a.post(
        f"{CASES}{case.reference}/transfer/", {"to_site": world.b.sites[0].pk, "note": "Family"}
    )
    assert response.status_code == 302
    transfer = CaseTransfer.objects.get()
    # then A sees it as sent, B as waiting with the buttons, and B's site manager has a notice
    assert page(a, f"{CASES}transfers/").count(f"<code>{case.reference}</code>") == 1
    assert f"/en/staff/cases/transfers/{transfer.pk}/decide/" not in page(a, f"{CASES}transfers/")
    waiting = page(b, f"{CASES}transfers/")
    assert f"/en/staff/cases/transfers/{transfer.pk}/decide/" in waiting
    assert "Family" in waiting
    assert Notice.objects.filter(user=world.b.users["site_manager"], kind="case_transfer").count() == 1
    # when B accepts
    response = b.post(f"{CASES}transfers/{transfer.pk}/decide/", {"decision": "accept"})
    assert response["Location"] == f"{CASES}transfers/"
    # then B reaches the case and the person, A neither
    assert CaseTransfer.objects.get().status == TransferStatus.ACCEPTED
    for url in (f"{CASES}{case.reference}/", f"/en/staff/people/{child.reference}/"):
        assert (a.get(url).status_code, b.get(url).status_code) == (404, 200)
    assert f'href="/en/staff/cases/{case.reference}/"' in page(b, f"{CASES}transfers/")


def test_the_sender_cannot_answer_its_own_transfer(world, client_for, case):
    transfer = services.request_transfer(case, to_site=world.b.sites[0], by=world.a.users["caseworker"])
    response = client_for(world.a.users["site_manager"]).post(
        f"{CASES}transfers/{transfer.pk}/decide/", {"decision": "accept"}
    )
    assert response.status_code == 403
    assert CaseTransfer.objects.get().status == TransferStatus.PENDING


# --- overdue ----------------------------------------------------------------------------------------


def test_the_overdue_page_lists_late_referrals_and_tasks_and_audits_the_counts(
    world, client_for, child, case
):
    # given a referral past its answer time and a task past due
    by = world.a.users["caseworker"]
    referral = referrals.create_referral(child, pathway=pathway(world), category="medical", by=by)
    late = timezone.now() - datetime.timedelta(hours=1)
    type(referral).objects.filter(pk=referral.pk).update(respond_by=late)
    services.add_task(
        case, title="Call the shelter", due_on=timezone.localdate() - datetime.timedelta(days=3), by=by
    )
    mark = last_entry()
    # when the caseworker opens the overdue list
    response = client_for(by).get(f"{CASES}overdue/")
    content = response.content.decode()
    # then both show, linked, with the partner; the read is audited once with the counts
    assert response.context["show"] == "mine"
    assert f'href="/en/staff/referrals/{referral.reference}/"' in content
    assert "Red Beta" in content
    assert f'href="/en/staff/cases/{case.reference}/"' in content
    assert "Call the shelter" in content
    assert reads("cases.overdue", after=mark) == [{"list": True, "referrals": 1, "tasks": 1}]


def test_site_managers_see_their_sites_by_default_and_can_switch_to_mine(world, client_for, case):
    by = world.a.users["caseworker"]
    services.add_task(case, title="x", due_on=timezone.localdate() - datetime.timedelta(days=1), by=by)
    client = client_for(world.a.users["site_manager"])
    sites = client.get(f"{CASES}overdue/").context
    mine = client.get(f"{CASES}overdue/?show=mine").context
    assert (sites["show"], sites["found"].task_count) == ("sites", 1)
    assert (mine["show"], mine["found"].task_count) == ("mine", 0)
    assert client_for(by).get(f"{CASES}overdue/?show=sites").context["found"].task_count == 1


def test_nothing_overdue_is_said_and_not_audited(world, client_for):
    mark = last_entry()
    assert "Nothing is overdue." in page(client_for(world.a.users["caseworker"]), f"{CASES}overdue/")
    assert reads("cases.overdue", after=mark) == []


# --- notices ----------------------------------------------------------------------------------------


def test_notices_newest_first_unread_highlighted_and_marked_read(world, client_for):
    # given two notices for the outsider and one for someone else
    user = world.outsider
    messaging.notify([user], kind="overdue", text="Older notice", url="/en/staff/cases/overdue/")
    messaging.notify([user], kind="overdue", text="Newer notice", url="/en/staff/cases/transfers/")
    messaging.notify([world.a.users["caseworker"]], kind="overdue", text="Not yours")
    client = client_for(user)
    # when they open their notices
    content = page(client, f"{CASES}notices/")
    # then theirs show newest first, unread and linked; not the other person's
    assert content.index("Newer notice") < content.index("Older notice")
    assert content.count('class="unread"') == 2
    assert 'href="/en/staff/cases/transfers/"' in content
    assert "Not yours" not in content
    # when they mark them all read
    response = client.post(f"{CASES}notices/")
    assert response["Location"] == f"{CASES}notices/"
    assert page(client, f"{CASES}notices/").count('class="unread"') == 0
    assert Notice.objects.filter(read_at__isnull=True).count() == 1


def test_notices_need_signing_in(db, client):
    response = client.get(f"{CASES}notices/")
    assert response.status_code == 302
    assert response["Location"].startswith("/en/accounts/login/")


def queries_for(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_overdue_and_transfer_pages_cost_the_same_for_one_row_or_many(world, client_for):
    # given one late referral, one late task and one transfer of each kind
    by, path = world.a.users["caseworker"], pathway(world)
    past = timezone.localdate() - datetime.timedelta(days=1)

    def add_rows() -> None:
        person = register_person(world)
        referral = referrals.create_referral(person, pathway=path, category="medical", by=by)
        type(referral).objects.filter(pk=referral.pk).update(
            respond_by=timezone.now() - datetime.timedelta(hours=1)
        )
        case = services.open_case(person, by=by)
        services.add_task(case, title="x", due_on=past, by=by, assigned_to=world.a.users["site_manager"])
        services.request_transfer(case, to_site=world.b.sites[0], by=by)

    add_rows()
    client = client_for(world.a.users["site_manager"])
    baseline = {url: queries_for(client, url) for url in (f"{CASES}overdue/", f"{CASES}transfers/")}
    # when there are many more
    for _ in range(5):
        add_rows()
    # then the pages cost no more queries, and show every row
    assert {url: queries_for(client, url) for url in baseline} == baseline
    assert client.get(f"{CASES}overdue/").context["found"].task_count == 6
    assert len(client.get(f"{CASES}transfers/").context["sent"]) == 6
