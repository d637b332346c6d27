"""How points, providers and the compact dataset are written in the API, and the search's filters."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import serializers

from ventanilla.accounts.models import Organisation
from ventanilla.api.caching import latest
from ventanilla.areas.models import AdministrativeArea
from ventanilla.directory import services
from ventanilla.directory.api.common import ERRORS, OwnerField, service_messages
from ventanilla.directory.geo import parse_position
from ventanilla.directory.hours import OpenState, last_state_change, local_now, opening_state
from ventanilla.directory.models import (
    Access,
    Category,
    Cost,
    OpeningException,
    PublicationStatus,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
    Sexes,
)

# --- What the public reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class PointView:
    """A point as one reader sees it now: opening state, distance, words in (or near) their language."""

    point: ServicePoint
    state: OpenState
    distance_km: float | None
    text: ServicePointText | None
    text_language: str | None
    text_is_fallback: bool
    upcoming_exceptions: list[OpeningException]
    last_modified: datetime.datetime | None

    @classmethod
    def of(
        cls,
        point: ServicePoint,
        *,
        language: str,
        at: datetime.datetime,
        state: OpenState | None = None,
        distance_km: float | None = None,
    ) -> PointView:
        text, is_fallback = services.text_for(point, language)
        local_today = local_now(point.time_zone, at).date()
        return cls(
            point=point,
            state=state or opening_state(point, at),
            distance_km=distance_km,
            text=text,
            text_language=text.language if text else None,
            text_is_fallback=is_fallback,
            upcoming_exceptions=[e for e in point.exceptions.all() if e.date >= local_today],
            last_modified=latest(
                point.updated_at,
                point.provider.updated_at,
                text.updated_at if text else None,
                last_state_change(point, at),
            ),
        )

    @property
    def is_open_now(self) -> bool | None:
        """None when the point publishes no hours: unknown, not closed."""
        return self.state.is_open if self.state.has_hours else None

    def fingerprint(self) -> tuple[Any, ...]:
        """Everything the answer shows about the point, as ids, times and flags (cheap to hash)."""
        point, text = self.point, self.text
        return (
            point.pk,
            point.updated_at,
            point.provider.updated_at,
            point.area.pcode if point.area else None,
            [c.code for c in point.categories.all()],
            [(h.weekday, h.opens, h.closes) for h in point.hours.all()],
            [(e.pk, e.date, e.is_closed, e.opens, e.closes, e.note) for e in self.upcoming_exceptions],
            (text.pk, text.updated_at, text.is_outdated) if text else None,
            self.text_is_fallback,
            self.is_open_now,
            self.state.closes_at,
            self.distance_km,
        )


class ProviderSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    website = serializers.URLField()


class OpeningHoursSerializer(serializers.Serializer):
    """A weekly period in the point's time zone; weekday 0 is Monday."""

    weekday = serializers.IntegerField(min_value=0, max_value=6)
    opens = serializers.TimeField(format="%H:%M")
    closes = serializers.TimeField(format="%H:%M")


class OpeningExceptionSerializer(serializers.Serializer):
    """A day that differs from the weekly hours: closed all day, or open at other times."""

    date = serializers.DateField()
    is_closed = serializers.BooleanField(default=True)
    opens = serializers.TimeField(format="%H:%M", allow_null=True, required=False)
    closes = serializers.TimeField(format="%H:%M", allow_null=True, required=False)
    note = serializers.CharField(allow_blank=True, required=False, max_length=200)


