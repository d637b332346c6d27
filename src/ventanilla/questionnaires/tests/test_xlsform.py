"""XLSForms in, checked forms out; a bad form gives every problem at its sheet, row and column.

The forms are real .xlsx workbooks written by openpyxl (see xlsforms.py), so the row numbers in the
errors are checked against the rows a spreadsheet program would show (the header is row 1).
"""

from __future__ import annotations

import pytest

from ventanilla.questionnaires import services
from ventanilla.questionnaires.engine import evaluate
from ventanilla.questionnaires.models import FormVersion, Questionnaire
from ventanilla.questionnaires.schema import FormSchema, Node
from ventanilla.questionnaires.tests.xlsforms import (
    EN,
    FEATURES_SURVEY,
    c,
    features_form,
    q,
    settings_sheet,
    tiny_form,
    walk_form,
    xlsx,
)
from ventanilla.questionnaires.xlsform import MAX_XLSFORM_BYTES, CellError, XLSFormError, convert

CHOICES = [c("yes_no", "yes", "Yes"), c("yes_no", "no", "No")]


def errors_of(survey, choices=CHOICES, settings=None, filename="form.xlsx") -> list[CellError]:
    with pytest.raises(XLSFormError) as caught:
        convert(xlsx(survey, choices, settings or settings_sheet("bad")), filename)
    return caught.value.errors


def node(schema: FormSchema, name: str) -> Node:
    found = schema.node_named(name)
    assert found is not None, name
    return found


def where(error: CellError) -> tuple[str, int | None, str]:
    return error.sheet, error.row, error.column


# ------------------------------------------------------------------------------------------ good forms


def test_every_feature_converts_with_its_structure_and_languages():
    converted = convert(features_form())
    schema = converted.schema
    assert (schema.form_id, schema.version, schema.title) == ("features", "1", "Every feature")
    assert schema.languages == ["en", "es", "ar"]
    assert schema.default_language == "en"
    kinds = {n.name: (n.kind, n.data_type) for n in schema.nodes}
    assert kinds["name"] == ("input", "string")
    assert kinds["age"] == ("input", "int")
    assert kinds["weight"] == ("input", "decimal")
    assert kinds["arrived"] == ("input", "date")
    assert kinds["location"] == ("input", "geopoint")
    assert kinds["has_job"] == ("select1", "string")
    assert kinds["needs"] == ("select", "string")
    assert kinds["is_adult"] == ("calculate", "string")
    assert kinds["confirm"] == ("trigger", "string")
    assert kinds["about"][0] == "group"
    assert kinds["member"][0] == "repeat"
    assert kinds["visit"][0] == "repeat"
    # or_other adds the "other" choice and a text question shown when it is chosen
    assert kinds["transport_other"] == ("input", "string")
    assert "other" in [ch.value for ch in schema.choices["transport"]]
    # the nested repeat sits inside its parent repeat
    assert node(schema, "visit").path == "/data/member/visit"
    # notes are not questions; the acknowledge is
    assert node(schema, "intro").is_note
    assert not node(schema, "intro").is_question
    assert node(schema, "confirm").is_question


def test_labels_hints_and_messages_per_language():
    schema = convert(features_form()).schema
    name = schema.node_named("name")
    assert name is not None
    assert name.labels == {"en": "Your name", "es": "Su nombre", "ar": "اسمك"}
    assert name.hints["ar"] == "كما تحب أن تُنادى"
    assert name.required_messages["es"] == "Díganos su nombre, por favor"
    assert node(schema, "age").constraint_messages["ar"] == "العمر بين 0 و 120"
    assert schema.text(name.labels, "fr") == "Your name"  # a language the form lacks: the default
    assert [ch.labels["es"] for ch in schema.choices["yes_no"]] == ["Sí", "No"]


def test_columns_reach_the_schema():
    schema = convert(features_form()).schema
    by_name = {n.name: n for n in schema.nodes}
    assert by_name["centre"].default == "Casa Alfa"
    assert by_name["centre"].readonly == "true()"
    assert "selected(" in (by_name["medical_detail"].relevant or "")
    assert by_name["city"].itemset == "instance('city')/root/item[state =  /data/place/state ]"
    assert "current()/../member_country" in (by_name["member_state"].itemset or "")
    assert by_name["visit"].relevant is not None
    assert by_name["member_number"].calculate == "position(..)"
    # the cascade's extra columns are kept on each choice
    assert {ch.value: ch.extra["state"] for ch in schema.choices["city"]}["juchitan"] == "oaxaca"


def test_a_form_without_translations_uses_the_default_language():
    schema = convert(tiny_form()).schema
    assert schema.languages == ["default"]
    assert schema.text(node(schema, "name").labels, "ar") == "Name"


