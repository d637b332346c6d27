"""People registered with their consent, what they agreed to, their journey and the flags raised.

Two layers, on purpose. `Person` holds who someone is — encrypted, findable only through keyed hashes,
erasable. `Registration` and `JourneyLeg` hold what can be counted — age band, sex, nationality, route,
reasons — and survive erasure and the end of retention, de-identified, so statistics stay whole while
nobody can be found in them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ventanilla.core.fields import BlindIndexedModel, BlindIndexField, EncryptedDateField, EncryptedTextField
from ventanilla.core.references import random_reference
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import Scope, ScopedModel


def new_reference() -> str:
    """A pseudonymous reference, random so it says nothing about the person (VT-XXXX-XXXX)."""
    return random_reference("VT")


class Sex(models.TextChoices):
    FEMALE = "female", _("Female")
    MALE = "male", _("Male")
    OTHER = "other", _("Other")
    UNDISCLOSED = "undisclosed", _("Prefers not to say")


class AgeBand(models.TextChoices):
    """The bands the form asks of statistics-only records (stat_age_group) and reports use."""

    CHILD_0_4 = "0-4", "0–4"
    CHILD_5_11 = "5-11", "5–11"
    CHILD_12_17 = "12-17", "12–17"
    ADULT_18_59 = "18-59", "18–59"
    OLDER_60 = "60+", "60+"
    UNKNOWN = "", _("Unknown")


def age_band(age: int | None) -> str:
    if age is None:
        return AgeBand.UNKNOWN
    for limit, band in ((4, "0-4"), (11, "5-11"), (17, "12-17"), (59, "18-59")):
        if age <= limit:
            return band
    return AgeBand.OLDER_60


class PersonalRecord(ScopedModel):
    """Rows about one person, read by case staff of the owning organisation (site staff: their sites)."""

    audit_reads = True

    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        "accounts.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.site_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation", site="site")

    @property
    def audit_organisation_id(self) -> int:
        return int(self.organisation_id)


class Person(PersonalRecord, BlindIndexedModel):
    """Who someone is. Every personal value is encrypted; `reference` is what staff write down."""

    reference = models.CharField(
        _("reference"), max_length=20, unique=True, default=new_reference, editable=False
    )
    given_name = EncryptedTextField(_("given name"), blank=True)
    family_name = EncryptedTextField(_("family name"), blank=True)
    other_names = EncryptedTextField(_("other names"), blank=True)
    date_of_birth = EncryptedDateField(_("date of birth"), null=True, blank=True)
    age_estimate = models.PositiveSmallIntegerField(_("estimated age at registration"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)  # blocking only
    sex = models.CharField(_("sex"), max_length=12, choices=Sex.choices, blank=True)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)
    phone = EncryptedTextField(_("phone"), blank=True)
    phone_index = BlindIndexField(source="phone", purpose="person.phone", phone=True)
    documents = EncryptedTextField(_("documents"), blank=True)
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="merged",
        verbose_name=_("merged into"),
    )
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        ordering = ["-registered_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "registered_at"])]

    def __str__(self) -> str:
        return self.reference

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.given_name, self.family_name) if p) or self.reference


class MatchKey(models.Model):
    """Keyed hashes of coarse name and birth-year tokens: find likely duplicates without clear names."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="match_keys")
    key = models.CharField(max_length=24)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "key"], name="match_key_unique")]
        # Duplicate search reads (key → person) from this index alone, without the table; it also
        # replaces the single-column key index (and PostgreSQL's LIKE index, which no query used).
        indexes = [models.Index(fields=["key", "person"], name="match_key_key_person")]

    def __str__(self) -> str:
        return self.key


