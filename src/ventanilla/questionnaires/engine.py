"""Run a form's rules over a set of answers: calculations, skip logic, cascades, required and constraints.

One function, `evaluate`, serves the web renderer (what to show, which choices to offer) and the
acceptance of a submission from any channel (web, OpenRosa, API), so an answer the form forbids can
never be stored: the renderer and the validator cannot drift apart because they are the same code.

Answers travel as a plain dictionary keyed by question name (groups are flattened, as XLSForm names
are unique in a form); a repeat is a list of such dictionaries. Values are the strings an XForm instance
holds: a multiple choice is space-separated, a date is `YYYY-MM-DD`, a number is its decimal text.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from xml.etree import ElementTree as ET

from django.utils import translation
from django.utils.translation import gettext as _

from ventanilla.questionnaires import xpath
from ventanilla.questionnaires.schema import Choice, FormSchema, Node

Answers = dict[str, Any]
MAX_TEXT_LENGTH = 10_000
MAX_REPEATS = 200
_PASSES = 5  # calculations and relevance settle in a couple of passes; a cycle stops here

_INT = re.compile(r"[-+]?\d{1,18}")
_DECIMAL = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")
_TIME = re.compile(r"\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?")


@dataclass
class FieldState:
    """One question (or note, or calculation) as it stands for one set of answers."""

    node: Node
    element: ET.Element
    key: str  # `age`, or `leg[2].place` inside a repeat: the name a web form and an error use
    depth: int  # how many repeats enclose it
    relevant: bool = True
    required: bool = False
    readonly: bool = False
    error: str = ""
    choices: list[Choice] = field(default_factory=list)

    @property
    def value(self) -> str:
        return self.element.text or ""

    @property
    def values(self) -> list[str]:
        return self.value.split()


@dataclass
class RepeatState:
    node: Node
    key: str  # `leg` or `leg[1].stop`
    count: int
    relevant: bool = True
    can_add: bool = True  # the repeat's own `relevant` holds for a new entry


@dataclass
class FormState:
    schema: FormSchema
    language: str
    root: ET.Element
    fields: list[FieldState]
    repeats: list[RepeatState]
    group_relevance: dict[str, bool]  # key of each group instance → shown or not

    @property
    def errors(self) -> dict[str, str]:
        return {f.key: f.error for f in self.fields if f.error}

    @property
    def is_valid(self) -> bool:
        return not any(f.error for f in self.fields)

    def field(self, key: str) -> FieldState | None:
        return next((f for f in self.fields if f.key == key), None)

    def answers(self) -> Answers:
        """The answers as they will be stored: non-relevant ones removed, calculations included."""
        return read_answers(self.schema, self.root)


# ---------------------------------------------------------------------------------------------- instance


def build_instance(schema: FormSchema, answers: Mapping[str, Any]) -> ET.Element:
    """An XForm instance tree for `answers` (missing answers are empty)."""
    root = ET.Element(
        schema.root_name, {"id": schema.form_id, **({"version": schema.version} if schema.version else {})}
    )
    _fill(schema.root, root, answers)
    meta = ET.SubElement(root, "meta")
    ET.SubElement(meta, "instanceID").text = str(answers.get("instanceID", "") or "")
    return root


def _fill(node: Node, element: ET.Element, values: Mapping[str, Any]) -> None:
    for child in node.children:
        if child.kind == "repeat":
            entries = values.get(child.name) or []
            if not isinstance(entries, list):
                entries = []
            for entry in entries[:MAX_REPEATS]:
                _fill(child, ET.SubElement(element, child.name), entry if isinstance(entry, Mapping) else {})
        elif child.kind == "group":
            _fill(child, ET.SubElement(element, child.name), values)
        else:
            ET.SubElement(element, child.name).text = _as_text(values.get(child.name))


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip() if not isinstance(value, str) else value


def instance_from_xml(schema: FormSchema, root: ET.Element) -> Answers:
    """Answers from a submitted instance (OpenRosa): elements the form does not know are ignored."""
    return read_answers(schema, _strip(root))


def _strip(element: ET.Element) -> ET.Element:
    copy = ET.Element(element.tag.rsplit("}", 1)[-1], dict(element.attrib))
    copy.text = element.text
    for child in element:
        copy.append(_strip(child))
    return copy


def read_answers(schema: FormSchema, root: ET.Element) -> Answers:
    answers: Answers = {}
    _read(schema.root, root, answers)
    meta = root.find("meta/instanceID")
    if meta is not None and meta.text:
        answers["instanceID"] = meta.text
    return answers


def _read(node: Node, element: ET.Element, into: Answers) -> None:
    for child in node.children:
        found = element.findall(child.name)
        if child.kind == "repeat":
            into[child.name] = []
            for item in found[:MAX_REPEATS]:
                if item.get("template") is not None:
                    continue
                entry: Answers = {}
                _read(child, item, entry)
                into[child.name].append(entry)
        elif child.kind == "group":
            if found:
                _read(child, found[0], into)
        elif found and (found[0].text or "").strip():
            into[child.name] = (found[0].text or "").strip()


def initial_answers(schema: FormSchema) -> Answers:
    """The form's defaults (the `default` column) for a new, empty submission."""
    answers: Answers = {}

    def visit(node: Node, into: Answers) -> None:
        for child in node.children:
            if child.kind == "group":
                visit(child, into)
            elif child.kind != "repeat" and child.default:
                into[child.name] = child.default

    visit(schema.root, answers)
    return answers


