"""Forms of the channel pages (configuration, complaint focal points, calls, social media) and of the
public feedback form. Forms read and shape input; the services (`channels`, `entries`, `feedback`)
refuse, and the views put their errors back on the field they name."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Organisation, Site
from ventanilla.messaging import channels, entries, feedback
from ventanilla.messaging.gateways import adapter_for
from ventanilla.messaging.models_inbox import Category, Gateway, GatewayKind, Medium
from ventanilla.messaging.response_times import TARGET_CATEGORIES, Targets
from ventanilla.messaging.topics import TopicsInvalid, clean_topics

CREDENTIAL_PREFIX = "credential_"
LANGUAGE_CHOICES = [("", _("Not known")), *settings.LANGUAGES]


class ChannelForm(forms.Form):
    """One channel of a given kind; the credential fields are the kind's (blank keeps a stored value)."""

    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=Organisation.objects.none())
    name = forms.CharField(label=_("Name"), max_length=120)
    medium = forms.ChoiceField(label=_("Carries"))
    site = forms.ModelChoiceField(
        label=_("Site"),
        queryset=Site.objects.none(),
        required=False,
        empty_label=_("The whole organisation"),
    )
    address = forms.CharField(label=_("Number or account"), max_length=64, required=False)
    send_url = forms.URLField(
        label=_("Sending address of the provider"),
        max_length=300,
        required=False,
        assume_scheme="https",
        help_text=_("Where the platform posts the messages it sends."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(
        self,
        *args: Any,
        kind: str,
        organisations: QuerySet[Organisation] | None,
        sites: QuerySet[Site],
        stored: dict[str, bool] | None = None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.kind = kind
        if organisations is None:
            del self.fields["organisation"]
        else:
            field = self.fields["organisation"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = organisations
        site = self.fields["site"]
        assert isinstance(site, forms.ModelChoiceField)
        site.queryset = sites.order_by("organisation__name", "name")
        mediums = channels.MEDIUMS[kind]
        if len(mediums) == 1:
            del self.fields["medium"]
        else:
            medium = self.fields["medium"]
            assert isinstance(medium, forms.ChoiceField)
            medium.choices = [(value, Medium(value).label) for value in mediums]
        if adapter_for(kind) is None:
            del self.fields["send_url"]
        address_hints: dict[str, Any] = {
            GatewayKind.TWILIO: _(
                "The number messages come from, e.g. +5296210000; whatsapp:+52… for WhatsApp."
            ),
            GatewayKind.GENERIC_JSON: _("The number the gateway sends from."),
            GatewayKind.WHATSAPP_CLOUD: _("The phone number id of the WhatsApp business number."),
            GatewayKind.HOTLINE: _("The hotline's number, as people dial it."),
            GatewayKind.SOCIAL: _("The page or account the messages came to."),
            GatewayKind.WEB_FORM: _("Not needed."),
        }
        self.fields["address"].help_text = address_hints.get(kind, "")
        stored = stored or {}
        for item in channels.credentials_for(kind):
            is_set = stored.get(item.name, False)
            hint = (
                _("Set. Leave blank to keep it; type a new value to replace it.")
                if is_set
                else item.help_text
            )
            self.fields[CREDENTIAL_PREFIX + item.name] = forms.CharField(
                label=str(item.label),
                required=False,
                max_length=500,
                help_text=str(hint),
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            )

    def credential_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if name.startswith(CREDENTIAL_PREFIX)]

    def setting_fields(self) -> list[Any]:
        return [self[name] for name in self.fields if not name.startswith(CREDENTIAL_PREFIX)]

    def to_input(self) -> channels.ChannelInput:
        data = self.cleaned_data
        return channels.ChannelInput(
            name=data["name"],
            kind=self.kind,
            medium=data.get("medium") or "",
            site=data.get("site"),
            address=data.get("address") or "",
            send_url=data.get("send_url") or "",
            is_active=bool(data.get("is_active")),
            credentials={
                name.removeprefix(CREDENTIAL_PREFIX): value
                for name, value in data.items()
                if name.startswith(CREDENTIAL_PREFIX) and value
            },
        )

    def add_service_errors(self, errors: dict[str, str]) -> None:
        for name, message in errors.items():
            target = (
                CREDENTIAL_PREFIX + name.removeprefix("credentials.")
                if name.startswith("credentials.")
                else name
            )
            self.add_error(target if target in self.fields else None, message)


class TopicsField(forms.CharField):
    """Free tags separated by commas."""

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        try:
            return clean_topics([str(value or "")])
        except TopicsInvalid as error:
            raise forms.ValidationError(str(error)) from None


class CallForm(forms.Form):
    channel = forms.ModelChoiceField(label=_("Hotline"), queryset=Gateway.objects.none())
    caller = forms.CharField(
        label=_("Caller's number"),
        required=False,
        max_length=40,
        help_text=_("Only if the caller gave it. With the country code, e.g. +52 962 123 4567."),
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off", "dir": "ltr"}),
    )
    language = forms.ChoiceField(label=_("Language of the call"), choices=LANGUAGE_CHOICES, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=Category.choices, required=False)
    topics = TopicsField(
        label=_("Topics"), required=False, help_text=_("Separated by commas, e.g. shelter, documents.")
    )
    minutes = forms.IntegerField(
        label=_("Duration (minutes)"), required=False, min_value=0, max_value=entries.MAX_CALL_MINUTES
    )
    outcome = forms.ChoiceField(label=_("Outcome"), choices=entries.CALL_OUTCOMES, widget=forms.RadioSelect)
    notes = forms.CharField(
        label=_("What the caller said and what was done"),
        required=False,
        max_length=entries.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def __init__(self, *args: Any, hotlines: QuerySet[Gateway], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["channel"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = hotlines.order_by("organisation__name", "name")
        if hotlines.count() == 1:
            field.initial = hotlines.first()

    def to_input(self) -> entries.CallInput:
        data = self.cleaned_data
        return entries.CallInput(
            caller=data["caller"],
            language=data["language"],
            topics=data["topics"],
            category=data["category"],
            minutes=data["minutes"],
            outcome=data["outcome"],
            notes=data["notes"],
        )


class SocialForm(forms.Form):
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Gateway.objects.none())
    platform = forms.ChoiceField(label=_("Platform"), choices=entries.PLATFORMS)
    handle = forms.CharField(label=_("Handle of the account that wrote"), max_length=entries.MAX_HANDLE + 1)
    text = forms.CharField(
        label=_("Message"), max_length=entries.MAX_TEXT, widget=forms.Textarea(attrs={"rows": 5})
    )
    date = forms.CharField(
        label=_("Date"),
        help_text=_("YYYY-MM-DD, optionally with the time: YYYY-MM-DD HH:MM."),
        max_length=40,
    )

    def __init__(self, *args: Any, social: QuerySet[Gateway], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["channel"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = social.order_by("organisation__name", "name")
        if social.count() == 1:
            field.initial = social.first()

    def to_input(self) -> entries.SocialInput:
        data = self.cleaned_data
        return entries.SocialInput(
            platform=data["platform"],
            handle=data["handle"],
            text=data["text"],
            at=entries.parse_when(data["date"]),
        )


class SocialImportForm(forms.Form):
    channel = forms.ModelChoiceField(label=_("Channel"), queryset=Gateway.objects.none())
    file = forms.FileField(label=_("CSV file (UTF-8) with the columns platform, handle, text, date"))

    def __init__(self, *args: Any, social: QuerySet[Gateway], **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["channel"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = social.order_by("organisation__name", "name")
        if social.count() == 1:
            field.initial = social.first()


class FeedbackForm(forms.Form):
    """The public form. `website` is the honeypot (hidden from people by CSS); `shown` the signed time."""

    category = forms.ChoiceField(
        label=_("What is your message about?"),
        choices=feedback.CATEGORY_HINTS,
        widget=forms.RadioSelect,
        initial=Category.QUESTION,
    )
    text = forms.CharField(
        label=_("Your message"),
        max_length=feedback.MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 6, "dir": "auto"}),
    )
    phone = forms.CharField(
        label=_("Your phone number (optional)"),
        required=False,
        max_length=40,
        help_text=_("If you want an answer. With the country code, e.g. +52 962 123 4567."),
        widget=forms.TextInput(
            attrs={"type": "tel", "inputmode": "tel", "autocomplete": "tel", "dir": "ltr"}
        ),
    )
    language = forms.ChoiceField(
        label=_("Language for the answer (optional)"), choices=LANGUAGE_CHOICES, required=False
    )
    website = forms.CharField(
        label=_("Leave this empty"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def clean_phone(self) -> str:
        value = str(self.cleaned_data.get("phone") or "").strip()
        if not value:
            return ""
        from ventanilla.messaging.ingest import e164

        number = e164(value)
        if not number:
            raise forms.ValidationError(
                _(
                    "This is not a phone number we can use. "
                    "Write it with its country code, e.g. +52 962 123 4567."
                )
            )
        return number


class ResponseTimesForm(forms.Form):
    """One organisation's answer targets (`messaging.response_times` checks the limits)."""

    answer_hours = forms.IntegerField(
        label=_("Answer within (hours)"),
        min_value=1,
        help_text=_("From the message that opens or reopens a conversation; past it, it is overdue."),
    )
    urgent_hours = forms.IntegerField(
        label=_("Answer urgent messages within (hours)"),
        min_value=1,
        help_text=_("For messages that may be calls for help, and conversations marked urgent."),
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any):
        kwargs.setdefault("prefix", f"org{organisation.pk}")
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        labels = dict(Category.choices)
        for code in TARGET_CATEGORIES:
            self.fields[f"category_{code}"] = forms.IntegerField(
                label=_("%(category)s: answer within (hours)") % {"category": labels[code]},
                min_value=1,
                required=False,
                help_text=_("Once a conversation has this category. Blank: as above."),
            )

    @classmethod
    def initial_for(cls, targets: Targets) -> dict[str, int]:
        return {
            "answer_hours": targets.answer_hours,
            "urgent_hours": targets.urgent_hours,
            **{f"category_{code}": hours for code, hours in targets.category_hours.items()},
        }

    def targets(self) -> dict[str, Any]:
        """The cleaned values as `response_times.set_targets` takes them."""
        data = self.cleaned_data
        return {
            "answer_hours": data["answer_hours"],
            "urgent_hours": data["urgent_hours"],
            "category_hours": {code: data.get(f"category_{code}") for code in TARGET_CATEGORIES},
        }
