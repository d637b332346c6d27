"""The default registration questionnaire shipped as an XLSForm.

The registration service maps answers by question name, ODK Collect and KoboCollect load the same
file for offline work, and caseworkers read it aloud in four languages. So the file must convert with
pyxform (and pass ODK Validate) without a warning, carry every name the service relies on with the
expected type and place, and have every text a person sees in English, Spanish, French and Arabic.
"""

from __future__ import annotations

import copy
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import babel
import pytest
from pyxform.builder import create_survey_element_from_dict
from pyxform.validators.odk_validate import ODKValidateError
from pyxform.xls2json import parse_file_to_json

import ventanilla

FORM = Path(ventanilla.__file__).resolve().parent / "registration" / "data" / "registration_form.xlsx"
LANGUAGES = {"English (en)", "Spanish (es)", "French (fr)", "Arabic (ar)"}
REGISTERED = "${consent_registration} = 'yes'"

# pyxform's internal names for the two select types, back to the XLSForm spelling.
_TYPE_NAMES = {"select one": "select_one", "select all that apply": "select_multiple"}

# name → (XLSForm type, choice list, enclosing group or repeat). The registration service reads these.
EXPECTED: dict[str, tuple[str, str | None, str | None]] = {
    "consent": ("group", None, None),
    "consent_intro": ("note", None, "consent"),
    "consent_registration": ("select_one", "yes_no", "consent"),
    "consent_statistics": ("select_one", "yes_no", "consent"),
    "consent_referral": ("select_one", "yes_no", "consent"),
    "consent_followup": ("select_one", "yes_no", "consent"),
    "consent_method": ("select_one", "consent_method", "consent"),
    "receipt_language": ("select_one", "receipt_language", "consent"),
    "identity": ("group", None, None),
    "given_name": ("text", None, "identity"),
    "family_name": ("text", None, "identity"),
    "other_names": ("text", None, "identity"),
    "sex": ("select_one", "sex", "identity"),
    "dob_known": ("select_one", "yes_no", "identity"),
    "dob": ("date", None, "identity"),
    "age_estimate": ("integer", None, "identity"),
    "age": ("calculate", None, "identity"),
    "nationality": ("select_one", "country", "identity"),
    "place_of_birth": ("text", None, "identity"),
    "marital_status": ("select_one", "marital_status", "identity"),
    "phone": ("text", None, "identity"),
    "documents": ("select_multiple", "document_type", "identity"),
    "document_number": ("text", None, "identity"),
    "languages": ("select_multiple", "language", "identity"),
    "companions": ("group", None, None),
    "travelling_with": ("select_one", "travelling_with", "companions"),
    "child_care": ("select_one", "child_care", "companions"),
    "companion": ("repeat", None, "companions"),
    "companion_relationship": ("select_one", "relationship", "companion"),
    "companion_given_name": ("text", None, "companion"),
    "companion_family_name": ("text", None, "companion"),
    "companion_age": ("integer", None, "companion"),
    "companion_sex": ("select_one", "sex", "companion"),
    "origin": ("group", None, None),
    "country_of_origin": ("select_one", "country", "origin"),
    "area_of_origin": ("text", None, "origin"),
    "country_of_residence": ("select_one", "country", "origin"),
    "date_left": ("date", None, "origin"),
    "journey": ("group", None, None),
    "leg": ("repeat", None, "journey"),
    "leg_country": ("select_one", "country", "leg"),
    "leg_place": ("text", None, "leg"),
    "leg_arrived": ("date", None, "leg"),
    "leg_left": ("date", None, "leg"),
    "leg_transport": ("select_one", "transport", "leg"),
    "leg_organised_by": ("select_one", "organiser", "leg"),
    "route_reasons": ("select_multiple", "route_reason", "journey"),
    "route_reasons_other": ("text", None, "journey"),
    "main_transport": ("select_one", "transport", "journey"),
    "trip_organised": ("select_one", "trip_organiser", "journey"),
    "trip_payment": ("select_multiple", "trip_payment", "journey"),
    "trip_cost_usd": ("decimal", None, "journey"),
    "trip_voluntary": ("select_one", "yes_no_partly", "journey"),
    "destination_country": ("select_one", "country", "journey"),
    "destination_place": ("text", None, "journey"),
    "reasons": ("group", None, None),
    "reasons_leaving": ("select_multiple", "leaving_reason", "reasons"),
    "reasons_leaving_other": ("text", None, "reasons"),
    "intention_on_arrival": ("select_one", "intention", "reasons"),
    "remittances": ("select_one", "yes_no_dk", "reasons"),
    "fear_of_return": ("select_one", "yes_no_dk", "reasons"),
    "protection": ("group", None, None),
    "documents_withheld": ("select_one", "yes_no_dk", "protection"),
    "owes_debt_to_organiser": ("select_one", "yes_no_dk", "protection"),
    "deceived_about_work": ("select_one", "yes_no_dk", "protection"),
    "movement_restricted": ("select_one", "yes_no_dk", "protection"),
    "forced_to_work": ("select_one", "yes_no_dk", "protection"),
    "violence_experienced": ("select_one", "yes_no_prefer_not", "protection"),
    "pregnant": ("select_one", "yes_no_dk", "protection"),
    "disability": ("select_multiple", "disability", "protection"),
    "protection_notes": ("text", None, "protection"),
    "health": ("group", None, None),
    "urgent_medical_need": ("select_one", "yes_no", "health"),
    "health_needs": ("select_multiple", "health_need", "health"),
    "health_needs_other": ("text", None, "health"),
    "psychosocial_distress": ("select_one", "yes_no_dk", "health"),
    "closing_note": ("note", None, None),
}

