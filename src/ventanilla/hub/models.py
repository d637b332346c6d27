"""What the Find Help hub publishes: articles on rights and procedures, FAQs and alerts.

One `ContentItem` holds what does not depend on language; each language is one `ContentTranslation`
row with its own review workflow, so a missing or outdated translation is visible and handled on purpose.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ventanilla.core.roles import Permission
from ventanilla.core.scoping import Scope, ScopedModel


class ContentKind(models.TextChoices):
    RIGHTS = "rights", _("Rights")
    PROCEDURE = "procedure", _("Step-by-step procedure")
    FAQ = "faq", _("Frequently asked question")
    ALERT = "alert", _("Alert")


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("Public")
    PROTECTION_CRITICAL = "protection_critical", _("Protection-critical (a reviewer must approve)")
    SENSITIVE = "sensitive", _("Sensitive (staff only, never public)")


class Severity(models.TextChoices):
    INFO = "info", _("Information")
    WARNING = "warning", _("Warning")
    DANGER = "danger", _("Danger")


class ContentItem(ScopedModel):
    """An article, FAQ or alert, in every language it has."""

    owner = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="+", verbose_name=_("kept by")
    )
    key = models.SlugField(_("key"), max_length=100, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=ContentKind.choices)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=20, choices=Sensitivity.choices, default=Sensitivity.PUBLIC
    )
    source_language = models.CharField(
        _("source language"), max_length=8, choices=settings.LANGUAGES, default="en"
    )
    categories = models.ManyToManyField(
        "directory.ServiceCategory", blank=True, related_name="content", verbose_name=_("related services")
    )
    areas = models.ManyToManyField(
        "areas.AdministrativeArea", blank=True, related_name="content", verbose_name=_("areas concerned")
    )
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices, blank=True)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_to = models.DateTimeField(_("valid to"), null=True, blank=True)
    last_verified_at = models.DateTimeField(_("last verified"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("verified by"),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["kind", "key"]
        verbose_name = _("content item")
        verbose_name_plural = _("content items")
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True)
                | Q(valid_from__isnull=True)
                | Q(valid_to__gt=models.F("valid_from")),
                name="content_valid_to_after_from",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """Content managers see their organisations' items; everyone else what is published and public.

        "Published" means words are online (a published translation being edited stays online), tested
        with EXISTS so that an item with several published languages is one row, not one per language.
        """
        published = ContentTranslation.objects.filter(item=OuterRef("pk"), published_revision__isnull=False)
        return scope.organisation_q(Permission.MANAGE_CONTENT, organisation="owner") | Q(
            Exists(published), sensitivity__in=[Sensitivity.PUBLIC, Sensitivity.PROTECTION_CRITICAL]
        )

    @property
    def audit_organisation_id(self) -> int:
        return int(self.owner_id)

    def clean(self) -> None:
        if self.valid_from is not None and self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ValidationError({"valid_to": _("The end of validity must come after its start.")})

    @property
    def is_public(self) -> bool:
        return self.sensitivity != Sensitivity.SENSITIVE

    def is_current(self, at: datetime.datetime | None = None) -> bool:
        at = at or timezone.now()
        return (self.valid_from is None or self.valid_from <= at) and (
            self.valid_to is None or at < self.valid_to
        )


class TranslationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    IN_REVIEW = "in_review", _("In review")
    PUBLISHED = "published", _("Published")
    ARCHIVED = "archived", _("Archived")


class ContentTranslation(models.Model):
    """The words of one item in one language, with their own workflow state."""

    item = models.ForeignKey(ContentItem, on_delete=models.CASCADE, related_name="translations")
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary in one or two sentences"), blank=True)
    body = models.TextField(_("text"), blank=True)
    # A procedure's numbered steps, in order: ["Go to ...", "Bring ..."].
    steps = models.JSONField(_("steps"), default=list, blank=True)
    documents = models.TextField(_("documents needed"), blank=True)
    fees = models.CharField(_("fees"), max_length=200, blank=True)
    where = models.TextField(_("where to go"), blank=True)
    duration = models.CharField(_("how long it takes"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=TranslationStatus.choices, default=TranslationStatus.DRAFT
    )
    revision = models.PositiveIntegerField(_("revision"), default=1)
    # For a translation: the source revision its current words were made from (the source words the
    # translator saw). `is_outdated` (for staff lists) is set when a *published* source revision is newer:
    # a source draft alone never flags its translations, as the public still reads the older source.
    source_revision = models.PositiveIntegerField(_("translated from source revision"), default=1)
    is_outdated = models.BooleanField(_("source changed since translation"), default=False)
    # The source revision the *published* words were made from; the public page says "may be outdated"
    # only when it is older than the source's published revision.
    published_source_revision = models.PositiveIntegerField(
        _("published words translated from source revision"), null=True, blank=True
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    # What the public sees: the words as last published. Editing starts a new draft without taking the
    # published words offline; publishing the draft replaces them.
    published_content = models.JSONField(_("published words"), default=dict, blank=True)
    published_revision = models.PositiveIntegerField(_("published revision"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["item", "language"]
        verbose_name = _("translation")
        verbose_name_plural = _("translations")
        constraints = [
            models.UniqueConstraint(fields=["item", "language"], name="translation_unique_language"),
        ]

    def __str__(self) -> str:
        return f"{self.item.key} [{self.language}]"

    @property
    def audit_organisation_id(self) -> int:
        """Audit entries about a translation belong to the organisation that keeps its item."""
        return int(self.item.owner_id)


class ContentRevision(models.Model):
    """History: what a translation said and who did what to it, kept for every change."""

    translation = models.ForeignKey(ContentTranslation, on_delete=models.CASCADE, related_name="history")
    revision = models.PositiveIntegerField(_("revision"))
    action = models.CharField(_("action"), max_length=20)
    snapshot = models.JSONField(_("snapshot"), default=dict)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField(_("when"), default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")

    def __str__(self) -> str:
        return f"{self.translation} r{self.revision} {self.action}"
