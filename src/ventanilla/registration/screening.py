"""Screening: versioned rules over a registration's answers that say who is in a vulnerable situation.

A rule is an XForm expression written like an XLSForm `relevant` (`${age} < 18 and ...`), so the people
who write forms can read and change the rules, and the same XPath engine evaluates them. Each flag
keeps the rules version that raised it and the answers that did, shown back in plain words.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from ventanilla.questionnaires import engine, xpath
from ventanilla.questionnaires.schema import FormSchema
from ventanilla.registration.models import FlagSeverity, ScreeningRuleSet

DEFAULT_RULES = Path(__file__).parent / "data" / "screening_rules.json"
# Answers that say "no": not shown as the reason for a flag.
NEGATIVE_VALUES = {"no", "none", "dont_know", "prefer_not", "prefer_not_to_say", ""}
SEVERITY_ORDER = {FlagSeverity.CRITICAL: 0, FlagSeverity.HIGH: 1, FlagSeverity.MEDIUM: 2}


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    label: dict[str, str]
    when: str
    because: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    def text(self, language: str) -> str:
        return self.label.get(language) or self.label.get("en") or self.code


@dataclass(frozen=True)
class RuleSet:
    version: str
    rules: tuple[Rule, ...]


@dataclass
class FlagResult:
    rule: Rule
    reasons: list[dict[str, str]] = field(default_factory=list)  # [{"name": question, "value": answer}]


class RuleSetError(ValueError):
    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


def parse_ruleset(data: Any) -> RuleSet:
    """Check a rules document in full and report every problem (rule number and field)."""
    errors: list[str] = []
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise RuleSetError([_("The rules must be an object with a “version” and a list of “rules”.")])
    version = str(data.get("version") or "").strip()
    if not version or len(version) > 20:
        errors.append(_("“version” is required (at most 20 characters)."))
    rules: list[Rule] = []
    seen: set[str] = set()
    from ventanilla.directory.models import Category

    known_categories = set(Category.values)
    for number, raw in enumerate(data["rules"], start=1):
        where = _("Rule %(number)s") % {"number": number}
        if not isinstance(raw, dict):
            errors.append(f"{where}: " + _("must be an object."))
            continue
        code = str(raw.get("code") or "")
        if not code or code in seen:
            errors.append(f"{where}, code: " + _("missing or used twice."))
        seen.add(code)
        severity = str(raw.get("severity") or "")
        if severity not in FlagSeverity.values:
            errors.append(
                f"{where}, severity: "
                + _("must be one of %(values)s.") % {"values": ", ".join(FlagSeverity.values)}
            )
        label = raw.get("label")
        if not isinstance(label, dict) or not label.get("en"):
            errors.append(f"{where}, label: " + _("needs at least an English label."))
            label = {}
        when = str(raw.get("when") or "")
        try:
            xpath.compile_expression(_placeholder_paths(when))
        except xpath.ExpressionError as error:
            errors.append(f"{where}, when: {error}")
        categories = raw.get("categories") or []
        unknown = [c for c in categories if c not in known_categories]
        if unknown:
            errors.append(
                f"{where}, categories: "
                + _("unknown service categories: %(codes)s") % {"codes": ", ".join(map(str, unknown))}
            )
        rules.append(
            Rule(
                code=code,
                severity=severity,
                label={str(k): str(v) for k, v in label.items()},
                when=when,
                because=tuple(str(b) for b in raw.get("because") or []),
                categories=tuple(str(c) for c in categories),
            )
        )
    if errors:
        raise RuleSetError(errors)
    return RuleSet(version=version, rules=tuple(rules))


def _placeholder_paths(expression: str) -> str:
    """For syntax checks without a form: each `${name}` becomes a path."""
    return engine._REFERENCE.sub(lambda m: f" /data/{m.group(1)} ", expression)


@lru_cache(maxsize=1)
def default_ruleset() -> RuleSet:
    return parse_ruleset(json.loads(DEFAULT_RULES.read_text(encoding="utf-8")))


def active_ruleset() -> RuleSet:
    row = ScreeningRuleSet.objects.filter(active=True).first()
    if row is None:
        return default_ruleset()
    return _cached_ruleset(row.pk, row.version, json.dumps(row.rules, sort_keys=True))


@lru_cache(maxsize=8)
def _cached_ruleset(pk: int, version: str, rules_json: str) -> RuleSet:
    return parse_ruleset({"version": version, "rules": json.loads(rules_json)})


def screen(state: engine.FormState, ruleset: RuleSet) -> list[FlagResult]:
    """The flags these answers raise, most severe first."""
    schema = state.schema
    results: list[FlagResult] = []
    for rule in ruleset.rules:
        expression = engine.resolve_references(schema, rule.when)
        if not engine.holds(state, expression):
            continue
        results.append(FlagResult(rule=rule, reasons=_reasons(state, rule, expression)))
    results.sort(key=lambda r: SEVERITY_ORDER.get(FlagSeverity(r.rule.severity), 9))
    return results


def _reasons(state: engine.FormState, rule: Rule, expression: str) -> list[dict[str, str]]:
    """The answers that made the rule hold — not every answer it looks at.

    An answer counts when the rule fails without it (both halves of an `and`) or holds with it alone
    among the rule's questions (each branch of an `or`): "fears return: yes" is a reason, "intends to
    work" is not, though the rule reads both.
    """
    fields = {}
    for name in rule.because:
        field_state = next((f for f in state.fields if f.node.name == name and f.depth == 0), None)
        if (
            field_state is not None
            and field_state.relevant
            and field_state.value.strip() not in NEGATIVE_VALUES
        ):
            fields[name] = field_state
    saved = {name: f.element.text for name, f in fields.items()}
    reasons = []
    try:
        for name, field_state in fields.items():
            field_state.element.text = ""
            needed = not engine.holds(state, expression)
            field_state.element.text = saved[name]
            for other, other_state in fields.items():
                if other != name:
                    other_state.element.text = ""
            alone = engine.holds(state, expression)
            for other, other_state in fields.items():
                other_state.element.text = saved[other]
            if needed or alone:
                reasons.append({"name": name, "value": (saved[name] or "").strip()})
    finally:
        for name, field_state in fields.items():
            field_state.element.text = saved[name]
    return reasons


UNLABELLED = {"age": _lazy("Age")}


def explain(schema: FormSchema, reasons: list[dict[str, str]], language: str) -> list[tuple[str, str]]:
    """(question, answer) in words for the person reading the flag, from the version's own labels."""
    lines = []
    for reason in reasons:
        node = schema.node_named(reason.get("name", ""))
        if node is None:
            continue
        question = schema.text(node.labels, language) or str(UNLABELLED.get(node.name, node.name))
        values = reason.get("value", "").split() if node.kind == "select" else [reason.get("value", "")]
        choices = {c.value: c for c in (schema.choices.get(node.list_name or "", []) or node.inline_choices)}
        answer = ", ".join(schema.text(choices[v].labels, language) if v in choices else v for v in values)
        lines.append((question, answer))
    return lines