# Choice names the service (and the screening rules) compare against.
EXPECTED_CHOICES = {
    "yes_no": ["yes", "no"],
    "consent_method": ["verbal", "written"],
    "receipt_language": ["en", "es", "fr", "ar"],
    "sex": ["female", "male", "other", "undisclosed"],
    "document_type": [
        "passport",
        "national_id",
        "birth_certificate",
        "residence_permit",
        "asylum_document",
        "other",
        "none",
    ],
    "travelling_with": ["alone", "family", "group", "other_adults"],
    "child_care": ["parent_or_guardian", "other_relative", "unrelated_adult", "alone"],
    "relationship": ["spouse_partner", "child", "parent", "sibling", "other_relative", "friend", "unrelated"],
    "transport": ["on_foot", "bus", "truck", "car", "motorcycle", "boat", "train", "plane", "other"],
    "organiser": ["self", "family_friends", "smuggler_broker", "recruiter_employer", "other"],
    "trip_organiser": ["alone", "with_family", "broker", "recruiter", "other"],
    "trip_payment": [
        "savings",
        "loan",
        "family",
        "work_on_the_way",
        "debt_to_organiser",
        "nothing_paid",
        "other",
    ],
    "yes_no_partly": ["yes", "no", "partly"],
    "leaving_reason": [
        "economic",
        "violence_insecurity",
        "persecution",
        "family_reunification",
        "disaster_climate",
        "education",
        "health",
        "work_offer",
        "other",
    ],
    "intention": ["settle", "work", "transit", "seek_protection", "return", "dont_know"],
    "yes_no_dk": ["yes", "no", "dont_know"],
    "yes_no_prefer_not": ["yes", "no", "prefer_not_to_say"],
    "disability": ["none", "seeing", "hearing", "walking", "remembering", "self_care", "communicating"],
    "health_need": [
        "injury",
        "chronic_illness",
        "medication",
        "mental_health",
        "pregnancy_care",
        "child_health",
        "other",
        "none",
    ],
}

# Questions whose answer the form itself must check (a constraint with a message).
CONSTRAINED = {
    "dob",
    "age_estimate",
    "phone",
    "documents",
    "companion_age",
    "date_left",
    "leg_left",
    "trip_cost_usd",
    "disability",
    "health_needs",
}


@pytest.fixture(scope="module")
def parsed() -> tuple[dict[str, Any], list[str]]:
    warnings: list[str] = []
    data = parse_file_to_json(str(FORM), warnings=warnings)
    return data, warnings


