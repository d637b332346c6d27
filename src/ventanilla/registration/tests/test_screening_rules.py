"""Screening rules: the shipped set parses, a bad set is refused rule by rule, the set in force applies."""

from __future__ import annotations

import pytest

from ventanilla.registration import screening
from ventanilla.registration.admin import RuleSetForm
from ventanilla.registration.models import ScreeningRuleSet


def test_shipped_rules_parse():
    rules = screening.default_ruleset()
    assert rules.version
    assert {r.code for r in rules.rules} >= {
        "separated_child",
        "unaccompanied_child",
        "trafficking_indicators",
    }


def test_every_bad_rule_is_named():
    with pytest.raises(screening.RuleSetError) as refused:
        screening.parse_ruleset(
            {
                "version": "x",
                "rules": [
                    {"code": "a", "severity": "urgent", "label": {"en": "A"}, "when": "${age} <"},
                    {"code": "a", "severity": "high", "label": {}, "when": "true()", "categories": ["nope"]},
                ],
            }
        )
    text = " | ".join(refused.value.errors)
    assert "Rule 1, severity" in text
    assert "Rule 1, when" in text
    assert "Rule 2, code" in text
    assert "Rule 2, label" in text
    assert "Rule 2, categories" in text


@pytest.mark.django_db
def test_the_set_in_force_replaces_the_shipped_one():
    assert screening.active_ruleset().version == screening.default_ruleset().version
    ScreeningRuleSet.objects.create(
        version="local-1",
        active=True,
        rules=[{"code": "older", "severity": "medium", "label": {"en": "Older"}, "when": "${age} >= 50"}],
    )
    assert screening.active_ruleset().version == "local-1"


@pytest.mark.django_db
def test_admin_form_refuses_a_bad_set():
    form = RuleSetForm(data={"version": "v2", "rules": '[{"code": "x", "severity": "bad"}]', "active": True})
    assert not form.is_valid()
    assert "severity" in str(form.errors)
