"""The demo registrations: what a new user meets after `make demo`, and loading twice adds nobody."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ventanilla.registration.models import DuplicateCandidate, Flag, Person, PersonLink, Registration


@pytest.mark.django_db
def test_demo_people_show_the_cases_of_a_normal_day(capsys):
    call_command("load_demo")
    assert "Registration: 9 demo people registered now" in " ".join(capsys.readouterr().out.split())
    assert Person.objects.count() == 8
    assert Registration.objects.filter(anonymous=True).count() == 1
    codes = set(Flag.objects.values_list("code", flat=True))
    assert {
        "separated_child",
        "trafficking_indicators",
        "urgent_medical_need",
        "international_protection",
    } <= codes
    # The family of three: father and child linked to the mother; the child's link says who accompanies her.
    kinds = sorted(PersonLink.objects.values_list("kind", flat=True))
    assert kinds == ["accompanying_adult", "family"]
    # Mohamed Ahmed in Latin letters, then محمد احمد: a duplicate waiting for a decision.
    pending = DuplicateCandidate.objects.get(decision="pending")
    assert (pending.person.given_name, pending.candidate.given_name) == ("محمد", "Mohamed")
    call_command("load_demo")
    assert "Registration: 0 demo people registered now (9 already there)" in " ".join(
        capsys.readouterr().out.split()
    )
    assert Person.objects.count() == 8
