"""Hub models: validity, string forms, constraints and who may read which item."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404

from ventanilla.hub import services
from ventanilla.hub.models import ContentItem, ContentRevision, ContentTranslation, Sensitivity

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2025, 3, 3, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)


# --- Small behaviour --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sensitivity", "is_public"),
    [(Sensitivity.PUBLIC, True), (Sensitivity.PROTECTION_CRITICAL, True), (Sensitivity.SENSITIVE, False)],
)
def test_is_public_follows_sensitivity(sensitivity, is_public):
    assert ContentItem(sensitivity=sensitivity).is_public is is_public


@pytest.mark.parametrize(
    ("valid_from", "valid_to", "is_current"),
    [
        (None, None, True),
        (NOON - HOUR, None, True),
        (NOON, None, True),
        (NOON + HOUR, None, False),
        (None, NOON + HOUR, True),
        (None, NOON, False),
        (NOON - HOUR, NOON + HOUR, True),
        (NOON - 2 * HOUR, NOON - HOUR, False),
    ],
)
def test_is_current_between_valid_from_and_valid_to(valid_from, valid_to, is_current):
    assert ContentItem(valid_from=valid_from, valid_to=valid_to).is_current(NOON) is is_current


def test_is_current_defaults_to_now():
    assert ContentItem(valid_to=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)).is_current() is False
    assert ContentItem(valid_from=datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)).is_current() is True


@pytest.mark.parametrize("valid_to", [NOON, NOON - HOUR])
def test_clean_refuses_validity_ending_before_it_starts(world, valid_to):
    item = ContentItem(owner=world.a.organisation, key="k", kind="alert", valid_from=NOON, valid_to=valid_to)
    with pytest.raises(ValidationError) as caught:
        item.full_clean()
    assert caught.value.message_dict == {"valid_to": ["The end of validity must come after its start."]}


def test_string_forms(make_item, author):
    # given
    item = make_item("asylum")
    translation = services.save_translation(item, language="es", by=author, title="Asilo")
    # then
    assert (str(item), str(translation)) == ("asylum", "asylum [es]")
    assert str(translation.history.get()) == "asylum [es] r1 created"


def test_audit_organisation_is_the_owner(make_item, world):
    assert make_item("asylum", org="b").audit_organisation_id == world.b.organisation.pk


# --- Database constraints ---------------------------------------------------------------------------


def test_database_refuses_validity_ending_before_it_starts(world):
    with pytest.raises(IntegrityError), transaction.atomic():
        ContentItem.objects.create(
            owner=world.a.organisation, key="k", kind="alert", valid_from=NOON, valid_to=NOON - HOUR
        )


def test_database_refuses_two_translations_in_one_language(make_item):
    item = make_item("asylum")
    ContentTranslation.objects.create(item=item, language="es", title="Asilo")
    with pytest.raises(IntegrityError), transaction.atomic():
        ContentTranslation.objects.create(item=item, language="es", title="Asilo otra vez")


def test_history_is_newest_first(make_item, author):
    # given a translation created then edited
    item = make_item("asylum")
    translation = services.save_translation(item, language="en", by=author, title="Asylum")
    services.save_translation(item, language="en", by=author, title="Asylum, step by step")
    # then
    assert [(r.revision, r.action) for r in ContentRevision.objects.filter(translation=translation)] == [
        (2, "edited"),
        (1, "created"),
    ]


# --- Who reads which item ---------------------------------------------------------------------------


@pytest.fixture
def items(make_item, publish_text, author):
    """A's items in every state that matters, and B's draft."""
    public = make_item("a-public")
    publish_text(public, "en")
    publish_text(public, "es")
    critical = make_item("a-critical", sensitivity=Sensitivity.PROTECTION_CRITICAL)
    publish_text(critical, "en")
    sensitive = make_item("a-sensitive", sensitivity=Sensitivity.SENSITIVE)
    publish_text(sensitive, "en")
    draft = make_item("a-draft")
    services.save_translation(draft, language="en", by=author, title="Draft")
    in_review = make_item("a-in-review")
    services.submit_for_review(
        services.save_translation(in_review, language="en", by=author, title="Review"), by=author
    )
    being_edited = make_item("a-being-edited")
    publish_text(being_edited, "en")
    services.save_translation(being_edited, language="en", by=author, title="New words, not yet reviewed")
    archived = make_item("a-archived")
    services.archive(publish_text(archived, "en"), by=author)
    b_draft = make_item("b-draft", org="b")
    return {
        item.key: item
        for item in (public, critical, sensitive, draft, in_review, being_edited, archived, b_draft)
    }


def visible_keys(user) -> list[str]:
    return sorted(ContentItem.objects.visible_to(user).values_list("key", flat=True))


def test_caseworker_of_b_sees_what_a_published_for_the_public(world, items):
    # when / then: public and protection-critical published items, each once (two languages), and
    # an item whose published words stay online while a new draft is written
    assert visible_keys(world.user("b", "caseworker")) == ["a-being-edited", "a-critical", "a-public"]


def test_caseworker_of_b_gets_a_published_item_with_several_languages(world, items):
    # when
    item = ContentItem.objects.get_for(world.user("b", "caseworker"), items["a-public"].pk)
    # then
    assert item == items["a-public"]


@pytest.mark.parametrize("key", ["a-sensitive", "a-draft", "a-in-review", "a-archived"])
def test_caseworker_of_b_cannot_get_a_sensitive_or_unpublished_item(world, items, key):
    with pytest.raises(Http404):
        ContentItem.objects.get_for(world.user("b", "caseworker"), items[key].pk)


def test_caseworker_of_a_does_not_see_a_drafts_either(world, items):
    assert visible_keys(world.user("a", "caseworker")) == ["a-being-edited", "a-critical", "a-public"]


@pytest.mark.parametrize("role", ["information_officer", "administrator", "site_manager"])
def test_content_managers_of_a_see_every_item_of_a(world, items, role):
    assert visible_keys(world.user("a", role)) == [
        "a-archived",
        "a-being-edited",
        "a-critical",
        "a-draft",
        "a-in-review",
        "a-public",
        "a-sensitive",
    ]


def test_content_manager_of_b_sees_b_items_and_what_a_published(world, items):
    assert visible_keys(world.user("b", "information_officer")) == [
        "a-being-edited",
        "a-critical",
        "a-public",
        "b-draft",
    ]


def test_anonymous_reads_nothing_through_scoping(items):
    assert visible_keys(AnonymousUser()) == []
