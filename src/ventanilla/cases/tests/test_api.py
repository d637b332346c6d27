"""The cases API: the scoped, audited reads, and the caseworker's changes through cases.services."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ventanilla.cases import services
from ventanilla.cases.models import Case, CaseStatus, CaseTask
from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.testing.referrals import register_person


def api(client, method: str, url: str, data: dict[str, Any] | None = None):
    return client.generic(
        method, url, json.dumps(data) if data is not None else "", content_type="application/json"
    )


@pytest.fixture
def case(world):
    opened = services.open_case(
        register_person(world), by=world.a.users["caseworker"], needs="Refugio", plan="Llamar"
    )
    services.add_task(
        opened, title="Llamar a la clínica", due_on="2026-12-01", by=world.a.users["caseworker"]
    )
    return opened


def test_case_staff_open_a_case_through_the_api(world, client_for):
    person = register_person(world)
    response = api(
        client_for(world.a.users["caseworker"]),
        "POST",
        "/api/v1/cases/",
        {"person": person.reference, "needs": "Refugio y ropa", "plan": "Buscar albergue"},
    )
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get(reference=body["reference"])
    assert (case.person, case.owner, case.needs, case.status) == (
        person,
        world.a.users["caseworker"],
        "Refugio y ropa",
        CaseStatus.OPEN,
    )
    assert (body["person"], body["owner"], body["open_tasks"]) == (
        person.reference,
        world.a.users["caseworker"].pk,
        0,
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "person"),
        ({"person": "VT-0000-0000"}, "person"),
        ("second case", "person"),
        ("owner elsewhere", "owner"),
    ],
)
def test_a_refused_case_names_the_field_and_opens_nothing(world, client_for, case, body, field):
    # given a person who already has a case (the fixture), and another one
    if body == "second case":
        body = {"person": case.person.reference}
    elif body == "owner elsewhere":
        body = {"person": register_person(world).reference, "owner": world.b.users["caseworker"].pk}
    before = (Case.objects.count(), AuditEntry.objects.count())
    response = api(client_for(world.a.users["caseworker"]), "POST", "/api/v1/cases/", body)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert (Case.objects.count(), AuditEntry.objects.count()) == before


def test_cases_are_read_by_case_staff_only_and_every_read_is_audited(world, client_for, case):
    caseworker = client_for(world.a.users["caseworker"])
    before = AuditEntry.objects.count()
    # when the caseworker lists, opens and reads the tasks
    listed = caseworker.get("/api/v1/cases/").json()["results"]
    detail = caseworker.get(f"/api/v1/cases/{case.reference}/").json()
    tasks = caseworker.get(f"/api/v1/cases/{case.reference}/tasks/").json()
    # then they get them, the list without needs or plan ...
    assert [(row["reference"], row["open_tasks"]) for row in listed] == [(case.reference, 1)]
    assert "needs" not in listed[0]
    assert (detail["needs"], detail["plan"]) == ("Refugio", "Llamar")
    assert [(t["title"], t["done"]) for t in tasks] == [("Llamar a la clínica", False)]
    # ... and each read is audited: the list with its count, the case and its tasks as reads of the case
    entries = list(AuditEntry.objects.order_by("id")[before:])
    assert [(e.action, e.object_type, e.object_id, e.detail.get("purpose")) for e in entries] == [
        (AuditAction.READ, "cases.case", "", "list"),
        (AuditAction.READ, "cases.case", str(case.pk), "api"),
        (AuditAction.READ, "cases.case", str(case.pk), "tasks"),
    ]
    assert entries[0].detail["count"] == 1
    # and nobody else reaches them: a role without personal data, another organisation
    for user in (
        world.a.users["partner_focal_point"],
        world.b.users["caseworker"],
        world.b.users["administrator"],
    ):
        client = client_for(user)
        assert client.get(f"/api/v1/cases/{case.reference}/").status_code == 404
        assert client.get(f"/api/v1/cases/{case.reference}/tasks/").status_code == 404
    assert client_for(world.a.users["partner_focal_point"]).get("/api/v1/cases/").status_code == 403
    assert client_for(world.b.users["caseworker"]).get("/api/v1/cases/").json()["results"] == []


def test_case_list_costs_the_same_queries_for_one_case_or_many(world, client_for, case):
    client = client_for(world.a.users["caseworker"])

    def queries() -> int:
        client.get("/api/v1/cases/")
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/api/v1/cases/").status_code == 200
        return len(captured.captured_queries)

    one = queries()
    for n in range(5):
        opened = services.open_case(
            register_person(world, given_name=f"P{n}"), by=world.a.users["caseworker"]
        )
        services.add_task(opened, title="x", due_on="2026-12-01", by=world.a.users["caseworker"])
    assert len(client.get("/api/v1/cases/").json()["results"]) == 6
    assert queries() == one


def test_update_close_and_tasks_go_through_the_services(world, client_for, case):
    client = client_for(world.a.users["site_manager"])
    url = f"/api/v1/cases/{case.reference}/"
    # update
    updated = api(client, "PATCH", url, {"status": "active", "plan": "Albergue y clínica"})
    assert (updated.status_code, updated.json()["status"], updated.json()["plan"]) == (
        200,
        "active",
        "Albergue y clínica",
    )
    # add a task, complete it
    added = api(client, "POST", f"{url}tasks/", {"title": "Acompañar", "due_on": "2026-12-02"})
    assert added.status_code == 201
    task = CaseTask.objects.get(pk=added.json()["id"])
    assert (task.title, task.assigned_to) == ("Acompañar", world.a.users["caseworker"])
    done = api(client, "POST", f"{url}tasks/{task.pk}/done/")
    assert (done.status_code, done.json()["done"]) == (200, True)
    # close with a reason: the open tasks are done too
    closed = api(client, "POST", f"{url}close/", {"reason": "needs_met"})
    assert (closed.status_code, closed.json()["status"], closed.json()["close_reason"]) == (
        200,
        "closed",
        "needs_met",
    )
    assert not CaseTask.objects.filter(case=case, done_at__isnull=True).exists()


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "field"),
    [
        ("PATCH", "", {"status": "closed"}, 400, "status"),
        ("POST", "close/", {"reason": "bored"}, 400, "reason"),
        ("POST", "close/", {}, 400, "reason"),
        ("POST", "tasks/", {"title": " ", "due_on": "2026-12-01"}, 400, "title"),
        ("POST", "tasks/", {"title": "x"}, 400, "due_on"),
        ("POST", "tasks/", {"title": "x", "due_on": "2026-12-01", "assigned_to": 999999}, 400, "assigned_to"),
        ("POST", "tasks/999999/done/", None, 404, None),
    ],
)
def test_a_refused_change_names_the_field_and_changes_nothing(
    world, client_for, case, method, path, body, code, field
):
    before = (
        list(Case.objects.values()),
        list(CaseTask.objects.values()),
        AuditEntry.objects.count(),
    )
    response = api(
        client_for(world.a.users["caseworker"]), method, f"/api/v1/cases/{case.reference}/{path}", body
    )
    assert response.status_code == code
    assert list(response.json()["error"]["fields"]) == ([field] if field else [])
    after = (list(Case.objects.values()), list(CaseTask.objects.values()), AuditEntry.objects.count())
    assert after == before


def test_a_closed_case_takes_no_more_changes(world, client_for, case):
    services.close_case(case, by=world.a.users["caseworker"], reason="needs_met")
    client = client_for(world.a.users["caseworker"])
    response = api(client, "PATCH", f"/api/v1/cases/{case.reference}/", {"needs": "Más"})
    assert (response.status_code, list(response.json()["error"]["fields"])) == (400, ["status"])
    case.refresh_from_db()
    assert case.needs == "Refugio"
