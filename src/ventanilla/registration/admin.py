"""Screening rules in the admin: the one registration table an administrator edits by hand.

People, registrations, consents and flags are deliberately not in the admin: it would show decrypted
personal data outside the scoping layer and without audited reads. Caseworkers use the staff pages.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import transaction
from django.http import HttpRequest

from ventanilla.registration import screening
from ventanilla.registration.models import ScreeningRuleSet


class RuleSetForm(forms.ModelForm[ScreeningRuleSet]):
    class Meta:
        model = ScreeningRuleSet
        fields = ("version", "rules", "active")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            screening.parse_ruleset({"version": data.get("version", ""), "rules": data.get("rules")})
        except screening.RuleSetError as error:
            raise forms.ValidationError(error.errors) from error
        return data


@admin.register(ScreeningRuleSet)
class ScreeningRuleSetAdmin(admin.ModelAdmin[ScreeningRuleSet]):
    form = RuleSetForm
    list_display = ("version", "active", "created_at", "created_by")
    readonly_fields = ("created_at", "created_by")

    @transaction.atomic
    def save_model(self, request: HttpRequest, obj: ScreeningRuleSet, form: Any, change: bool) -> None:
        if obj.active:  # one set in force: the new one replaces the old
            ScreeningRuleSet.objects.exclude(pk=obj.pk).filter(active=True).update(active=False)
        if not change:
            obj.created_by = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)
