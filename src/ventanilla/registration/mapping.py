"""From the registration form's answers to the structured records: who, which consents, which journey.

The default form (data/registration_form.xlsx) and any form an organisation derives from it use these
question names; a form missing the consent question cannot register anyone.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from ventanilla.registration.models import ConsentMethod, ConsentPurpose, Sex

# Answers copied to the de-identified record: no names, numbers, free text or exact dates.
STATISTICAL_FIELDS = (
    "travelling_with",
    "marital_status",
    "languages",
    "country_of_residence",
    "route_reasons",
    "main_transport",
    "trip_organised",
    "trip_payment",
    "trip_cost_usd",
    "trip_voluntary",
    "reasons_leaving",
    "intention_on_arrival",
    "remittances",
)
REQUIRED_QUESTIONS = ("consent_registration",)


@dataclass
class PersonAnswers:
    given_name: str = ""
    family_name: str = ""
    other_names: str = ""
    date_of_birth: datetime.date | None = None
    age: int | None = None
    age_estimated: bool = False
    sex: str = ""
    nationality: str = ""
    phone: str = ""
    documents: dict[str, Any] = field(default_factory=dict)


@dataclass
class ConsentAnswers:
    registration: bool
    statistics: bool
    referral: bool
    follow_up: bool
    method: str
    language: str

    def purposes(self) -> dict[str, bool]:
        return {
            ConsentPurpose.REGISTRATION: self.registration,
            ConsentPurpose.REFERRAL: self.referral,
            ConsentPurpose.FOLLOW_UP: self.follow_up,
            ConsentPurpose.STATISTICS: self.statistics,
        }


@dataclass
class Leg:
    country: str = ""
    place: str = ""
    arrived: datetime.date | None = None
    left: datetime.date | None = None
    transport: str = ""
    organised_by: str = ""


def _yes(value: Any) -> bool:
    return str(value or "").strip().lower() in {"yes", "true", "1", "ok"}


def _date(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    try:
        return int(float(str(value))) if value not in (None, "") else None
    except ValueError:
        return None


def consent(answers: dict[str, Any], fallback_language: str) -> ConsentAnswers:
    """Agreeing to registration covers anonymous statistics too: the consent text says so."""
    registration = _yes(answers.get("consent_registration"))
    method = str(answers.get("consent_method") or ConsentMethod.VERBAL)
    return ConsentAnswers(
        registration=registration,
        statistics=registration or _yes(answers.get("consent_statistics")),
        referral=registration and _yes(answers.get("consent_referral")),
        follow_up=registration and _yes(answers.get("consent_followup")),
        method=method if method in ConsentMethod.values else ConsentMethod.VERBAL,
        language=str(answers.get("receipt_language") or fallback_language)[:12],
    )


def person(answers: dict[str, Any]) -> PersonAnswers:
    date_of_birth = _date(answers.get("dob"))
    age = _int(answers.get("age"))
    estimated = date_of_birth is None
    if age is None:
        age = _int(answers.get("age_estimate"))
    sex = str(answers.get("sex") or "")
    documents = {
        "types": str(answers.get("documents") or "").split(),
        "number": str(answers.get("document_number") or ""),
    }
    return PersonAnswers(
        given_name=str(answers.get("given_name") or "").strip(),
        family_name=str(answers.get("family_name") or "").strip(),
        other_names=str(answers.get("other_names") or "").strip(),
        date_of_birth=date_of_birth,
        age=age,
        age_estimated=estimated,
        sex=sex if sex in Sex.values else "",
        nationality=str(answers.get("nationality") or "")[:2].upper(),
        phone=str(answers.get("phone") or "").strip(),
        documents=documents if documents["types"] or documents["number"] else {},
    )


STAT_AGE_GROUPS = {
    "age_0_4": "0-4",
    "age_5_11": "5-11",
    "age_12_17": "12-17",
    "age_18_59": "18-59",
    "age_60_plus": "60+",
}


def anonymous_facts(answers: dict[str, Any]) -> tuple[str, str]:
    """Sex and age band asked of someone who agreed to statistics only (no date of birth, no name)."""
    sex = str(answers.get("stat_sex") or answers.get("sex") or "")
    return (sex if sex in Sex.values else ""), STAT_AGE_GROUPS.get(
        str(answers.get("stat_age_group") or ""), ""
    )


def age_of(answers: dict[str, Any]) -> int | None:
    value = _int(answers.get("age"))
    return value if value is not None else _int(answers.get("age_estimate"))


def legs(answers: dict[str, Any]) -> list[Leg]:
    found = []
    for entry in answers.get("leg") or []:
        if not isinstance(entry, dict):
            continue
        found.append(
            Leg(
                country=str(entry.get("leg_country") or "")[:2].upper(),
                place=str(entry.get("leg_place") or "")[:200],
                arrived=_date(entry.get("leg_arrived")),
                left=_date(entry.get("leg_left")),
                transport=str(entry.get("leg_transport") or "")[:30],
                organised_by=str(entry.get("leg_organised_by") or "")[:30],
            )
        )
    return found


def statistics(answers: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {name: answers[name] for name in STATISTICAL_FIELDS if answers.get(name)}
    left = _date(answers.get("date_left"))
    if left:
        kept["month_left"] = left.strftime("%Y-%m")
    return kept
