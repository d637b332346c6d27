"""Writing, reviewing and publishing hub content in several languages — with history and audit."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation, User
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.hub.models import (
    ContentItem,
    ContentKind,
    ContentRevision,
    ContentTranslation,
    Sensitivity,
    Severity,
    TranslationStatus,
)

WORDS = ("title", "summary", "body", "steps", "documents", "fees", "where", "duration")


class ContentPermissionError(Exception):
    """The actor does not manage content for the organisation that keeps this item."""


class WorkflowError(Exception):
    """The step is not allowed from the translation's current state (or by this person)."""


def _require_manager(by: User, item: ContentItem) -> None:
    if item.owner_id not in scope_for(by).organisations(Permission.MANAGE_CONTENT):
        raise ContentPermissionError(_("You do not manage content for this organisation."))


def _offered(language: str, *, field: str = "language") -> str:
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationError(
            {field: _("Ventanilla does not offer the language %(code)s.") % {"code": language}}
        )
    return language


def _snapshot(translation: ContentTranslation) -> dict[str, Any]:
    return {name: getattr(translation, name) for name in WORDS}


def _history(translation: ContentTranslation, action: str, by: User | None, note: str = "") -> None:
    ContentRevision.objects.create(
        translation=translation,
        revision=translation.revision,
        action=action,
        snapshot=_snapshot(translation),
        by=by,
        note=note,
    )


