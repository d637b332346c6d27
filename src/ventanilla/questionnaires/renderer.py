"""The staff web renderer: one page per group, plain HTML forms, htmx when it is there.

The state of a form being filled travels in the page itself (a hidden JSON field with the answers
given so far), so the renderer needs no draft table and works the same with or without JavaScript:
each post merges the inputs of the page shown into those answers and asks the engine again what is
relevant, which choices a cascade allows and what is wrong. Nothing is stored until the caller decides.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from ventanilla.questionnaires import engine
from ventanilla.questionnaires.schema import FormSchema, Node

_KEY_PART = re.compile(r"^(?P<name>[A-Za-z_][\w.-]*?)(?:\[(?P<index>\d+)\])?$")
MAX_ANSWERS_BYTES = 512 * 1024
RTL_LANGUAGES = {"ar", "fa", "he", "ur", "ps", "ckb"}


@dataclass
class Item:
    """What the template needs to draw one question, group or repeat."""

    kind: str
    key: str
    label: str = ""
    hint: str = ""
    widget: str = ""
    value: str = ""
    values: list[str] = field(default_factory=list)
    choices: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""
    required: bool = False
    readonly: bool = False
    children: list[Item] = field(default_factory=list)
    instances: list[Item] = field(default_factory=list)  # for a repeat: one group Item per entry
    can_add: bool = False


@dataclass
class Page:
    index: int
    count: int
    title: str
    items: list[Item]
    errors: int


WIDGETS = {
    "int": "number",
    "decimal": "decimal",
    "date": "date",
    "dateTime": "datetime-local",
    "time": "time",
    "geopoint": "geopoint",
}


def pages(schema: FormSchema) -> list[Node]:
    return list(engine.iter_pages(schema))


def parse_answers(raw: str) -> dict[str, Any]:
    """The hidden answers field, distrusted: any shape other than a JSON object is an empty form."""
    if not raw or len(raw.encode()) > MAX_ANSWERS_BYTES:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def dump_answers(answers: Mapping[str, Any]) -> str:
    return json.dumps(answers, ensure_ascii=False, separators=(",", ":"))


def _container(answers: dict[str, Any], key: str, create: bool = True) -> tuple[dict[str, Any], str] | None:
    """Where the answer for `key` (`leg[2].place`) lives in the nested answers, and its name."""
    parts = key.split(".")
    current = answers
    for part in parts[:-1]:
        match = _KEY_PART.match(part)
        if not match or match.group("index") is None:
            return None
        entries = (
            current.setdefault(match.group("name"), []) if create else current.get(match.group("name"), [])
        )
        if not isinstance(entries, list):
            return None
        index = int(match.group("index")) - 1
        if index >= engine.MAX_REPEATS:
            return None
        while create and len(entries) <= index:
            entries.append({})
        if index >= len(entries) or not isinstance(entries[index], dict):
            return None
        current = entries[index]
    return current, parts[-1]


def apply_post(schema: FormSchema, page: Node, answers: dict[str, Any], data: QueryDict) -> dict[str, Any]:
    """Merge the inputs shown on `page` into `answers` (an unticked box sends nothing: it is cleared)."""
    state = engine.evaluate(schema, answers, check=False)
    for field_state in state.fields:
        node = field_state.node
        # Hidden questions too: an answer on this page may have just made them relevant (and the
        # engine clears whatever stays hidden).
        if not _on_page(node, page) or not node.is_question or field_state.readonly:
            continue
        target = _container(answers, field_state.key)
        if target is None:
            continue
        container, name = target
        if node.kind == "select":
            value = " ".join(v.strip() for v in data.getlist(field_state.key) if v.strip())
        else:
            value = (data.get(field_state.key) or "").strip()
            if node.data_type == "dateTime" and value and len(value) == 16:
                value += ":00"
        if value:
            container[name] = value
        else:
            container.pop(name, None)
    return answers


def add_repeat(schema: FormSchema, answers: dict[str, Any], key: str) -> dict[str, Any]:
    """Append an entry to the repeat named by `key` (`leg`, or `leg[1].stop` for a nested one)."""
    node = _repeat_node(schema, key)
    if node is None:
        return answers
    parent_key, _dot, name = key.rpartition(".")
    if parent_key:
        target = _container(answers, f"{parent_key}.{name}")
        if target is None:
            return answers
        container = target[0]
    else:
        container = answers
    entries = container.setdefault(name, [])
    if isinstance(entries, list) and len(entries) < engine.MAX_REPEATS:
        entries.append(engine.new_repeat_entry(schema, node))
    return answers


def remove_repeat(answers: dict[str, Any], key: str) -> dict[str, Any]:
    """Remove the entry `leg[2]` (or `leg[1].stop[3]`)."""
    target = _container(answers, f"{key}.x", create=False)
    match = _KEY_PART.match(key.rpartition(".")[2])
    if target is None or not match or match.group("index") is None:
        return answers
    parent_key = key.rpartition(".")[0]
    if parent_key:
        holder = _container(answers, f"{parent_key}.x", create=False)
        if holder is None:
            return answers
        container = holder[0]
    else:
        container = answers
    entries = container.get(match.group("name"))
    index = int(match.group("index")) - 1
    if isinstance(entries, list) and 0 <= index < len(entries):
        entries.pop(index)
    return answers


def _repeat_node(schema: FormSchema, key: str) -> Node | None:
    name = key.rpartition(".")[2]
    node = schema.node_named(name)
    return node if node is not None and node.kind == "repeat" else None


def _on_page(node: Node, page: Node) -> bool:
    if page.name:
        return node.path == page.path or node.path.startswith(page.path + "/")
    return any(node.path == child.path or node.path.startswith(child.path + "/") for child in page.children)


def page_errors(state: engine.FormState, page: Node) -> dict[str, str]:
    return {f.key: f.error for f in state.fields if f.error and _on_page(f.node, page)}


def first_page_with_error(state: engine.FormState, all_pages: list[Node]) -> int | None:
    for index, page in enumerate(all_pages):
        if page_errors(state, page):
            return index
    return None


def page_is_relevant(state: engine.FormState, page: Node) -> bool:
    """A page is skipped when nothing on it is shown (its group is not relevant)."""
    return any(
        f.relevant and _on_page(f.node, page) and f.node.kind not in {"calculate", "hidden"}
        for f in state.fields
    ) or any(r.relevant and r.can_add and _on_page(r.node, page) for r in state.repeats)


def build_page(state: engine.FormState, all_pages: list[Node], index: int, *, show_errors: bool) -> Page:
    """The items of page `index`, with the engine's verdicts (errors only when asked: not while typing)."""
    schema = state.schema
    language = state.language
    page = all_pages[index]
    fields = {f.key: f for f in state.fields}
    repeats = {r.key: r for r in state.repeats}

    def items_for(node: Node, prefix: str) -> list[Item]:
        built: list[Item] = []
        for child in node.children:
            if child.kind == "repeat":
                key = f"{prefix}{child.name}"
                repeat_state = repeats.get(key)
                if repeat_state is None or not repeat_state.relevant:
                    continue
                item = Item(
                    kind="repeat",
                    key=key,
                    label=schema.text(child.labels, language),
                    can_add=repeat_state.can_add,
                )
                for number in range(1, repeat_state.count + 1):
                    entry_key = f"{key}[{number}]"
                    if not state.group_relevance.get(entry_key, True):
                        continue
                    item.instances.append(
                        Item(
                            kind="entry",
                            key=entry_key,
                            label=f"{number}",
                            children=items_for(child, entry_key + "."),
                        )
                    )
                built.append(item)
            elif child.kind == "group":
                if not state.group_relevance.get(f"{prefix}{child.name}", True):
                    continue
                built.append(
                    Item(
                        kind="group",
                        key=f"{prefix}{child.name}",
                        label=schema.text(child.labels, language),
                        hint=schema.text(child.hints, language),
                        children=items_for(child, prefix),
                    )
                )
            elif child.kind not in {"calculate", "hidden"}:
                field_state = fields.get(f"{prefix}{child.name}")
                if field_state is None or not field_state.relevant:
                    continue
                built.append(_question_item(schema, language, field_state, show_errors))
        return built

    if page.name and page.kind == "repeat":
        items = items_for(
            Node(path=page.path.rpartition("/")[0], name="", kind="group", children=[page]), _page_prefix()
        )
    elif page.name:
        items = items_for(page, "")
    else:
        items = items_for(page, "")
    title = schema.text(page.labels, language) if page.name else ""
    errors = len(page_errors(state, page)) if show_errors else 0
    return Page(index=index, count=len(all_pages), title=title, items=items, errors=errors)


