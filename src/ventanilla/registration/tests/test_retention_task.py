"""The nightly retention job: scheduled, erases only people past their organisation's retention period."""

from __future__ import annotations

import datetime
import io

import pytest
from celery.schedules import crontab
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.registration import services, tasks
from ventanilla.registration.models import Person, Registration
from ventanilla.registration.tests.test_register import TODAY, answers


@pytest.fixture
def form(db):
    return services.shipped_form()


def register(world, form, org="a", **changes):
    side = getattr(world, org)
    return services.register(
        form,
        answers(**changes),
        organisation=side.organisation,
        site=side.sites[0],
        by=side.users["site_manager"],
        language="es",
        today=TODAY,
    )


def registered_days_ago(outcome, days):
    """Move a registration (and its person) back in time, as if it had been made `days` ago."""
    moment = timezone.now() - datetime.timedelta(days=days)
    Person.objects.filter(pk=outcome.person.pk).update(registered_at=moment)
    Registration.objects.filter(pk=outcome.registration.pk).update(registered_at=moment)


def test_the_beat_schedule_runs_retention_every_night():
    entries = [
        e
        for e in settings.CELERY_BEAT_SCHEDULE.values()
        if e["task"] == "ventanilla.registration.apply_retention"
    ]
    assert len(entries) == 1
    schedule = entries[0]["schedule"]
    assert isinstance(schedule, crontab)
    assert schedule.hour == {2}
    assert schedule.minute == {30}
    assert tasks.apply_retention.name == "ventanilla.registration.apply_retention"


def test_the_task_erases_only_people_past_their_organisations_retention(world, form):
    world.b.organisation.retention_days = 30
    world.b.organisation.save(update_fields=["retention_days"])
    old_a = register(world, form, given_name="Vieja", family_name="Alfa", age_estimate="40", child_care=None)
    recent_a = register(
        world, form, given_name="Nueva", family_name="Alfa", age_estimate="41", child_care=None
    )
    old_b = register(
        world, form, org="b", given_name="Vieja", family_name="Beta", age_estimate="42", child_care=None
    )
    registered_days_ago(old_a, 800)  # A keeps 730 days (the default)
    registered_days_ago(recent_a, 100)
    registered_days_ago(old_b, 100)  # past B's 30 days, well within A's period

    assert tasks.apply_retention.apply().get() == 2

    people = {p.pk: p for p in Person.objects.all()}
    assert people[old_a.person.pk].erased_at is not None
    assert people[old_a.person.pk].given_name == ""
    assert people[old_b.person.pk].erased_at is not None
    assert people[recent_a.person.pk].erased_at is None
    assert people[recent_a.person.pk].given_name == "Nueva"
    # the de-identified registration stays
    kept = Registration.objects.get(pk=old_a.registration.pk)
    assert kept.deidentified_at is not None
    assert kept.age_band == "18-59"
    erased = AuditEntry.objects.filter(action=AuditAction.ERASE).values_list("object_id", "detail")
    assert sorted(erased) == sorted(
        [(str(old_a.person.pk), {"reason": "retention"}), (str(old_b.person.pk), {"reason": "retention"})]
    )
    # a second run (late, or delivered twice) finds nothing more to do
    assert tasks.apply_retention.apply().get() == 0


def test_command_dry_run_counts_without_erasing(world, form):
    old = register(world, form, given_name="Vieja", family_name="Alfa", age_estimate="40", child_care=None)
    registered_days_ago(old, 800)
    out = io.StringIO()
    call_command("apply_retention", "--dry-run", stdout=out)
    assert "1 people past retention would be erased." in out.getvalue()
    assert f"{world.a.organisation.name}: 1" in out.getvalue()
    assert Person.objects.get(pk=old.person.pk).erased_at is None
    out = io.StringIO()
    call_command("apply_retention", stdout=out)
    assert "1 people past retention erased." in out.getvalue()
    assert Person.objects.get(pk=old.person.pk).erased_at is not None
