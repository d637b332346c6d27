"""Answers in words: each question's label and the chosen options' labels, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ventanilla.questionnaires.schema import Choice, FormSchema, Node


@dataclass
class Line:
    kind: str  # "answer", "group" (a heading) or "entry" (one entry of a repeat)
    label: str
    value: str = ""
    depth: int = 0
    name: str = ""


def _choices(schema: FormSchema, node: Node) -> dict[str, Choice]:
    source = schema.choices.get(node.list_name or "", []) if node.list_name else node.inline_choices
    return {c.value: c for c in source}


def answer_text(schema: FormSchema, node: Node, value: str, language: str) -> str:
    if node.kind in {"select1", "select"}:
        options = _choices(schema, node)
        parts = value.split() if node.kind == "select" else [value]
        return ", ".join(schema.text(options[p].labels, language) if p in options else p for p in parts)
    return value


def in_words(schema: FormSchema, answers: dict[str, Any], language: str) -> list[Line]:
    """The answers given, in form order; questions left empty and notes are skipped."""
    lines: list[Line] = []

    def visit(node: Node, values: dict[str, Any], depth: int) -> None:
        for child in node.children:
            if child.kind == "repeat":
                entries = values.get(child.name) or []
                if entries:
                    lines.append(
                        Line(
                            "group",
                            schema.text(child.labels, language) or child.name,
                            depth=depth,
                            name=child.name,
                        )
                    )
                for number, entry in enumerate(entries, start=1):
                    if isinstance(entry, dict):
                        lines.append(
                            Line(
                                "entry",
                                f"{schema.text(child.labels, language) or child.name} {number}",
                                depth=depth + 1,
                            )
                        )
                        visit(child, entry, depth + 2)
            elif child.kind == "group":
                before = len(lines)
                visit(child, values, depth + 1)
                if len(lines) > before and child.labels:
                    lines.insert(
                        before,
                        Line("group", schema.text(child.labels, language), depth=depth, name=child.name),
                    )
            elif child.is_note or child.kind == "hidden":
                continue
            else:
                value = values.get(child.name)
                if value in (None, ""):
                    continue
                label = schema.text(child.labels, language) or child.name
                lines.append(
                    Line("answer", label, answer_text(schema, child, str(value), language), depth, child.name)
                )

    visit(schema.root, answers, 0)
    return lines
