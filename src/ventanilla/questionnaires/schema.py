"""A form's structure, read back from the XForm that pyxform writes.

Why the XForm and not pyxform's internal dictionary: the XForm is the contract ODK Collect, KoboCollect
and Enketo execute. pyxform has already resolved `${name}` references into absolute or repeat-relative
paths, expanded `or_other`, written the itemsets for cascades and the translations. Reading that output
means a rule behaves on our server exactly as it does on a phone, and OpenRosa submissions (which are
instances of the same XForm) fit the same tree without translation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from xml.etree import ElementTree as ET

from defusedxml.ElementTree import fromstring

XF = "http://www.w3.org/2002/xforms"
H = "http://www.w3.org/1999/xhtml"
JR = "http://openrosa.org/javarosa"
ODK = "http://www.opendatakit.org/xforms"
NS = {"xf": XF, "h": H, "jr": JR, "odk": ODK}

DEFAULT_LANGUAGE = "default"
_LANG_CODE = re.compile(r"\(([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]+)?)\)\s*$")
_ITEXT_REF = re.compile(r"""^jr:itext\(\s*['"](?P<id>[^'"]+)['"]\s*\)$""")

# XForm bind types → the kinds of value the engine checks.
INPUT_KINDS = {"input", "select1", "select", "trigger", "upload", "range", "rank"}


def language_code(name: str) -> str:
    """`English (en)` → `en`; a language column without a code keeps its name (`default` stays)."""
    match = _LANG_CODE.search(name)
    return match.group(1).lower().replace("_", "-") if match else name


Texts = dict[str, str]  # language code → text


@dataclass
class Choice:
    value: str
    labels: Texts
    # Other columns of the choices sheet, used by `choice_filter` (for example `country` for a city).
    extra: dict[str, str] = field(default_factory=dict)


@dataclass
class Node:
    """One question, group or repeat, in form order."""

    path: str  # /data/group/question — the instance path
    name: str
    kind: str  # input, select1, select, trigger, group, repeat, calculate (no body), hidden
    data_type: str = "string"  # the bind type: string, int, decimal, date, dateTime, geopoint, ...
    labels: Texts = field(default_factory=dict)
    hints: Texts = field(default_factory=dict)
    relevant: str | None = None
    constraint: str | None = None
    constraint_messages: Texts = field(default_factory=dict)
    calculate: str | None = None
    required: str | None = None
    required_messages: Texts = field(default_factory=dict)
    readonly: str | None = None
    appearance: str = ""
    itemset: str | None = None  # the nodeset expression of a select's choices
    list_name: str | None = None
    inline_choices: list[Choice] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)
    default: str = ""  # the instance's initial text (the XLSForm `default` column)

    @property
    def is_question(self) -> bool:
        """Something a person answers (notes and calculations are not)."""
        return self.kind in INPUT_KINDS and not self.is_note

    @property
    def is_note(self) -> bool:
        """A note is a read-only input with no value; a read-only question with a default shows it."""
        return (
            self.kind == "input"
            and self.readonly is not None
            and self.calculate is None
            and not self.default
            and bool(re.fullmatch(r"\s*true\(\)\s*", self.readonly))
        )

    @property
    def is_container(self) -> bool:
        return self.kind in {"group", "repeat"}

    def walk(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.walk()


@dataclass
class FormSchema:
    form_id: str
    version: str
    title: str
    root_name: str
    languages: list[str]  # codes, default language first
    default_language: str
    root: Node
    instance_xml: str  # the main instance, template included, as pyxform wrote it
    secondary: dict[str, str]  # instance id → XML (choice lists)
    choices: dict[str, list[Choice]]
    by_path: dict[str, Node] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_path = {node.path: node for node in self.root.walk()}

    @property
    def nodes(self) -> Iterator[Node]:
        return self.root.walk()

    def node_named(self, name: str) -> Node | None:
        for node in self.root.walk():
            if node.name == name:
                return node
        return None

    def text(self, texts: Texts, language: str) -> str:
        """A label in `language`, falling back to the form's default language, then to any."""
        for code in (language, self.default_language, DEFAULT_LANGUAGE):
            if texts.get(code):
                return texts[code]
        return next((t for t in texts.values() if t), "")


class SchemaError(ValueError):
    pass


