"""Forms for signing in and managing organisations, sites and memberships."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Organisation, Site, User
from ventanilla.core.roles import Role


class LoginForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget.attrs.update({"autocomplete": "current-password"})


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Six-digit code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["name", "kind", "area", "latitude", "longitude", "time_zone", "is_active"]

    def clean_time_zone(self) -> str:
        import zoneinfo

        value: str = self.cleaned_data["time_zone"]
        if value not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Unknown time zone; use a name such as America/Mexico_City."))
        return value


class StaffMemberForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150, validators=[UnicodeUsernameValidator()])
    full_name = forms.CharField(label=_("Full name"), max_length=200)
    email = forms.EmailField(label=_("Email"), required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    preferred_language = forms.ChoiceField(label=_("Preferred language"), choices=settings.LANGUAGES)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites (for site-scoped roles)"),
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = organisation.sites.filter(is_active=True)  # type: ignore[attr-defined]


class GrantMembershipForm(forms.Form):
    user = forms.ModelChoiceField(label=_("User"), queryset=User.objects.none())
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites (for site-scoped roles)"),
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        from ventanilla.accounts.services import members_of

        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = members_of(organisation)  # type: ignore[attr-defined]
        self.fields["sites"].queryset = organisation.sites.filter(is_active=True)  # type: ignore[attr-defined]


class MembershipForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    sites = forms.ModelMultipleChoiceField(
        label=_("Sites (for site-scoped roles)"),
        queryset=Site.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    is_active = forms.BooleanField(label=_("Active"), required=False)

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sites"].queryset = organisation.sites.filter(is_active=True)  # type: ignore[attr-defined]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What the token is for"), max_length=100)
    days = forms.IntegerField(label=_("Valid for (days)"), min_value=1, max_value=365, initial=90)


class RolePolicyForm(forms.Form):
    """One checkbox per role: does that role need two-factor authentication?"""

    def __init__(self, *args: Any, required_roles: set[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in Role.choices:
            self.fields[value] = forms.BooleanField(
                label=label, required=False, initial=value in required_roles
            )


class RetentionForm(forms.Form):
    retention_days = forms.IntegerField(
        label=_("Keep a registered person's personal data for (days)"),
        min_value=30,
        max_value=3650,
        help_text=_(
            "Counted from the person's last registration. After it, names, date of birth, phone, "
            "documents and answers are erased every night; the de-identified record stays."
        ),
    )