def new_repeat_entry(schema: FormSchema, repeat: Node) -> Answers:
    entry: Answers = {}
    for child in repeat.walk():
        if child is not repeat and child.kind not in {"group", "repeat"} and child.default:
            entry[child.name] = child.default
    return entry


# -------------------------------------------------------------------------------------------- evaluation


@lru_cache(maxsize=256)
def _secondary_instances(schema_key: int, items: tuple[tuple[str, str], ...]) -> dict[str, ET.Element]:
    # The XML is our own (re-serialised from a form pyxform wrote and defusedxml parsed).
    return {name: ET.fromstring(xml) for name, xml in items}  # noqa: S314


def secondary_instances(schema: FormSchema) -> dict[str, ET.Element]:
    return _secondary_instances(id(schema), tuple(sorted(schema.secondary.items())))


def evaluate(
    schema: FormSchema,
    answers: Mapping[str, Any],
    *,
    language: str = "",
    today: datetime.date | None = None,
    check: bool = True,
) -> FormState:
    """Apply every rule of the form to `answers`.

    With `check`, required answers, constraints, types and choices are verified and each failure is a
    message in `language` (the form's own message when it has one). Without it (rendering a page that
    is still being filled), only calculations, relevance and choice lists are worked out.
    """
    language = language or schema.default_language
    root = build_instance(schema, answers)
    instances = secondary_instances(schema)
    context = _Context(schema, root, instances, language, today or datetime.date.today())
    fields: list[FieldState] = []
    repeats: list[RepeatState] = []
    groups: dict[str, bool] = {}
    # Calculations settle first; only then are hidden answers cleared, so a rule that reads a
    # calculation written further down the form never wipes an answer on a half-computed pass.
    for _round in range(_PASSES):
        for _pass in range(_PASSES):
            fields, repeats, groups = [], [], {}
            if not _walk(schema.root, root, "", 0, True, context, fields, repeats, groups, clear=False):
                break
        fields, repeats, groups = [], [], {}
        if not _walk(schema.root, root, "", 0, True, context, fields, repeats, groups, clear=True):
            break
    for state in fields:
        if state.relevant and state.node.kind in {"select1", "select"}:
            state.choices = context.choices(state)
    if check:
        with translation.override(language):
            for state in fields:
                state.error = _check(state, context)
    return FormState(schema, language, root, fields, repeats, groups)


