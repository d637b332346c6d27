"""The engine's rules on real XLSForms: what is shown, computed, offered, refused, and in which language."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ventanilla.questionnaires import engine
from ventanilla.questionnaires.schema import FormSchema
from ventanilla.questionnaires.tests.xlsforms import features_form, q, settings_sheet, xlsx
from ventanilla.questionnaires.xlsform import convert

TODAY = datetime.date(2026, 3, 1)
BASE = {"name": "Ana", "age": "30", "confirm": "OK", "centre": "Casa Alfa"}


@pytest.fixture(scope="module")
def form() -> FormSchema:
    return convert(features_form()).schema


def evaluate(schema: FormSchema, answers: dict[str, Any], **options: Any) -> engine.FormState:
    return engine.evaluate(schema, answers, today=TODAY, **options)


def with_base(**changes: Any) -> dict[str, Any]:
    return {**BASE, **changes}


def offered(state: engine.FormState, key: str) -> list[str]:
    field = state.field(key)
    assert field is not None, key
    return [choice.value for choice in field.choices]


def small_form(*rows: dict[str, str], choices: list[dict[str, str]] | None = None) -> FormSchema:
    return convert(xlsx(list(rows), choices, settings_sheet("small"))).schema


def test_a_complete_set_of_answers_is_valid_and_calculated(form):
    state = evaluate(form, BASE)
    assert state.errors == {}
    assert state.answers() == {**BASE, "is_adult": "yes", "member": [], "total": "1", "double": "0"}


# ------------------------------------------------------------------------------------------ skip logic


def test_skip_logic_clears_answers_that_are_hidden(form):
    # a child does not see "do you work?", so its answers (and the answer that depended on it) go
    state = evaluate(form, with_base(age="10", has_job="yes", job="cook"))
    assert state.errors == {}
    answers = state.answers()
    assert "has_job" not in answers
    assert "job" not in answers
    assert answers["is_adult"] == "no"
    assert state.field("job").relevant is False
    # and an adult keeps them
    assert evaluate(form, with_base(has_job="yes", job="cook")).answers()["job"] == "cook"


def test_selected_inside_relevant(form):
    hidden = evaluate(form, with_base(needs="food legal", medical_detail="asthma"))
    assert "medical_detail" not in hidden.answers()
    shown = evaluate(form, with_base(needs="food medical"))
    assert shown.errors == {"medical_detail": "Describe the medical need"}
    assert evaluate(form, with_base(needs="medical", medical_detail="asthma")).errors == {}


def test_a_required_question_that_is_hidden_needs_no_answer(form):
    assert "medical_detail" not in evaluate(form, with_base(needs="food")).errors


# ---------------------------------------------------------------------------------------- calculations


def test_calculations_including_one_that_reads_a_later_calculation(form):
    members = [{"member_name": "A"}, {"member_name": "B"}, {"member_name": "C"}]
    answers = evaluate(form, with_base(member=members)).answers()
    assert answers["double"] == "6"
    assert answers["total"] == "7"  # total = double + 1, and double is written after it


def test_a_calculation_cannot_be_overridden_by_the_answers_sent(form):
    answers = evaluate(form, with_base(is_adult="no", total="99")).answers()
    assert answers["is_adult"] == "yes"
    assert answers["total"] == "1"


def test_jr_choice_name_gives_the_label_in_the_form_language(form):
    answers = with_base(needs="legal medical", medical_detail="asthma")
    assert evaluate(form, answers).answers()["need_label"] == "Legal advice"
    assert evaluate(form, answers, language="es").answers()["need_label"] == "Asesoría legal"
    assert evaluate(form, answers, language="ar").answers()["need_label"] == "استشارة قانونية"


# ------------------------------------------------------------------------------- required, constraints


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("en", "Please tell us your name"),
        ("es", "Díganos su nombre, por favor"),
        ("ar", "من فضلك أخبرنا باسمك"),
        ("fr", "Please tell us your name"),  # not in the form: its default language
    ],
)
def test_required_message_per_language(form, language, message):
    state = evaluate(form, with_base(name=""), language=language)
    assert state.errors == {"name": message}
    assert not state.is_valid


def test_a_required_question_without_a_message_gets_ours(form):
    assert evaluate(form, with_base(age="")).errors == {"age": "This question needs an answer."}


@pytest.mark.parametrize(
    ("language", "message"),
    [("en", "Age between 0 and 120"), ("es", "Edad entre 0 y 120"), ("ar", "العمر بين 0 و 120")],
)
def test_constraint_message_per_language(form, language, message):
    assert evaluate(form, with_base(age="121"), language=language).errors == {"age": message}
    assert evaluate(form, with_base(age="120"), language=language).errors == {}


def test_a_constraint_with_today(form):
    assert evaluate(form, with_base(arrived="2026-03-02")).errors == {"arrived": "Not in the future"}
    assert evaluate(form, with_base(arrived="2026-03-01")).errors == {}


def test_the_acknowledge_is_required(form):
    assert evaluate(form, with_base(confirm="")).errors == {"confirm": "This question needs an answer."}


# ------------------------------------------------------------------------------------------- types


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("age", "abc"),
        ("age", "12.5"),
        ("age", "1e3"),
        ("age", "99999999999999999999999"),
        ("weight", "1,5"),
        ("weight", "nan"),
        ("weight", "inf"),
        ("weight", "--1"),
        ("arrived", "2026-02-30"),
        ("arrived", "01/02/2026"),
        ("arrived", "20260201"),
        ("location", "100 0"),
        ("location", "0 200"),
        ("location", "12.5"),
        ("location", "north south"),
        ("location", "1 2 3 4 5"),
    ],
)
def test_garbage_of_the_wrong_type_is_refused(form, key, value):
    errors = evaluate(form, with_base(**{key: value})).errors
    assert list(errors) == [key]


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("age", "-0"),
        ("weight", "72.5"),
        ("weight", "-1"),
        ("weight", ".5"),
        ("arrived", "2024-02-29"),
        ("location", "14.9 -92.26"),
        ("location", "14.9 -92.26 120 5"),
    ],
)
def test_good_values_of_each_type_are_accepted(form, key, value):
    assert evaluate(form, with_base(**{key: value})).errors == {}


def test_a_text_answer_is_limited_in_length(form):
    errors = evaluate(form, with_base(name="x" * (engine.MAX_TEXT_LENGTH + 1))).errors
    assert list(errors) == ["name"]


def test_select_values_outside_the_choices_are_refused(form):
    assert evaluate(form, with_base(has_job="maybe")).errors == {
        "has_job": "Choose one of the options offered."
    }
    assert list(evaluate(form, with_base(needs="food shoes")).errors) == ["needs"]
    assert list(evaluate(form, with_base(needs="food food")).errors) == ["needs"]
    assert evaluate(form, with_base(needs="food legal"), language="es").errors == {}


# ----------------------------------------------------------------------------------------- cascades


def test_a_three_level_cascade_offers_and_accepts_only_what_fits(form):
    state = evaluate(form, with_base(country="mx"))
    assert offered(state, "state") == ["chiapas", "oaxaca"]
    assert offered(state, "city") == []  # no state yet
    state = evaluate(form, with_base(country="mx", state="oaxaca"))
    assert offered(state, "city") == ["juchitan"]
    state = evaluate(form, with_base(country="mx", state="chiapas"))
    assert offered(state, "city") == ["tapachula", "tuxtla"]
    assert evaluate(form, with_base(country="mx", state="chiapas", city="tuxtla")).errors == {}


def test_a_city_not_in_the_chosen_state_is_refused(form):
    errors = evaluate(form, with_base(country="mx", state="chiapas", city="juchitan")).errors
    assert errors == {"city": "Choose one of the options offered."}
    # and a state of another country
    assert list(evaluate(form, with_base(country="gt", state="oaxaca")).errors) == ["state"]


def test_a_cascade_inside_a_repeat_follows_its_own_entry(form):
    members = [
        {"member_name": "A", "member_country": "gt", "member_state": "peten"},
        {"member_name": "B", "member_country": "mx", "member_state": "oaxaca"},
    ]
    state = evaluate(form, with_base(member=members))
    assert state.errors == {}
    assert offered(state, "member[1].member_state") == ["peten"]
    assert offered(state, "member[2].member_state") == ["chiapas", "oaxaca"]
    members[1]["member_state"] = "peten"
    errors = evaluate(form, with_base(member=members)).errors
    assert errors == {"member[2].member_state": "Choose one of the options offered."}


# ---------------------------------------------------------------------------------- or_other, defaults


def test_or_other_shows_the_other_text_only_when_other_is_chosen(form):
    answers = evaluate(form, with_base(transport="other", transport_other="boat")).answers()
    assert answers["transport_other"] == "boat"
    assert (
        "transport_other" not in evaluate(form, with_base(transport="bus", transport_other="boat")).answers()
    )
    assert evaluate(form, with_base(transport="other")).errors == {}


def test_defaults_come_from_initial_answers(form):
    assert engine.initial_answers(form) == {"centre": "Casa Alfa"}
    state = evaluate(form, engine.initial_answers(form))
    assert state.field("centre").value == "Casa Alfa"


def test_defaults_inside_a_repeat_come_with_each_new_entry():
    schema = small_form(
        q("begin repeat", "r", "R"),
        q("integer", "n", "N", default="3"),
        q("end repeat", ""),
    )
    repeat = schema.node_named("r")
    assert repeat is not None
    assert engine.new_repeat_entry(schema, repeat) == {"n": "3"}
    assert engine.initial_answers(schema) == {}


def test_read_only_is_reported_and_not_a_question_to_check(form):
    state = evaluate(form, BASE)
    centre = state.field("centre")
    assert centre is not None
    assert centre.readonly is True
    assert state.field("name").readonly is False


# ------------------------------------------------------------------------------------------- repeats


def test_nested_repeats_with_position_and_parent_references(form):
    members = [
        {"member_name": "A", "visit": [{"visit_place": "p"}, {"visit_place": "q"}]},
        {"member_name": "B", "visit": [{"visit_place": "r"}]},
    ]
    state = evaluate(form, with_base(member=members))
    assert state.errors == {}
    stored = state.answers()["member"]
    assert [m["member_number"] for m in stored] == ["1", "2"]
    assert [v["visit_label"] for v in stored[0]["visit"]] == ["A-1.1", "A-1.2"]
    assert [v["visit_label"] for v in stored[1]["visit"]] == ["B-2.1"]
    assert state.field("member[2].visit[1].visit_place").value == "r"


def test_a_repeat_with_its_own_relevant(form):
    members = [{"member_name": "nobody", "visit": [{"visit_place": "z"}]}, {"member_name": "C"}]
    state = evaluate(form, with_base(member=members))
    assert state.group_relevance["member[1].visit[1]"] is False
    assert state.field("member[1].visit[1].visit_place").relevant is False
    stored = state.answers()["member"]
    assert stored[0]["visit"] == [{}]  # the entry stays, its answers are cleared
    assert stored[1]["member_name"] == "C"


def test_a_repeat_whose_relevant_is_false_offers_no_new_entry(form):
    members = [{"member_name": "nobody"}, {"member_name": "C"}]
    state = evaluate(form, with_base(member=members))
    can_add = {r.key: r.can_add for r in state.repeats}
    assert can_add == {"member": True, "member[1].visit": False, "member[2].visit": True}


def test_required_inside_a_repeat_names_the_entry(form):
    errors = evaluate(form, with_base(member=[{"member_name": "A"}, {}])).errors
    assert errors == {"member[2].member_name": "This question needs an answer."}


def test_too_many_repeat_entries_are_cut(form):
    members = [{"member_name": str(n)} for n in range(engine.MAX_REPEATS + 5)]
    assert len(evaluate(form, with_base(member=members)).answers()["member"]) == engine.MAX_REPEATS


# ---------------------------------------------------------------------------------- XPath 1.0 empties


def test_empty_answers_compare_as_xpath_1_0_says():
    schema = small_form(
        q("integer", "n", "N"),
        q("text", "t", "T"),
        q("calculate", "n_small", calculation="if(${n} < 5, 'yes', 'no')"),
        q("calculate", "n_big", calculation="if(${n} >= 5, 'yes', 'no')"),
        q("calculate", "n_empty", calculation="if(${n} = '', 'yes', 'no')"),
        q("calculate", "t_plus", calculation="${n} + 1"),
        q("text", "shown_when_n_not_5", "X", relevant="${n} != 5"),
    )
    answers = engine.evaluate(schema, {"shown_when_n_not_5": "x"}).answers()
    # "" < 5 and "" >= 5 are both false (NaN), "" = '' is true, "" + 1 is NaN (stored empty)
    assert answers["n_small"] == "no"
    assert answers["n_big"] == "no"
    assert answers["n_empty"] == "yes"
    assert "t_plus" not in answers
    assert answers["shown_when_n_not_5"] == "x"  # NaN != 5 is true


# ----------------------------------------------------------------------------------- no crash, stable


NAMES = [
    "name",
    "age",
    "has_job",
    "job",
    "weight",
    "arrived",
    "needs",
    "medical_detail",
    "transport",
    "transport_other",
    "centre",
    "country",
    "state",
    "city",
    "location",
    "confirm",
    "total",
    "is_adult",
    "unknown",
]
VALUES = st.one_of(
    st.sampled_from(
        ["", "yes", "no", "mx", "chiapas", "juchitan", "medical food", "other", "18", "-3", "2026-02-01"]
    ),
    st.text(max_size=20),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.sampled_from(["food", "medical", "x"]), max_size=3),
)
MEMBER = st.dictionaries(
    st.sampled_from(["member_name", "member_country", "member_state", "member_number", "visit", "zz"]),
    st.one_of(VALUES, st.lists(st.dictionaries(st.sampled_from(["visit_place", "x"]), VALUES), max_size=3)),
    max_size=5,
)
ANSWERS = st.dictionaries(
    st.sampled_from(NAMES),
    VALUES,
    max_size=12,
).flatmap(
    lambda answers: st.one_of(
        st.just(answers),
        st.builds(lambda members: {**answers, "member": members}, st.lists(MEMBER, max_size=3)),
        st.builds(lambda junk: {**answers, "member": junk}, VALUES),
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(answers=ANSWERS, language=st.sampled_from(["en", "es", "ar", "xx", ""]))
def test_random_answers_never_crash_and_stored_answers_are_a_fixed_point(form, answers, language):
    state = evaluate(form, answers, language=language)
    assert isinstance(state.errors, dict)
    stored = state.answers()
    again = evaluate(form, stored, language=language)
    assert again.answers() == stored
    assert again.errors == evaluate(form, stored, language=language).errors
