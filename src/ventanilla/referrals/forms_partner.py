"""Forms of the partner's pages (inbox and link): the inbox filter and one answer to a referral.

The answer form only checks lengths and shapes; whether the move is allowed, and whether it needs a
reason, is decided by `services.transition` (the lifecycle table), never here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from ventanilla.directory.models import Category
from ventanilla.referrals import lifecycle
from ventanilla.referrals.models import ReferralStatus

APPOINTMENT = "appointment"  # the answer that only says where and when, without a status change


def _status_choices() -> list[tuple[str, Any]]:
    visible = [(s.value, s.label) for s in ReferralStatus if s.value in lifecycle.PARTNER_VISIBLE]
    return [("", _("All")), *visible]


def _service_choices() -> list[tuple[str, Any]]:
    return [("", _("All")), *Category.choices]


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_status_choices)
    service = forms.ChoiceField(label=_("Service"), required=False, choices=_service_choices)


class AnswerForm(forms.Form):
    action = forms.CharField(max_length=20)
    reason = forms.CharField(max_length=40, required=False)
    note = forms.CharField(max_length=2000, required=False)
    appointment = forms.CharField(max_length=300, required=False)

    def clean_action(self) -> str:
        action: str = self.cleaned_data["action"]
        if action != APPOINTMENT and action not in ReferralStatus.values:
            raise forms.ValidationError(_("Unknown answer."))
        return action

    def clean_reason(self) -> str:
        # Only the moves with reason codes carry one; a stray reason on another move is dropped.
        reason: str = self.cleaned_data.get("reason", "")
        return reason if self.data.get("action") in lifecycle.REASONS else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("action") == APPOINTMENT and not data.get("appointment", "").strip():
            self.add_error("appointment", _("Say where and when the person should go."))
        return data
