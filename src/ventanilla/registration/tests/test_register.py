"""Registering with the shipped form: consent decides what is stored, flags and duplicates are found."""

from __future__ import annotations

import datetime

import pytest

from ventanilla.core.models import AuditEntry
from ventanilla.questionnaires.services import InvalidSubmission
from ventanilla.registration import services
from ventanilla.registration.models import Consent, DuplicateDecision, Flag, JourneyLeg, Person, Registration

TODAY = datetime.date(2026, 11, 26)


def answers(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "consent_registration": "yes",
        "consent_referral": "yes",
        "consent_followup": "no",
        "consent_method": "verbal",
        "receipt_language": "es",
        "given_name": "Ana",
        "family_name": "López",
        "sex": "female",
        "dob_known": "no",
        "age_estimate": "15",
        "nationality": "HN",
        "documents": "none",
        "travelling_with": "group",
        "child_care": "unrelated_adult",
        "country_of_origin": "HN",
        "country_of_residence": "HN",
        "leg": [
            {
                "leg_country": "GT",
                "leg_place": "Tecún Umán",
                "leg_arrived": "2026-10-01",
                "leg_transport": "bus",
                "leg_organised_by": "self",
            },
            {
                "leg_country": "MX",
                "leg_place": "Tapachula",
                "leg_arrived": "2026-10-05",
                "leg_transport": "on_foot",
                "leg_organised_by": "smuggler_broker",
            },
        ],
        "reasons_leaving": "violence_insecurity",
        "intention_on_arrival": "work",
        "urgent_medical_need": "no",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.fixture
def form(db):
    return services.shipped_form()


def register(world, form, data, **kwargs):
    org = world.a
    return services.register(
        form,
        data,
        organisation=org.organisation,
        site=org.sites[0],
        by=org.users["caseworker"],
        language=kwargs.pop("language", "es"),
        today=TODAY,
        **kwargs,
    )


def test_separated_child_is_flagged_with_the_answers_that_raised_it(world, form):
    outcome = register(world, form, answers())
    assert outcome.stored == "personal"
    person = outcome.person
    assert person.reference.startswith("VT-")
    flags = {f.code: f for f in Flag.objects.filter(person=person)}
    assert set(flags) == {"separated_child", "international_protection"}
    assert flags["separated_child"].severity == "critical"
    assert {r["name"] for r in flags["separated_child"].reasons} == {"age", "child_care"}
    assert flags["international_protection"].reasons == [
        {"name": "reasons_leaving", "value": "violence_insecurity"}
    ]
    assert "child_protection" in flags["separated_child"].categories
    legs = list(
        JourneyLeg.objects.filter(registration=outcome.registration).values_list(
            "country", "transport", "organised_by"
        )
    )
    assert legs == [("GT", "bus", "self"), ("MX", "on_foot", "smuggler_broker")]
    consents = dict(Consent.objects.filter(person=person).values_list("purpose", "given"))
    assert consents == {"registration": True, "referral": True, "follow_up": False, "statistics": True}
    registration = outcome.registration
    assert registration.age_band == "12-17"
    assert registration.nationality == "HN"
    assert "given_name" not in registration.statistics


def test_constraint_breaking_answers_are_refused_in_the_persons_language_and_nothing_is_written(world, form):
    before = (Person.objects.count(), Registration.objects.count(), AuditEntry.objects.count())
    with pytest.raises(InvalidSubmission) as refused:
        register(world, form, answers(age_estimate="130"), language="es")
    assert "age_estimate" in refused.value.errors
    assert (Person.objects.count(), Registration.objects.count(), AuditEntry.objects.count()) == before


def test_statistics_only_keeps_an_anonymous_record(world, form):
    data = answers(
        consent_registration="no", consent_statistics="yes", stat_sex="male", stat_age_group="age_18_59"
    )
    outcome = register(world, form, data)
    assert outcome.stored == "anonymous"
    assert outcome.person is None
    registration = outcome.registration
    assert registration.anonymous
    assert registration.submission is None
    assert (registration.sex, registration.age_band) == ("male", "18-59")
    assert registration.legs.count() == 2
    assert Person.objects.count() == 0
    assert list(Consent.objects.filter(registration=registration).values_list("purpose", "given")) == [
        ("statistics", True)
    ]


def test_no_consent_stores_nothing(world, form):
    outcome = register(world, form, answers(consent_registration="no", consent_statistics="no"))
    assert outcome.stored == "nothing"
    assert Registration.objects.count() == 0
    assert Person.objects.count() == 0


def test_arabic_spelling_of_an_earlier_person_is_a_duplicate_candidate(world, form):
    first = register(
        world,
        form,
        answers(
            given_name="Mohamed",
            family_name="Ahmed",
            sex="male",
            age_estimate="30",
            child_care=None,
            nationality="SD",
        ),
    )
    second = register(
        world,
        form,
        answers(
            given_name="محمد",
            family_name="احمد",
            sex="male",
            age_estimate="31",
            child_care=None,
            nationality="SD",
        ),
    )
    candidates = second.duplicates
    assert [c.candidate_id for c in candidates] == [first.person.pk]
    assert "similar_name" in candidates[0].reasons
    other = register(
        world,
        form,
        answers(given_name="Juan", family_name="Gómez", sex="male", age_estimate="31", child_care=None),
    )
    assert other.duplicates == []


def test_merge_and_undo(world, form):
    first = register(
        world, form, answers(given_name="Fatima", family_name="Hassan", age_estimate="25", child_care=None)
    )
    second = register(
        world, form, answers(given_name="فاطمة", family_name="حسن", age_estimate="25", child_care=None)
    )
    candidate = second.duplicates[0]
    caseworker = world.a.users["caseworker"]
    survivor = services.merge(candidate, by=caseworker)
    assert survivor == first.person
    assert survivor.registrations.count() == 2
    second.person.refresh_from_db()
    assert second.person.merged_into == survivor
    assert not services.people(caseworker).filter(pk=second.person.pk).exists()
    services.undo_merge(candidate, by=caseworker)
    assert first.person.registrations.count() == 1
    assert second.person.registrations.count() == 1
    candidate.refresh_from_db()
    assert candidate.decision == DuplicateDecision.PENDING


def test_withdrawing_registration_consent_erases_personal_data_and_keeps_the_counts(world, form):
    outcome = register(world, form, answers())
    consent = Consent.objects.get(person=outcome.person, purpose="registration")
    services.withdraw_consent(consent, by=world.a.users["caseworker"])
    person = Person.objects.get(pk=outcome.person.pk)
    assert person.erased_at is not None
    assert (person.given_name, person.family_name, person.phone, person.date_of_birth) == ("", "", "", None)
    assert not person.match_keys.exists()
    registration = Registration.objects.get(pk=outcome.registration.pk)
    assert registration.submission is None
    assert registration.deidentified_at is not None
    assert registration.age_band == "12-17"
    assert registration.legs.count() == 2


def test_retention_erases_people_not_seen_within_the_period(world, form):
    outcome = register(world, form, answers())
    later = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=731)
    assert services.apply_retention(now=later - datetime.timedelta(days=2)) == 0
    assert services.apply_retention(now=later) == 1
    assert Person.objects.get(pk=outcome.person.pk).erased_at is not None


