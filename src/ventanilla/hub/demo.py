"""The demo articles and alerts for `ventanilla load-demo`, published through the review workflow.

Read from `data/demo_articles.json`. The demo information officer writes every translation and sends it
for review; the demo administrator publishes it (protection-critical items need that second person). To
show the features a new user should see, one article's English text is edited after its translations
were published (they are then marked outdated), and one article has no French or Arabic version (the
public page falls back to English and says so). Alerts are valid from the first load for the number of
days the data file gives. Loading is idempotent: an item whose key exists is left exactly as it is.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from ventanilla.accounts.demo import DEMO_ORGANISATIONS
from ventanilla.accounts.models import Organisation, User
from ventanilla.areas.models import AdministrativeArea
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.directory.models import ServiceCategory
from ventanilla.directory.services import ensure_categories
from ventanilla.hub import services
from ventanilla.hub.models import ContentItem, ContentKind

DATA_FILE = Path(__file__).resolve().parent / "data" / "demo_articles.json"

# The last paragraph of every demo article, in its language.
DEMO_NOTE = {
    "en": "Demo content: this text was written for the Ventanilla demonstration, and the services in "
    "this directory are fictional. Rules change: check with a legal aid service before you act.",
    "es": "Contenido de demostración: este texto se escribió para la demostración de Ventanilla, y los "
    "servicios de este directorio son ficticios. Las reglas cambian: consulta con un servicio de "
    "asesoría legal antes de actuar.",
    "fr": "Contenu de démonstration : ce texte a été écrit pour la démonstration de Ventanilla, et les "
    "services de cet annuaire sont fictifs. Les règles changent : vérifiez auprès d'un service d'aide "
    "juridique avant d'agir.",
    "ar": "محتوى تجريبي: كُتب هذا النص للعرض التجريبي لمنصة Ventanilla، والخدمات في هذا الدليل خيالية. "
    "القواعد تتغيّر: استشر خدمة مساعدة قانونية قبل أن تتصرّف.",
}

AUTHOR = "casa_information_officer"
REVIEWER = "casa_administrator"
OWNER_PREFIX = "casa"


class DemoContentError(Exception):
    """The demo content file is inconsistent, or what it needs (areas, demo accounts) is missing."""


@dataclass(frozen=True)
class DemoContentResult:
    articles_created: int
    alerts_created: int
    articles_total: int  # demo articles present after loading (new and already there)
    alerts_total: int


@cache
def demo_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise DemoContentError(f"The demo user {username!r} is missing: load the demo accounts first.")
    return user


def _owner() -> Organisation:
    spec = next(spec for spec in DEMO_ORGANISATIONS if spec.prefix == OWNER_PREFIX)
    owner = Organisation.objects.filter(name=spec.name).first()
    if owner is None:
        raise DemoContentError(
            f"The demo organisation {spec.name!r} is missing: load the demo accounts first."
        )
    return owner


def words(values: dict[str, Any], language: str, *, note: bool) -> dict[str, Any]:
    """The data file's lists as the text fields the hub stores (paragraphs, one line per item)."""
    result: dict[str, Any] = {"title": values["title"], "summary": values.get("summary", "")}
    body = list(values.get("body", []))
    if note:
        body.append(DEMO_NOTE[language])
    result["body"] = "\n\n".join(body)
    if "steps" in values:
        result["steps"] = list(values["steps"])
    for name in ("documents", "where"):
        if name in values:
            result[name] = "\n".join(values[name])
    for name in ("fees", "duration"):
        if name in values:
            result[name] = values[name]
    return result


@transaction.atomic
def load_demo_content(*, now: datetime.datetime | None = None) -> DemoContentResult:
    """Create and publish the demo articles and alerts that are not there yet."""
    now = now or timezone.now()
    data = demo_data()
    owner, author, reviewer = _owner(), _user(AUTHOR), _user(REVIEWER)
    ensure_categories()
    existing = set(ContentItem.objects.filter(key__in=_keys(data)).values_list("key", flat=True))
    articles_created = alerts_created = 0
    for spec in data["articles"]:
        if spec["key"] not in existing:
            _create(spec, kind=spec["kind"], owner=owner, author=author, reviewer=reviewer)
            articles_created += 1
    for spec in data["alerts"]:
        if spec["key"] not in existing:
            _create(
                spec,
                kind=ContentKind.ALERT,
                owner=owner,
                author=author,
                reviewer=reviewer,
                severity=spec["severity"],
                valid_from=now,
                valid_to=now + datetime.timedelta(days=spec["valid_days"]),
            )
            alerts_created += 1
    present = ContentItem.objects.filter(key__in=_keys(data))
    return DemoContentResult(
        articles_created=articles_created,
        alerts_created=alerts_created,
        articles_total=present.exclude(kind=ContentKind.ALERT).count(),
        alerts_total=present.filter(kind=ContentKind.ALERT).count(),
    )


def _keys(data: dict[str, Any]) -> list[str]:
    return [spec["key"] for spec in (*data["articles"], *data["alerts"])]


def _create(
    spec: dict[str, Any],
    *,
    kind: str,
    owner: Organisation,
    author: User,
    reviewer: User,
    severity: str = "",
    valid_from: datetime.datetime | None = None,
    valid_to: datetime.datetime | None = None,
) -> ContentItem:
    item = services.create_item(
        owner=owner,
        key=spec["key"],
        kind=kind,
        by=author,
        sensitivity=spec.get("sensitivity", "public"),
        severity=severity,
        valid_from=valid_from,
        valid_to=valid_to,
    )
    _link(item, spec, by=author)
    is_article = kind != ContentKind.ALERT
    translations: dict[str, dict[str, Any]] = spec["translations"]
    # The source language first, so that each translation records the source revision it was made from.
    for language in sorted(translations, key=lambda code: code != item.source_language):
        _publish(item, language, words(translations[language], language, note=is_article), author, reviewer)
    if edit := spec.get("later_source_edit"):
        # The source is improved after the translations were made: they become outdated, on purpose.
        source = dict(translations[item.source_language])
        source["body"] = [*source.get("body", []), edit["append_to_body"]]
        _publish(item, item.source_language, words(source, item.source_language, note=True), author, reviewer)
    return item


def _link(item: ContentItem, spec: dict[str, Any], *, by: User) -> None:
    """Related service categories and the areas an item concerns (no service sets them yet)."""
    codes = spec.get("categories", [])
    categories = list(ServiceCategory.objects.filter(code__in=codes))
    pcodes = spec.get("areas", [])
    areas = list(AdministrativeArea.objects.filter(pcode__in=pcodes))
    if len(categories) != len(codes) or len(areas) != len(pcodes):
        raise DemoContentError(f"Unknown category or area in the demo item {spec['key']!r}.")
    if not categories and not areas:
        return
    item.categories.set(categories)
    item.areas.set(areas)
    audit.record_change(AuditAction.UPDATE, item, by=by, fields=["areas", "categories"])


def _publish(item: ContentItem, language: str, values: dict[str, Any], author: User, reviewer: User) -> None:
    translation = services.save_translation(item, language=language, by=author, **values)
    translation = services.submit_for_review(translation, by=author)
    services.publish(translation, by=reviewer)