class ServicePointSerializer(serializers.Serializer):
    """A service point as the public sees it, words in the reader's language (or a fallback, said so)."""

    id = serializers.IntegerField(source="point.pk")
    name = serializers.CharField(source="point.name")
    status = serializers.ChoiceField(source="point.status", choices=PublicationStatus.choices)
    owner = serializers.IntegerField(source="point.owner_id", help_text="The organisation keeping the entry.")
    provider = ProviderSummarySerializer(source="point.provider")
    categories = serializers.SerializerMethodField()
    address = serializers.CharField(source="point.address")
    area = serializers.CharField(source="point.area.pcode", allow_null=True, help_text="P-code.")
    latitude = serializers.FloatField(source="point.latitude", allow_null=True)
    longitude = serializers.FloatField(source="point.longitude", allow_null=True)
    distance_km = serializers.FloatField(
        allow_null=True, help_text="From the `near` position; null when `near` is not given."
    )
    phone = serializers.CharField(source="point.phone", help_text="International (E.164) format.")
    whatsapp = serializers.CharField(source="point.whatsapp", help_text="International (E.164) format.")
    languages = serializers.ListField(
        source="point.language_codes", child=serializers.CharField(), help_text="Languages spoken."
    )
    age_min = serializers.IntegerField(source="point.age_min", allow_null=True)
    age_max = serializers.IntegerField(source="point.age_max", allow_null=True)
    sexes = serializers.ChoiceField(source="point.sexes", choices=Sexes.choices)
    nationalities = serializers.CharField(source="point.nationalities")
    legal_status = serializers.CharField(source="point.legal_status")
    cost = serializers.ChoiceField(source="point.cost", choices=Cost.choices)
    access = serializers.ChoiceField(source="point.access", choices=Access.choices)
    wheelchair_accessible = serializers.BooleanField(source="point.wheelchair_accessible")
    female_staff = serializers.BooleanField(source="point.female_staff")
    time_zone = serializers.CharField(source="point.time_zone")
    opening_hours = OpeningHoursSerializer(source="point.hours.all", many=True)
    opening_exceptions = OpeningExceptionSerializer(
        source="upcoming_exceptions", many=True, help_text="Exceptional days from today on."
    )
    is_open_now = serializers.BooleanField(allow_null=True, help_text="Null when no hours are published.")
    closes_at = serializers.TimeField(source="state.closes_at", format="%H:%M", allow_null=True)
    last_verified_at = serializers.DateTimeField(source="point.last_verified_at", allow_null=True)
    description = serializers.CharField(source="text.description", allow_null=True, default=None)
    directions = serializers.CharField(source="text.directions", allow_null=True, default=None)
    eligibility = serializers.CharField(source="text.eligibility", allow_null=True, default=None)
    text_language = serializers.CharField(allow_null=True, help_text="The language of the words shown.")
    text_is_fallback = serializers.BooleanField(help_text="True: not available in the language asked for.")
    text_is_outdated = serializers.SerializerMethodField()

    def get_categories(self, view: PointView) -> list[str]:
        return [category.code for category in view.point.categories.all()]

    def get_text_is_outdated(self, view: PointView) -> bool:
        """The source (English) words changed since this translation was made."""
        return bool(view.text and view.text.is_outdated)


POINT_RESPONSES: dict[int, Any] = {200: ServicePointSerializer, **ERRORS}


class PointQuerySerializer(serializers.Serializer):
    """Search filters; every one is optional, and a bad value is a 400 naming it."""

    q = serializers.CharField(required=False, allow_blank=True, max_length=200, help_text="Words to find.")
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    language = serializers.CharField(required=False, help_text="A language spoken there (ISO 639: es, mam).")
    area = serializers.CharField(required=False, help_text="A P-code: the area and everything inside it.")
    open_now = serializers.BooleanField(required=False, default=False)
    near = serializers.CharField(
        required=False, help_text="latitude,longitude: nearest first, with distance_km."
    )
    radius_km = serializers.FloatField(
        required=False, default=100.0, min_value=0.1, max_value=1000, help_text="With near."
    )
    lang = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="Language of the words (else Accept-Language)."
    )

    def validate_language(self, value: str) -> str:
        try:
            return services.parse_languages([value]).strip(",")
        except DjangoValidationError as error:
            raise serializers.ValidationError(service_messages(error, "languages")) from None

    def validate_area(self, value: str) -> str:
        if not AdministrativeArea.objects.filter(pcode=value).exists():
            raise serializers.ValidationError(_("Unknown area P-code."))
        return value

    def validate_near(self, value: str) -> Any:
        try:
            return parse_position(value)
        except ValueError as error:
            raise serializers.ValidationError(str(error)) from None


class LanguageQuerySerializer(serializers.Serializer):
    lang = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="Language of the words (else Accept-Language)."
    )


# The compact dataset: documented field by field (the keys are short on purpose).
class DatasetPointSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    n = serializers.CharField(help_text="Name.")
    lat = serializers.FloatField(allow_null=True, help_text="Latitude, 4 decimals.")
    lon = serializers.FloatField(allow_null=True, help_text="Longitude, 4 decimals.")
    c = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), help_text="Categories."
    )
    a = serializers.CharField(allow_null=True, help_text="Area P-code.")
    p = serializers.CharField(allow_null=True, help_text="Phone, E.164.")
    l = serializers.ListField(child=serializers.CharField(), help_text="Languages spoken.")  # noqa: E741


class DatasetSerializer(serializers.Serializer):
    v = serializers.IntegerField(help_text="Format version.")
    generated = serializers.DateTimeField()
    points = DatasetPointSerializer(many=True)


# --- What staff write -----------------------------------------------------------------------------


class PointTextSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True)
    directions = serializers.CharField(required=False, allow_blank=True)
    eligibility = serializers.CharField(required=False, allow_blank=True)


