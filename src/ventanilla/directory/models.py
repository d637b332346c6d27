"""The service directory: who provides which service, where, when, for whom."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ventanilla.core.fields import SearchTextField
from ventanilla.core.places import place_errors, time_zone_names  # noqa: F401 - re-exported
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import Scope, ScopedModel


class Category(models.TextChoices):
    MEDICAL = "medical", _("Medical care")
    MHPSS = "mhpss", _("Mental health and psychosocial support")
    SHELTER = "shelter", _("Shelter")
    FOOD = "food", _("Food")
    NFI = "nfi", _("Non-food items")
    WASH = "wash", _("Water and hygiene")
    LEGAL = "legal", _("Legal aid")
    DOCUMENTATION = "documentation", _("Documentation and civil registry")
    FAMILY_TRACING = "family_tracing", _("Family tracing")
    CONSULAR = "consular", _("Consular assistance")
    CHILD_PROTECTION = "child_protection", _("Child protection")
    GBV = "gbv", _("Gender-based violence response")
    COUNTER_TRAFFICKING = "counter_trafficking", _("Counter-trafficking helpline")
    AVR = "avr", _("Assisted voluntary return")
    EMPLOYMENT = "employment", _("Employment and regular pathways")
    EDUCATION = "education", _("Education")
    CASH = "cash", _("Cash assistance")
    TRANSPORT = "transport", _("Transport")
    INFORMATION = "information", _("Information desk")


class PublicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ServiceCategory(models.Model):
    """One category, as a row so that service points can be filtered by it on every database."""

    code = models.CharField(_("code"), max_length=40, primary_key=True, choices=Category.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position"]
        verbose_name = _("service category")
        verbose_name_plural = _("service categories")

    def __str__(self) -> str:
        return str(Category(self.code).label)

    @property
    def label(self) -> str:
        return str(Category(self.code).label)


class DirectoryOwned(ScopedModel):
    """Directory rows are kept by one organisation; its content managers edit them, everyone reads
    what is published."""

    owner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("kept by")
    )

    class Meta:
        abstract = True

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """Staff see every row their organisations keep (drafts too); nobody sees others' drafts."""
        return scope.organisation_q(Permission.MANAGE_CONTENT, organisation="owner") | Q(
            status=PublicationStatus.PUBLISHED
        )

    @property
    def audit_organisation_id(self) -> int:
        return int(self.owner_id)


