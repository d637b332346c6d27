"""Demo registrations at Casa Ventana's Tapachula centre — every person here is fictional.

They show what a caseworker meets on a normal day: a family of three registered together, a separated
child, a man whose earlier registration was written in Latin letters and today's in Arabic (a duplicate
to decide on), indicators of trafficking, an urgent medical need, and an anonymous statistics-only
record. Each has a fixed instance id, so loading the demo twice registers nobody twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from ventanilla.accounts.models import Site, User
from ventanilla.registration import services
from ventanilla.registration.models import Person, Registration

DEMO_SITE = "Centro de Atención Tapachula"
DEMO_CASEWORKER = "casa_caseworker"

_BASE: dict[str, Any] = {
    "consent_registration": "yes",
    "consent_referral": "yes",
    "consent_followup": "yes",
    "consent_method": "verbal",
    "receipt_language": "es",
    "dob_known": "no",
    "documents": "none",
    "country_of_residence": "HN",
    "country_of_origin": "HN",
    "destination_country": "MX",
    "urgent_medical_need": "no",
    "intention_on_arrival": "work",
    "reasons_leaving": "economic",
    "leg": [
        {
            "leg_country": "GT",
            "leg_place": "Tecún Umán",
            "leg_arrived": "2026-10-02",
            "leg_left": "2026-10-04",
            "leg_transport": "bus",
            "leg_organised_by": "self",
        },
        {
            "leg_country": "MX",
            "leg_place": "Ciudad Hidalgo",
            "leg_arrived": "2026-10-04",
            "leg_transport": "on_foot",
            "leg_organised_by": "self",
        },
    ],
}


@dataclass(frozen=True)
class DemoPerson:
    key: str
    answers: dict[str, Any]
    language: str = "es"
    together_with: str = ""  # key of a person registered before
    relationship: str = ""


PEOPLE = (
    DemoPerson(
        "family-mother",
        {
            "given_name": "Rosa Elena",
            "family_name": "Martínez Cruz",
            "sex": "female",
            "age_estimate": "34",
            "nationality": "HN",
            "travelling_with": "family",
            "phone": "+504 9988 7766",
            "companion": [
                {
                    "companion_relationship": "spouse_partner",
                    "companion_given_name": "Julio",
                    "companion_age": "36",
                    "companion_sex": "male",
                },
                {
                    "companion_relationship": "child",
                    "companion_given_name": "Daniela",
                    "companion_age": "9",
                    "companion_sex": "female",
                },
            ],
        },
    ),
    DemoPerson(
        "family-father",
        {
            "given_name": "Julio César",
            "family_name": "Cruz Pineda",
            "sex": "male",
            "age_estimate": "36",
            "nationality": "HN",
            "travelling_with": "family",
        },
        together_with="family-mother",
        relationship="spouse_partner",
    ),
    DemoPerson(
        "family-child",
        {
            "given_name": "Daniela",
            "family_name": "Cruz Martínez",
            "sex": "female",
            "age_estimate": "9",
            "nationality": "HN",
            "travelling_with": "family",
            "child_care": "parent_or_guardian",
        },
        together_with="family-mother",
        relationship="child",
    ),
    DemoPerson(
        "separated-child",
        {
            "given_name": "Kevin Alexander",
            "family_name": "Reyes",
            "sex": "male",
            "age_estimate": "15",
            "nationality": "GT",
            "country_of_origin": "GT",
            "country_of_residence": "GT",
            "travelling_with": "other_adults",
            "child_care": "unrelated_adult",
            "reasons_leaving": "violence_insecurity",
            "fear_of_return": "yes",
        },
    ),
    DemoPerson(
        "mohamed-latin",
        {
            "given_name": "Mohamed",
            "family_name": "Ahmed",
            "sex": "male",
            "age_estimate": "29",
            "nationality": "SD",
            "country_of_origin": "SD",
            "country_of_residence": "SD",
            "travelling_with": "alone",
            "reasons_leaving": "persecution",
            "intention_on_arrival": "seek_protection",
            "receipt_language": "ar",
        },
        language="en",
    ),
    DemoPerson(
        "mohamed-arabic",
        {
            "given_name": "محمد",
            "family_name": "احمد",
            "sex": "male",
            "age_estimate": "30",
            "nationality": "SD",
            "country_of_origin": "SD",
            "country_of_residence": "SD",
            "travelling_with": "alone",
            "reasons_leaving": "persecution",
            "intention_on_arrival": "seek_protection",
            "receipt_language": "ar",
        },
        language="ar",
    ),
    DemoPerson(
        "trafficking",
        {
            "given_name": "Marisol",
            "family_name": "Quispe",
            "sex": "female",
            "age_estimate": "22",
            "nationality": "PE",
            "country_of_origin": "PE",
            "country_of_residence": "PE",
            "travelling_with": "group",
            "documents_withheld": "yes",
            "owes_debt_to_organiser": "yes",
            "deceived_about_work": "yes",
            "trip_organised": "recruiter",
            "reasons_leaving": "work_offer",
        },
    ),
    DemoPerson(
        "medical",
        {
            "given_name": "Wilner",
            "family_name": "Joseph",
            "sex": "male",
            "age_estimate": "41",
            "nationality": "HT",
            "country_of_origin": "HT",
            "country_of_residence": "CL",
            "travelling_with": "alone",
            "urgent_medical_need": "yes",
            "health_needs": "injury",
            "receipt_language": "fr",
        },
        language="fr",
    ),
    DemoPerson(
        "statistics-only",
        {
            "consent_registration": "no",
            "consent_statistics": "yes",
            "stat_sex": "female",
            "stat_age_group": "age_18_59",
            "country_of_origin": "VE",
            "country_of_residence": "CO",
            "reasons_leaving": "economic",
        },
    ),
)


def _instance_uuid(key: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"ventanilla-demo:{key}")


def _instance_id(key: str) -> str:
    return f"uuid:{_instance_uuid(key)}"


def demo_people() -> dict[str, Person]:
    """The demo people registered so far, by their key in PEOPLE (for the referral and case demo)."""
    keys = {_instance_uuid(spec.key): spec.key for spec in PEOPLE}
    rows = Registration.objects.filter(instance_uuid__in=keys, person__isnull=False).select_related("person")
    return {keys[row.instance_uuid]: row.person for row in rows if row.person is not None}


@transaction.atomic
def load_demo_registrations() -> tuple[int, int]:
    """Register the demo people that are not there yet; (registered now, already there)."""
    site = Site.objects.filter(name=DEMO_SITE).select_related("organisation").first()
    caseworker = User.objects.filter(username=DEMO_CASEWORKER).first()
    if site is None or caseworker is None:
        return 0, 0
    version = services.shipped_form()
    people: dict[str, Person] = {}
    created = existing = 0
    for spec in PEOPLE:
        answers = {**_BASE, **spec.answers}
        if answers.get("consent_registration") == "no":
            for personal in ("consent_referral", "consent_followup"):
                answers.pop(personal, None)
        try:
            outcome = services.register(
                version,
                answers,
                organisation=site.organisation,
                site=site,
                by=caseworker,
                language=spec.language,
                instance_id=_instance_id(spec.key),
                together_with=people.get(spec.together_with),
                relationship=spec.relationship,
            )
        except services.AlreadyReceived as again:
            existing += 1
            if again.registration is not None and again.registration.person is not None:
                people[spec.key] = again.registration.person
            continue
        created += 1
        if outcome.person is not None:
            people[spec.key] = outcome.person
    return created, existing