@transaction.atomic
def create_item(
    *,
    owner: Organisation,
    key: str,
    kind: str,
    by: User,
    sensitivity: str = Sensitivity.PUBLIC,
    source_language: str = "en",
    severity: str = "",
    valid_from: datetime.datetime | None = None,
    valid_to: datetime.datetime | None = None,
) -> ContentItem:
    if owner.pk not in scope_for(by).organisations(Permission.MANAGE_CONTENT):
        raise ContentPermissionError(_("You do not manage content for this organisation."))
    item = ContentItem(
        owner=owner,
        key=key,
        kind=kind,
        sensitivity=sensitivity,
        source_language=_offered(source_language, field="source_language"),
        severity=severity,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    if kind == ContentKind.ALERT and not severity:
        raise ValidationError({"severity": _("An alert needs a severity.")})
    item.full_clean()
    item.save()
    audit.record_change(AuditAction.CREATE, item, by=by, fields=["key", "kind", "sensitivity"])
    return item


def _clean_words(values: Mapping[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(WORDS))
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    words = dict(values)
    if "steps" in words:
        steps = words["steps"]
        if isinstance(steps, str):
            steps = [line.strip() for line in steps.splitlines() if line.strip()]
        if not isinstance(steps, list) or not all(isinstance(step, str) for step in steps):
            raise ValidationError({"steps": _("Steps must be a list of texts, one per step.")})
        words["steps"] = steps
    return words


@transaction.atomic
def save_translation(item: ContentItem, *, language: str, by: User, **values: Any) -> ContentTranslation:
    """Create or edit the words in one language. Editing starts a draft; the published words stay
    online until the draft is published. A changed source text marks every other language outdated."""
    _require_manager(by, item)
    language = _offered(language)
    words = _clean_words(values)
    translation = ContentTranslation.objects.select_for_update().filter(item=item, language=language).first()
    adding = translation is None
    if translation is None:
        translation = ContentTranslation(item=item, language=language)
    changed = [name for name, value in words.items() if getattr(translation, name) != value]
    if not adding and not changed:
        return translation
    for name, value in words.items():
        setattr(translation, name, value)
    if not adding:
        translation.revision += 1
    translation.status = TranslationStatus.DRAFT
    translation.updated_by = by
    translation.full_clean(exclude=["item"])
    if language != item.source_language:
        # Made from the source words the translator sees (the latest source revision, draft or not).
        # Editing the source does not flag anything: only publishing a newer source does (`publish`).
        source = ContentTranslation.objects.filter(item=item, language=item.source_language).first()
        translation.source_revision = source.revision if source else 1
        translation.is_outdated = False
    translation.save()
    _history(translation, "created" if adding else "edited", by)
    audit.record_change(
        AuditAction.CREATE if adding else AuditAction.UPDATE,
        translation,
        by=by,
        fields=changed or list(words),
        detail={"item": item.pk, "language": language},
    )
    return translation


def _locked(translation: ContentTranslation) -> ContentTranslation:
    return ContentTranslation.objects.select_for_update().select_related("item").get(pk=translation.pk)


@transaction.atomic
def submit_for_review(translation: ContentTranslation, *, by: User) -> ContentTranslation:
    translation = _locked(translation)
    _require_manager(by, translation.item)
    if translation.status != TranslationStatus.DRAFT:
        raise WorkflowError(_("Only a draft can be sent for review."))
    translation.status = TranslationStatus.IN_REVIEW
    translation.submitted_by = by
    translation.save(update_fields=["status", "submitted_by", "updated_at"])
    _history(translation, "submitted", by)
    audit.record_change(
        AuditAction.UPDATE, translation, by=by, fields=["status"], detail={"status": "in_review"}
    )
    return translation


def _authors(translation: ContentTranslation) -> set[int | None]:
    """Everyone who wrote or submitted the words about to be published (every edit since the last
    publication, not only the latest one, so a small edit by a colleague does not make the author
    a valid reviewer of their own text)."""
    edits = translation.history.filter(
        action__in=["created", "edited"], revision__gt=translation.published_revision or 0
    )
    return {translation.updated_by_id, translation.submitted_by_id, *edits.values_list("by_id", flat=True)}


@transaction.atomic
def publish(translation: ContentTranslation, *, by: User) -> ContentTranslation:
    """Approve and publish a translation in review. Protection-critical items need a second person."""
    translation = _locked(translation)
    item = translation.item
    _require_manager(by, item)
    if translation.status != TranslationStatus.IN_REVIEW:
        raise WorkflowError(_("Only a translation in review can be published."))
    if item.sensitivity == Sensitivity.PROTECTION_CRITICAL and by.pk in _authors(translation):
        raise WorkflowError(_("Protection-critical content needs a reviewer other than its author."))
    now = timezone.now()
    translation.status = TranslationStatus.PUBLISHED
    translation.reviewed_by = by
    translation.published_at = now
    translation.published_content = _snapshot(translation)
    translation.published_revision = translation.revision
    if translation.language == item.source_language:
        translation.published_source_revision = None
        translation.is_outdated = False
    else:
        translation.published_source_revision = translation.source_revision
    translation.save()
    if translation.language == item.source_language:
        # The public now reads this source revision: translations made from an older one are outdated.
        ContentTranslation.objects.filter(item=item, source_revision__lt=translation.revision).exclude(
            language=item.source_language
        ).update(is_outdated=True)
    if item.last_verified_at is None:
        ContentItem.objects.filter(pk=item.pk).update(last_verified_at=now, verified_by=by)
    _history(translation, "published", by)
    audit.record_change(
        AuditAction.UPDATE, translation, by=by, fields=["status"], detail={"status": "published"}
    )
    return translation


@transaction.atomic
def send_back(translation: ContentTranslation, *, by: User, note: str) -> ContentTranslation:
    """The reviewer returns the draft with a note on what to fix."""
    translation = _locked(translation)
    _require_manager(by, translation.item)
    if translation.status != TranslationStatus.IN_REVIEW:
        raise WorkflowError(_("Only a translation in review can be sent back."))
    if not note.strip():
        raise ValidationError({"note": _("Say what needs to change.")})
    translation.status = TranslationStatus.DRAFT
    translation.save(update_fields=["status", "updated_at"])
    _history(translation, "sent_back", by, note=note[:300])
    audit.record_change(AuditAction.UPDATE, translation, by=by, fields=["status"], detail={"status": "draft"})
    return translation


@transaction.atomic
def archive(translation: ContentTranslation, *, by: User) -> ContentTranslation:
    translation = _locked(translation)
    _require_manager(by, translation.item)
    if translation.status == TranslationStatus.ARCHIVED:
        raise WorkflowError(_("This translation is already archived."))
    translation.status = TranslationStatus.ARCHIVED
    translation.published_content = {}
    translation.published_revision = None
    translation.published_source_revision = None
    translation.save()
    _history(translation, "archived", by)
    audit.record_change(
        AuditAction.UPDATE, translation, by=by, fields=["status"], detail={"status": "archived"}
    )
    return translation


@transaction.atomic
def verify_item(item: ContentItem, *, by: User) -> ContentItem:
    _require_manager(by, item)
    item.last_verified_at = timezone.now()
    item.verified_by = by
    item.save(update_fields=["last_verified_at", "verified_by"])
    audit.record_change(AuditAction.UPDATE, item, by=by, fields=["last_verified_at", "verified_by"])
    return item


# Item settings that may change after creation (key, kind, owner and source language are fixed: the key is
# in public links and the words of every language hang on the source language).
ITEM_SETTINGS = ("sensitivity", "severity", "valid_from", "valid_to", "categories", "areas")


@dataclass(frozen=True)
class ItemUpdate:
    """What `update_item` changed, for the message shown to the person who made the change."""

    item: ContentItem
    changed: list[str]
    unpublished: int  # translations taken offline because the item became sensitive


def _unpublish_all(item: ContentItem, *, by: User) -> int:
    """Take every published language offline. The words stay as a draft, so making the item public again
    needs a fresh review instead of bringing back words nobody looked at under the new class."""
    count = 0
    for translation in ContentTranslation.objects.select_for_update().filter(
        item=item, published_revision__isnull=False
    ):
        translation.published_content = {}
        translation.published_revision = None
        translation.published_source_revision = None
        if translation.status == TranslationStatus.PUBLISHED:
            translation.status = TranslationStatus.DRAFT
        translation.save()
        _history(translation, "unpublished", by)
        count += 1
    return count


@transaction.atomic
def update_item(item: ContentItem, *, by: User, **changes: Any) -> ItemUpdate:
    """Change an item's settings after creation: sensitivity, severity, validity, related services, areas.

    Making an item sensitive takes every published language offline at once (sensitive content is never
    public). A protection-critical item needs a reviewer other than the author at its next publication;
    `publish` enforces that from the item's class at publishing time, so changing the class is enough.
    """
    unknown = sorted(set(changes) - set(ITEM_SETTINGS))
    if unknown:
        raise ValidationError({name: _("This setting cannot be changed here.") for name in unknown})
    item = ContentItem.objects.select_for_update().get(pk=item.pk)
    _require_manager(by, item)
    if "sensitivity" in changes and changes["sensitivity"] not in Sensitivity.values:
        raise ValidationError({"sensitivity": _("Unknown sensitivity class.")})
    severity = changes.get("severity", item.severity) or ""
    if severity and severity not in Severity.values:
        raise ValidationError({"severity": _("Unknown severity.")})
    if item.kind == ContentKind.ALERT and not severity:
        raise ValidationError({"severity": _("An alert needs a severity.")})
    changed: list[str] = []
    for name in ("sensitivity", "severity", "valid_from", "valid_to"):
        if name in changes and getattr(item, name) != (changes[name] or ("" if name == "severity" else None)):
            setattr(item, name, changes[name] or ("" if name == "severity" else None))
            changed.append(name)
    item.full_clean(exclude=["owner", "key", "categories", "areas"], validate_unique=False)
    related: dict[str, list[Any]] = {}
    for name in ("categories", "areas"):
        if name in changes:
            wanted = list(changes[name] or [])
            current = set(getattr(item, name).values_list("pk", flat=True))
            if {obj.pk for obj in wanted} != current:
                related[name] = wanted
                changed.append(name)
    if not changed:
        return ItemUpdate(item=item, changed=[], unpublished=0)
    item.save()
    for name, objects in related.items():
        getattr(item, name).set(objects)
    unpublished = 0
    if "sensitivity" in changed and item.sensitivity == Sensitivity.SENSITIVE:
        unpublished = _unpublish_all(item, by=by)
    audit.record_change(
        AuditAction.UPDATE,
        item,
        by=by,
        fields=changed,
        detail={"sensitivity": item.sensitivity, "unpublished": unpublished},
    )
    return ItemUpdate(item=item, changed=changed, unpublished=unpublished)


# --- What the public reads ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicText:
    """The words shown to the public, and what to tell the reader about them."""

    item: ContentItem
    language: str
    words: dict[str, Any]
    is_fallback: bool  # not available in the reader's language: shown in another one
    is_outdated: bool  # the published source is newer than the one these published words came from


def public_items() -> QuerySet[ContentItem]:
    """Items with at least one published language that the public may see (never sensitive ones)."""
    published = ContentTranslation.objects.exclude(published_revision=None)
    return (
        ContentItem.objects.exclude(sensitivity=Sensitivity.SENSITIVE)
        .filter(translations__published_revision__isnull=False)
        .distinct()
        .prefetch_related(Prefetch("translations", queryset=published, to_attr="published_translations"))
    )


def current_alerts(at: datetime.datetime | None = None) -> QuerySet[ContentItem]:
    at = at or timezone.now()
    return (
        public_items()
        .filter(kind=ContentKind.ALERT)
        .filter(
            Q(valid_from__isnull=True) | Q(valid_from__lte=at), Q(valid_to__isnull=True) | Q(valid_to__gt=at)
        )
        # Newest first; alerts without a start last on every database (PostgreSQL sorts NULL first).
        .order_by(F("valid_from").desc(nulls_last=True), "key")
    )


def _published_words_outdated(
    translation: ContentTranslation, item: ContentItem, source_revision: int | None
) -> bool:
    """Whether the published words of a translation came from an older source than the one online.

    Compared with the *published* source only: a source draft the public cannot read yet does not make
    a translation outdated, and neither does an unpublished (or archived) source."""
    if translation.language == item.source_language or source_revision is None:
        return False
    made_from = translation.published_source_revision
    return made_from is not None and made_from < source_revision


def public_text(item: ContentItem, language: str) -> PublicText | None:
    """Published words in `language`, else in the source language, else in any published language."""
    translations = getattr(item, "published_translations", None)
    if translations is None:
        translations = list(item.translations.exclude(published_revision=None))
    by_language = {t.language: t for t in translations}
    source = by_language.get(item.source_language)
    source_revision = source.published_revision if source is not None else None
    for candidate, fallback in (
        (language, False),
        (item.source_language, True),
        *((code, True) for code in by_language),
    ):
        translation = by_language.get(candidate)
        if translation is not None:
            return PublicText(
                item=item,
                language=candidate,
                words=dict(translation.published_content),
                is_fallback=fallback,
                is_outdated=_published_words_outdated(translation, item, source_revision),
            )
    return None


def stale_items(user: User) -> QuerySet[ContentItem]:
    limit = timezone.now() - datetime.timedelta(days=settings.DIRECTORY_STALE_DAYS)
    organisations = scope_for(user).organisations(Permission.MANAGE_CONTENT)
    return ContentItem.objects.filter(owner_id__in=organisations).filter(
        Q(last_verified_at__isnull=True) | Q(last_verified_at__lt=limit)
    )


def review_queue(user: User) -> QuerySet[ContentTranslation]:
    organisations = scope_for(user).organisations(Permission.MANAGE_CONTENT)
    return ContentTranslation.objects.filter(
        item__owner_id__in=organisations, status=TranslationStatus.IN_REVIEW
    ).select_related("item", "submitted_by")


def outdated_translations(user: User) -> QuerySet[ContentTranslation]:
    organisations = scope_for(user).organisations(Permission.MANAGE_CONTENT)
    return ContentTranslation.objects.filter(
        item__owner_id__in=organisations, is_outdated=True
    ).select_related("item")