class ServiceProvider(DirectoryOwned):
    """An organisation that gives services (it need not have a Ventanilla account)."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(
        _("type"),
        max_length=20,
        choices=[
            ("government", _("Government agency")),
            ("un_agency", _("UN agency")),
            ("international", _("International organisation")),
            ("ngo", _("NGO / civil society")),
            ("faith_based", _("Faith-based organisation")),
            ("private", _("Private provider")),
        ],
        default="ngo",
    )
    organisation = models.ForeignKey(
        "accounts.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="provider_profiles",
        verbose_name=_("Ventanilla organisation (if it has accounts)"),
    )
    website = models.URLField(_("website"), blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    search_text = SearchTextField(sources=("name",))

    class Meta:
        ordering = ["name"]
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="provider_unique_name_per_owner")
        ]

    def __str__(self) -> str:
        return self.name


class Cost(models.TextChoices):
    FREE = "free", _("Free")
    LOW = "low", _("Low cost")
    PAID = "paid", _("Paid")


class Access(models.TextChoices):
    WALK_IN = "walk_in", _("Walk in")
    REFERRAL = "referral", _("Referral needed")
    APPOINTMENT = "appointment", _("Appointment needed")


class Sexes(models.TextChoices):
    ANY = "any", _("Everyone")
    FEMALE = "female", _("Women and girls")
    MALE = "male", _("Men and boys")


class ServicePoint(DirectoryOwned):
    """A place where a provider gives one or more services, with when, for whom and how to get there."""

    provider = models.ForeignKey(
        ServiceProvider, on_delete=models.PROTECT, related_name="points", verbose_name=_("provider")
    )
    name = models.CharField(_("name"), max_length=200)
    categories = models.ManyToManyField(ServiceCategory, related_name="points", verbose_name=_("services"))
    address = models.CharField(_("address"), max_length=300, blank=True)
    area = models.ForeignKey(
        "areas.AdministrativeArea",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_points",
        verbose_name=_("administrative area"),
    )
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    phone = models.CharField(_("phone (international format)"), max_length=20, blank=True)
    whatsapp = models.CharField(_("WhatsApp (international format)"), max_length=20, blank=True)
    # Language codes between commas (",es,mam,"): a portable exact-code filter on SQLite and PostgreSQL.
    languages = models.CharField(_("languages spoken"), max_length=200, blank=True)
    age_min = models.PositiveSmallIntegerField(_("minimum age"), null=True, blank=True)
    age_max = models.PositiveSmallIntegerField(_("maximum age"), null=True, blank=True)
    sexes = models.CharField(_("for"), max_length=10, choices=Sexes.choices, default=Sexes.ANY)
    nationalities = models.CharField(_("nationalities served"), max_length=200, blank=True)
    legal_status = models.CharField(_("migration status required"), max_length=200, blank=True)
    cost = models.CharField(_("cost"), max_length=10, choices=Cost.choices, default=Cost.FREE)
    access = models.CharField(
        _("how to get the service"), max_length=12, choices=Access.choices, default=Access.WALK_IN
    )
    wheelchair_accessible = models.BooleanField(_("wheelchair accessible"), default=False)
    female_staff = models.BooleanField(_("female staff available"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=PublicationStatus.choices, default=PublicationStatus.DRAFT
    )
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("verified by"),
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)
    search_text = SearchTextField(sources=("name", "address"))

    class Meta:
        ordering = ["name"]
        verbose_name = _("service point")
        verbose_name_plural = _("service points")
        indexes = [models.Index(fields=["status", "area"], name="point_status_area_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
                name="point_latitude_range",
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="point_longitude_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """As for every directory row, but a published point of an unpublished provider stays hidden,
        as it is in the public search."""
        return scope.organisation_q(Permission.MANAGE_CONTENT, organisation="owner") | Q(
            status=PublicationStatus.PUBLISHED, provider__status=PublicationStatus.PUBLISHED
        )

    def clean(self) -> None:
        errors = place_errors(self.latitude, self.longitude, self.time_zone)
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude" if self.longitude is None else "latitude"] = _(
                "Give both latitude and longitude, or neither."
            )
        if isinstance(self.age_min, int) and isinstance(self.age_max, int) and self.age_min > self.age_max:
            errors["age_max"] = _("The maximum age is below the minimum age.")
        if errors:
            raise ValidationError(errors)

    @property
    def language_codes(self) -> list[str]:
        return [code for code in self.languages.split(",") if code]

    def is_stale(self, *, now: datetime.datetime | None = None) -> bool:
        """Not verified within DIRECTORY_STALE_DAYS: staff are asked to check it again."""
        if self.last_verified_at is None:
            return True
        now = now or timezone.now()
        return now - self.last_verified_at > datetime.timedelta(days=settings.DIRECTORY_STALE_DAYS)


class ServicePointText(models.Model):
    """The translatable words of a service point, one row per language."""

    point = models.ForeignKey(ServicePoint, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    description = models.TextField(_("what is offered"), blank=True)
    directions = models.TextField(_("how to get there"), blank=True)
    eligibility = models.TextField(_("who can come, and what to bring"), blank=True)
    is_outdated = models.BooleanField(_("source text changed since translation"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    search_text = SearchTextField(sources=("description",))

    class Meta:
        verbose_name = _("service point text")
        verbose_name_plural = _("service point texts")
        constraints = [
            models.UniqueConstraint(fields=["point", "language"], name="point_text_unique_language")
        ]

    def __str__(self) -> str:
        return f"{self.point} [{self.language}]"


class OpeningHours(models.Model):
    """A weekly opening period in the service point's own time zone (weekday 0 = Monday)."""

    point = models.ForeignKey(ServicePoint, on_delete=models.CASCADE, related_name="hours")
    weekday = models.PositiveSmallIntegerField(_("day"), choices=[(i, str(i)) for i in range(7)])
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(_("closes"))

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_0_to_6"),
            models.CheckConstraint(condition=Q(closes__gt=models.F("opens")), name="hours_close_after_open"),
        ]

    def __str__(self) -> str:
        return f"{self.weekday} {self.opens:%H:%M}-{self.closes:%H:%M}"


