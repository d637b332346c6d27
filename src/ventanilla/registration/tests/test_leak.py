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