def test_resent_instance_is_not_registered_twice(world, form):
    data = answers(instanceID="uuid:6f1c9e8e-7d0a-4b55-9a37-3d2d6a1f0c11")
    register(world, form, data)
    with pytest.raises(services.AlreadyReceived):
        register(world, form, data)
    assert Person.objects.count() == 1


def test_partner_cannot_register(world, form):
    with pytest.raises(services.RegistrationPermissionError):
        services.register(
            form,
            answers(),
            organisation=world.a.organisation,
            site=world.a.sites[0],
            by=world.a.users["partner_focal_point"],
            today=TODAY,
        )
    with pytest.raises(services.RegistrationPermissionError):
        services.register(
            form,
            answers(),
            organisation=world.a.organisation,
            site=world.a.sites[1],
            by=world.a.users["caseworker"],
            today=TODAY,
        )


def test_candidates_sharing_the_most_keys_come_first_when_a_block_is_over_the_limit(world, form, monkeypatch):
    """A common surname makes blocks larger than the limit: the same name and age must not be cut."""
    from ventanilla.registration import matching

    adult = {"child_care": None, "sex": "male", "nationality": "HN"}
    earlier = register(
        world, form, answers(given_name="José", family_name="Hernández", age_estimate="30", **adult)
    )
    for given in ("Carlos", "Luis", "Pedro"):  # later registrations sharing only the surname and year
        register(world, form, answers(given_name=given, family_name="Hernández", age_estimate="30", **adult))
    monkeypatch.setattr(matching, "MAX_CANDIDATES", 2)
    again = register(
        world, form, answers(given_name="Jose", family_name="Hernandez", age_estimate="31", **adult)
    )
    ids = services.candidate_ids(again.person)
    assert len(ids) == 2
    assert ids[0] == earlier.person.pk
