"""How registration data is read and written over the API. Output serializers document the answers;
query serializers validate filters so a bad value is a 400 naming the parameter."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from ventanilla.accounts.models import Site
from ventanilla.questionnaires.models import FormVersion, Questionnaire
from ventanilla.registration.models import (
    Consent,
    ConsentMethod,
    ConsentPurpose,
    DuplicateCandidate,
    DuplicateDecision,
    FlagSeverity,
    LinkKind,
    Person,
    Registration,
    Sex,
)

REFERENCE = re.compile(r"^VT-[A-Z0-9]{4}-[A-Z0-9]{4}$")


# Why a person's data is erased. A code, not free text: the reason is written to the audit log, which
# must never hold personal values (a typed reason easily names someone).
ERASURE_REASONS = [
    ("person_request", gettext_lazy("The person asked for it")),
    ("consent_withdrawn", gettext_lazy("The person withdrew consent")),
    ("recorded_in_error", gettext_lazy("Registered in error")),
    ("legal_obligation", gettext_lazy("Legal obligation")),
    ("safety", gettext_lazy("The person's safety")),
]


def age_of(person: Person, today: datetime.date | None = None) -> int | None:
    """Today's age from the date of birth, or the age estimated at registration (said so by the caller)."""
    if person.date_of_birth:
        today = today or timezone.localdate()
        born = person.date_of_birth
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return person.age_estimate


# --- Registering --------------------------------------------------------------------------------------


class RegisterSerializer(serializers.Serializer):
    """One filled registration form. Answers are keyed by question name (groups flattened), repeats as
    lists of objects, values as the XForm writes them (select_multiple: space-separated)."""

    form_version = serializers.IntegerField(help_text="A version of a registration form you may use.")
    site = serializers.IntegerField(help_text="Where the person is registered (one of your sites).")
    language = serializers.ChoiceField(
        choices=settings.LANGUAGES,
        required=False,
        help_text="The person's language: of the labels and error messages (else Accept-Language).",
    )
    answers = serializers.DictField(help_text='{"consent_registration": "yes", "leg": [{...}], ...}')
    together_with = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="Reference of a person registered before, travelling with this one.",
    )
    relationship = serializers.CharField(required=False, allow_blank=True, max_length=30, default="")
    instance_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="A client's id for this form (uuid:...): sent twice, stored once.",
    )

    def validate_form_version(self, value: int) -> FormVersion:
        user = self.context["request"].user
        visible = Questionnaire.objects.visible_to(user)
        version = (
            FormVersion.objects.filter(pk=value, questionnaire__in=visible)
            .select_related("questionnaire")
            .first()
        )
        if version is None:
            raise serializers.ValidationError(_("Unknown form version."))
        return version

    def validate_site(self, value: int) -> Site:
        site = (
            Site.objects.visible_to(self.context["request"].user)
            .filter(pk=value)
            .select_related("organisation")
            .first()
        )
        if site is None:
            raise serializers.ValidationError(_("Unknown site."))
        return site

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        reference = (attrs.get("together_with") or "").strip().upper()
        attrs["together_with"] = None
        if reference:
            from ventanilla.registration.services import people

            other = (
                people(self.context["request"].user)
                .filter(reference=reference, organisation=attrs["site"].organisation)
                .first()
            )
            if other is None:
                raise serializers.ValidationError({"together_with": [_("No person with this reference.")]})
            attrs["together_with"] = other
        return attrs


class ReasonSerializer(serializers.Serializer):
    question = serializers.CharField(help_text="The question's label in the language asked for.")
    answer = serializers.CharField(help_text="The answer, in words.")


class FlagSerializer(serializers.Serializer):
    """A vulnerability found by screening, in words."""

    id = serializers.IntegerField()
    code = serializers.CharField(help_text="separated_child, trafficking_indicators ...")
    severity = serializers.ChoiceField(choices=FlagSeverity.choices)
    label = serializers.CharField(help_text="In the language asked for.")  # type: ignore[assignment]
    reasons = ReasonSerializer(many=True, help_text="The answers that raised it.")
    categories = serializers.ListField(
        child=serializers.CharField(), help_text="Service categories to refer to."
    )
    open = serializers.BooleanField(help_text="False once dismissed.")
    created_at = serializers.DateTimeField()


class FlagListSerializer(FlagSerializer):
    person = serializers.CharField(allow_null=True, help_text="The person's reference.")
    registration = serializers.IntegerField()
    site = serializers.IntegerField(allow_null=True)


class DuplicateSerializer(serializers.ModelSerializer):
    """A possible earlier (or later) record of the same person. Reasons are codes, never values."""

    person = serializers.CharField(source="person.reference", help_text="The newer record.")
    candidate = serializers.CharField(source="candidate.reference", help_text="The earlier record.")
    reasons = serializers.ListField(child=serializers.CharField(), help_text="similar_name, same_phone ...")
    decision = serializers.ChoiceField(choices=DuplicateDecision.choices)

    class Meta:
        model = DuplicateCandidate
        fields = ["id", "person", "candidate", "score", "reasons", "decision", "decided_at"]


class RegisteredDuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField(source="candidate.reference", help_text="The earlier record.")
    score = serializers.IntegerField(help_text="0–100.")
    reasons = serializers.ListField(child=serializers.CharField())


class RegisteredSerializer(serializers.Serializer):
    stored = serializers.ChoiceField(
        choices=[("personal", "personal"), ("anonymous", "anonymous"), ("nothing", "nothing")],
        help_text="What consent allowed: the person, only an anonymous record, or nothing.",
    )
    reference = serializers.CharField(
        allow_null=True, help_text="The person's reference (null unless personal)."
    )
    registration = serializers.IntegerField(allow_null=True)
    flags = FlagSerializer(many=True)
    duplicates = RegisteredDuplicateSerializer(many=True)