def _walk(node: dict[str, Any], parent: str | None = None) -> Iterator[tuple[dict[str, Any], str | None]]:
    for child in node.get("children", []):
        yield child, parent
        if child["type"] in ("group", "repeat"):
            yield from _walk(child, child["name"])


def _elements(data: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str | None]]:
    """Every element by name, without the meta group pyxform adds (instanceID, instanceName)."""
    return {
        node["name"]: (node, parent) for node, parent in _walk(data) if "meta" not in (node["name"], parent)
    }


def _xlsform_type(node: dict[str, Any]) -> str:
    return _TYPE_NAMES.get(node["type"], node["type"])


def _translation_problems(where: str, text: Any) -> list[str]:
    if not isinstance(text, dict):
        return [f"{where}: not translated ({text!r})"]
    problems = []
    if set(text) != LANGUAGES:
        problems.append(f"{where}: languages {sorted(text)}")
    problems += [f"{where}: empty in {lang}" for lang in LANGUAGES if not str(text.get(lang) or "").strip()]
    return problems


def test_the_form_converts_to_an_xform_without_errors_or_warnings(parsed):
    # given the shipped file, read by pyxform
    data, warnings = parsed
    # when it is turned into an XForm
    survey = create_survey_element_from_dict(copy.deepcopy(data))
    xml = survey.to_xml(validate=False, warnings=warnings)
    # then pyxform had nothing to warn about, and the XForm carries the form's id and version
    assert warnings == []
    assert 'id="ventanilla_registration"' in xml
    assert 'version="2026112601"' in xml
    assert xml.count("<translation lang=") == 4


def test_settings_name_the_form_its_version_and_default_language(parsed):
    data, _ = parsed
    assert data["id_string"] == "ventanilla_registration"
    assert data["version"] == "2026112601"
    assert data["default_language"] == "English (en)"
    assert data["title"].strip()
    # the instance name shows in ODK Collect's lists on a field phone: it must not expose a name
    assert "${" in data["instance_name"]
    personal = r"\$\{(given_name|family_name|other_names|phone|document_number)\}"
    assert not re.search(personal, data["instance_name"])


def test_every_name_the_registration_service_maps_is_there_with_its_type_and_place(parsed):
    data, _ = parsed
    elements = _elements(data)
    actual = {
        name: (_xlsform_type(node), node.get("list_name"), parent)
        for name, (node, parent) in elements.items()
        if name in EXPECTED
    }
    wrong = {name: (want, actual.get(name)) for name, want in EXPECTED.items() if actual.get(name) != want}
    assert wrong == {}
    # and names are unique across the form, so that mapping by name is unambiguous
    names = [node["name"] for node, parent in _walk(data)]
    assert len(names) == len(set(names))


def test_the_form_asks_about_forty_questions_or_more(parsed):
    data, _ = parsed
    questions = [
        node
        for node, parent in _walk(data)
        if node["type"] not in ("group", "repeat", "note", "calculate", "start", "end") and parent != "meta"
    ]
    assert len(questions) >= 40


def test_consent_comes_first_and_gates_everything_personal(parsed):
    data, _ = parsed
    top = [child["name"] for child in data["children"] if child["type"] in ("group", "repeat")]
    assert top[:2] == ["consent", "identity"]
    relevant = {name: node.get("bind", {}).get("relevant") for name, (node, _) in _elements(data).items()}
    # personal data only with consent to registration
    for group in ("identity", "companions", "protection", "health"):
        assert relevant[group] == REGISTERED, group
    # the anonymous part is also asked when the person agreed only to statistics
    for group in ("origin", "journey", "reasons"):
        assert relevant[group] == REGISTERED + " or ${consent_statistics} = 'yes'", group
    assert relevant["consent_statistics"] == "${consent_registration} = 'no'"
    assert relevant["consent_referral"] == relevant["consent_followup"] == REGISTERED
    # nothing identifying sits in the anonymous groups
    anonymous_groups = ("origin", "journey", "reasons", "leg")
    anonymous = {name for name, (_, parent) in _elements(data).items() if parent in anonymous_groups}
    assert not anonymous & {"given_name", "family_name", "other_names", "phone", "document_number", "dob"}


