"""What the registration endpoints share: who may read and write personal records, the language of the
words, and flags shown the way a caseworker reads them."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from django.utils import translation
from rest_framework import permissions
from rest_framework.request import Request

from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.registration import screening
from ventanilla.registration.models import Flag, FlagSeverity

LANGUAGE_CODES = [code for code, _name in settings.LANGUAGES]
# For order_by: critical first.
SEVERITY_RANK = Case(
    When(severity=FlagSeverity.CRITICAL, then=Value(0)),
    When(severity=FlagSeverity.HIGH, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


class HandlesPersonalData(permissions.BasePermission):
    """The collections (list, register) need view_personal_data somewhere to read, edit_personal_data
    somewhere to write: a role without it (a partner focal point, an administrator, an auditor) gets
    403 there, learning only that they hold no such role.

    A person, registration or flag is looked up among the rows the caller may see, so for such a
    role — as for another organisation — it is a 404, never a 403 that would confirm it exists. A
    record they see but may not change is a 403 (checked by the view or the service).
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "detail", False):
            return True
        needed = (
            Permission.VIEW_PERSONAL_DATA
            if request.method in permissions.SAFE_METHODS
            else Permission.EDIT_PERSONAL_DATA
        )
        return scope_for(request.user).has(needed)


PERSONAL = [permissions.IsAuthenticated, HandlesPersonalData]


def reader_language(requested: str | None = None) -> str:
    """The language asked for in the body or query, else the one negotiated from Accept-Language."""
    if requested in LANGUAGE_CODES:
        return str(requested)
    current = (translation.get_language() or settings.LANGUAGE_CODE).split("-")[0]
    return current if current in LANGUAGE_CODES else settings.LANGUAGE_CODE


def _rule(code: str) -> screening.Rule | None:
    for ruleset in (screening.active_ruleset(), screening.default_ruleset()):
        for rule in ruleset.rules:
            if rule.code == code:
                return rule
    return None


def flag_view(flag: Flag, language: str) -> dict[str, Any]:
    """A flag in words: its label and the answers that raised it, from the form version's own labels.

    `flag.registration.form_version` should be loaded with the flag (select_related) for lists.
    """
    rule = _rule(flag.code)
    with translation.override(language):
        reasons = screening.explain(flag.registration.form_version.schema, flag.reasons, language)
        return {
            "id": flag.pk,
            "code": flag.code,
            "severity": flag.severity,
            "label": rule.text(language) if rule else flag.code,
            "reasons": [{"question": question, "answer": answer} for question, answer in reasons],
            "categories": list(flag.categories),
            "open": flag.dismissed_at is None,
            "created_at": flag.created_at,
        }
