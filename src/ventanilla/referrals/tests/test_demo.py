"""The demo referral network: what `make demo` shows, and loading twice adds nothing."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ventanilla.accounts.models import User
from ventanilla.cases.models import Case, CaseNote, CaseTask
from ventanilla.cases.overdue import overdue_list
from ventanilla.referrals import metrics
from ventanilla.referrals.demo import load_demo_referrals
from ventanilla.referrals.models import FocalPoint, Pathway, Referral, ReferralEvent, ReferralLink


def counts() -> dict[str, int]:
    models = (Pathway, FocalPoint, Referral, ReferralEvent, ReferralLink, Case, CaseTask, CaseNote)
    return {model.__name__: model.objects.count() for model in models}


@pytest.fixture
def demo(db, capsys):
    call_command("load_demo")
    return " ".join(capsys.readouterr().out.split())


def test_the_demo_has_a_pathway_network_and_referrals_at_every_stage(demo):
    assert "Referrals: 4 new pathways, 11 new referrals at every stage and 4 new cases" in demo
    # Four pathways from Casa Ventana; only Red Salud has accounts, and its focal point is the demo user
    salud = Pathway.objects.get(provider__name__startswith="Red Salud")
    assert salud.provider.organisation.short_name == "Red Salud"
    assert salud.focal_points.get().email == "salud_partner_focal_point@example.org"
    child_protection = Pathway.objects.get(provider__name__startswith="Oficina Demo de Protección")
    assert child_protection.provider.organisation is None
    assert child_protection.response_hours == 4
    assert set(child_protection.categories.values_list("code", flat=True)) == {
        "child_protection",
        "family_tracing",
    }
    assert all(fp.email.endswith("example.org") for fp in FocalPoint.objects.all())
    assert all(fp.phone.startswith("+52 ") for fp in FocalPoint.objects.all())
    statuses = sorted(Referral.objects.values_list("status", flat=True))
    assert statuses == sorted(
        [
            "sent",  # the separated child to child protection, past its 4 hours
            "sent",  # the family to the shelter
            "sent",  # Mohamed to Red Salud, waiting for the partner
            "expired",  # the counter-trafficking line did not answer
            "accepted",
            "in_progress",
            "delivered",
            "closed",
            "declined",
            "not_delivered",
            "withdrawn",
        ]
    )
    expired = Referral.objects.get(status="expired")
    assert expired.escalated_at is not None
    declined = Referral.objects.get(status="declined")
    assert (declined.reason, declined.events.last().via) == ("no_capacity", "link")
    # The partner with accounts answered through its inbox, by its focal point
    partner = User.objects.get(username="salud_partner_focal_point")
    assert ReferralEvent.objects.filter(to_status="accepted", by=partner).count() == 4
    # Cases: open (with an overdue task), active, on hold, closed; every one with notes
    assert sorted(Case.objects.values_list("status", flat=True)) == ["active", "closed", "on_hold", "open"]
    assert not Case.objects.filter(notes__isnull=True).exists()


def test_loading_twice_adds_nothing(demo):
    before = counts()
    result = load_demo_referrals()
    assert (result.pathways_created, result.referrals_created, result.cases_created) == (0, 0, 0)
    assert counts() == before


def test_the_overdue_list_of_the_site_manager_shows_the_waiting_referrals_and_the_late_task(demo):
    manager = User.objects.get(username="casa_site_manager")
    found = overdue_list(manager)
    assert not found.empty
    assert sorted(r.status for r in found.referrals) == ["expired", "sent"]
    assert {r.category for r in found.referrals} == {"child_protection", "counter_trafficking"}
    assert found.task_count == 1


def test_the_metrics_for_the_demo_data(demo):
    # given Casa Ventana's data analyst, grouping by partner over the default period (the last 90 days)
    analyst = User.objects.get(username="casa_data_analyst")
    result = metrics.referral_metrics(analyst, group_by="partner")
    total = result.total
    # then 11 sent: 5 accepted, 1 declined, 1 expired of the 7 answered or expired
    assert (total.sent, total.accepted, total.declined, total.expired, total.withdrawn) == (11, 5, 1, 1, 1)
    assert (total.delivered, total.not_delivered) == (2, 1)
    assert total.acceptance_rate == 0.7143
    assert total.hours_to_acceptance_median == 2.0  # 1, 2, 2, 3, 5 hours
    assert total.hours_to_acceptance_p90 == 4.2
    assert total.hours_to_service_median == 25.0  # 20 and 30 hours
    assert total.completion_rate == 0.6667
    rows = {row.label: row for row in result.rows}
    salud = rows["Red Salud Frontera (fictional clinic network)"]
    assert (salud.sent, salud.accepted, salud.acceptance_rate, salud.hours_to_acceptance_median) == (
        5,
        4,
        1.0,
        2.5,
    )
    child_protection = rows["Oficina Demo de Protección de la Niñez (fictional)"]
    assert (child_protection.sent, child_protection.accepted, child_protection.not_delivered) == (2, 1, 1)
    assert child_protection.completion_rate == 0.0
    trafficking = rows["Línea Demo contra la Trata (fictional)"]
    assert (trafficking.sent, trafficking.expired, trafficking.acceptance_rate) == (1, 1, 0.0)
    shelter = rows["Albergue Demo San José (fictional)"]
    assert (shelter.sent, shelter.declined, shelter.withdrawn, shelter.acceptance_rate) == (3, 1, 1, 0.0)
    # and Red Salud's administrator counts what Red Salud received
    received = metrics.referral_metrics(User.objects.get(username="salud_administrator"), side="received")
    assert received.total.sent == 5
