"""Questionnaires (XLSForms), their versions, and the submissions filled with them.

A version is immutable once uploaded: a submission points at the version it was filled with, so an
answer is always read with the labels, choices and rules that were in force when it was given.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from ventanilla.core.fields import EncryptedTextField
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import Scope, ScopedModel
from ventanilla.questionnaires.schema import FormSchema, parse_xform


class Purpose(models.TextChoices):
    REGISTRATION = "registration", _("Registration")
    SURVEY = "survey", _("Survey")
    OTHER = "other", _("Other")


class Questionnaire(ScopedModel):
    """A form an organisation uses, across all its versions. Shipped forms have no owner."""

    owner = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kept by"),
    )
    form_id = models.CharField(_("form id"), max_length=100)
    title = models.CharField(_("title"), max_length=200)
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices, default=Purpose.OTHER)
    current = models.ForeignKey(
        "FormVersion",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("current version"),
    )
    archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "form_id"], name="questionnaire_form_id_per_owner"),
            models.UniqueConstraint(
                fields=["form_id"], condition=Q(owner__isnull=True), name="questionnaire_shipped_form_id"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        """Staff see their organisations' forms and the shipped ones; the public sees none."""
        if scope.is_anonymous:
            return Q(pk__in=[])
        if scope.is_superuser:
            return Q()
        if not scope.grants:  # signed in but working for no organisation: no forms either
            return Q(pk__in=[])
        return Q(owner__isnull=True) | scope.organisation_q(None, organisation="owner")

    @property
    def audit_organisation_id(self) -> int | None:
        return self.owner_id

    def editable_by(self, scope: Scope) -> bool:
        if self.owner_id is None:
            return scope.is_superuser
        return scope.is_superuser or self.owner_id in scope.organisations(Permission.MANAGE_FORMS)


class FormVersion(models.Model):
    """One uploaded XLSForm, converted and checked; never changed afterwards."""

    questionnaire = models.ForeignKey(Questionnaire, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(_("version"), max_length=50)
    xlsx = models.BinaryField(_("XLSForm file"))
    xlsx_name = models.CharField(_("file name"), max_length=200)
    sha256 = models.CharField(max_length=64)
    xform = models.TextField(_("XForm"))
    languages = models.JSONField(_("languages"), default=list)
    warnings = models.JSONField(_("conversion warnings"), default=list, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("form version")
        verbose_name_plural = _("form versions")
        ordering = ["-uploaded_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["questionnaire", "version"], name="form_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.questionnaire.form_id} {self.version}"

    @property
    def schema(self) -> FormSchema:
        return schema_for(self.pk, self.sha256, self.xform)

    @property
    def audit_organisation_id(self) -> int | None:
        return self.questionnaire.owner_id


@lru_cache(maxsize=64)
def _parsed(pk: int, sha256: str, xform: str) -> FormSchema:
    return parse_xform(xform)


def schema_for(pk: int, sha256: str, xform: str) -> FormSchema:
    """Parsing an XForm takes milliseconds; a busy centre submits the same version all day."""
    return _parsed(pk, sha256, xform)


class Source(models.TextChoices):
    WEB = "web", _("Web form")
    OPENROSA = "openrosa", _("ODK Collect / KoboCollect")
    API = "api", _("API")


class Submission(ScopedModel):
    """One filled form. The answers are personal data: encrypted, and read only through the scope."""

    audit_reads = True

    uuid = models.UUIDField(_("instance id"), default=uuid.uuid4, unique=True, editable=False)
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="submissions")
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="+")
    site = models.ForeignKey(
        "accounts.Site", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.WEB)
    answers_json = EncryptedTextField(_("answers"), blank=True)
    language = models.CharField(_("language"), max_length=12, blank=True)
    created_at = models.DateTimeField(_("received"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("submission")
        verbose_name_plural = _("submissions")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return str(self.uuid)

    @classmethod
    def scope_q(cls, scope: Scope) -> Q:
        return scope.site_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation", site="site")

    @property
    def audit_organisation_id(self) -> int:
        return int(self.organisation_id)

    @property
    def answers(self) -> dict[str, Any]:
        return json.loads(self.answers_json) if self.answers_json else {}

    @answers.setter
    def answers(self, value: dict[str, Any]) -> None:
        self.answers_json = json.dumps(value, ensure_ascii=False, sort_keys=True)
