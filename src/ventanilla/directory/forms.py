"""Staff forms for keeping the directory: providers, service points with their hours and texts, import."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from ventanilla.accounts.models import Organisation
from ventanilla.areas.models import AdministrativeArea
from ventanilla.directory import services
from ventanilla.directory.models import (
    Category,
    PublicationStatus,
    ServiceCategory,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
)

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


def _message(error: ValidationError, field: str) -> list[str]:
    """The messages a service gave for one field (its ValidationError carries a dict)."""
    if hasattr(error, "error_dict"):
        return [str(message) for message in error.message_dict.get(field, error.messages)]
    return [str(message) for message in error.messages]


class ProviderForm(forms.ModelForm):
    website = forms.URLField(label=_("website"), required=False, max_length=200, assume_scheme="https")

    class Meta:
        model = ServiceProvider
        fields = ["owner", "name", "kind", "organisation", "website", "phone", "email", "status"]

    def __init__(self, *args: Any, owners: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(is_active=True)  # type: ignore[attr-defined]
        if self.instance.pk or owners.count() == 1:
            # The keeper of a row is chosen once; with one organisation there is nothing to choose.
            del self.fields["owner"]
            if not self.instance.pk:
                self.instance.owner = owners.get()
        else:
            self.fields["owner"].queryset = owners  # type: ignore[attr-defined]

    def clean_phone(self) -> str:
        try:
            return services.parse_phone(self.cleaned_data["phone"])
        except ValidationError as error:
            raise forms.ValidationError(_message(error, "phone")) from None

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        owner = cleaned.get("owner") or (self.instance.owner if self.instance.owner_id else None)
        name = cleaned.get("name")
        if owner is not None and name:
            taken = ServiceProvider.objects.filter(owner=owner, name__iexact=name.strip())
            if taken.exclude(pk=self.instance.pk).exists():
                self.add_error("name", _("Your organisation already keeps a provider with this name."))
        return cleaned


class PointForm(forms.ModelForm):
    """The point itself; hours, exceptions and texts are separate forms on the same page."""

    categories = forms.ModelMultipleChoiceField(
        label=_("Services given here"),
        queryset=ServiceCategory.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Tick at least one service.")},
    )
    area = forms.CharField(
        label=_("Administrative area (P-code)"),
        required=False,
        max_length=20,
        help_text=_("For example GT1215. The area list shows every P-code."),
    )
    languages = forms.CharField(
        label=_("Languages spoken"),
        required=False,
        max_length=200,
        help_text=_("Language codes separated by commas, for example: es, en, mam"),
    )

    class Meta:
        model = ServicePoint
        fields = [
            "provider",
            "name",
            "categories",
            "address",
            "area",
            "latitude",
            "longitude",
            "time_zone",
            "phone",
            "whatsapp",
            "languages",
            "age_min",
            "age_max",
            "sexes",
            "nationalities",
            "legal_status",
            "cost",
            "access",
            "wheelchair_accessible",
            "female_staff",
        ]
        help_texts = {
            "latitude": _("Decimal degrees, for example 14.90593"),
            "longitude": _("Decimal degrees, for example -92.26331"),
            "time_zone": _("The opening hours are read in it, for example America/Guatemala"),
            "phone": _("International format, for example +52 962 123 4567"),
        }

    def __init__(self, *args: Any, providers: QuerySet[ServiceProvider], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = providers  # type: ignore[attr-defined]
        self.fields["categories"].label_from_instance = lambda category: category.label  # type: ignore[attr-defined]
        point: ServicePoint = self.instance
        if point.pk:
            self.initial["area"] = point.area.pcode if point.area_id else ""  # type: ignore[union-attr]
            self.initial["languages"] = ", ".join(point.language_codes)

    def clean_area(self) -> AdministrativeArea | None:
        pcode = self.cleaned_data["area"].strip().upper()
        if not pcode:
            return None
        area = AdministrativeArea.objects.filter(pcode=pcode).first()
        if area is None:
            raise forms.ValidationError(
                _("No administrative area has the P-code %(pcode)s."), params={"pcode": pcode}
            )
        return area

    def clean_languages(self) -> str:
        try:
            return services.parse_languages(self.cleaned_data["languages"])
        except ValidationError as error:
            raise forms.ValidationError(_message(error, "languages")) from None

    def clean_phone(self) -> str:
        return self._phone("phone")

    def clean_whatsapp(self) -> str:
        return self._phone("whatsapp")

    def _phone(self, name: str) -> str:
        try:
            return services.parse_phone(self.cleaned_data[name], field_name=name)
        except ValidationError as error:
            raise forms.ValidationError(_message(error, name)) from None

    def build(self) -> ServicePoint:
        """The point with the form's values, not stored (`services.save_point` stores it). It is kept
        by the organisation that keeps its provider."""
        point: ServicePoint = super().save(commit=False)
        point.owner = point.provider.owner
        return point

    def category_codes(self) -> list[str]:
        return [category.code for category in self.cleaned_data["categories"]]


class WeeklyHoursForm(forms.Form):
    """A grid: one line per weekday with a few opening periods (blank = closed that day)."""

    def __init__(self, *args: Any, periods: Iterable[services.WeeklyPeriod] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        by_day: dict[int, list[services.WeeklyPeriod]] = {day: [] for day, _label in WEEKDAYS}
        for period in sorted(periods):
            by_day[period.weekday].append(period)
        self.slots = max(2, *(len(day) for day in by_day.values()))
        self.days: list[tuple[str, list[tuple[forms.BoundField, forms.BoundField]]]] = []
        for day, label in WEEKDAYS:
            for slot in range(self.slots):
                for part in ("opens", "closes"):
                    name = f"d{day}_{slot}_{part}"
                    self.fields[name] = forms.TimeField(
                        label=f"{label} {slot + 1} {part}",
                        required=False,
                        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
                    )
                    if slot < len(by_day[day]):
                        self.initial[name] = getattr(by_day[day][slot], part)

    def rows(self) -> list[tuple[str, list[tuple[forms.BoundField, forms.BoundField]]]]:
        return [
            (
                str(label),
                [(self[f"d{day}_{slot}_opens"], self[f"d{day}_{slot}_closes"]) for slot in range(self.slots)],
            )
            for day, label in WEEKDAYS
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        periods: list[services.WeeklyPeriod] = []
        for day, label in WEEKDAYS:
            for slot in range(self.slots):
                opens = cleaned.get(f"d{day}_{slot}_opens")
                closes = cleaned.get(f"d{day}_{slot}_closes")
                if opens is None and closes is None:
                    continue
                if opens is None or closes is None:
                    self.add_error(
                        f"d{day}_{slot}_{'opens' if opens is None else 'closes'}",
                        _("%(day)s: give both the opening and the closing time.") % {"day": label},
                    )
                    continue
                periods.append(services.WeeklyPeriod(day, opens, closes))
        if not self.errors:
            try:
                cleaned["periods"] = services.check_hours(periods)
            except ValidationError as error:
                for message in _message(error, "hours"):
                    self.add_error(None, message)
        return cleaned


class ExceptionForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=forms.DateInput(attrs={"type": "date"}))
    is_closed = forms.BooleanField(label=_("Closed all day"), required=False)
    opens = forms.TimeField(
        label=_("Opens"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    closes = forms.TimeField(
        label=_("Closes"), required=False, widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    note = forms.CharField(label=_("Note (for example: public holiday)"), required=False, max_length=200)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not cleaned.get("is_closed") and cleaned.get("date"):
            opens, closes = cleaned.get("opens"), cleaned.get("closes")
            if opens is None or closes is None:
                self.add_error("opens", _("Give the opening and closing times, or tick closed all day."))
            elif closes <= opens:
                self.add_error("closes", _("The closing time must be after the opening time."))
        return cleaned


class BaseExceptionFormSet(forms.BaseFormSet):
    def kept_forms(self) -> list[forms.Form]:
        """Stored rows unless ticked for deletion, and the blank rows that were filled in."""
        return [
            form
            for index, form in enumerate(self.forms)
            if not getattr(form, "cleaned_data", {}).get("DELETE")
            and (index < self.initial_form_count() or form.has_changed())
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        dates: set[datetime.date] = set()
        for form in self.kept_forms():
            date = form.cleaned_data["date"]
            if date in dates:
                raise forms.ValidationError(
                    _("The date %(date)s is given twice."), params={"date": date.isoformat()}
                )
            dates.add(date)

    def exceptions(self) -> list[dict[str, Any]]:
        return [
            {key: form.cleaned_data[key] for key in ("date", "is_closed", "opens", "closes", "note")}
            for form in self.kept_forms()
        ]


ExceptionFormSet = forms.formset_factory(
    ExceptionForm, formset=BaseExceptionFormSet, extra=2, can_delete=True, max_num=100
)


class PointTextForm(forms.Form):
    """The words of a point in one language (one form per offered language, prefixed by its code)."""

    description = forms.CharField(
        label=_("What is offered"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    directions = forms.CharField(
        label=_("How to get there"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    eligibility = forms.CharField(
        label=_("Who can come, and what to bring"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, data: Any, *, language: str, text: ServicePointText | None) -> None:
        self.language = language
        self.language_name = dict(settings.LANGUAGES)[language]
        self.is_outdated = bool(text and text.is_outdated)
        initial = {name: getattr(text, name) for name in services.TEXT_FIELDS} if text else {}
        super().__init__(data, prefix=f"text-{language}", initial=initial)


def text_forms(data: Any, point: ServicePoint) -> list[PointTextForm]:
    texts = {text.language: text for text in point.texts.all()} if point.pk else {}
    return [PointTextForm(data, language=code, text=texts.get(code)) for code, _name in settings.LANGUAGES]


class PointFilterForm(forms.Form):
    """The filters of the service point list (all optional; a bad value is ignored, not an error page)."""

    q = forms.CharField(label=_("Name"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *PublicationStatus.choices]
    )
    category = forms.ChoiceField(
        label=_("Service"), required=False, choices=[("", _("Any")), *Category.choices]
    )
    area = forms.CharField(label=_("Area (P-code)"), required=False, max_length=20)
    stale = forms.BooleanField(label=_("Not verified recently"), required=False)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Spreadsheet (.csv or .xlsx)"),
        help_text=_("One service point per row; the first row names the columns."),
    )
    organisation = forms.ModelChoiceField(label=_("Kept by"), queryset=Organisation.objects.none())
    skip_invalid = forms.BooleanField(
        label=_("Skip invalid rows (import only the rows without problems)"), required=False
    )

    def __init__(self, *args: Any, owners: QuerySet[Organisation], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = owners  # type: ignore[attr-defined]
        self.only_owner = owners.get() if owners.count() == 1 else None
        if self.only_owner is not None:
            # One organisation: nothing to choose, so the field is not shown.
            del self.fields["organisation"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if self.only_owner is not None:
            cleaned["organisation"] = self.only_owner
        return cleaned

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = upload.name.lower()
        if not name.endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        if upload.size > 20 * 1024 * 1024:
            raise forms.ValidationError(_("The file is larger than 20 MB; split it into several files."))
        return upload
