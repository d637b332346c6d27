"""No name, phone or date of birth in clear: not in any table, not in the database file, not in the logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection

from ventanilla.registration import services
from ventanilla.registration.tests.test_register import TODAY, answers

SECRETS = {
    "given": "Zacarías",
    "family": "Quetzalcóatl Xoloitzcuintle",
    "arabic": "عبدالرحمن",
    "phone": "+52 962 555 0199",
    "companion": "Eulalia",
}


def _table_text() -> str:
    """Every row of every table, as the database returns it."""
    chunks = []
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            table = model._meta.db_table
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - table names from the models
            for row in cursor.fetchall():
                chunks.append(" ".join(str(value) for value in row))
    return "\n".join(chunks)


@pytest.mark.django_db(transaction=True)
def test_registered_names_are_nowhere_in_clear(world, caplog):
    caplog.set_level(logging.DEBUG)
    form = services.shipped_form()
    org = world.a
    data = answers(
        given_name=SECRETS["given"],
        family_name=SECRETS["family"],
        other_names=SECRETS["arabic"],
        phone=SECRETS["phone"],
        dob_known="yes",
        dob="1987-04-19",
        age_estimate=None,
        child_care=None,
        companion=[
            {
                "companion_relationship": "sibling",
                "companion_given_name": SECRETS["companion"],
                "companion_age": "30",
            }
        ],
        travelling_with="family",
    )
    outcome = services.register(
        form, data, organisation=org.organisation, site=org.sites[0], by=org.users["caseworker"], today=TODAY
    )
    assert outcome.person is not None
    assert outcome.person.given_name == SECRETS["given"]  # readable through the model

    dump = _table_text()
    assert outcome.person.reference in dump  # the scan sees what is stored in clear
    logs = "\n".join(record.getMessage() for record in caplog.records)
    for label, secret in {**SECRETS, "phone digits": "529625550199", "dob": "1987-04-19"}.items():
        assert secret not in dump, f"{label} is stored in clear"
        assert secret.lower() not in dump.lower(), f"{label} is stored in clear"
        assert secret not in logs, f"{label} went to the logs"

    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(FULL)")
        name = Path(connection.settings_dict["NAME"])
        raw = b"".join(p.read_bytes() for p in (name, Path(f"{name}-wal")) if p.exists())
        assert outcome.person.reference.encode() in raw
        for label, secret in SECRETS.items():
            assert secret.encode() not in raw, f"{label} is in the database file"


@pytest.mark.django_db(transaction=True)
def test_referrals_cases_and_messages_keep_names_and_notes_out_of_clear(world, caplog):
    # given a person referred (with an SMS to them and a link to the partner), with a case, a task and a note
    from ventanilla.cases import services as cases
    from ventanilla.referrals import links
    from ventanilla.referrals import services as referrals
    from ventanilla.testing.referrals import pathway, register_person

    caplog.set_level(logging.DEBUG)
    person = register_person(
        world, given_name=SECRETS["given"], family_name=SECRETS["family"], phone=SECRETS["phone"]
    )
    caseworker = world.a.users["caseworker"]
    path = pathway(world, with_account=False)
    referral = referrals.create_referral(
        person,
        pathway=path,
        category="child_protection",
        by=caseworker,
        need="Busca a su tía Eulalia en Tapachula",
        appointment="Martes 10:00",
    )
    links.issue(referral, by=caseworker, focal_point=path.focal_points.get(), with_code=True)
    case = cases.open_case(person, by=caseworker, needs="Necesita ver a Eulalia")
    cases.add_task(case, title="Llamar a Eulalia", due_on=TODAY, by=caseworker)
    cases.add_note(case, text="Eulalia vive en la colonia Centro", by=caseworker)
    assert SECRETS["given"] in referral.shared  # the projection holds the name, encrypted at rest

    # when every table is read as stored
    dump = _table_text()
    logs = "\n".join(record.getMessage() for record in caplog.records)

    # then neither the name, the phone nor what caseworkers wrote is there in clear
    for label, secret in {**SECRETS, "phone digits": "529625550199"}.items():
        assert secret.lower() not in dump.lower(), f"{label} is stored in clear"
        assert secret not in logs, f"{label} went to the logs"
    assert referral.reference in dump
