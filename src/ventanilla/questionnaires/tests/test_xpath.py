"""XForm expressions against instances and binds that pyxform itself produced.

Every form here is an XLSForm in pyxform's markdown notation, converted by pyxform; the main instance
is parsed straight from the XForm (tags in the XForms namespace, as the engine will see them) and
bind/itemset expressions are read from the XForm, so the tests use pyxform's real spelling
(`` /data/age ``, `` ../mname ``, ``current()/../state``).
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import time
from dataclasses import dataclass
from xml.etree import ElementTree as ET

import pytest
from defusedxml import ElementTree as SafeET
from pyxform.xls2xform import convert

from ventanilla.questionnaires.xpath import (
    EvalContext,
    ExpressionError,
    compile_expression,
    invalidate,
    references,
)

XF = "{http://www.w3.org/2002/xforms}"
HTML = "{http://www.w3.org/1999/xhtml}"
JR_TEMPLATE = "{http://openrosa.org/javarosa}template"

TODAY = dt.date(2024, 3, 15)
NOW = dt.datetime(2024, 3, 15, 10, 30, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))

HOUSEHOLD_MD = """
| survey |
| | type | name | label | relevant | constraint | calculation | choice_filter | required |
| | integer | age | Age | | . >= 0 and . < 130 | | | yes |
| | text | person | Name | | | | | |
| | text | empty | Empty | | | | | |
| | date | dob | Date of birth | | . <= today() | | | |
| | dateTime | when | When | | | | | |
| | select_multiple needs | needs | Needs | | | | | |
| | text | needs_other | Other need | selected(${needs}, 'other') | | | | |
| | calculate | years | | | | int((today() - ${dob}) div 365.25) | | |
| | calculate | greeting | | | | concat('Hola ', ${person}) | | |
| | select_one countries | country | Country | | | | | |
| | begin repeat | members | Members | | | | | |
| | text | mname | Name | | | | | |
| | integer | mage | Age | ${mname} != '' | . < ${age} | | | |
| | calculate | pos | | | | position(..) | | |
| | select_one states | state | State | | | | country=${country} | |
| | select_one cities | city | City | | | | state=${state} and country=${country} | |
| | begin repeat | kids | Kids | ${mage} > 1 | | | | |
| | text | kname | Kid | | | | | |
| | calculate | kpos | | | | position(..) | | |
| | end repeat | | | | | | | |
| | end repeat | | | | | | | |
| | calculate | first_member | | | | indexed-repeat(${mname}, ${members}, 1) | | |
| | calculate | country_label | | | | jr:choice-name(${country}, '${country}') | | |
| choices |
| | list_name | name | label | country | state |
| | needs | food | Food | | |
| | needs | water | Water | | |
| | needs | other | Other | | |
| | countries | mx | Mexico | | |
| | countries | gt | Guatemala | | |
| | states | chis | Chiapas | mx | |
| | states | oax | Oaxaca | mx | |
| | states | pet | Petén | gt | |
| | cities | tap | Tapachula | mx | chis |
| | cities | tux | Tuxtla | mx | chis |
| | cities | oaxc | Oaxaca city | mx | oax |
| | cities | flo | Flores | gt | pet |
"""


@dataclass
class Form:
    root: ET.Element
    instances: dict[str, ET.Element]
    binds: dict[str, dict[str, str]]
    itemsets: dict[str, str]
    templates: dict[str, ET.Element]


def build(md: str) -> Form:
    """Convert an XLSForm (markdown) with pyxform and take it apart as the engine would."""
    xform = convert(xlsform=md, form_name="data", file_type=".md").xform
    html = SafeET.fromstring(xform)
    model = html.find(f"{HTML}head/{XF}model")
    instances = model.findall(f"{XF}instance")
    root = instances[0][0]
    templates: dict[str, ET.Element] = {}
    for parent in list(root.iter()):
        for child in list(parent):
            if JR_TEMPLATE in child.attrib:
                template = copy.deepcopy(child)
                for element in template.iter():
                    element.attrib.pop(JR_TEMPLATE, None)
                templates[child.tag.rpartition("}")[2]] = template
                parent.remove(child)
    binds = {b.get("nodeset"): dict(b.attrib) for b in model.findall(f"{XF}bind")}
    itemsets = {}
    for control in html.find(f"{HTML}body").iter():
        itemset = control.find(f"{XF}itemset")
        if itemset is not None:
            itemsets[control.get("ref")] = itemset.get("nodeset")
    return Form(root, {i.get("id"): i for i in instances[1:]}, binds, itemsets, templates)


def at(root: ET.Element, path: str) -> ET.Element:
    """'members[2]/kids[1]/kname' → the element (any namespace)."""
    if not path:
        return root
    found = root.find("/".join("{*}" + part for part in path.split("/")))
    assert found is not None, path
    return found


def fill(root: ET.Element, answers: dict[str, str]) -> None:
    for path, value in answers.items():
        at(root, path).text = value


def add_repeat(form: Form, parent: ET.Element, name: str) -> ET.Element:
    """Append a new repeat instance after the last one of its name (as the engine does)."""
    instance = copy.deepcopy(form.templates[name])
    children = list(parent)
    last = max(i for i, c in enumerate(children) if c.tag.endswith("}" + name))
    parent.insert(last + 1, instance)
    return instance


@pytest.fixture(scope="module")
def household() -> Form:
    """A household filled in: two members (Ana 9 with two kids, Bo 40 with none)."""
    form = build(HOUSEHOLD_MD)
    fill(
        form.root,
        {
            "age": "40",
            "person": "Ana María",
            "dob": "1990-03-16",
            "when": "2024-03-15T10:00:00.000+02:00",
            "needs": "food water",
            "country": "mx",
            "members[1]/mname": "Ana",
            "members[1]/mage": "9",
            "members[1]/state": "chis",
            "members[1]/kids[1]/kname": "Kim",
        },
    )
    members = at(form.root, "members")
    add_repeat(form, members, "kids")
    fill(form.root, {"members[1]/kids[2]/kname": "Lu"})
    second = add_repeat(form, form.root, "members")
    second.remove(next(c for c in second if c.tag.endswith("}kids")))  # Bo has no kids
    fill(form.root, {"members[2]/mname": "Bo", "members[2]/mage": "40", "members[2]/state": "oax"})
    return form


def evaluate(form: Form, source: str, node: str = "", **options):
    ctx = EvalContext(
        root=form.root,
        node=at(form.root, node),
        instances=form.instances,
        today=TODAY,
        now=NOW,
        **options,
    )
    return compile_expression(source).evaluate(ctx)


def same(actual, expected) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    if isinstance(expected, float):
        return isinstance(actual, float) and math.isclose(actual, expected, rel_tol=1e-12, abs_tol=1e-12)
    return type(actual) is type(expected) and actual == expected


NAN = float("nan")

# --------------------------------------------------------------------------------------------------
# Empty answers and XPath 1.0 comparisons.

EMPTY_ANSWERS = [
    ("/data/empty > 5", False),
    ("/data/empty < 5", False),
    ("/data/empty >= 0", False),
    ("/data/empty <= 0", False),
    ("/data/empty = 5", False),
    ("/data/empty != 5", True),
    ("/data/empty = ''", True),
    ("/data/empty != ''", False),
    ("string-length(/data/empty)", 0.0),
    ("/data/empty + 1", NAN),
    ("number(/data/empty)", NAN),
    ("/data/empty = 0", False),
    # a node that exists is true even when empty; a missing one is false
    ("boolean(/data/empty)", True),
    ("boolean(/data/missing)", False),
    ("/data/missing = ''", False),
    ("/data/missing != ''", False),
    ("not(/data/missing)", True),
]


@pytest.mark.parametrize(("source", "expected"), EMPTY_ANSWERS)
def test_empty_answers_follow_xpath_1(household, source, expected):
    assert same(evaluate(household, source), expected)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        (". > 5", False),
        (". != 5", True),
        (". = ''", True),
        ("string-length(.)", 0.0),
        ("string-length()", 0.0),
        (". >= 0 and . < 130", False),
    ],
)
def test_context_node_empty(household, source, expected):
    assert same(evaluate(household, source, node="empty"), expected)


NODESET_COMPARISONS = [
    ("/data/members/mage = 40", True),
    ("/data/members/mage = 41", False),
    ("/data/members/mage = '9'", True),
    ("/data/members/mage > 39", True),
    ("/data/members/mage < 9", False),
    ("/data/members/mage != 9", True),  # 40 != 9
    ("/data/members/mname = 'Bo'", True),
    ("/data/members/mage = /data/age", True),
    ("/data/members/mage != /data/members/mage", True),  # 9 != 40
    ("/data/age != /data/age", False),
    ("/data/members/mage = true()", True),
    ("/data/missing = false()", True),
    ("/data/members/mage < /data/age", True),
    ("boolean(/data/members)", True),
    ("count(/data/members/kids)", 2.0),
]


@pytest.mark.parametrize(("source", "expected"), NODESET_COMPARISONS)
def test_node_set_comparisons_are_existential(household, source, expected):
    assert same(evaluate(household, source), expected)


SCALARS = [
    ("'5' = 5", True),
    ("'05' = 5", True),
    ("'abc' = 'abc'", True),
    ("'abc' = 'ABC'", False),
    ("1 = true()", True),
    ("0 = false()", True),
    ("'' = false()", True),
    ("'x' != 'y'", True),
    ("'abc' < 5", False),
    ("string(3.0)", "3"),
    ("string(2.5)", "2.5"),
    ("string(-0.25)", "-0.25"),
    ("string(1 div 0)", "Infinity"),
    ("string(-1 div 0)", "-Infinity"),
    ("string(0 div 0)", "NaN"),
    ("string(true())", "true"),
    ("string(1000000 * 1000000)", "1000000000000"),
    ("7 mod 3", 1.0),
    ("-7 mod 3", -1.0),
    ("7 div 2", 3.5),
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("- 2 - -3", 1.0),
    ("10 - 2 - 3", 5.0),
    ("5 mod 0", NAN),
    ("1 < 2 = true()", True),
    ("1 = 1 and 2 = 3 or 4 = 4", True),
    ("1 = 2 or 2 = 3", False),
]


def test_exponent_is_not_a_literal():
    # XPath 1.0: '1e21' tokenizes as 1 then the name 'e21' (a path) → syntax needs an operator
    with pytest.raises(ExpressionError):
        compile_expression("1e21")


@pytest.mark.parametrize(("source", "expected"), SCALARS)
def test_scalar_semantics(household, source, expected):
    assert same(evaluate(household, source), expected)


# --------------------------------------------------------------------------------------------------
# Dates.

DOB = dt.date(1990, 3, 16)
DAYS_ALIVE = float((TODAY - DOB).days)

DATES = [
    ("/data/dob <= today()", True),
    ("/data/dob > today()", False),
    ("today() - /data/dob", DAYS_ALIVE),
    ("int((today() - /data/dob) div 365.25)", float(int(DAYS_ALIVE / 365.25))),
    ("/data/dob < '2000-01-01'", True),
    ("/data/dob = '1990-03-16'", True),
    ("/data/dob = date('1990-03-16')", True),
    ("date('1990-03-16') = /data/dob", True),
    ("today() = '2024-03-15'", True),
    ("today() != /data/dob", True),
    ("date('2020-01-31')", dt.date(2020, 1, 31)),
    ("date(18000)", dt.date(1970, 1, 1) + dt.timedelta(days=18000)),
    ("string(date(18000))", "2019-04-14"),
    ("date('2020-02-30')", NAN),
    ("date('abc')", NAN),
    ("date(10000000000)", NAN),
    ("format-date(10000000000, '%Y')", ""),
    ("date-time(10000000000)", NAN),
    ("string(date(1.9))", "1970-01-02"),
    ("number('2020-01-31')", 18292.0),
    ("decimal-date-time('1970-01-02')", 1.0),
    ("decimal-date-time('1970-01-01T12:00:00.000Z')", 0.5),
    ("decimal-date-time(/data/when)", 19797.0 + 8 / 24),
    ("decimal-date-time('nonsense')", NAN),
    ("decimal-time('12:00:00.000+02:00')", 0.5),
    ("/data/when > '2024-03-15'", True),
    ("/data/when < '2024-03-15T09:00:00.000Z'", True),  # 08:00 UTC
    ("format-date('2020-01-31', '%Y-%m-%d')", "2020-01-31"),
    ("format-date('2020-01-31', '%y/%n/%e')", "20/1/31"),
    ("format-date('2020-03-05', '%d.%m.%Y')", "05.03.2020"),
    ("format-date('2020-01-31', '%a %e %b')", "Fri 31 Jan"),
    ("format-date-time('2020-01-31T09:05:07.250+02:00', '%H:%M:%S.%3 %h')", "09:05:07.250 9"),
    ("format-date(/data/dob, '%Y')", "1990"),
    ("format-date(/data/empty, '%Y')", ""),
    ("format-date(today() + 1, '%Y-%m-%d')", "2024-03-16"),
    ("format-date(today(), '100%%')", "100%"),
    ("today() + 1 > today()", True),
    ("'abc' - today()", NAN),
    ("/data/person - 1", NAN),
    ("today() - /data/empty", NAN),
    ("today()", TODAY),
    ("string(today())", "2024-03-15"),
    ("string(now())", "2024-03-15T10:30:00.000+02:00"),
    ("now() > today()", True),
    ("decimal-date-time(now())", 19797.0 + 8.5 / 24),
    ("string(date-time(0.5))", "1970-01-01T12:00:00.000+00:00"),
]


@pytest.mark.parametrize(("source", "expected"), DATES)
def test_dates(household, source, expected):
    assert same(evaluate(household, source), expected)


def test_today_defaults_to_the_real_date(household):
    ctx = EvalContext(root=household.root, node=household.root)
    assert compile_expression("today()").evaluate(ctx) == dt.date.today()
    assert compile_expression("now()").evaluate(ctx).tzinfo is not None


# --------------------------------------------------------------------------------------------------
# Functions.

FUNCTIONS = [
    # selects
    ("selected(/data/needs, 'food')", True),
    ("selected(/data/needs, ' water ')", True),
    ("selected(/data/needs, 'fo')", False),
    ("selected(/data/needs, 'other')", False),
    ("selected(/data/empty, 'food')", False),
    ("count-selected(/data/needs)", 2.0),
    ("count-selected(/data/empty)", 0.0),
    ("selected-at(/data/needs, 1)", "water"),
    ("selected-at(/data/needs, 0)", "food"),
    ("selected-at(/data/needs, 5)", ""),
    ("odk:count-selected('a b c')", 3.0),
    # conditionals
    ("if(/data/age >= 18, 'adult', 'minor')", "adult"),
    ("if(/data/empty > 18, 'adult', 'minor')", "minor"),
    ("if(true(), 1, 1 div 0)", 1.0),
    ("coalesce(/data/empty, 'x')", "x"),
    ("coalesce(/data/person, 'x')", "Ana María"),
    ("coalesce(/data/empty, /data/missing)", ""),
    ("coalesce(/data/empty, /data/missing, 'third')", "third"),
    # strings
    ("concat('a', 1, true())", "a1true"),
    ("concat(/data/members/mname)", "AnaBo"),
    ("concat(/data/members/mname, '-')", "Ana-"),
    ("concat()", ""),
    ("join(', ', /data/members/mname)", "Ana, Bo"),
    ("join('-', 'a', /data/members/mname)", "a-Ana-Bo"),
    ("substr('abcdef', 1, 3)", "bc"),
    ("substr('abcdef', 2)", "cdef"),
    ("substr('abc', -1, 2)", "ab"),
    ("substr('abc', 2, 1)", ""),
    ("substr('abc', 1, 99)", "bc"),
    ("substring('12345', 2, 3)", "234"),
    ("substring('12345', 1.5, 2.6)", "234"),
    ("substring('12345', 0, 3)", "12"),
    ("substring-before('1999/04/01', '/')", "1999"),
    ("substring-after('1999/04/01', '/')", "04/01"),
    ("string-length('añb')", 3.0),
    ("string-length(/data/person)", 9.0),
    ("normalize-space('  a   b ')", "a b"),
    ("translate('abc', 'abc', 'AB')", "AB"),
    ("translate('--aaa--', 'abc-', 'ABC')", "AAA"),
    ("contains('migration', 'grat')", True),
    ("starts-with('migration', 'mig')", True),
    ("ends-with('migration', 'tion')", True),
    ("ends-with('migration', 'mig')", False),
    ("string(/data/age)", "40"),
    ("string(/data/members)", "Ana9chisKimLu"),  # string value of a group: its text
    ("regex('ab12', '^[a-z]+[0-9]+$')", True),
    ("regex('abc', 'b')", True),  # a search, not a full match
    ("regex('ABC', '^[a-z]+$')", False),
    ("regex(/data/empty, '^$')", True),
    ("regex('+52 962 000', '^\\+?[0-9 ]+$')", True),
    # numbers
    ("int(3.7)", 3.0),
    ("int(-3.7)", -3.0),
    ("int('')", NAN),
    ("int('12.9')", 12.0),
    ("number('12')", 12.0),
    ("number(' 12 ')", 12.0),
    ("number('1,2')", NAN),
    ("number(true())", 1.0),
    ("round(2.5)", 3.0),
    ("round(-2.5)", -2.0),
    ("round(3.14159, 2)", 3.14),
    ("round(2.345, 2)", 2.35),
    ("round(-2.5, 0)", -3.0),
    ("round(1234, -2)", 1200.0),
    ("floor(-1.5)", -2.0),
    ("ceiling(1.1)", 2.0),
    ("pow(2, 10)", 1024.0),
    ("pow(-1, 0.5)", NAN),
    ("sqrt(16)", 4.0),
    ("sqrt(-1)", NAN),
    ("abs(-3)", 3.0),
    ("log(exp(1))", 1.0),
    ("log10(1000)", 3.0),
    ("exp10(2)", 100.0),
    ("log(-1)", NAN),
    ("round(sin(pi() div 2))", 1.0),
    ("atan2(1, 1) * 4 = pi()", True),
    ("min(3, 1, 2)", 1.0),
    ("max(/data/members/mage)", 40.0),
    ("min(/data/members/mage, 2)", 2.0),
    ("max(/data/empty)", NAN),
    ("max(/data/missing)", NAN),
    ("sum(/data/members/mage)", 49.0),
    ("sum(/data/members/kids/kpos)", NAN),  # empty answers: NaN, as XPath 1.0 sum()
    ("count(/data/members)", 2.0),
    ("count-non-empty(/data/members/mname)", 2.0),
    ("count-non-empty(/data/members/city)", 0.0),
    # booleans
    ("true()", True),
    ("false()", False),
    ("not(false())", True),
    ("boolean('')", False),
    ("boolean('false')", True),
    ("boolean(0)", False),
    ("boolean(0 div 0)", False),
    ("boolean-from-string('true')", True),
    ("boolean-from-string('1')", True),
    ("boolean-from-string('yes')", False),
    ("boolean-from-string(/data/empty)", False),
    # checklists (count of non-empty / true values between min and max; -1 = no bound)
    ("checklist(2, -1, /data/age, /data/person, /data/empty)", True),
    ("checklist(-1, 1, /data/age, /data/person, /data/empty)", False),
    ("weighted-checklist(5, 10, true(), 4, false(), 100, 1 = 1, 2)", True),
    ("weighted-checklist(5, 10, true(), 4, true(), 100)", False),
    # encodings
    ("digest('abc', 'SHA-256', 'hex')", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ("digest('abc', 'MD5')", "kAFQmDzST7DWlj99KOF/cg=="),
    ("base64-decode('SG9sYQ==')", "Hola"),
    ("base64-decode('%%%')", ""),
    # instances
    ("count(instance('cities')/root/item)", 4.0),
    ("string(instance('needs')/root/item[name = 'water']/label)", "Water"),
    ("count(instance('states')/root/item[country = /data/country])", 2.0),
    # positions and paths
    ("string(/data/members[position() = 2]/mname)", "Bo"),
    ("string(/data/members[last()]/mname)", "Bo"),
    ("string(/data/members[2]/mname)", "Bo"),
    ("string(/data/members[mname = 'Bo']/mage)", "40"),
    ("string((/data/members/mname)[2])", "Bo"),
    ("string(/data/members[1]/kids[2]/kname)", "Lu"),
    ("count(/data/members/kids/kname | /data/members/mname)", 4.0),
    ("string((/data/members/mname | /data/person)[1])", "Ana María"),  # union in document order
    ("count(//kname)", 2.0),
    ("count(/data/members/kids[kname = 'Lu']/ancestor::members)", 1.0),
    ("string(/data/members[2]/preceding-sibling::members/mname)", "Ana"),
    ("string(/data/members[1]/following-sibling::members/mname)", "Bo"),
    ("string(/data/@id)", "data"),
    ("local-name(/data/members[1])", "members"),
    ("string(/data/age/text())", "40"),
    ("count(/data/empty/text())", 0.0),
    ("/data/members[2]/mage > /data/members[1]/mage", True),
    ("string(indexed-repeat(/data/members/mname, /data/members, 2))", "Bo"),
    ("string(indexed-repeat(/data/members/mname, /data/members, 3))", ""),
    ("string(indexed-repeat(/data/members/kids/kname, /data/members, 1, /data/members/kids, 2))", "Lu"),
    ("string(indexed-repeat(/data/members/kids/kname, /data/members, 2, /data/members/kids, 1))", ""),
]


@pytest.mark.parametrize(("source", "expected"), FUNCTIONS)
def test_functions(household, source, expected):
    assert same(evaluate(household, source), expected)


def test_node_set_results_are_elements_in_document_order(household):
    names = evaluate(household, "/data/members/kids/kname | /data/members/mname")
    assert [n.text for n in names] == ["Ana", "Kim", "Lu", "Bo"]
    items = compile_expression("instance('needs')/root/item[name = 'food']/label").nodes(
        EvalContext(root=household.root, node=household.root, instances=household.instances)
    )
    assert [i.text for i in items] == ["Food"]
    top = evaluate(household, "/data/*")
    assert [e.tag.rpartition("}")[2] for e in top][:3] == ["age", "person", "empty"]
    assert evaluate(household, "/data/members/..")[0] is household.root


def test_choice_name_uses_the_callback_with_a_clean_path(household):
    seen = []

    def label(value: str, path: str) -> str:
        seen.append((value, path))
        return {"mx": "México"}[value]

    source = household.binds["/data/country_label"]["calculate"]
    assert source == "jr:choice-name( /data/country , ' /data/country ')"
    assert evaluate(household, source, choice_label=label) == "México"
    assert seen == [("mx", "/data/country")]
    assert evaluate(household, source) == "mx"  # no callback: the value itself
    assert evaluate(household, "jr:choice-name(/data/empty, '/data/empty')", choice_label=label) == ""


def test_once_keeps_an_existing_value(household):
    assert evaluate(household, "once('new')", node="empty") == "new"
    assert evaluate(household, "once('new')", node="person") == "Ana María"


def test_uuid_and_random(household):
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}", evaluate(household, "uuid()")
    )
    assert re.fullmatch(r"[A-Za-z0-9]{8}", evaluate(household, "uuid(8)"))
    assert evaluate(household, "uuid()") != evaluate(household, "uuid()")
    assert 0 <= evaluate(household, "random()") < 1
    shuffled = evaluate(household, "randomize(instance('cities')/root/item, 42)")
    assert sorted(e.find(f"{XF}name").text for e in shuffled) == ["flo", "oaxc", "tap", "tux"]
    again = evaluate(household, "randomize(instance('cities')/root/item, 42)")
    assert shuffled == again  # seeded: stable


# --------------------------------------------------------------------------------------------------
# Binds exactly as pyxform wrote them, evaluated as the engine will.


def bind(form: Form, path: str, attribute: str) -> str:
    return form.binds[path][attribute]


def test_pyxform_binds_outside_repeats(household):
    form = household
    assert bind(form, "/data/age", "required") == "true()"
    assert evaluate(form, bind(form, "/data/age", "required"), node="age") is True
    age_constraint = bind(form, "/data/age", "constraint")
    assert evaluate(form, age_constraint, node="age") is True
    at(form.root, "age").text = "130"
    try:
        assert evaluate(form, age_constraint, node="age") is False
    finally:
        at(form.root, "age").text = "40"
    assert evaluate(form, bind(form, "/data/dob", "constraint"), node="dob") is True
    assert compile_expression(bind(form, "/data/years", "calculate")).string(
        EvalContext(root=form.root, node=at(form.root, "years"), today=TODAY)
    ) == str(int(DAYS_ALIVE / 365.25))
    assert evaluate(form, bind(form, "/data/greeting", "calculate"), node="greeting") == "Hola Ana María"
    assert evaluate(form, bind(form, "/data/first_member", "calculate"))[0].text == "Ana"


def test_selected_inside_relevant(household):
    relevant = bind(household, "/data/needs_other", "relevant")
    assert relevant == "selected( /data/needs , 'other')"
    assert evaluate(household, relevant, node="needs_other") is False
    at(household.root, "needs").text = "food other"
    try:
        assert evaluate(household, relevant, node="needs_other") is True
    finally:
        at(household.root, "needs").text = "food water"


def test_pyxform_binds_inside_repeats(household):
    form = household
    relevant = bind(form, "/data/members/mage", "relevant")
    constraint = bind(form, "/data/members/mage", "constraint")
    position = bind(form, "/data/members/pos", "calculate")
    assert relevant == " ../mname  != ''"
    assert constraint == ". <  /data/age "
    assert position == "position(..)"
    assert evaluate(form, relevant, node="members[1]/mage") is True
    assert evaluate(form, constraint, node="members[1]/mage") is True  # 9 < 40
    assert evaluate(form, constraint, node="members[2]/mage") is False  # 40 < 40
    assert evaluate(form, position, node="members[1]/pos") == 1.0
    assert evaluate(form, position, node="members[2]/pos") == 2.0


def test_nested_repeats(household):
    form = household
    kids_relevant = bind(form, "/data/members/kids", "relevant")
    assert kids_relevant == " ../mage  > 1"
    kid_position = bind(form, "/data/members/kids/kpos", "calculate")
    assert evaluate(form, kids_relevant, node="members[1]/kids[1]") is True
    assert evaluate(form, kid_position, node="members[1]/kids[1]/kpos") == 1.0
    assert evaluate(form, kid_position, node="members[1]/kids[2]/kpos") == 2.0
    assert evaluate(form, "../../mname", node="members[1]/kids[2]/kname")[0].text == "Ana"
    assert evaluate(form, "count(../../kids)", node="members[1]/kids[2]/kname") == 2.0
    assert evaluate(form, "position(../..)", node="members[1]/kids[2]/kname") == 1.0
    assert evaluate(form, "current()/../../mage > 5", node="members[1]/kids[2]/kname") is True


CASCADE_MD = """
| survey |
| | type | name | label | choice_filter |
| | select_one countries | country | Country | |
| | begin repeat | places | Places | |
| | select_one states | state | State | country=${country} |
| | select_one cities | city | City | state=${state} and country=${country} |
| | select_one districts | district | District | city=${city} and state=${state} and country=${country} |
| | end repeat | | | |
| choices |
| | list_name | name | label | country | state | city |
| | countries | mx | Mexico | | | |
| | countries | gt | Guatemala | | | |
| | states | chis | Chiapas | mx | | |
| | states | oax | Oaxaca | mx | | |
| | states | pet | Petén | gt | | |
| | cities | tap | Tapachula | mx | chis | |
| | cities | tux | Tuxtla | mx | chis | |
| | cities | flo | Flores | gt | pet | |
| | districts | centro | Centro | mx | chis | tap |
| | districts | norte | Norte | mx | chis | tap |
| | districts | sur | Sur | mx | chis | tux |
| | districts | isla | Isla | gt | pet | flo |
"""


@pytest.mark.parametrize("instances_as", ["instance", "root"])
def test_cascading_itemsets_three_levels_deep(instances_as):
    form = build(CASCADE_MD)
    if instances_as == "root":  # the engine may keep <root> instead of <instance>: both work
        form.instances = {k: v[0] for k, v in form.instances.items()}
    fill(form.root, {"country": "mx", "places/state": "chis", "places/city": "tap"})
    second = add_repeat(form, form.root, "places")
    fill(form.root, {"places[2]/state": "chis", "places[2]/city": "tux"})
    assert second is at(form.root, "places[2]")

    nodeset = form.itemsets["/data/places/district"]
    assert "current()/../city" in nodeset
    assert "/data/country" in nodeset

    def choices(question: str, path: str) -> list[str]:
        node = at(form.root, path)
        ctx = EvalContext(root=form.root, node=node, current=node, instances=form.instances)
        return [
            item.find(f"{XF}name").text for item in compile_expression(form.itemsets[question]).nodes(ctx)
        ]

    assert choices("/data/country", "country") == ["mx", "gt"]
    assert choices("/data/places/state", "places[1]/state") == ["chis", "oax"]
    assert choices("/data/places/city", "places[1]/city") == ["tap", "tux"]
    assert choices("/data/places/district", "places[1]/district") == ["centro", "norte"]
    assert choices("/data/places/district", "places[2]/district") == ["sur"]
    at(form.root, "country").text = "gt"
    assert choices("/data/places/state", "places[1]/state") == ["pet"]
    assert choices("/data/places/district", "places[1]/district") == []  # chis/tap are not in gt

    # The engine may instead evaluate the predicate alone, once per item, with the item as node.
    at(form.root, "country").text = "mx"
    predicate = nodeset[nodeset.index("[") + 1 : nodeset.rindex("]")]
    question = at(form.root, "places[2]/district")
    all_items = compile_expression("instance('districts')/root/item").nodes(
        EvalContext(root=form.root, node=question, instances=form.instances)
    )
    kept = [
        item.find(f"{XF}name").text
        for item in all_items
        if compile_expression(predicate).boolean(
            EvalContext(root=form.root, node=item, current=question, instances=form.instances)
        )
    ]
    assert kept == ["sur"]


def test_parent_index_heals_when_repeats_are_added_and_removed():
    form = build(CASCADE_MD)
    fill(form.root, {"places/state": "chis"})
    first = at(form.root, "places/city")
    assert evaluate(form, "../state", node="places/city")[0].text == "chis"
    # add a repeat instance after the index was built: its nodes must still find their parent
    added = add_repeat(form, form.root, "places")
    fill(form.root, {"places[2]/state": "oax"})
    assert evaluate(form, "../state", node="places[2]/city")[0].text == "oax"
    assert evaluate(form, "position(..)", node="places[2]/city") == 2.0
    # remove the first: the second becomes position 1, and the removed node has no parent any more
    form.root.remove(at(form.root, "places[1]"))
    ctx = EvalContext(root=form.root, node=added.find(f"{XF}city"))
    assert compile_expression("position(..)").evaluate(ctx) == 1.0
    orphan = EvalContext(root=form.root, node=first)
    assert compile_expression("../state").evaluate(orphan) == []


def test_invalidate_after_reordering_siblings():
    form = build(CASCADE_MD)
    add_repeat(form, form.root, "places")
    fill(form.root, {"places[1]/state": "a", "places[2]/state": "b"})
    assert [n.text for n in evaluate(form, "/data/places/state | /data/places[1]/state")] == ["a", "b"]
    first, second = at(form.root, "places[1]"), at(form.root, "places[2]")
    index = list(form.root).index(first)
    form.root.remove(second)
    form.root.insert(index, second)
    invalidate(form.root)
    assert [n.text for n in evaluate(form, "/data/places/state | /data/places[2]/state")] == ["b", "a"]


def test_instances_without_namespaces():
    root = SafeET.fromstring("<data><a>5</a><r><q>1</q></r><r><q>2</q></r></data>")
    ctx = EvalContext(root=root, node=root.find("r[2]/q"))
    assert compile_expression("/data/a = 5 and ../q = 2 and position(..) = 2").boolean(ctx) is True
    assert compile_expression("count(/data/r)").number(ctx) == 2.0


# --------------------------------------------------------------------------------------------------
# Errors.


@pytest.mark.parametrize(
    "source",
    [
        "",
        "   ",
        "/data/age >",
        "(1 + 2",
        "'unclosed",
        "1 +* 2",
        "nosuch(1)",
        "foo:bar(1)",
        "pulldata('a', 'b', 'c', 'd')",
        "if(1, 2)",
        "selected(/data/a)",
        "today(1)",
        "$var",
        "/data/a[",
        "following::x",
        "/data/unknownprefix:x",
        "1 = = 2",
        "#",
        "/data/a ]",
    ],
)
def test_syntax_and_unknown_functions_raise_naming_the_expression(source):
    with pytest.raises(ExpressionError) as error:
        compile_expression(source)
    assert repr(source) in str(error.value)
    assert error.value.expression == source


@pytest.mark.parametrize(
    "source",
    [
        "regex('x', '[')",
        "'abc'/x",
        "instance('nope')/root/item",
        "count('abc')",
        "(1)[1]",
        "1 | /data",
        "sum(3)",
        "uuid(100000)",
    ],
)
def test_runtime_type_errors_raise_expression_error(household, source):
    with pytest.raises(ExpressionError) as error:
        evaluate(household, source)
    assert repr(source) in str(error.value)


def test_nodes_refuses_a_non_node_set(household):
    ctx = EvalContext(root=household.root, node=household.root)
    with pytest.raises(ExpressionError, match="does not select nodes"):
        compile_expression("1 + 1").nodes(ctx)


def test_prefixed_names_parse():
    compile_expression("jr:choice-name(/data/a, '/data/a')")
    compile_expression("odk:selected(/data/a, 'x')")
    assert compile_expression("/data/x[@jr:template]") is compile_expression("/data/x[@jr:template]")
    assert compile_expression("count-selected(/data/a)").source == "count-selected(/data/a)"


def test_names_with_operator_spelling_are_still_names():
    root = SafeET.fromstring("<data><div>6</div><mod>4</mod><and>1</and></data>")
    ctx = EvalContext(root=root, node=root)
    assert compile_expression("/data/div div /data/mod").number(ctx) == 1.5
    assert compile_expression("div mod mod").number(ctx) == 2.0
    assert compile_expression("and and and").boolean(ctx) is True


def test_attributes_on_templates():
    form = build(CASCADE_MD)
    html_instance = form.root
    template = copy.deepcopy(form.templates["places"])
    template.set(JR_TEMPLATE, "")
    html_instance.insert(1, template)
    ctx = EvalContext(root=form.root, node=form.root)
    assert compile_expression("count(/data/places[@jr:template])").number(ctx) == 1.0
    assert compile_expression("count(/data/places[not(@jr:template)])").number(ctx) == 1.0


# --------------------------------------------------------------------------------------------------
# references()


@pytest.mark.parametrize(
    ("source", "context", "expected"),
    [
        (" /data/age  > 5", None, {"/data/age"}),
        ("selected( /data/needs , 'other')", None, {"/data/needs"}),
        (" ../mname  != ''", "/data/members/mage", {"/data/members/mname"}),
        (" ../mname  != ''", None, set()),
        (". <  /data/age ", "/data/members/mage", {"/data/members/mage", "/data/age"}),
        ("string-length()", "/data/x", {"/data/x"}),
        ("/data/members[2]/mname", None, {"/data/members/mname"}),
        ("/data/members[mname = 'x']/mage", None, {"/data/members/mname", "/data/members/mage"}),
        (
            "instance('cities')/root/item[state= current()/../state  and country= /data/country ]",
            "/data/places/city",
            {"/data/places/state", "/data/country"},
        ),
        (
            "indexed-repeat( /data/members/mname ,  /data/members , 1)",
            None,
            {"/data/members/mname", "/data/members"},
        ),
        ("today()", None, set()),
        ("//kname", None, set()),
    ],
)
def test_references(source, context, expected):
    assert references(source, context) == expected


def test_references_of_a_bad_expression_raise():
    with pytest.raises(ExpressionError):
        references("/data/a >")


# --------------------------------------------------------------------------------------------------
# Speed, as information only (benchmarks live in benchmarks/).


def test_timing_information(household, capsys):
    cases = [
        ("relevant", "selected( /data/needs , 'other')", "needs_other"),
        ("constraint", ". >= 0 and . < 130", "age"),
        ("repeat", " ../mname  != ''", "members[2]/mage"),
        ("dates", "int((today() - /data/dob) div 365.25)", "years"),
        (
            "cascade",
            "instance('cities')/root/item[state= current()/../state  and country= /data/country ]",
            "members[1]/city",
        ),
    ]
    lines = []
    for label, source, node in cases:
        expression = compile_expression(source)
        element = at(household.root, node)
        ctx = EvalContext(root=household.root, node=element, instances=household.instances, today=TODAY)
        expression.evaluate(ctx)
        rounds = 2000
        started = time.perf_counter()
        for _ in range(rounds):
            expression.evaluate(ctx)
        lines.append(f"{label}: {(time.perf_counter() - started) / rounds * 1e6:.1f} µs")
    with capsys.disabled():
        print("\nxpath evaluation:", "; ".join(lines))
    assert len(lines) == len(cases)
