"""Forms of the sending side (list filters, a new referral, status changes, links) and of pathways.

Forms read and shape input only; every rule that can refuse lives in `services`, `links` and
`pathways`, whose errors the views put back on the field they name.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Organisation, Site
from ventanilla.directory.models import Category, ServicePoint, ServiceProvider, Sexes
from ventanilla.messaging.models import Channel
from ventanilla.referrals import links, projection
from ventanilla.referrals.lifecycle import WITHDRAW_REASONS
from ventanilla.referrals.models import ReferralStatus, Urgency

OPEN = "open"
ALL = "all"

CHANNELS = [(Channel.EMAIL, _("Email")), (Channel.SMS, _("SMS"))]


class ReferralFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[(OPEN, _("Open")), (ALL, _("All")), *ReferralStatus.choices],
    )
    category = forms.ChoiceField(
        label=_("Service"), required=False, choices=[("", _("Any")), *Category.choices]
    )
    site = forms.ModelChoiceField(
        label=_("Site"), queryset=Site.objects.none(), required=False, empty_label=_("Any")
    )

    def __init__(self, *args: Any, sites: QuerySet[Site], **kwargs: Any):
        super().__init__(*args, **kwargs)
        site = self.fields["site"]
        assert isinstance(site, forms.ModelChoiceField)
        site.queryset = sites.order_by("name")


class ReferralForm(forms.Form):
    """A new referral. `option` is "<pathway id>:<category>", one of the pathways offered for the person."""

    option = forms.CharField(label=_("Partner and service"), widget=forms.RadioSelect)
    service_point = forms.ChoiceField(label=_("Service point"), required=False)
    need = forms.CharField(
        label=_("What the person needs"),
        help_text=_("Shared with the partner. Write only what they need to help."),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
    urgency = forms.ChoiceField(label=_("Urgency"), choices=Urgency.choices)
    appointment = forms.CharField(label=_("Where and when to go (optional)"), required=False, max_length=300)
    case = forms.ChoiceField(label=_("Case"), required=False)
    tell_person = forms.BooleanField(
        label=_("Tell the person by SMS where and when to go"), required=False, initial=True
    )
    link_to = forms.ChoiceField(
        label=_("Send the partner a link"),
        required=False,
        help_text=_("For partners without an account. The link expires and can be revoked."),
    )
    link_channel = forms.ChoiceField(label=_("Send the link by"), choices=CHANNELS, required=False)
    link_with_code = forms.BooleanField(
        label=_("Protect it with a one-time code (sent by the other channel)"), required=False
    )

    NO_LINK = ""
    LINK_SHOWN = "show"

    def __init__(
        self,
        *args: Any,
        options: list[tuple[str, str]],
        points: list[tuple[str, list[tuple[str, str]]]],
        cases: list[tuple[str, str]],
        focal_points: list[tuple[str, list[tuple[str, str]]]],
        may_contact: bool,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.option_labels = dict(options)
        self._choices("service_point", [("", _("Any of the partner's points")), *points])
        self._choices("case", [("", _("No case")), *cases])
        self._choices(
            "link_to",
            [
                (self.NO_LINK, _("No link")),
                (self.LINK_SHOWN, _("Make a link and show it to me (I will pass it on)")),
                *focal_points,
            ],
        )
        if not may_contact:
            del self.fields["tell_person"]

    def _choices(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def clean_option(self) -> tuple[int, str]:
        value = self.cleaned_data["option"]
        if value not in self.option_labels:
            raise forms.ValidationError(_("Choose one of the partners offered."))
        pathway_id, category = value.split(":", 1)
        return int(pathway_id), category


class StatusForm(forms.Form):
    to = forms.ChoiceField(choices=ReferralStatus.choices)
    reason = forms.ChoiceField(
        label=_("Reason"), required=False, choices=[("", "—"), *WITHDRAW_REASONS.items()]
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=1000)


class LinkForm(forms.Form):
    focal_point = forms.ChoiceField(label=_("Send to"), required=False)
    channel = forms.ChoiceField(label=_("By"), choices=CHANNELS)
    with_code = forms.BooleanField(
        label=_("With a one-time code (sent by the other channel)"), required=False
    )
    days = forms.IntegerField(
        label=_("Days before it expires"),
        min_value=1,
        max_value=links.MAX_DAYS,
        initial=links.DEFAULT_DAYS,
    )

    def __init__(self, *args: Any, focal_points: list[tuple[str, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["focal_point"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Nobody: show me the link")), *focal_points]


# --- pathways --------------------------------------------------------------------------------------

FIELD_CHOICES = [(name, label) for name, (label, _read) in projection.FIELDS.items()]


class PathwayForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Referring organisation"), queryset=Organisation.objects.none()
    )
    name = forms.CharField(label=_("Name"), max_length=200)
    provider = forms.ModelChoiceField(
        label=_("Partner"),
        queryset=ServiceProvider.objects.none(),
        help_text=_("Published providers of the directory."),
    )
    categories = forms.MultipleChoiceField(
        label=_("Services"), choices=Category.choices, widget=forms.CheckboxSelectMultiple
    )
    service_points = forms.ModelMultipleChoiceField(
        label=_("Service points"),
        queryset=ServicePoint.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: any of the partner's points."),
    )
    age_min = forms.IntegerField(label=_("Minimum age"), required=False, min_value=0, max_value=150)
    age_max = forms.IntegerField(label=_("Maximum age"), required=False, min_value=0, max_value=150)
    sexes = forms.ChoiceField(label=_("For"), choices=Sexes.choices, initial=Sexes.ANY)
    eligibility = forms.CharField(
        label=_("Other eligibility conditions"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    response_hours = forms.IntegerField(
        label=_("Committed answer time (hours)"),
        min_value=1,
        initial=48,
        help_text=_("The partner accepts or declines within this time, or the referral expires."),
    )
    language = forms.ChoiceField(
        label=_("Language of shared information"), choices=settings.LANGUAGES, initial="es"
    )
    shared_fields = forms.MultipleChoiceField(
        label=_("Fields shared"),
        choices=FIELD_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: the default for each service (listed below)."),
    )
    valid_from = forms.DateField(label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"}))
    valid_to = forms.DateField(
        label=_("Valid to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        organisations: QuerySet[Organisation] | None,
        providers: QuerySet[ServiceProvider],
        points: QuerySet[ServicePoint],
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        organisation = self.fields["organisation"]
        assert isinstance(organisation, forms.ModelChoiceField)
        if organisations is None:
            del self.fields["organisation"]
        else:
            organisation.queryset = organisations
        provider = self.fields["provider"]
        assert isinstance(provider, forms.ModelChoiceField)
        provider.queryset = providers
        service_points = self.fields["service_points"]
        assert isinstance(service_points, forms.ModelMultipleChoiceField)
        service_points.queryset = points


class FocalPointForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone (international format)"), max_length=20, required=False)
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES, initial="es")


class BaseFocalPointFormSet(forms.BaseFormSet):
    def kept_forms(self) -> list[forms.Form]:
        """Stored rows unless ticked for deletion, and the blank rows that were filled in."""
        kept = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", {})
            if data.get("DELETE"):
                continue
            if data.get("id") or any(data.get(name) for name in ("name", "email", "phone")):
                kept.append(form)
        return kept


FocalPointFormSet = forms.formset_factory(
    FocalPointForm, formset=BaseFocalPointFormSet, extra=2, can_delete=True, max_num=20
)