class ServicePointWriteSerializer(serializers.Serializer):
    """Create (POST) or change (PATCH, any subset) a point. It starts as a draft; publish it after."""

    owner = OwnerField(help_text="The organisation that keeps the entry (you manage its content).")
    provider = serializers.IntegerField(help_text="A service provider id.")
    name = serializers.CharField(max_length=200)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), allow_empty=False
    )
    address = serializers.CharField(max_length=300, required=False, allow_blank=True)
    area = serializers.SlugRelatedField(
        slug_field="pcode", queryset=AdministrativeArea.objects.all(), required=False, allow_null=True
    )
    latitude = serializers.FloatField(min_value=-90, max_value=90, required=False, allow_null=True)
    longitude = serializers.FloatField(min_value=-180, max_value=180, required=False, allow_null=True)
    time_zone = serializers.CharField(max_length=64, help_text="IANA name, e.g. America/Mexico_City.")
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    whatsapp = serializers.CharField(max_length=30, required=False, allow_blank=True)
    languages = serializers.ListField(child=serializers.CharField(max_length=8), required=False)
    age_min = serializers.IntegerField(min_value=0, max_value=130, required=False, allow_null=True)
    age_max = serializers.IntegerField(min_value=0, max_value=130, required=False, allow_null=True)
    sexes = serializers.ChoiceField(choices=Sexes.choices, required=False)
    nationalities = serializers.CharField(max_length=200, required=False, allow_blank=True)
    legal_status = serializers.CharField(max_length=200, required=False, allow_blank=True)
    cost = serializers.ChoiceField(choices=Cost.choices, required=False)
    access = serializers.ChoiceField(choices=Access.choices, required=False)
    wheelchair_accessible = serializers.BooleanField(required=False)
    female_staff = serializers.BooleanField(required=False)
    texts = serializers.DictField(
        child=PointTextSerializer(), required=False, help_text='Words by language: {"es": {...}}.'
    )
    hours = OpeningHoursSerializer(many=True, required=False, help_text="Replaces the weekly hours.")
    exceptions = OpeningExceptionSerializer(many=True, required=False, help_text="Replaces the exceptions.")

    def validate_provider(self, value: int) -> ServiceProvider:
        provider = ServiceProvider.objects.visible_to(self.context["request"].user).filter(pk=value).first()
        if provider is None:
            raise serializers.ValidationError(_("Unknown service provider."))
        return provider

    def validate_languages(self, value: list[str]) -> str:
        try:
            return services.parse_languages(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(service_messages(error, "languages")) from None

    def _phone(self, value: str, name: str) -> str:
        try:
            return services.parse_phone(value, field_name=name)
        except DjangoValidationError as error:
            raise serializers.ValidationError(service_messages(error, name)) from None

    def validate_phone(self, value: str) -> str:
        return self._phone(value, "phone")

    def validate_whatsapp(self, value: str) -> str:
        return self._phone(value, "whatsapp")

    def validate_texts(self, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        offered = {code for code, _name in settings.LANGUAGES}
        unknown = sorted(set(value) - offered)
        if unknown:
            raise serializers.ValidationError(
                _("Ventanilla does not offer the language %(code)s.") % {"code": ", ".join(unknown)}
            )
        return value


SCALARS = (
    "name",
    "address",
    "area",
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
)


PROVIDER_KINDS: list[Any] = list(ServiceProvider._meta.get_field("kind").choices or [])


class ProviderSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    owner = OwnerField(source="owner_id", help_text="The organisation that keeps the entry.")
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=PROVIDER_KINDS, required=False)
    organisation = serializers.IntegerField(
        source="organisation_id",
        required=False,
        allow_null=True,
        help_text="The Ventanilla organisation of the provider, if it has accounts.",
    )
    website = serializers.URLField(max_length=200, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    status = serializers.ChoiceField(choices=PublicationStatus.choices, required=False)
    updated_at = serializers.DateTimeField(read_only=True)

    def validate_organisation(self, value: int | None) -> int | None:
        user = self.context["request"].user
        if value is not None and not Organisation.objects.visible_to(user).filter(pk=value).exists():
            raise serializers.ValidationError(_("Unknown organisation."))
        return value

    def validate_phone(self, value: str) -> str:
        try:
            return services.parse_phone(value, field_name="phone")
        except DjangoValidationError as error:
            raise serializers.ValidationError(service_messages(error, "phone")) from None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        instance: ServiceProvider | None = self.instance
        owner = attrs.get("owner_id", instance.owner_id if instance else None)
        name = attrs.get("name", instance.name if instance else None)
        same = ServiceProvider.objects.filter(owner_id=owner, name=name)
        if instance is not None:
            same = same.exclude(pk=instance.pk)
        if same.exists():
            raise serializers.ValidationError(
                {"name": [_("This organisation already keeps a provider with this name.")]}
            )
        return attrs