def test_every_text_a_person_sees_is_in_english_spanish_french_and_arabic(parsed):
    data, _ = parsed
    problems: list[str] = []
    for name, (node, _) in _elements(data).items():
        if node["type"] in ("calculate", "start", "end"):
            continue
        problems += _translation_problems(f"{name} label", node.get("label"))
        if "hint" in node:
            problems += _translation_problems(f"{name} hint", node["hint"])
        bind = node.get("bind", {})
        if bind.get("required") in ("yes", "true()", True):
            problems += _translation_problems(f"{name} required_message", bind.get("jr:requiredMsg"))
        if bind.get("constraint"):
            problems += _translation_problems(f"{name} constraint_message", bind.get("jr:constraintMsg"))
    assert problems == []


def test_every_choice_list_exists_with_labels_in_four_languages(parsed):
    data, _ = parsed
    lists = data["choices"]
    used = {node["list_name"] for node, _ in _walk(data) if "list_name" in node}
    assert used == set(lists)
    problems: list[str] = []
    for list_name, choices in lists.items():
        names = [choice["name"] for choice in choices]
        if len(names) != len(set(names)):
            problems.append(f"{list_name}: duplicate names")
        for choice in choices:
            problems += _translation_problems(f"{list_name}/{choice['name']} label", choice.get("label"))
    assert problems == []
    for list_name, names in EXPECTED_CHOICES.items():
        assert [choice["name"] for choice in lists[list_name]] == names, list_name
    # the languages a person may speak include the corridor's Mayan languages
    assert {"es", "en", "fr", "ar", "pt", "ht", "quc", "mam"} <= {c["name"] for c in lists["language"]}


def test_countries_are_iso_codes_named_by_cldr_with_the_corridor_first(parsed):
    data, _ = parsed
    countries = data["choices"]["country"]
    codes = [choice["name"] for choice in countries]
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)
    assert len(codes) == len(set(codes))
    assert not {"EU", "EZ", "UN", "ZZ", "QO", "XA", "XB"} & set(codes)
    assert 245 <= len(codes) <= 252
    assert codes[:4] == ["MX", "GT", "HN", "SV"]
    labels = {choice["name"]: choice["label"] for choice in countries}
    for code in ("DE", "SY", "GT"):
        for lang, locale in (("Spanish (es)", "es"), ("French (fr)", "fr"), ("Arabic (ar)", "ar")):
            assert labels[code][lang] == babel.Locale(locale).territories[code]


def test_answers_the_form_must_check_carry_a_constraint(parsed):
    data, _ = parsed
    elements = _elements(data)
    missing = sorted(name for name in CONSTRAINED if not elements[name][0].get("bind", {}).get("constraint"))
    assert missing == []


@pytest.mark.parametrize(
    ("number", "accepted"),
    [
        ("+502 5555 1234", True),
        ("50255551234", True),
        ("5555-1234", False),
        ("12345", False),
        ("call me", False),
    ],
)
def test_the_phone_constraint_accepts_international_numbers_only(parsed, number, accepted):
    data, _ = parsed
    constraint = _elements(data)["phone"][0]["bind"]["constraint"]
    pattern = re.fullmatch(r"regex\(\., '(.+)'\)", constraint)
    assert pattern is not None, constraint
    assert bool(re.search(pattern.group(1), number)) is accepted


def test_odk_validate_accepts_the_form(parsed):
    if shutil.which("java") is None:
        pytest.skip("ODK Validate needs Java, which is not installed here")
    data, _ = parsed
    warnings: list[str] = []
    try:
        create_survey_element_from_dict(copy.deepcopy(data)).to_xml(validate=True, warnings=warnings)
    except ODKValidateError as error:  # the form itself is invalid: a real failure
        pytest.fail(str(error))
    environment = [w for w in warnings if w.startswith(("XForm took to long", "Bad return code"))]
    if environment:
        pytest.skip(f"ODK Validate could not run to completion here: {environment}")
    assert warnings == []