def parse_xform(xform: str) -> FormSchema:
    """Read an XForm (as pyxform writes it) into the engine's tree."""
    doc = fromstring(xform.encode())
    head = doc.find("h:head", NS)
    body = doc.find("h:body", NS)
    if head is None or body is None:
        raise SchemaError("Not an XForm: no head or body.")
    model = head.find("xf:model", NS)
    if model is None:
        raise SchemaError("Not an XForm: no model.")
    title_el = head.find("h:title", NS)
    itext, languages, default_language = _read_itext(model)
    instances = model.findall("xf:instance", NS)
    main = next((i for i in instances if not i.get("id")), None)
    if main is None or len(main) == 0:
        raise SchemaError("Not an XForm: no main instance.")
    data = main[0]
    binds = {b.get("nodeset", ""): b for b in model.findall("xf:bind", NS)}
    choices: dict[str, list[Choice]] = {}
    secondary: dict[str, str] = {}
    for inst in instances:
        inst_id = inst.get("id")
        if not inst_id or len(inst) == 0:
            continue
        secondary[inst_id] = ET.tostring(_strip_ns(inst[0]), encoding="unicode")
        choices[inst_id] = [_read_item(item, itext) for item in inst[0].findall("xf:item", NS)]

    root_path = "/" + _local(data.tag)
    root = Node(path=root_path, name=_local(data.tag), kind="group")
    body_by_ref = _index_body(body)
    _build(data, root_path, root, binds, body_by_ref, itext)
    return FormSchema(
        form_id=data.get("id", ""),
        version=data.get("version", ""),
        title=title_el.text or "" if title_el is not None else "",
        root_name=_local(data.tag),
        languages=languages,
        default_language=default_language,
        root=root,
        instance_xml=ET.tostring(_strip_ns(data), encoding="unicode"),
        secondary=secondary,
        choices=choices,
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _strip_ns(element: ET.Element) -> ET.Element:
    """A copy without the XForms namespace, so expressions like `/data/q` match plain tags."""
    copy = ET.Element(_local(element.tag), {_attr_name(k): v for k, v in element.attrib.items()})
    copy.text = element.text
    for child in element:
        copy.append(_strip_ns(child))
    return copy


def _attr_name(key: str) -> str:
    if key == f"{{{JR}}}template":
        return "template"
    return _local(key)


def _read_itext(model: ET.Element) -> tuple[dict[str, Texts], list[str], str]:
    """Translations: text id → {language code: text} (the default form of each, not audio or image)."""
    texts: dict[str, Texts] = {}
    languages: list[str] = []
    default = ""
    itext = model.find("xf:itext", NS)
    if itext is None:
        return texts, [DEFAULT_LANGUAGE], DEFAULT_LANGUAGE
    for translation in itext.findall("xf:translation", NS):
        code = language_code(translation.get("lang", DEFAULT_LANGUAGE))
        languages.append(code)
        if translation.get("default") in {"true()", "true"}:
            default = code
        for text in translation.findall("xf:text", NS):
            values = [v for v in text.findall("xf:value", NS) if v.get("form") is None]
            if values:
                content = "".join(values[0].itertext()).strip()
                if content and content != "-":  # pyxform writes "-" where a language has no text
                    texts.setdefault(text.get("id", ""), {})[code] = content
    default = default or (languages[0] if languages else DEFAULT_LANGUAGE)
    languages.sort(key=lambda code: code != default)
    return texts, languages, default


def _texts(element: ET.Element | None, itext: dict[str, Texts]) -> Texts:
    """A <label> or <hint>: either a jr:itext reference or inline text."""
    if element is None:
        return {}
    ref = element.get("ref")
    if ref:
        match = _ITEXT_REF.match(ref.strip())
        return dict(itext.get(match.group("id"), {})) if match else {}
    content = "".join(element.itertext()).strip()
    return {DEFAULT_LANGUAGE: content} if content else {}


def _message(value: str | None, itext: dict[str, Texts]) -> Texts:
    if not value:
        return {}
    match = _ITEXT_REF.match(value.strip())
    if match:
        return dict(itext.get(match.group("id"), {}))
    return {DEFAULT_LANGUAGE: value}


def _read_item(item: ET.Element, itext: dict[str, Texts]) -> Choice:
    value = ""
    labels: Texts = {}
    extra: dict[str, str] = {}
    for field_el in item:
        tag = _local(field_el.tag)
        content = field_el.text or ""
        if tag == "name":
            value = content
        elif tag == "itextId":
            labels = dict(itext.get(content, {}))
        elif tag == "label":
            labels = {DEFAULT_LANGUAGE: content}
        else:
            extra[tag] = content
    return Choice(value=value, labels=labels, extra=extra)


def _index_body(body: ET.Element) -> dict[str, ET.Element]:
    """Body controls by the instance path they answer (groups and repeats included)."""
    found: dict[str, ET.Element] = {}
    for element in body.iter():
        tag = _local(element.tag)
        ref = element.get("nodeset") if tag == "repeat" else element.get("ref")
        if ref and tag in INPUT_KINDS | {"group", "repeat"}:
            # A repeat sits inside a group with the same ref: the repeat wins, the group keeps the label.
            if tag == "repeat" and ref in found:
                found[ref + "#group"] = found[ref]
            if tag == "repeat" or ref not in found:
                found[ref] = element
    return found


def _build(
    element: ET.Element,
    path: str,
    parent: Node,
    binds: dict[str, ET.Element],
    body: dict[str, ET.Element],
    itext: dict[str, Texts],
) -> None:
    seen: set[str] = set()
    for child in element:
        name = _local(child.tag)
        child_path = f"{path}/{name}"
        if child_path in seen:  # the template and the first repeat instance share a path
            continue
        seen.add(child_path)
        if name == "meta" and path == parent.path and parent.path.count("/") == 1:
            continue
        control = body.get(child_path)
        bind = binds.get(child_path)
        kind = _local(control.tag) if control is not None else ("calculate" if bind is not None else "hidden")
        if control is not None and kind == "group" and len(child) == 0:
            kind = "hidden"
        node = Node(
            path=child_path,
            name=name,
            kind=kind,
            default=(child.text or "").strip() if len(child) == 0 else "",
        )
        if bind is not None:
            node.data_type = bind.get("type", "string")
            node.relevant = bind.get("relevant")
            node.constraint = bind.get("constraint")
            node.calculate = bind.get("calculate")
            node.required = bind.get("required")
            node.readonly = bind.get("readonly")
            node.constraint_messages = _message(bind.get(f"{{{JR}}}constraintMsg"), itext)
            node.required_messages = _message(bind.get(f"{{{JR}}}requiredMsg"), itext)
        if control is not None:
            node.labels = _texts(control.find("xf:label", NS), itext)
            node.hints = _texts(control.find("xf:hint", NS), itext)
            node.appearance = control.get("appearance", "")
            if kind == "repeat":
                group_el = _group_around(body, child_path)
                if group_el is not None:
                    node.labels = node.labels or _texts(group_el.find("xf:label", NS), itext)
            itemset = control.find("xf:itemset", NS)
            if itemset is not None:
                node.itemset = itemset.get("nodeset")
                inst = re.match(r"""\s*instance\(\s*['"]([^'"]+)['"]\s*\)""", node.itemset or "")
                node.list_name = inst.group(1) if inst else None
            for item in control.findall("xf:item", NS):
                value_el = item.find("xf:value", NS)
                node.inline_choices.append(
                    Choice(
                        value=(value_el.text or "") if value_el is not None else "",
                        labels=_texts(item.find("xf:label", NS), itext),
                    )
                )
        if node.kind in {"group", "repeat"}:
            _build(child, child_path, node, binds, body, itext)
        parent.children.append(node)


def _group_around(body: dict[str, ET.Element], path: str) -> ET.Element | None:
    return body.get(path + "#group")


def describe(schema: FormSchema) -> dict[str, Any]:
    """A JSON-able outline of the form, for the API and for people reading a version."""

    def outline(node: Node) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": node.name,
            "path": node.path,
            "kind": node.kind,
            "type": node.data_type,
        }
        if node.labels:
            entry["labels"] = node.labels
        for attr in ("relevant", "constraint", "calculate", "required", "itemset"):
            if getattr(node, attr):
                entry[attr] = getattr(node, attr)
        if node.children:
            entry["children"] = [outline(c) for c in node.children]
        return entry

    return {
        "form_id": schema.form_id,
        "version": schema.version,
        "title": schema.title,
        "languages": schema.languages,
        "questions": [outline(c) for c in schema.root.children],
    }