# ------------------------------------------------------------------------------------------- bad forms


def test_unknown_type_is_named_at_its_cell():
    (error,) = errors_of([q("text", "a", "A"), q("text", "b", "B"), q("textt", "c", "C")])
    assert where(error) == ("survey", 4, "type")
    assert "textt" in error.message


@pytest.mark.parametrize(
    ("column", "row"),
    [
        ("relevant", q("text", "b", "B", relevant="${a} = = 'x'")),
        ("relevant", q("text", "b", "B", relevant="frobnicate(${a})")),
        ("constraint", q("integer", "b", "B", constraint=". >< 3")),
        ("constraint", q("integer", "b", "B", constraint="(. > 3")),
        ("calculation", q("calculate", "b", calculation="1 +")),
        ("calculation", q("calculate", "b", calculation="foo(1)")),
        ("choice_filter", q("select_one yes_no", "b", "B", choice_filter="name = = ${a}")),
        ("required", q("text", "b", "B", required="${a} = = 'x'")),
        ("read_only", q("text", "b", "B", read_only="${a} ! 'x'")),
    ],
)
def test_an_expression_our_engine_cannot_run_is_named_at_its_cell(column, row):
    # pyxform accepts all of these (it does not parse XPath); our compiler refuses them
    (error,) = errors_of([q("text", "a", "A"), q("note", "n", "Note"), row])
    assert where(error) == ("survey", 4, column)
    assert "expression" in error.message


def test_bad_expressions_in_a_group_and_in_a_nested_repeat_are_all_reported():
    errors = errors_of(
        [
            q("text", "a", "A"),
            q("begin group", "g", "G", relevant="${a} = = 1"),
            q("begin repeat", "r", "R"),
            q("begin repeat", "rr", "RR"),
            q("select_one yes_no", "b", "B", choice_filter="name = = ${a}"),
            q("calculate", "k", calculation="position(..) +"),
            q("end repeat", ""),
            q("end repeat", ""),
            q("end group", ""),
        ]
    )
    assert sorted(where(e) for e in errors) == [
        ("survey", 3, "relevant"),
        ("survey", 6, "choice_filter"),
        ("survey", 7, "calculation"),
    ]


def test_a_reference_to_an_unknown_name_is_named_at_its_cell():
    (error,) = errors_of([q("text", "a", "A"), q("text", "b", "B", relevant="${zz} = 1")])
    assert where(error) == ("survey", 3, "relevant")
    assert "zz" in error.message


def test_a_missing_choice_list_is_named_at_the_type_cell():
    (error,) = errors_of([q("text", "a", "A"), q("select_one nolist", "b", "B")])
    assert where(error) == ("survey", 3, "type")
    assert "nolist" in error.message


def test_a_select_without_any_choices_sheet_is_named_at_the_type_cell():
    (error,) = errors_of([q("text", "a", "A"), q("select_multiple places", "b", "B")], choices=None)
    assert where(error) == ("survey", 3, "type")


def test_duplicate_names_in_one_group_are_refused():
    (error,) = errors_of([q("text", "a", "A"), q("text", "a", "Again")])
    assert where(error) == ("survey", 3, "name")


def test_duplicate_names_in_different_groups_are_refused():
    # ODK allows this, but answers are keyed by name: the second would overwrite the first
    (error,) = errors_of(
        [
            q("begin group", "g1", "One"),
            q("text", "a", "A"),
            q("end group", ""),
            q("begin group", "g2", "Two"),
            q("text", "a", "A again"),
            q("end group", ""),
        ]
    )
    assert where(error) == ("survey", 6, "name")
    assert "a" in error.message


def test_the_same_name_at_the_top_and_inside_a_repeat_is_allowed():
    schema = convert(
        xlsx(
            [q("text", "a", "A"), q("begin repeat", "r", "R"), q("text", "a", "A"), q("end repeat", "")],
            None,
            settings_sheet("scoped"),
        )
    ).schema
    state = evaluate(schema, {"a": "top", "r": [{"a": "inside"}]})
    assert state.answers()["a"] == "top"
    assert state.answers()["r"] == [{"a": "inside"}]


def test_a_duplicate_choice_is_named_on_the_choices_sheet():
    (error,) = errors_of([q("select_one yes_no", "a", "A")], choices=[*CHOICES, c("yes_no", "yes", "Again")])
    assert where(error) == ("choices", 4, "name")


def test_a_workbook_without_a_survey_sheet():
    with pytest.raises(XLSFormError) as caught:
        convert(xlsx(None, CHOICES, settings_sheet("x")))
    (error,) = caught.value.errors
    assert error.sheet == "survey"
    assert "survey" in error.message