class _Context:
    def __init__(
        self,
        schema: FormSchema,
        root: ET.Element,
        instances: dict[str, ET.Element],
        language: str,
        today: datetime.date,
    ):
        self.schema = schema
        self.root = root
        self.instances = instances
        self.language = language
        self.today = today
        self.now = datetime.datetime.now(datetime.UTC)

    def context(self, element: ET.Element, current: ET.Element | None = None) -> xpath.EvalContext:
        return xpath.EvalContext(
            root=self.root,
            node=element,
            current=current or element,
            instances=self.instances,
            today=self.today,
            now=self.now,
            choice_label=self.choice_label,
        )

    def choice_label(self, value: str, path: str) -> str:
        node = self.schema.by_path.get(path.strip())
        if node is None:
            return value
        for choice in self._all_choices(node):
            if choice.value == value:
                return self.schema.text(choice.labels, self.language) or value
        return value

    def _all_choices(self, node: Node) -> list[Choice]:
        if node.list_name:
            return self.schema.choices.get(node.list_name, [])
        return node.inline_choices

    def choices(self, state: FieldState) -> list[Choice]:
        node = state.node
        if not node.itemset or "[" not in node.itemset:
            return self._all_choices(node)
        items = xpath.compile_expression(node.itemset).nodes(self.context(state.element))
        allowed = {(item.findtext("name") or "") for item in items}
        return [c for c in self._all_choices(node) if c.value in allowed]

    def boolean(self, expression: str | None, element: ET.Element, default: bool) -> bool:
        if not expression:
            return default
        return xpath.compile_expression(expression).boolean(self.context(element))

    def string(self, expression: str, element: ET.Element) -> str:
        value = xpath.compile_expression(expression).evaluate(self.context(element))
        return _xpath_text(value)


