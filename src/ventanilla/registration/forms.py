"""Filters of the people list."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Site
from ventanilla.registration import screening


class PeopleFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Reference, phone or name"),
        required=False,
        max_length=100,
        help_text=_("Names are matched by sound and spelling, in Latin or Arabic letters."),
    )
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)
    registered_after = forms.DateField(
        label=_("Registered from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    registered_before = forms.DateField(
        label=_("Registered until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    flag = forms.ChoiceField(label=_("Flag"), required=False)
    flagged_only = forms.BooleanField(label=_("Only people with open flags"), required=False)

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any):
        super().__init__(*args, **kwargs)
        site = self.fields["site"]
        assert isinstance(site, forms.ModelChoiceField)
        site.queryset = sites.distinct().order_by("name")
        language = translation.get_language() or "en"
        flag = self.fields["flag"]
        assert isinstance(flag, forms.ChoiceField)
        flag.choices = [("", "—")] + [(r.code, r.text(language)) for r in screening.active_ruleset().rules]