class Registration(PersonalRecord):
    """One registration at a site: the answers (encrypted) and the de-identified facts kept for counting."""

    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="registrations"
    )
    submission = models.OneToOneField(
        "questionnaires.Submission",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="registration",
    )
    form_version = models.ForeignKey("questionnaires.FormVersion", on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    registered_at = models.DateTimeField(_("registered"), auto_now_add=True, db_index=True)
    # The form instance's id (OpenRosa instanceID): a phone that sends twice registers once.
    instance_uuid = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    anonymous = models.BooleanField(_("anonymous record"), default=False)
    language = models.CharField(_("language"), max_length=12, blank=True)
    # De-identified, kept after erasure.
    age_band = models.CharField(_("age band"), max_length=6, choices=AgeBand.choices, blank=True)
    sex = models.CharField(_("sex"), max_length=12, choices=Sex.choices, blank=True)
    nationality = models.CharField(_("nationality"), max_length=2, blank=True)
    country_of_origin = models.CharField(_("country of origin"), max_length=2, blank=True)
    destination_country = models.CharField(_("intended destination"), max_length=2, blank=True)
    statistics = models.JSONField(_("statistical answers"), default=dict, blank=True)
    deidentified_at = models.DateTimeField(_("de-identified"), null=True, blank=True)

    class Meta:
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        ordering = ["-registered_at", "-pk"]
        indexes = [models.Index(fields=["organisation", "site", "registered_at"])]

    def __str__(self) -> str:
        return f"{self.person or _('anonymous')} @ {self.registered_at:%Y-%m-%d}"


class JourneyLeg(models.Model):
    """A transit point on the way, as structured data so routes can be counted and mapped."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="legs")
    order = models.PositiveSmallIntegerField()
    country = models.CharField(_("country"), max_length=2, blank=True)
    place = models.CharField(_("place"), max_length=200, blank=True)
    arrived = models.DateField(_("arrived"), null=True, blank=True)
    left = models.DateField(_("left"), null=True, blank=True)
    transport = models.CharField(_("transport"), max_length=30, blank=True)
    organised_by = models.CharField(_("organised by"), max_length=30, blank=True)

    class Meta:
        ordering = ["registration", "order"]
        constraints = [models.UniqueConstraint(fields=["registration", "order"], name="journey_leg_order")]

    def __str__(self) -> str:
        return f"{self.order}. {self.country}"


class ConsentPurpose(models.TextChoices):
    REGISTRATION = "registration", _("Registration and assistance")
    REFERRAL = "referral", _("Referral to partner services")
    FOLLOW_UP = "follow_up", _("Follow-up contact")
    STATISTICS = "statistics", _("Anonymous statistics")


class ConsentMethod(models.TextChoices):
    VERBAL = "verbal", _("Verbal")
    WRITTEN = "written", _("Written")


class Consent(PersonalRecord):
    """One answer to one purpose: who recorded it, when, how, and whether it was later withdrawn."""

    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="consents"
    )
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(_("purpose"), max_length=20, choices=ConsentPurpose.choices)
    given = models.BooleanField(_("given"))
    method = models.CharField(_("how"), max_length=10, choices=ConsentMethod.choices)
    language = models.CharField(_("language of the explanation"), max_length=12, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["registration", "purpose"]

    @property
    def active(self) -> bool:
        return self.given and self.withdrawn_at is None


class LinkKind(models.TextChoices):
    FAMILY = "family", _("Family")
    GROUP = "group", _("Travelling together")
    ACCOMPANYING_ADULT = "accompanying_adult", _("Adult accompanying a child")


class PersonLink(PersonalRecord):
    """Two people travelling together; for a child, `other` is the accompanying adult."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="links")
    other = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("link"), max_length=20, choices=LinkKind.choices)
    relationship = models.CharField(_("relationship"), max_length=30, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "other", "kind"], name="person_link_unique"),
            models.CheckConstraint(condition=~Q(person=models.F("other")), name="person_link_not_self"),
        ]


class FlagSeverity(models.TextChoices):
    CRITICAL = "critical", _("Critical: act today")
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")


class Flag(PersonalRecord):
    """A vulnerability the screening rules found, with the answers that raised it."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="flags")
    person = models.ForeignKey(Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="flags")
    code = models.CharField(_("flag"), max_length=50)
    severity = models.CharField(_("severity"), max_length=10, choices=FlagSeverity.choices)
    ruleset_version = models.CharField(_("rules version"), max_length=20)
    reasons = models.JSONField(_("answers that raised it"), default=list)
    categories = models.JSONField(_("services to refer to"), default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)
    dismissed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    dismissed_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["registration", "code"]
        indexes = [models.Index(fields=["organisation", "code"])]


class DuplicateDecision(models.TextChoices):
    PENDING = "pending", _("To check")
    MERGED = "merged", _("Merged")
    NOT_SAME = "not_same", _("Not the same person")


class DuplicateCandidate(PersonalRecord):
    """A possible earlier registration of the same person, for a caseworker to decide on."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="duplicate_candidates")
    candidate = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    reasons = models.JSONField(default=list)
    decision = models.CharField(
        max_length=10, choices=DuplicateDecision.choices, default=DuplicateDecision.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    merge_record = models.JSONField(default=dict, blank=True)  # what moved, so a merge can be undone

    class Meta:
        ordering = ["-score"]
        constraints = [models.UniqueConstraint(fields=["person", "candidate"], name="duplicate_pair_unique")]


class ScreeningRuleSet(models.Model):
    """A version of the screening rules; exactly one is in force. Flags keep the version that raised them."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    rules = models.JSONField(_("rules"))
    active = models.BooleanField(_("in force"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("screening rules")
        verbose_name_plural = _("screening rules")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["active"], condition=Q(active=True), name="one_active_ruleset"),
        ]

    def __str__(self) -> str:
        return self.version


class AnswerCorrection(models.Model):
    """Who changed which answers of a registration, and why (the reason may name people: encrypted)."""

    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="corrections")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    fields = models.JSONField(default=list)
    reason = EncryptedTextField(_("reason"))

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.registration_id} @ {self.at:%Y-%m-%d}"


class ExportKind(models.TextChoices):
    PERSONAL = "personal", _("Personal data")
    DEIDENTIFIED = "deidentified", _("De-identified")


class ExportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Being written")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Deleted")


class ExportJob(ScopedModel):
    """One export: who asked, why (encrypted), which filters (codes); the file, encrypted, for a day.

    The row stays after the file is deleted, as the record of who took which data and why. Only the
    person who asked sees a job: an export is a personal act, answerable to its own reason.
    """

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=ExportKind.choices)
    file_format = models.CharField(_("format"), max_length=4)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    reason = EncryptedTextField(_("reason"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ExportStatus.choices, default=ExportStatus.PENDING
    )
    total = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0)
    rows = models.PositiveIntegerField(_("rows"), default=0)
    file_name = models.CharField(max_length=100, blank=True, editable=False)  # under DATA_DIR/exports
    created_at = models.DateTimeField(_("asked for"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    expires_at = models.DateTimeField(_("deleted after"), null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return Q(requested_by_id=scope.user_id) if scope.user_id is not None else Q(pk__in=[])

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0

    @property
    def finished(self) -> bool:
        return self.status in {ExportStatus.DONE, ExportStatus.FAILED, ExportStatus.EXPIRED}


# Device credentials live in their own module; importing them here registers them with this app.
from ventanilla.registration.models_openrosa import DeviceCredential  # noqa: E402, F401