def _xpath_text(value: object) -> str:
    """A calculation's result as the text an instance stores (JavaRosa prints whole numbers bare)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return ""
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, list):
        if not value:
            return ""
        first = value[0]
        return (first.text or "") if isinstance(first, ET.Element) else str(first)
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _walk(
    node: Node,
    element: ET.Element,
    prefix: str,
    depth: int,
    parent_relevant: bool,
    context: _Context,
    fields: list[FieldState],
    repeats: list[RepeatState],
    groups: dict[str, bool],
    *,
    clear: bool,
) -> bool:
    """One pass in document order; returns whether any value changed (a calculation or a cleared answer)."""
    changed = False
    for child in node.children:
        elements = element.findall(child.name)
        if child.kind == "repeat":
            key = f"{prefix}{child.name}"
            repeats.append(
                RepeatState(child, key, len(elements), parent_relevant, _may_add(child, element, context))
            )
            for index, item in enumerate(elements, start=1):
                relevant = parent_relevant and context.boolean(child.relevant, item, True)
                item_prefix = f"{key}[{index}]."
                groups[f"{key}[{index}]"] = relevant
                changed |= _walk(
                    child,
                    item,
                    item_prefix,
                    depth + 1,
                    relevant,
                    context,
                    fields,
                    repeats,
                    groups,
                    clear=clear,
                )
            continue
        if not elements:
            continue
        target = elements[0]
        relevant = parent_relevant and context.boolean(child.relevant, target, True)
        if child.kind == "group":
            groups[f"{prefix}{child.name}"] = relevant
            changed |= _walk(
                child, target, prefix, depth, relevant, context, fields, repeats, groups, clear=clear
            )
            continue
        state = FieldState(child, target, f"{prefix}{child.name}", depth, relevant=relevant)
        if relevant:
            if child.calculate:
                value = context.string(child.calculate, target)
                if value != (target.text or ""):
                    target.text = value
                    changed = True
            state.required = context.boolean(child.required, target, False)
            state.readonly = context.boolean(child.readonly, target, False)
        elif clear and target.text:
            target.text = ""  # a hidden question keeps no answer: ODK clears it on submission too
            changed = True
        fields.append(state)
    return changed


def _may_add(repeat: Node, parent: ET.Element, context: _Context) -> bool:
    """Whether an entry added now would be shown: its `relevant` is tried on a blank entry at the end."""
    if not repeat.relevant:
        return True
    probe = ET.SubElement(parent, repeat.name)
    try:
        return context.boolean(repeat.relevant, probe, True)
    finally:
        parent.remove(probe)


def _check(state: FieldState, context: _Context) -> str:
    node = state.node
    if not state.relevant or node.kind in {"calculate", "hidden"} or state.node.is_note:
        return ""
    schema = context.schema
    value = state.value.strip()
    if not value:
        if state.required:
            return schema.text(node.required_messages, context.language) or _(
                "This question needs an answer."
            )
        return ""
    problem = _type_problem(node, value, state)
    if problem:
        return problem
    if node.constraint and not context.boolean(node.constraint, state.element, True):
        return schema.text(node.constraint_messages, context.language) or _(
            "This answer is not allowed here."
        )
    return ""


def _type_problem(node: Node, value: str, state: FieldState) -> str:
    if len(value) > MAX_TEXT_LENGTH:
        return _("This answer is too long (at most %(max)s characters).") % {"max": MAX_TEXT_LENGTH}
    kind = node.data_type
    if node.kind == "select1":
        if value not in {c.value for c in state.choices}:
            return _("Choose one of the options offered.")
        return ""
    if node.kind == "select":
        chosen = value.split()
        if len(set(chosen)) != len(chosen) or not set(chosen) <= {c.value for c in state.choices}:
            return _("Choose only among the options offered.")
        return ""
    if kind == "int" and not _INT.fullmatch(value):
        return _("Enter a whole number.")
    if kind == "decimal" and (not _DECIMAL.fullmatch(value) or not math.isfinite(float(value))):
        return _("Enter a number.")
    if kind == "date" and not _is_date(value):
        return _("Enter a date as year-month-day, for example 2026-03-31.")
    if kind == "dateTime" and not _is_datetime(value):
        return _("Enter a date and time.")
    if kind == "time" and not _TIME.fullmatch(value):
        return _("Enter a time as hours:minutes.")
    if kind == "geopoint" and not _is_geopoint(value):
        return _("Enter a position as latitude and longitude.")
    return ""


def _is_date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


def _is_datetime(value: str) -> bool:
    try:
        datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _is_geopoint(value: str) -> bool:
    parts = value.split()
    if not 2 <= len(parts) <= 4:
        return False
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        return False
    return -90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180 and all(math.isfinite(n) for n in numbers)


def iter_pages(schema: FormSchema) -> Iterator[Node]:
    """The web renderer's pages: each top-level group or repeat; loose top-level questions share pages."""
    loose: list[Node] = []
    for child in schema.root.children:
        if child.is_container:
            if loose:
                yield Node(path=schema.root.path, name="", kind="group", children=loose)
                loose = []
            yield child
        elif child.kind not in {"calculate", "hidden"}:
            loose.append(child)
    if loose:
        yield Node(path=schema.root.path, name="", kind="group", children=loose)


def holds(state: FormState, expression: str, *, today: datetime.date | None = None) -> bool:
    """Whether an expression over the whole form (for example a screening rule) is true for these answers."""
    context = _Context(
        state.schema,
        state.root,
        secondary_instances(state.schema),
        state.language,
        today or datetime.date.today(),
    )
    return context.boolean(expression, state.root, False)


_REFERENCE = re.compile(r"\$\{([A-Za-z_][\w.-]*)\}")


def resolve_references(schema: FormSchema, expression: str) -> str:
    """`${name}` → the question's instance path, as pyxform does; an unknown name reads as empty."""

    def replace(match: re.Match[str]) -> str:
        node = schema.node_named(match.group(1))
        return f" {node.path} " if node is not None else " '' "

    return _REFERENCE.sub(replace, expression)


def references(expression: str) -> set[str]:
    return set(_REFERENCE.findall(expression))