def _page_prefix() -> str:
    return ""


def _question_item(
    schema: FormSchema, language: str, field_state: engine.FieldState, show_errors: bool
) -> Item:
    node = field_state.node
    if node.is_note:
        widget = "note"
    elif node.kind == "select1":
        widget = "select" if len(field_state.choices) > 12 or "minimal" in node.appearance else "radio"
    elif node.kind == "select":
        widget = "checkbox"
    elif node.kind == "trigger":
        widget = "acknowledge"
    else:
        widget = WIDGETS.get(node.data_type, "textarea" if "multiline" in node.appearance else "text")
    return Item(
        kind="question",
        key=field_state.key,
        label=schema.text(node.labels, language) or node.name,
        hint=schema.text(node.hints, language),
        widget=widget,
        value=field_state.value,
        values=field_state.values,
        choices=[(c.value, schema.text(c.labels, language) or c.value) for c in field_state.choices],
        error=field_state.error if show_errors else "",
        required=field_state.required,
        readonly=field_state.readonly,
    )


def form_language(schema: FormSchema, requested: str | None = None) -> str:
    """The form's language for this person: the one asked for, else the interface's, else the form's."""
    for code in (requested, get_language()):
        if code and code in schema.languages:
            return code
        if code and code.split("-")[0] in schema.languages:
            return code.split("-")[0]
    return schema.default_language


def direction(language: str) -> str:
    return "rtl" if language.split("-")[0] in RTL_LANGUAGES else "ltr"


def language_choices(schema: FormSchema) -> list[tuple[str, str]]:
    from babel import Locale

    choices = []
    for code in schema.languages:
        try:
            name = Locale.parse(code.replace("-", "_")).get_display_name(code.replace("-", "_")) or code
        except (ValueError, TypeError, Exception):  # babel raises its own UnknownLocaleError
            name = code if code != "default" else _("Default")
        choices.append((code, name))
    return choices
