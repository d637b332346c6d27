"""The duty rota's form: it reads and checks input; `alerts.add_shift` decides and writes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Organisation, User

LOCAL_MINUTE = "%Y-%m-%dT%H:%M"


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.get_full_name())


class MinuteField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_MINUTE)

    def __init__(self, **kwargs: Any):
        super().__init__(input_formats=[LOCAL_MINUTE, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"], **kwargs)


class DutyShiftForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())
    user = StaffChoiceField(label=_("Who is on duty"), queryset=User.objects.none())
    starts_at = MinuteField(label=_("From"))
    ends_at = MinuteField(label=_("Until"))

    def __init__(
        self, *args: Any, organisations: QuerySet[Organisation], staff: QuerySet[User], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        organisation = self.fields["organisation"]
        user = self.fields["user"]
        assert isinstance(organisation, forms.ModelChoiceField)
        assert isinstance(user, forms.ModelChoiceField)
        organisation.queryset = organisations
        user.queryset = staff
        # One organisation (the usual case): nothing to choose, so no field to show.
        self.only_organisation = organisations.first() if organisations.count() == 1 else None
        if self.only_organisation is not None:
            del self.fields["organisation"]

    def chosen_organisation(self) -> Organisation:
        return self.only_organisation or self.cleaned_data["organisation"]
