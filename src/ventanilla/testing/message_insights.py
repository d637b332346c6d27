"""Builders for the message insights tests: areas of San Marcos and a known set of conversations, made
through the ingest entry point (`record_inbound`) and then triaged by direct updates."""

from __future__ import annotations

import datetime
from typing import Any

from ventanilla.areas.models import AdministrativeArea
from ventanilla.messaging import ingest
from ventanilla.messaging.models_inbox import Conversation, Gateway
from ventanilla.testing.messaging import gateway
from ventanilla.testing.world import World

UTC = datetime.UTC


def at(day: str, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def talk(
    channel: Gateway, sender: str, days: list[str], *, medium: str = "sms", **fields: Any
) -> Conversation:
    """A conversation through the ingest entry point: one inbound message per day, then its triage.
    Returns the conversation (its `opened_at` set to the first message's time)."""
    conversation = None
    for day in days:
        message = ingest.record_inbound(
            channel, sender=sender, text="Hola, necesito ayuda con mis papeles", medium=medium, at=at(day)
        )
        assert message is not None
        conversation = message.conversation
    assert conversation is not None
    Conversation.objects.filter(pk=conversation.pk).update(opened_at=at(days[0]), **fields)
    return conversation


def make_areas() -> dict[str, AdministrativeArea]:
    """San Marcos (Guatemala) with two of its municipalities."""

    def area(pcode: str, level: int, name: str, parent: AdministrativeArea | None) -> AdministrativeArea:
        return AdministrativeArea.objects.create(
            pcode=pcode, level=level, name=name, parent=parent, country_pcode="GT"
        )

    country = area("GT", 0, "Guatemala", None)
    state = area("GT12", 1, "San Marcos", country)
    town = area("GT1201", 2, "San Marcos (municipio)", state)
    other_town = area("GT1215", 2, "Malacatán", state)
    return {"country": country, "state": state, "town": town, "other_town": other_town}


def make_known(world: World, areas: dict[str, AdministrativeArea]) -> dict[str, Conversation]:
    """Four conversations of A opened in March 2026 (one a sensitive complaint), one opened in February
    with a message in March, and one of B."""
    a = gateway(world)
    b = gateway(world, organisation=world.b.organisation, site=world.b.sites[0], name="B")
    return {
        "c1": talk(
            a, "+50255500001", ["2026-03-03", "2026-03-10"],
            category="question", topics=["shelter", "documents"], language="es", area=areas["town"],
        ),
        "c2": talk(
            a, "+50255500002", ["2026-03-10"], medium="whatsapp",
            category="help", topics=["shelter"], language="fr", area=areas["state"],
        ),
        "c3": talk(
            a, "+50255500003", ["2026-03-17", "2026-03-18", "2026-03-19"],
            category="", topics=[], language="es", area=None,
        ),
        "c4": talk(
            a, "+50255500004", ["2026-03-05"],
            category="sensitive", topics=["staff"], language="ar", area=areas["other_town"],
        ),
        "c6": talk(
            a, "+50255500006", ["2026-02-20", "2026-03-04"],
            category="rumour", topics=["vaccines"], language="es", area=None,
        ),
        "c5": talk(
            b, "+50255500005", ["2026-03-11"],
            category="question", topics=["shelter"], language="es", area=areas["town"],
        ),
    }  # fmt: skip