def test_a_file_that_is_not_a_workbook():
    with pytest.raises(XLSFormError) as caught:
        convert(b"type,name,label\ntext,a,A\n", "form.xlsx")
    assert "workbook" in caught.value.errors[0].message


def test_a_file_named_other_than_xlsx_is_refused():
    with pytest.raises(XLSFormError) as caught:
        convert(tiny_form(), "form.csv")
    assert ".xlsx" in caught.value.errors[0].message


def test_a_file_over_5_mb_is_refused_before_it_is_read():
    with pytest.raises(XLSFormError) as caught:
        convert(b"PK" + b"\0" * MAX_XLSFORM_BYTES, "form.xlsx")
    assert "5 MB" in caught.value.errors[0].message


def test_every_problem_is_listed_not_only_the_first():
    errors = errors_of(
        [
            q("integer", "a", "A", constraint=". >< 1"),
            q("text", "b", "B", relevant="${a} = = 2"),
            q("calculate", "k", calculation="3 +"),
        ]
    )
    assert [where(e) for e in errors] == [
        ("survey", 2, "constraint"),
        ("survey", 3, "relevant"),
        ("survey", 4, "calculation"),
    ]
    assert str(errors[1]).startswith("sheet “survey”, row 3, column “relevant”: ")


def test_the_shared_forms_have_the_rows_the_tests_expect():
    # the features form keeps its 'total' calculation before the 'double' it reads
    names = [row["name"] for row in FEATURES_SURVEY]
    assert names.index("total") < names.index("double")
    assert convert(walk_form()).schema.languages == ["en", "ar"]
    assert EN == "English (en)"


# ------------------------------------------------------------------------------------------ versioning


@pytest.fixture
def manager(world):
    return world.user("a", "administrator")


def upload(content: bytes, world, manager, filename: str = "form.xlsx") -> FormVersion:
    return services.upload_form(content=content, filename=filename, owner=world.a.organisation, by=manager)


def test_upload_stores_a_version_and_makes_it_current(world, manager):
    version = upload(tiny_form("1"), world, manager)
    questionnaire = Questionnaire.objects.get(form_id="tiny", owner=world.a.organisation)
    assert questionnaire.current == version
    assert version.version == "1"
    assert version.languages == ["default"]
    assert bytes(version.xlsx) == tiny_form("1")
    assert node(version.schema, "name").kind == "input"


def test_the_same_file_twice_is_refused(world, manager):
    upload(tiny_form("1"), world, manager)
    with pytest.raises(XLSFormError) as caught:
        upload(tiny_form("1"), world, manager)
    assert where(caught.value.errors[0]) == ("settings", None, "version")
    assert "already uploaded" in caught.value.errors[0].message
    assert FormVersion.objects.filter(questionnaire__form_id="tiny").count() == 1


def test_the_same_version_with_other_content_is_refused(world, manager):
    upload(tiny_form("1"), world, manager)
    with pytest.raises(XLSFormError) as caught:
        upload(tiny_form("1", label="Full name"), world, manager)
    assert "different content" in caught.value.errors[0].message
    version = Questionnaire.objects.get(form_id="tiny").current
    assert version is not None
    assert node(version.schema, "name").labels == {"default": "Name"}


def test_a_new_version_becomes_current_and_earlier_submissions_keep_theirs(world, manager):
    first = upload(tiny_form("1"), world, manager)
    submission = services.submit(
        first, {"name": "Ana"}, organisation=world.a.organisation, site=world.a.sites[0], by=manager
    )
    second = upload(tiny_form("2", label="Full name"), world, manager)
    questionnaire = Questionnaire.objects.get(form_id="tiny")
    assert questionnaire.current == second
    assert questionnaire.versions.count() == 2
    submission.refresh_from_db()
    assert submission.form_version == first
    assert node(submission.form_version.schema, "name").labels == {"default": "Name"}
    assert submission.answers == {"name": "Ana"}


def test_a_bad_upload_stores_nothing(world, manager):
    with pytest.raises(XLSFormError):
        upload(xlsx([q("textt", "a", "A")], None, settings_sheet("broken")), world, manager)
    assert not Questionnaire.objects.filter(form_id="broken").exists()


def test_only_form_managers_of_the_owner_may_upload(world):
    with pytest.raises(services.FormPermissionError):
        services.upload_form(
            content=tiny_form(),
            filename="f.xlsx",
            owner=world.a.organisation,
            by=world.user("b", "administrator"),
        )
    with pytest.raises(services.FormPermissionError):
        services.upload_form(
            content=tiny_form(),
            filename="f.xlsx",
            owner=world.a.organisation,
            by=world.user("a", "caseworker"),
        )
    assert not Questionnaire.objects.filter(form_id="tiny").exists()
