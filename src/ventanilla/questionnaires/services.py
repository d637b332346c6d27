"""Uploading XLSForms, choosing the version in use, and accepting submissions that obey their form."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation, Site, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.questionnaires import engine, xlsform
from ventanilla.questionnaires.models import FormVersion, Purpose, Questionnaire, Source, Submission
from ventanilla.questionnaires.xlsform import CellError, XLSFormError


class FormPermissionError(PermissionError):
    """The actor does not manage forms for that organisation."""


class InvalidSubmission(ValueError):
    """Answers the form does not accept; `errors` maps each question key to a message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{key}: {message}" for key, message in errors.items()))


def _may_manage(by: User | None, owner: Organisation | None) -> bool:
    scope = scope_for(by)
    if owner is None:
        return scope.is_superuser
    return scope.is_superuser or owner.pk in scope.organisations(Permission.MANAGE_FORMS)


@transaction.atomic
def upload_form(
    *,
    content: bytes,
    filename: str,
    owner: Organisation | None,
    by: User | None,
    purpose: str = Purpose.OTHER,
    make_current: bool = True,
) -> FormVersion:
    """Convert and check an XLSForm and store it as a new version of its form (by `form_id`).

    The form's `version` setting names the version (ODK needs it to change with each edit); uploading
    a different file under a version that exists is refused rather than silently replacing what
    earlier submissions were filled with. `by=None` is the system (shipped forms, demo data).
    """
    if by is not None and not _may_manage(by, owner):
        raise FormPermissionError(_("You do not manage forms for this organisation."))
    converted = xlsform.convert(content, filename)
    schema = converted.schema
    digest = hashlib.sha256(content).hexdigest()
    version_name = schema.version or timezone.now().strftime("%Y%m%d%H%M%S")
    questionnaire, created = Questionnaire.objects.select_for_update().get_or_create(
        owner=owner,
        form_id=schema.form_id,
        defaults={"title": schema.title or schema.form_id, "purpose": purpose},
    )
    existing = questionnaire.versions.filter(version=version_name).first()
    if existing is not None:
        if existing.sha256 == digest:
            raise XLSFormError(
                [
                    CellError(
                        _("This file is already uploaded as version %(version)s.")
                        % {"version": version_name},
                        sheet="settings",
                        column="version",
                    )
                ]
            )
        raise XLSFormError(
            [
                CellError(
                    _(
                        "Version %(version)s already exists with different content: "
                        "change the version in the settings sheet."
                    )
                    % {"version": version_name},
                    sheet="settings",
                    column="version",
                )
            ]
        )
    version = FormVersion.objects.create(
        questionnaire=questionnaire,
        version=version_name,
        xlsx=content,
        xlsx_name=filename[:200],
        sha256=digest,
        xform=converted.xform,
        languages=schema.languages,
        warnings=converted.warnings,
        uploaded_by=by,
    )
    changed = ["versions"]
    if make_current or questionnaire.current_id is None:
        questionnaire.current = version
        questionnaire.title = schema.title or questionnaire.title
        questionnaire.archived = False
        changed.append("current")
        questionnaire.save(update_fields=["current", "title", "archived"])
    audit.record_change(
        AuditAction.CREATE if created else AuditAction.UPDATE,
        questionnaire,
        by=by,
        fields=changed,
        detail={"version": version_name[:50]},
    )
    return version


@transaction.atomic
def make_current(version: FormVersion, *, by: User) -> None:
    questionnaire = version.questionnaire
    if not _may_manage(by, questionnaire.owner):
        raise FormPermissionError(_("You do not manage forms for this organisation."))
    questionnaire.current = version
    questionnaire.save(update_fields=["current"])
    audit.record_change(
        AuditAction.UPDATE, questionnaire, by=by, fields=["current"], detail={"version": version.version[:50]}
    )


def forms_for(user: User, purpose: str | None = None) -> QuerySet[Questionnaire]:
    forms = Questionnaire.objects.visible_to(user).filter(archived=False, current__isnull=False)
    if purpose:
        forms = forms.filter(purpose=purpose)
    return forms.select_related("current", "owner")


@dataclass
class CheckedAnswers:
    answers: dict[str, Any]
    state: engine.FormState


def check_answers(
    version: FormVersion,
    answers: Mapping[str, Any],
    *,
    language: str = "",
    today: datetime.date | None = None,
) -> CheckedAnswers:
    """Run every rule; raise `InvalidSubmission` with a message per question, in `language`."""
    state = engine.evaluate(version.schema, answers, language=language, today=today)
    if not state.is_valid:
        raise InvalidSubmission(state.errors)
    return CheckedAnswers(answers=state.answers(), state=state)


@transaction.atomic
def submit(
    version: FormVersion,
    answers: Mapping[str, Any],
    *,
    organisation: Organisation,
    site: Site | None,
    by: User | None,
    source: str = Source.WEB,
    language: str = "",
    instance_id: str | None = None,
) -> Submission:
    """Store answers that obey their form, with the version they were filled with."""
    checked = check_answers(version, answers, language=language)
    submission = Submission(
        uuid=_instance_uuid(instance_id),
        form_version=version,
        organisation=organisation,
        site=site,
        submitted_by=by,
        source=source,
        language=language[:12],
    )
    submission.answers = checked.answers
    submission.save()
    audit.record_change(AuditAction.CREATE, submission, by=by, detail={"source": source})
    return submission


def _instance_uuid(instance_id: str | None) -> uuid.UUID:
    if not instance_id:
        return uuid.uuid4()
    text = instance_id.removeprefix("uuid:")
    try:
        return uuid.UUID(text)
    except ValueError:
        return uuid.uuid5(uuid.NAMESPACE_URL, f"ventanilla:{instance_id}")
