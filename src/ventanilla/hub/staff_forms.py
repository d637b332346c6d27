"""Staff forms for hub content: new items, the words of one language, review notes, list filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Organisation
from ventanilla.areas.models import AdministrativeArea
from ventanilla.directory.models import ServiceCategory
from ventanilla.hub.models import ContentItem, ContentKind, ContentTranslation, Sensitivity, Severity


class ItemForm(forms.Form):
    owner = forms.ModelChoiceField(label=_("Kept by"), queryset=Organisation.objects.none())
    key = forms.SlugField(
        label=_("Key"),
        max_length=100,
        help_text=_("Short name in the web address, the same in every language, e.g. ask-for-asylum"),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=ContentKind.choices)
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), choices=Sensitivity.choices, initial=Sensitivity.PUBLIC
    )
    source_language = forms.ChoiceField(
        label=_("Written first in"), choices=settings.LANGUAGES, initial=settings.LANGUAGE_CODE
    )
    severity = forms.ChoiceField(
        label=_("Severity (alerts)"), choices=[("", "—"), *Severity.choices], required=False
    )
    valid_from = forms.DateTimeField(
        label=_("Valid from"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    valid_to = forms.DateTimeField(
        label=_("Valid until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def __init__(self, *args: Any, owners: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners  # type: ignore[attr-defined]
        self.only_owner = owners.get() if owners.count() == 1 else None
        if self.only_owner is not None:
            # One organisation: nothing to choose, so the field is not shown.
            del self.fields["owner"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.only_owner is not None:
            cleaned["owner"] = self.only_owner
        return cleaned

    def clean_key(self) -> str:
        key: str = self.cleaned_data["key"].lower()
        if ContentItem.objects.filter(key=key).exists():
            raise forms.ValidationError(_("This key is taken; choose another."))
        return key


class TranslationForm(forms.Form):
    """The words of one item in one language."""

    title = forms.CharField(label=_("Title"), max_length=200)
    summary = forms.CharField(
        label=_("Summary in one or two sentences"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    body = forms.CharField(label=_("Text"), required=False, widget=forms.Textarea(attrs={"rows": 8}))
    steps = forms.CharField(
        label=_("Steps, one per line"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("They are numbered on the public page in this order."),
    )
    documents = forms.CharField(
        label=_("Documents needed"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    fees = forms.CharField(label=_("Fees"), required=False, max_length=200)
    where = forms.CharField(label=_("Where to go"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    duration = forms.CharField(label=_("How long it takes"), required=False, max_length=200)

    @classmethod
    def initial_for(cls, translation: ContentTranslation | None) -> dict[str, Any]:
        if translation is None:
            return {}
        initial = {name: getattr(translation, name) for name in cls.base_fields}
        initial["steps"] = "\n".join(translation.steps)
        return initial

    def words(self) -> dict[str, Any]:
        words = dict(self.cleaned_data)
        words["steps"] = [line.strip() for line in words["steps"].splitlines() if line.strip()]
        return words


class ItemSettingsForm(forms.Form):
    """The settings of an existing item (its key, kind, owner and first language stay as created)."""

    sensitivity = forms.ChoiceField(label=_("Sensitivity"), choices=Sensitivity.choices)
    severity = forms.ChoiceField(
        label=_("Severity (alerts)"), choices=[("", "—"), *Severity.choices], required=False
    )
    valid_from = forms.DateTimeField(
        label=_("Valid from"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    valid_to = forms.DateTimeField(
        label=_("Valid until"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    categories = forms.ModelMultipleChoiceField(
        label=_("Related services"),
        queryset=ServiceCategory.objects.order_by("position"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    areas = forms.ModelMultipleChoiceField(
        label=_("Areas concerned"),
        queryset=AdministrativeArea.objects.order_by("level", "pcode"),
        required=False,
        help_text=_("Hold Ctrl (or Cmd) to choose several."),
    )

    @classmethod
    def initial_for(cls, item: ContentItem) -> dict[str, Any]:
        return {
            "sensitivity": item.sensitivity,
            "severity": item.severity,
            "valid_from": item.valid_from,
            "valid_to": item.valid_to,
            "categories": list(item.categories.all()),
            "areas": list(item.areas.all()),
        }


class SendBackForm(forms.Form):
    note = forms.CharField(
        label=_("What needs to change"), max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )


class ItemFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=[("", _("Any")), *ContentKind.choices])
    sensitivity = forms.ChoiceField(
        label=_("Sensitivity"), required=False, choices=[("", _("Any")), *Sensitivity.choices]
    )
    q = forms.CharField(label=_("Key"), required=False, max_length=100)
