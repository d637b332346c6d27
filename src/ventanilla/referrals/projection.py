"""What a referral shares: a per-category list of fields, computed once and stored on the referral.

The partner reads this projection, never the person's record (ADR 8). Values are written in the
pathway's language so a partner without an account reads them as they are; the field *names* are
kept in clear on the referral so a reviewer can see what went out without decrypting anything.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ventanilla.questionnaires.display import answer_text
from ventanilla.registration import screening
from ventanilla.registration.models import Flag, Person, Registration

SHARING_FILE = Path(__file__).parent / "data" / "sharing.json"


@dataclass(frozen=True)
class Item:
    field: str
    label: str
    value: str


@dataclass(frozen=True)
class Source:
    person: Person
    registration: Registration | None
    answers: dict[str, Any]
    category: str
    language: str
    today: datetime.date


def _age(source: Source) -> str:
    person = source.person
    if person.date_of_birth:
        born = person.date_of_birth
        today = source.today
        return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))
    return str(person.age_estimate) if person.age_estimate is not None else ""


def _answers(*names: str) -> Callable[[Source], str]:
    def read(source: Source) -> str:
        registration = source.registration
        if registration is None or not source.answers:
            return ""
        schema = registration.form_version.schema
        parts = []
        for name in names:
            value = source.answers.get(name)
            node = schema.node_named(name)
            if value in (None, "") or node is None:
                continue
            label = schema.text(node.labels, source.language) or name
            parts.append(f"{label}: {answer_text(schema, node, str(value), source.language)}")
        return "; ".join(parts)

    return read


def _flags(source: Source) -> str:
    """Only the flags that point to this service: a clinic never learns of trafficking indicators."""
    labels = {rule.code: rule.text(source.language) for rule in screening.active_ruleset().rules}
    flags = Flag.objects.filter(person=source.person, dismissed_at__isnull=True).order_by("code")
    return ", ".join(
        labels.get(flag.code, flag.code) for flag in flags if source.category in (flag.categories or [])
    )


FIELDS: dict[str, tuple[Any, Callable[[Source], str]]] = {
    "name": (_("Name"), lambda s: " ".join(p for p in (s.person.given_name, s.person.family_name) if p)),
    "age": (_("Age"), _age),
    "sex": (_("Sex"), lambda s: str(s.person.get_sex_display()) if s.person.sex else ""),
    "nationality": (_("Nationality"), lambda s: s.person.nationality),
    "languages": (_("Languages"), _answers("languages", "languages_other")),
    "phone": (_("Phone"), lambda s: s.person.phone),
    "companions": (_("Travelling with"), _answers("travelling_with", "child_care")),
    "health": (
        _("Health"),
        _answers(
            "urgent_medical_need",
            "health_needs",
            "health_needs_other",
            "pregnant",
            "disability",
            "psychosocial_distress",
        ),
    ),
    "protection": (
        _("Protection concerns"),
        _answers(
            "documents_withheld",
            "owes_debt_to_organiser",
            "deceived_about_work",
            "movement_restricted",
            "forced_to_work",
            "violence_experienced",
        ),
    ),
    "documents": (_("Documents held"), _answers("documents")),
    "flags": (_("Why this referral"), _flags),
}


@cache
def _sharing() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SHARING_FILE.read_text(encoding="utf-8"))
    return data


def default_fields(category: str) -> list[str]:
    sharing = _sharing()
    return list(sharing["categories"].get(category, sharing["default"]))


def fields_for(category: str, pathway_fields: list[str] | None = None) -> list[str]:
    """The pathway's own list when it has one, else the category's default; unknown names dropped."""
    chosen = pathway_fields or default_fields(category)
    return [name for name in chosen if name in FIELDS]


def unknown_fields(names: list[str]) -> list[str]:
    return [name for name in names if name not in FIELDS]


def compute(
    person: Person, *, category: str, fields: list[str], language: str, today: datetime.date
) -> list[Item]:
    registration = (
        Registration.objects.filter(person=person, submission__isnull=False)
        .select_related("submission", "form_version")
        .order_by("-registered_at", "-pk")
        .first()
    )
    answers = registration.submission.answers if registration and registration.submission else {}
    source = Source(person, registration, answers, category, language, today)
    items: list[Item] = []
    with translation.override(language):
        for name in fields:
            label, read = FIELDS[name]
            value = read(source)
            if value:
                items.append(Item(name, str(label), value))
    return items


def dumps(items: list[Item]) -> str:
    return json.dumps([[i.field, i.label, i.value] for i in items], ensure_ascii=False)


def loads(text: str) -> list[Item]:
    if not text:
        return []
    return [Item(*row) for row in json.loads(text)]