class OpeningException(models.Model):
    """A day that differs from the weekly hours: closed (holiday) or open at other times."""

    point = models.ForeignKey(ServicePoint, on_delete=models.CASCADE, related_name="exceptions")
    date = models.DateField(_("date"))
    is_closed = models.BooleanField(_("closed all day"), default=True)
    opens = models.TimeField(_("opens"), null=True, blank=True)
    closes = models.TimeField(_("closes"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("opening exception")
        verbose_name_plural = _("opening exceptions")
        constraints = [
            models.UniqueConstraint(fields=["point", "date"], name="exception_unique_date"),
            models.CheckConstraint(
                condition=Q(is_closed=True)
                | Q(opens__isnull=False, closes__isnull=False, closes__gt=models.F("opens")),
                name="exception_open_times_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.point} {self.date}"


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to start")
    RUNNING = "running", _("Running")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Not imported")


class ImportJob(ScopedModel):
    """One import of a spreadsheet started from the staff page, run as a background task.

    Holds what the status page shows while it runs (rows checked of the total) and the final report:
    the counts and every row error. Read by the content managers of the importing organisation.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("organisation")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    file_name = models.CharField(_("file"), max_length=200)
    # The uploaded file under DATA_DIR/imports/ (a random name); removed when the job ends.
    stored_name = models.CharField(max_length=64)
    skip_invalid = models.BooleanField(_("skip invalid rows"), default=False)
    status = models.CharField(
        _("status"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    rows_total = models.PositiveIntegerField(_("rows in the file"), default=0)
    rows_checked = models.PositiveIntegerField(_("rows checked"), default=0)
    points_created = models.PositiveIntegerField(_("points created"), default=0)
    points_updated = models.PositiveIntegerField(_("points updated"), default=0)
    providers_created = models.PositiveIntegerField(_("providers created"), default=0)
    rows_skipped = models.PositiveIntegerField(_("rows skipped"), default=0)
    warnings = models.PositiveIntegerField(_("warnings"), default=0)
    # Every problem: [{"row": 3, "column": "id", "message": "..."}] (directory data, not personal data).
    errors = models.JSONField(_("problems"), default=list, blank=True)
    created_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.organisation_q(Permission.MANAGE_CONTENT, organisation="organisation")

    @property
    def audit_organisation_id(self) -> int:
        return int(self.organisation_id)

    @property
    def is_finished(self) -> bool:
        return self.status in (ImportStatus.DONE, ImportStatus.FAILED)

    @property
    def percent(self) -> int:
        """How far the check has come, 0-100 (the write that follows is one short transaction)."""
        if self.is_finished:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_checked * 100 // self.rows_total)


class DirectoryState(models.Model):
    """One row: a counter that every change to the directory moves, in the changing transaction.

    Caches of what the public sees (result pages, API lists, the area and language lists) are keyed by
    it, so a staff edit shows at once in every worker process, whichever cache backend holds them
    (`directory.freshness`)."""

    version = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("directory state")
        verbose_name_plural = _("directory state")

    def __str__(self) -> str:
        return f"directory v{self.version}"
