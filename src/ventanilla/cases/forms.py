"""Forms of the case pages: they read and check input; the services decide and write."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Site, User
from ventanilla.cases.models import CaseStatus, CloseReason


class StaffChoiceField(forms.ModelChoiceField):
    """Staff by name (the username when no name is kept)."""

    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name())


MINE, ALL = "mine", "all"
CURRENT = ""


class CaseFilterForm(forms.Form):
    whose = forms.ChoiceField(
        label=_("Cases"),
        required=False,
        choices=[(MINE, _("My cases")), (ALL, _("All cases at my sites"))],
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[
            (CURRENT, _("Open, active or on hold")),
            *CaseStatus.choices,
            ("all", _("All")),
        ],
    )
    site = forms.ModelChoiceField(label=_("Site"), queryset=Site.objects.none(), required=False)

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any):
        super().__init__(*args, **kwargs)
        site = self.fields["site"]
        assert isinstance(site, forms.ModelChoiceField)
        site.queryset = sites.distinct().order_by("name")


class OpenCaseForm(forms.Form):
    owner = StaffChoiceField(label=_("Caseworker"), queryset=User.objects.none())
    needs = forms.CharField(label=_("Needs"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    plan = forms.CharField(label=_("Plan"), required=False, widget=forms.Textarea(attrs={"rows": 4}))

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = staff


EDITABLE_STATUSES = [(s.value, s.label) for s in (CaseStatus.OPEN, CaseStatus.ACTIVE, CaseStatus.ON_HOLD)]


class CaseEditForm(forms.Form):
    needs = forms.CharField(label=_("Needs"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    plan = forms.CharField(label=_("Plan"), required=False, widget=forms.Textarea(attrs={"rows": 5}))
    status = forms.ChoiceField(label=_("Status"), choices=EDITABLE_STATUSES)


class CloseCaseForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Why the case closes"), choices=CloseReason.choices, widget=forms.RadioSelect
    )


class ReassignForm(forms.Form):
    owner = StaffChoiceField(label=_("New caseworker"), queryset=User.objects.none())

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        owner.queryset = staff


class TransferForm(forms.Form):
    to_site = forms.TypedChoiceField(label=_("To site"), coerce=int)
    note = forms.CharField(
        label=_("Why (the receiving site reads this)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.sites = {site.pk: site for site in sites}
        groups: dict[str, list[tuple[int, str]]] = {}
        for site in self.sites.values():
            groups.setdefault(site.organisation.name, []).append((site.pk, site.name))
        field = self.fields["to_site"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "—"), *groups.items()]

    def clean_to_site(self) -> Site:
        return self.sites[self.cleaned_data["to_site"]]


class TaskForm(forms.Form):
    title = forms.CharField(label=_("What to do"), max_length=500)
    due_on = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    assigned_to = StaffChoiceField(label=_("Assigned to"), queryset=User.objects.none(), required=False)

    def __init__(self, *args: Any, staff: QuerySet[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        assigned_to = self.fields["assigned_to"]
        assert isinstance(assigned_to, forms.ModelChoiceField)
        assigned_to.queryset = staff


class NoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=10000, widget=forms.Textarea(attrs={"rows": 3}))


DECISIONS = ["accept", "decline"]
