"""Forms of the inbox pages: they read and check input; `messaging.inbox` decides and writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Organisation, User
from ventanilla.messaging import handover
from ventanilla.messaging.inbox import InboxError, InboxPermissionError
from ventanilla.messaging.inbox_queries import (
    MINE,
    NOBODY,
    UNTRIAGED,
    InboxFilterError,
    InboxFilters,
    number_index,
)
from ventanilla.messaging.models_inbox import Category, Conversation, ConversationStatus, Medium, Urgency
from ventanilla.registration.models import Person


def _all(choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", _("All")), *choices]


def _languages() -> list[tuple[str, Any]]:
    return list(settings.LANGUAGES)


def _filter_languages() -> list[tuple[str, Any]]:
    return _all(_languages())


def _triage_languages() -> list[tuple[str, Any]]:
    return [("", _("Not known")), *_languages()]


def _filter_categories() -> list[tuple[str, Any]]:
    return _all([(UNTRIAGED, _("Not triaged")), *[c for c in Category.choices if c[0]]])


class InboxFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=lambda: _all(ConversationStatus.choices)
    )
    category = forms.ChoiceField(label=_("Category"), required=False, choices=_filter_categories)
    urgency = forms.ChoiceField(label=_("Urgency"), required=False, choices=lambda: _all(Urgency.choices))
    medium = forms.ChoiceField(label=_("Channel"), required=False, choices=lambda: _all(Medium.choices))
    language = forms.ChoiceField(label=_("Language"), required=False, choices=_filter_languages)
    assigned = forms.ChoiceField(
        label=_("Assigned"),
        required=False,
        choices=[("", _("Anyone or nobody")), (MINE, _("To me")), (NOBODY, _("To nobody"))],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)
    number = forms.CharField(
        label=_("Phone number"),
        required=False,
        max_length=40,
        help_text=_("The whole number with its country code: conversations with this number."),
    )

    def clean_number(self) -> str:
        number = str(self.cleaned_data.get("number") or "").strip()
        if number:
            try:
                number_index(number)
            except InboxFilterError as error:
                raise forms.ValidationError(str(error)) from None
        return number

    @staticmethod
    def filters(chosen: dict[str, Any], *, before: str = "") -> InboxFilters:
        """The list query's filters from the form's cleaned data (any field may be missing)."""
        return InboxFilters(
            status=chosen.get("status", ""),
            category=chosen.get("category", ""),
            urgency=chosen.get("urgency", ""),
            medium=chosen.get("medium", ""),
            language=chosen.get("language", ""),
            assigned_to=chosen.get("assigned", ""),
            overdue=bool(chosen.get("overdue")),
            number=chosen.get("number", ""),
            before=before,
        )


class TopicsField(forms.CharField):
    """Topics typed as comma-separated tags; the service trims and checks them."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part for part in (piece.strip() for piece in text.split(",")) if part]

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list | tuple) else value


class TriageForm(forms.Form):
    category = forms.ChoiceField(label=_("Category"), required=False, choices=Category.choices)
    topics = TopicsField(
        label=_("Topics"),
        required=False,
        max_length=500,
        help_text=_("Separated by commas, e.g. shelter, documents."),
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    language = forms.ChoiceField(label=_("Language"), required=False, choices=_triage_languages)


class HandlerChoiceField(forms.ModelChoiceField):
    """Staff by name (the username when no name is kept); caseworkers, who register people but do not
    handle messages, are marked so that a message handler knows whom to hand a conversation to."""

    caseworkers: frozenset[int] = frozenset()

    def label_from_instance(self, obj: Any) -> str:
        name = str(obj.get_full_name() or obj.username)
        if obj.pk in self.caseworkers:
            return _("%(name)s · registers people") % {"name": name}
        return name


class AssignForm(forms.Form):
    assigned_to = HandlerChoiceField(
        label=_("Assigned to"), queryset=User.objects.none(), required=False, empty_label=_("Nobody")
    )

    def __init__(self, *args: Any, staff: QuerySet[User], caseworkers: Iterable[int] = (), **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["assigned_to"]
        assert isinstance(field, HandlerChoiceField)
        field.queryset = staff
        field.caseworkers = frozenset(caseworkers)


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=ConversationStatus.choices)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Only staff who handle messages, and a caseworker the conversation is assigned to, read notes; "
            "they are kept encrypted."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "note_%s")  # the reply form on the same page also has a "text"
        super().__init__(*args, **kwargs)


class ReplyForm(forms.Form):
    text = forms.CharField(
        label=_("Answer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "dir": "auto", "maxlength": 1600}),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("auto_id", "reply_%s")
        super().__init__(*args, **kwargs)


class ReplyTemplateForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())
    name = forms.CharField(label=_("Name"), max_length=100)
    language = forms.ChoiceField(label=_("Language"), choices=_languages)
    text = forms.CharField(
        label=_("Text"),
        max_length=1600,
        widget=forms.Textarea(attrs={"rows": 5, "dir": "auto"}),
    )

    def __init__(self, *args: Any, organisations: QuerySet[Organisation], **kwargs: Any):
        super().__init__(*args, **kwargs)
        choices = list(organisations)
        # One organisation: nothing to choose, so the field is left out.
        self.only_organisation = choices[0] if len(choices) == 1 else None
        if self.only_organisation is not None:
            del self.fields["organisation"]
        else:
            field = self.fields["organisation"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = organisations

    def chosen_organisation(self) -> Organisation:
        chosen = self.only_organisation or self.cleaned_data["organisation"]
        assert isinstance(chosen, Organisation)
        return chosen


class PersonLinkForm(forms.Form):
    """The registered person a conversation is with, by reference; empty undoes the link."""

    person = forms.CharField(
        label=_("Reference of the record"),
        required=False,
        max_length=30,
        help_text=_("For example VT-7KQ2-M4XD. Leave empty to remove the link."),
    )

    def __init__(self, *args: Any, user: Any, conversation: Conversation, **kwargs: Any):
        kwargs.setdefault("auto_id", "person_%s")
        super().__init__(*args, **kwargs)
        self.user, self.conversation = user, conversation

    def clean_person(self) -> Person | None:
        try:
            return handover.find_linkable(self.user, self.conversation, self.cleaned_data.get("person") or "")
        except InboxPermissionError:
            raise PermissionDenied from None
        except InboxError as error:
            raise forms.ValidationError(str(error)) from None
