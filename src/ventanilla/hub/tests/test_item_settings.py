"""Changing an item's settings after creation: the service, the staff page and the API PATCH."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.directory.models import ServiceCategory
from ventanilla.hub import services
from ventanilla.hub.models import ContentItem, ContentTranslation, Sensitivity, TranslationStatus
from ventanilla.hub.services import ContentPermissionError, WorkflowError
from ventanilla.testing.factories import AreaFactory

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2025, 3, 3, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def item_state(item: ContentItem) -> dict:
    return {
        "item": ContentItem.objects.filter(pk=item.pk).values().get(),
        "categories": sorted(item.categories.values_list("pk", flat=True)),
        "areas": sorted(item.areas.values_list("pk", flat=True)),
        "translations": list(ContentTranslation.objects.filter(item=item).order_by("pk").values()),
        "audit": AuditEntry.objects.count(),
    }


# --- The service -------------------------------------------------------------------------------------


def test_update_item_changes_settings_and_links_and_is_audited(make_item, author):
    # given an alert
    item = make_item("flood", kind="alert", severity="warning")
    area = AreaFactory(pcode="GT01")
    since = last_audit_id()
    # when its settings change
    done = services.update_item(
        item,
        by=author,
        severity="danger",
        valid_from=NOON,
        valid_to=NOON + HOUR,
        categories=[ServiceCategory.objects.get(code="shelter")],
        areas=[area],
    )
    # then they are stored, and one audit entry names the fields (no values)
    stored = ContentItem.objects.get(pk=item.pk)
    assert (stored.severity, stored.valid_from, stored.valid_to) == ("danger", NOON, NOON + HOUR)
    assert list(stored.categories.values_list("code", flat=True)) == ["shelter"]
    assert list(stored.areas.values_list("pcode", flat=True)) == ["GT01"]
    assert done.changed == ["severity", "valid_from", "valid_to", "categories", "areas"]
    entries = list(AuditEntry.objects.filter(pk__gt=since))
    assert [(e.action, e.actor_id, e.fields) for e in entries] == [
        (AuditAction.UPDATE, author.pk, ["areas", "categories", "severity", "valid_from", "valid_to"])
    ]


def test_update_item_without_change_writes_nothing(make_item, author):
    item = make_item("same", sensitivity=Sensitivity.PUBLIC)
    before = item_state(item)
    done = services.update_item(item, by=author, sensitivity=Sensitivity.PUBLIC, categories=[])
    assert (done.changed, item_state(item)) == ([], before)


def test_making_an_item_sensitive_takes_every_published_language_offline(
    make_item, publish_text, author, reviewer
):
    # given an article published in two languages, one of them with a new draft in review
    item = make_item("shelter-rules")
    publish_text(item, "en")
    spanish = publish_text(item, "es")
    spanish = services.save_translation(item, language="es", by=author, title="Nuevo")
    services.submit_for_review(spanish, by=author)
    assert services.public_items().filter(pk=item.pk).exists()
    # when it becomes sensitive
    done = services.update_item(item, by=reviewer, sensitivity=Sensitivity.SENSITIVE)
    # then nothing of it is public any more, the words are kept for staff, and history says why
    assert done.unpublished == 2
    assert not services.public_items().filter(pk=item.pk).exists()
    rows = {
        t.language: (t.status, t.published_revision, t.published_content, t.title)
        for t in ContentTranslation.objects.filter(item=item)
    }
    assert rows == {
        "en": (TranslationStatus.DRAFT, None, {}, "shelter-rules in en"),
        "es": (TranslationStatus.IN_REVIEW, None, {}, "Nuevo"),
    }
    assert ContentTranslation.objects.get(item=item, language="en").history.first().action == "unpublished"
    # and making it public again does not bring the old words back without a review
    services.update_item(item, by=reviewer, sensitivity=Sensitivity.PUBLIC)
    assert not services.public_items().filter(pk=item.pk).exists()


def test_protection_critical_needs_another_reviewer_at_the_next_publication(
    make_item, publish_text, author, reviewer
):
    # given a public article with a new draft in review by its author
    item = make_item("detention")
    publish_text(item, "en")
    draft = services.submit_for_review(
        services.save_translation(item, language="en", by=author, title="New words"), by=author
    )
    # when it becomes protection-critical
    services.update_item(item, by=reviewer, sensitivity=Sensitivity.PROTECTION_CRITICAL)
    # then the published words stay online, but the author cannot publish the draft; a reviewer can
    assert services.public_items().filter(pk=item.pk).exists()
    with pytest.raises(WorkflowError, match="reviewer other than its author"):
        services.publish(draft, by=author)
    published = services.publish(draft, by=reviewer)
    assert published.published_content["title"] == "New words"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sensitivity": "secret"}, "sensitivity"),
        ({"severity": "apocalyptic"}, "severity"),
        ({"severity": ""}, "severity"),
        ({"valid_from": NOON, "valid_to": NOON - HOUR}, "valid_to"),
        ({"key": "renamed"}, "key"),
        ({"owner": 1}, "owner"),
    ],
)
def test_bad_settings_name_the_field_and_change_nothing(make_item, author, changes, field):
    item = make_item("bad-alert", kind="alert", severity="info")
    before = item_state(item)
    with pytest.raises(ValidationError) as raised:
        services.update_item(item, by=author, **changes)
    assert list(raised.value.message_dict) == [field]
    assert item_state(item) == before


def test_another_organisation_may_not_change_settings(world, make_item):
    item = make_item("theirs")
    before = item_state(item)
    with pytest.raises(ContentPermissionError):
        services.update_item(item, by=world.user("b", "administrator"), sensitivity="sensitive")
    assert item_state(item) == before


# --- The staff page ----------------------------------------------------------------------------------


def test_settings_page_saves_and_reports_languages_taken_offline(client_for, make_item, publish_text, author):
    # given a published article
    item = make_item("page-settings")
    publish_text(item, "en")
    assert client_for(None).get(f"/en/info/{item.key}/").status_code == 200
    client = client_for(author)
    page = client.get(f"/en/staff/content/{item.pk}/settings/")
    assert page.status_code == 200
    assert page.context["form"].initial["sensitivity"] == "public"
    # when the content manager makes it sensitive and links it to legal aid
    response = client.post(
        f"/en/staff/content/{item.pk}/settings/",
        {"sensitivity": "sensitive", "categories": ["legal"]},
        follow=True,
    )
    # then it is saved, the page says a language went offline, and the public page is gone
    assert response.redirect_chain == [(f"/en/staff/content/{item.pk}/", 302)]
    assert "1 published language went offline" in response.content.decode()
    stored = ContentItem.objects.get(pk=item.pk)
    assert (stored.sensitivity, list(stored.categories.values_list("code", flat=True))) == (
        "sensitive",
        ["legal"],
    )
    assert client_for(None).get(f"/en/info/{item.key}/").status_code == 404


def test_settings_page_shows_the_field_of_a_refused_change(client_for, make_item, author):
    item = make_item("page-alert", kind="alert", severity="info")
    before = item_state(item)
    response = client_for(author).post(
        f"/en/staff/content/{item.pk}/settings/",
        {"sensitivity": "public", "severity": "", "valid_from": "2025-03-03T12:00", "valid_to": ""},
    )
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["severity"]
    assert item_state(item) == before


# --- The API -----------------------------------------------------------------------------------------


def patch(client, key: str, data: dict):
    return client.patch(f"/api/v1/content-items/{key}/", json.dumps(data), content_type="application/json")


def test_api_patch_changes_only_the_given_settings(client_for, make_item, author):
    item = make_item("api-settings", kind="alert", severity="info")
    AreaFactory(pcode="MX07")
    response = patch(client_for(author), item.key, {"areas": ["MX07"], "categories": ["food", "wash"]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["severity"], body["areas"]) == ("info", ["MX07"])
    assert sorted(body["categories"]) == ["food", "wash"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"categories": ["teleportation"]}, "categories"),
        ({"areas": ["NOWHERE"]}, "areas"),
        ({"sensitivity": "secret"}, "sensitivity"),
        ({"key": "renamed"}, "key"),
        ({"valid_from": "2025-03-03T12:00:00Z", "valid_to": "2025-03-03T11:00:00Z"}, "valid_to"),
        ({"severity": ""}, "severity"),
    ],
)
def test_api_patch_errors_name_the_field(client_for, make_item, author, data, field):
    item = make_item("api-bad", kind="alert", severity="info")
    before = item_state(item)
    response = patch(client_for(author), item.key, data)
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]
    assert item_state(item) == before