# --- Registrations (de-identified) ---------------------------------------------------------------------


class JourneyLegSerializer(serializers.Serializer):
    order = serializers.IntegerField()
    country = serializers.CharField()
    place = serializers.CharField()
    arrived = serializers.DateField(allow_null=True)
    left = serializers.DateField(allow_null=True)
    transport = serializers.CharField()
    organised_by = serializers.CharField()


class RegistrationSerializer(serializers.ModelSerializer):
    person = serializers.CharField(
        source="person.reference", allow_null=True, default=None, help_text="Reference."
    )
    flags = serializers.SerializerMethodField(help_text="Codes of the open flags.")

    class Meta:
        model = Registration
        fields = [
            "id",
            "person",
            "organisation",
            "site",
            "form_version",
            "registered_at",
            "anonymous",
            "language",
            "age_band",
            "sex",
            "nationality",
            "country_of_origin",
            "destination_country",
            "deidentified_at",
            "flags",
        ]

    def get_flags(self, registration: Registration) -> list[str]:
        return sorted({f.code for f in registration.flags.all() if f.dismissed_at is None})


class RegistrationDetailSerializer(RegistrationSerializer):
    statistics = serializers.DictField(help_text="The de-identified answers kept for counting.")
    legs = JourneyLegSerializer(many=True, source="legs.all")

    class Meta(RegistrationSerializer.Meta):
        fields = [*RegistrationSerializer.Meta.fields, "statistics", "legs"]


class RegistrationQuerySerializer(serializers.Serializer):
    site = serializers.IntegerField(required=False)
    person = serializers.CharField(required=False, help_text="A person's reference.")
    registered_after = serializers.DateField(required=False)
    registered_before = serializers.DateField(required=False)


# --- People ------------------------------------------------------------------------------------------------


class PersonListSerializer(serializers.ModelSerializer):
    age = serializers.SerializerMethodField(help_text="Today, from the date of birth; else the estimate.")
    age_estimated = serializers.SerializerMethodField()
    sex = serializers.ChoiceField(choices=Sex.choices, allow_blank=True)
    flags = serializers.SerializerMethodField(help_text="Codes of the open flags.")

    class Meta:
        model = Person
        fields = [
            "reference",
            "given_name",
            "family_name",
            "age",
            "age_estimated",
            "sex",
            "nationality",
            "site",
            "registered_at",
            "flags",
        ]

    def get_age(self, person: Person) -> int | None:
        return age_of(person)

    def get_age_estimated(self, person: Person) -> bool:
        return person.date_of_birth is None

    def get_flags(self, person: Person) -> list[str]:
        return sorted({f.code for f in person.flags.all() if f.dismissed_at is None})


class PersonRegistrationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Registration
        fields = ["id", "site", "form_version", "registered_at", "language"]


class PersonLinkSerializer(serializers.Serializer):
    reference = serializers.CharField(source="other.reference")
    kind = serializers.ChoiceField(choices=LinkKind.choices)
    relationship = serializers.CharField()


class PersonSerializer(PersonListSerializer):
    documents = serializers.SerializerMethodField(help_text="What the person said about their documents.")
    merged_into = serializers.CharField(source="merged_into.reference", allow_null=True, default=None)
    registrations = PersonRegistrationSerializer(many=True, source="registrations.all")
    links = PersonLinkSerializer(many=True, source="links.all")

    class Meta(PersonListSerializer.Meta):
        fields = [
            *PersonListSerializer.Meta.fields,
            "other_names",
            "date_of_birth",
            "age_estimate",
            "phone",
            "documents",
            "organisation",
            "updated_at",
            "merged_into",
            "erased_at",
            "registrations",
            "links",
        ]

    def get_documents(self, person: Person) -> dict[str, Any]:
        try:
            value = json.loads(person.documents) if person.documents else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


class PersonQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="A reference (VT-XXXX-XXXX), a phone number, or a name (any spelling or script).",
    )
    site = serializers.IntegerField(required=False)
    registered_after = serializers.DateField(required=False)
    registered_before = serializers.DateField(required=False)
    flag = serializers.CharField(required=False, help_text="People with this open flag (a code).")
    has_flags = serializers.BooleanField(required=False, allow_null=True, default=None)


class ConsentSerializer(serializers.ModelSerializer):
    purpose = serializers.ChoiceField(choices=ConsentPurpose.choices)
    method = serializers.ChoiceField(choices=ConsentMethod.choices)
    active = serializers.BooleanField(help_text="Given and not withdrawn.")

    class Meta:
        model = Consent
        fields = [
            "id",
            "registration",
            "purpose",
            "given",
            "method",
            "language",
            "recorded_at",
            "withdrawn_at",
            "active",
        ]


class EraseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=ERASURE_REASONS, help_text="Why (a code: it goes to the audit log)."
    )


class ErasedSerializer(serializers.Serializer):
    reference = serializers.CharField()
    erased_at = serializers.DateTimeField()


class FlagQuerySerializer(serializers.Serializer):
    code = serializers.CharField(required=False)
    severity = serializers.ChoiceField(choices=FlagSeverity.choices, required=False)
    site = serializers.IntegerField(required=False)
    open = serializers.BooleanField(required=False, allow_null=True, default=None, help_text="Not dismissed.")
    lang = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="Else Accept-Language."
    )


class LanguageQuerySerializer(serializers.Serializer):
    lang = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="Else Accept-Language."
    )
