"""Hub services: writing, reviewing and publishing content per language; what the public reads."""

from __future__ import annotations

import datetime
import json
import re

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.utils import timezone

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.hub import services
from ventanilla.hub.models import ContentItem, ContentRevision, ContentTranslation, Sensitivity
from ventanilla.hub.services import ContentPermissionError, WorkflowError

pytestmark = pytest.mark.django_db

NOON = datetime.datetime(2025, 3, 3, 12, 0, tzinfo=datetime.UTC)
HOUR = datetime.timedelta(hours=1)
ONLY_REVIEW_PUBLISHES = re.escape("Only a translation in review can be published.")


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def new_entries(since: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(pk__gt=since).order_by("pk"))


def entry_text(entry: AuditEntry) -> str:
    return json.dumps(model_to_dict(entry), default=str)


def history(translation: ContentTranslation) -> list[tuple[int, str, int | None, str]]:
    rows = ContentRevision.objects.filter(translation=translation).order_by("pk")
    return [(r.revision, r.action, r.by_id, r.note) for r in rows]


def fresh(translation: ContentTranslation) -> ContentTranslation:
    return ContentTranslation.objects.get(pk=translation.pk)


# --- create_item ------------------------------------------------------------------------------------


def test_create_item_is_audited(world, author):
    # given
    since = last_audit_id()
    # when
    item = services.create_item(
        owner=world.a.organisation, key="asylum", kind="procedure", by=author, source_language="es"
    )
    # then
    stored = ContentItem.objects.get(pk=item.pk)
    assert (stored.key, stored.kind, stored.sensitivity, stored.source_language) == (
        "asylum",
        "procedure",
        "public",
        "es",
    )
    [entry] = new_entries(since)
    assert (entry.action, entry.actor_id, entry.organisation_id, entry.object_type) == (
        AuditAction.CREATE,
        author.pk,
        world.a.organisation.pk,
        "hub.contentitem",
    )
    assert entry.fields == ["key", "kind", "sensitivity"]


@pytest.mark.parametrize(
    ("org", "role"), [("b", "information_officer"), ("b", "administrator"), ("a", "caseworker")]
)
def test_create_item_needs_a_content_manager_of_the_owner(world, org, role):
    # given
    since = last_audit_id()
    # when
    with pytest.raises(
        ContentPermissionError, match=re.escape("You do not manage content for this organisation.")
    ):
        services.create_item(
            owner=world.a.organisation, key="asylum", kind="rights", by=world.user(org, role)
        )
    # then
    assert (ContentItem.objects.count(), new_entries(since)) == (0, [])


def test_alert_needs_a_severity(world, author):
    with pytest.raises(ValidationError) as caught:
        services.create_item(owner=world.a.organisation, key="flood", kind="alert", by=author)
    assert caught.value.message_dict == {"severity": ["An alert needs a severity."]}
    assert ContentItem.objects.count() == 0


def test_alert_with_severity_and_validity(world, author):
    item = services.create_item(
        owner=world.a.organisation,
        key="flood",
        kind="alert",
        by=author,
        severity="danger",
        valid_from=NOON,
        valid_to=NOON + HOUR,
    )
    assert (item.severity, item.valid_from, item.valid_to) == ("danger", NOON, NOON + HOUR)


@pytest.mark.parametrize("valid_to", [NOON, NOON - HOUR])
def test_valid_to_must_come_after_valid_from(world, author, valid_to):
    with pytest.raises(ValidationError) as caught:
        services.create_item(
            owner=world.a.organisation,
            key="flood",
            kind="alert",
            by=author,
            severity="warning",
            valid_from=NOON,
            valid_to=valid_to,
        )
    assert caught.value.message_dict == {"valid_to": ["The end of validity must come after its start."]}
    assert ContentItem.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"source_language": "de"}, {"source_language": ["Ventanilla does not offer the language de."]}),
        ({"kind": "poem"}, {"kind": ["Value 'poem' is not a valid choice."]}),
        ({"sensitivity": "secret"}, {"sensitivity": ["Value 'secret' is not a valid choice."]}),
        (
            {"key": "not a slug"},
            {"key": ["Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."]},
        ),
    ],
)
def test_create_item_names_the_bad_field(world, author, fields, expected):
    values = {"owner": world.a.organisation, "key": "asylum", "kind": "rights", "by": author, **fields}
    with pytest.raises(ValidationError) as caught:
        services.create_item(**values)
    assert caught.value.message_dict == expected


def test_create_item_refuses_a_key_in_use(make_item, world, author):
    make_item("asylum", org="b")
    with pytest.raises(ValidationError) as caught:
        services.create_item(owner=world.a.organisation, key="asylum", kind="rights", by=author)
    assert caught.value.message_dict == {"key": ["Content item with this Key already exists."]}


# --- save_translation -------------------------------------------------------------------------------


def test_new_translation_is_a_draft_at_revision_one(make_item, author):
    # given
    item = make_item("asylum")
    since = last_audit_id()
    # when
    translation = services.save_translation(
        item, language="en", by=author, title="Asylum", body="You may ask."
    )
    # then
    stored = fresh(translation)
    assert (stored.status, stored.revision, stored.title, stored.body, stored.updated_by) == (
        "draft",
        1,
        "Asylum",
        "You may ask.",
        author,
    )
    assert (stored.published_content, stored.published_revision) == ({}, None)
    assert history(stored) == [(1, "created", author.pk, "")]
    [entry] = new_entries(since)
    assert (entry.action, entry.object_type, entry.fields, entry.detail) == (
        AuditAction.CREATE,
        "hub.contenttranslation",
        ["body", "title"],
        {"item": item.pk, "language": "en"},
    )
    assert "You may ask" not in entry_text(entry)


def test_editing_a_published_translation_starts_a_draft_and_keeps_the_published_words(
    make_item, publish_text, author, reviewer
):
    # given a published English text
    item = make_item("asylum")
    published = publish_text(item, "en", title="Asylum", summary="Old summary")
    # when the author edits it
    edited = services.save_translation(item, language="en", by=author, summary="New summary")
    # then it is a draft at revision 2; the public still reads revision 1
    stored = fresh(edited)
    assert (stored.status, stored.revision, stored.summary) == ("draft", 2, "New summary")
    assert (stored.published_revision, stored.published_content["summary"]) == (1, "Old summary")
    assert services.public_text(item, "en").words["summary"] == "Old summary"
    # when the edit is reviewed and published
    services.publish(services.submit_for_review(stored, by=author), by=reviewer)
    # then the new words are online
    stored = fresh(published)
    assert (stored.status, stored.published_revision, stored.published_content["summary"]) == (
        "published",
        2,
        "New summary",
    )


def test_saving_unchanged_words_changes_nothing(make_item, author):
    # given
    item = make_item("asylum")
    translation = services.save_translation(item, language="en", by=author, title="Asylum")
    since = last_audit_id()
    # when
    again = services.save_translation(item, language="en", by=author, title="Asylum")
    # then
    assert (again.pk, fresh(again).revision, len(history(again)), new_entries(since)) == (
        translation.pk,
        1,
        1,
        [],
    )


def test_editing_a_translation_in_review_returns_it_to_draft(make_item, author):
    item = make_item("asylum")
    translation = services.submit_for_review(
        services.save_translation(item, language="en", by=author, title="Asylum"), by=author
    )
    services.save_translation(item, language="en", by=author, title="Asylum (corrected)")
    assert (fresh(translation).status, fresh(translation).revision) == ("draft", 2)


def test_steps_from_a_multi_line_text_become_a_list(make_item, author):
    # when
    translation = services.save_translation(
        make_item("visa", kind="procedure"),
        language="en",
        by=author,
        title="Visa",
        steps="  Go to the office \n\n Bring your passport\r\nWait for the call\n",
    )
    # then
    assert fresh(translation).steps == ["Go to the office", "Bring your passport", "Wait for the call"]


def test_steps_as_a_list_are_kept(make_item, author):
    translation = services.save_translation(
        make_item("visa", kind="procedure"), language="en", by=author, title="Visa", steps=["One", "Two"]
    )
    assert fresh(translation).steps == ["One", "Two"]


@pytest.mark.parametrize("steps", [[1, 2], {"one": "Go"}, ["Go", None], 3])
def test_steps_that_are_not_texts_are_refused(make_item, author, steps):
    with pytest.raises(ValidationError) as caught:
        services.save_translation(make_item("visa"), language="en", by=author, title="Visa", steps=steps)
    assert caught.value.message_dict == {"steps": ["Steps must be a list of texts, one per step."]}
    assert ContentTranslation.objects.count() == 0


def test_unknown_fields_are_named(make_item, author):
    with pytest.raises(ValidationError) as caught:
        services.save_translation(
            make_item("visa"), language="en", by=author, title="Visa", colour="red", x=1
        )
    assert caught.value.message_dict == {"colour": ["Unknown field."], "x": ["Unknown field."]}


def test_a_language_not_offered_is_refused(make_item, author):
    with pytest.raises(ValidationError) as caught:
        services.save_translation(make_item("visa"), language="mam", by=author, title="Visa")
    assert caught.value.message_dict == {"language": ["Ventanilla does not offer the language mam."]}
    assert ContentTranslation.objects.count() == 0


def test_a_new_translation_needs_a_title(make_item, author):
    with pytest.raises(ValidationError) as caught:
        services.save_translation(make_item("visa"), language="en", by=author, body="Text")
    assert caught.value.message_dict == {"title": ["This field cannot be blank."]}
    assert (ContentTranslation.objects.count(), ContentRevision.objects.count()) == (0, 0)


def test_save_translation_needs_a_content_manager_of_the_owner(make_item, world):
    item = make_item("visa")
    with pytest.raises(ContentPermissionError):
        services.save_translation(item, language="en", by=world.user("b", "information_officer"), title="x")
    assert ContentTranslation.objects.count() == 0


def publish_as(translation, author, reviewer):
    return services.publish(services.submit_for_review(translation, by=author), by=reviewer)


def test_a_source_draft_does_not_mark_translations_outdated_until_it_is_published(
    make_item, author, reviewer
):
    # given English (the source, published), Spanish and French made from it, all current
    item = make_item("asylum")
    publish_as(services.save_translation(item, language="en", by=author, title="Asylum"), author, reviewer)
    services.save_translation(item, language="es", by=author, title="Asilo")
    services.save_translation(item, language="fr", by=author, title="Asile")
    # when the English text changes, as a draft the public cannot read yet
    english = services.save_translation(item, language="en", by=author, title="Asylum, step by step")
    # then no translation is outdated: they still match the English the public reads
    outdated = dict(ContentTranslation.objects.values_list("language", "is_outdated"))
    assert outdated == {"en": False, "es": False, "fr": False}
    assert list(services.outdated_translations(author)) == []
    # when the new English is published
    publish_as(english, author, reviewer)
    # then the translations made from the older English are outdated, the source is not
    outdated = dict(ContentTranslation.objects.values_list("language", "is_outdated"))
    assert outdated == {"en": False, "es": True, "fr": True}
    assert [t.language for t in services.outdated_translations(author)] == ["es", "fr"]


def test_a_translation_made_from_a_source_draft_is_current_once_that_draft_is_published(
    make_item, author, reviewer
):
    # given English published at revision 1 and a draft at revision 2
    item = make_item("asylum")
    publish_as(services.save_translation(item, language="en", by=author, title="Asylum"), author, reviewer)
    english = services.save_translation(item, language="en", by=author, title="Asylum 2")
    # when Spanish is translated from the draft the translator sees, then the draft is published
    spanish = services.save_translation(item, language="es", by=author, title="Asilo 2")
    publish_as(english, author, reviewer)
    # then the Spanish is current: it was made from revision 2, which is the published source
    assert (fresh(spanish).source_revision, fresh(spanish).is_outdated) == (2, False)


def test_saving_a_translation_makes_it_current_from_the_source_revision(make_item, author, reviewer):
    # given a Spanish translation made when the English source was at revision 1
    item = make_item("asylum")
    services.save_translation(item, language="en", by=author, title="Asylum")
    spanish = services.save_translation(item, language="es", by=author, title="Asilo")
    assert (fresh(spanish).source_revision, fresh(spanish).is_outdated) == (1, False)
    # when the source moves to revision 3 and is published, then the Spanish is updated
    services.save_translation(item, language="en", by=author, title="Asylum 2")
    english = services.save_translation(item, language="en", by=author, title="Asylum 3")
    publish_as(english, author, reviewer)
    assert fresh(spanish).is_outdated is True
    services.save_translation(item, language="es", by=author, title="Asilo 3")
    # then it is current, made from revision 3
    assert (fresh(spanish).source_revision, fresh(spanish).is_outdated, fresh(spanish).revision) == (
        3,
        False,
        2,
    )


def test_a_translation_written_before_the_source_counts_from_revision_one(make_item, author):
    item = make_item("asylum", source_language="es")
    english = services.save_translation(item, language="en", by=author, title="Asylum")
    assert (fresh(english).source_revision, fresh(english).is_outdated) == (1, False)


def test_a_new_source_does_not_mark_existing_translations_outdated(make_item, author):
    # given a translation written first
    item = make_item("asylum")
    services.save_translation(item, language="es", by=author, title="Asilo")
    # when the source is created afterwards
    services.save_translation(item, language="en", by=author, title="Asylum")
    # then nothing changed in the source since the translation: it is not outdated
    assert ContentTranslation.objects.get(language="es").is_outdated is False


# --- The workflow -----------------------------------------------------------------------------------


@pytest.fixture
def draft(make_item, author) -> ContentTranslation:
    item = make_item("asylum")
    return services.save_translation(item, language="en", by=author, title="Asylum", body="Words")


def test_submit_for_review(draft, author):
    # given
    since = last_audit_id()
    # when
    services.submit_for_review(draft, by=author)
    # then
    stored = fresh(draft)
    assert (stored.status, stored.submitted_by) == ("in_review", author)
    assert history(stored)[-1] == (1, "submitted", author.pk, "")
    [entry] = new_entries(since)
    assert (entry.fields, entry.detail) == (["status"], {"status": "in_review"})


def test_only_a_draft_can_be_submitted(draft, author, reviewer):
    services.submit_for_review(draft, by=author)
    with pytest.raises(WorkflowError, match=re.escape("Only a draft can be sent for review.")):
        services.submit_for_review(draft, by=author)
    services.publish(draft, by=reviewer)
    with pytest.raises(WorkflowError, match=re.escape("Only a draft can be sent for review.")):
        services.submit_for_review(draft, by=author)
    assert fresh(draft).status == "published"


def test_publish_puts_the_words_online(draft, author, reviewer):
    # given a translation in review of an item never verified
    services.submit_for_review(draft, by=author)
    since = last_audit_id()
    before = timezone.now()
    # when
    services.publish(draft, by=reviewer)
    # then
    stored = fresh(draft)
    assert (stored.status, stored.reviewed_by, stored.published_revision) == ("published", reviewer, 1)
    assert before <= stored.published_at <= timezone.now()
    assert stored.published_content == {
        "title": "Asylum",
        "summary": "",
        "body": "Words",
        "steps": [],
        "documents": "",
        "fees": "",
        "where": "",
        "duration": "",
    }
    item = ContentItem.objects.get(pk=draft.item_id)
    assert (item.last_verified_at, item.verified_by) == (stored.published_at, reviewer)
    assert history(stored)[-1] == (1, "published", reviewer.pk, "")
    [entry] = new_entries(since)
    assert (entry.fields, entry.detail) == (["status"], {"status": "published"})
    assert "Words" not in entry_text(entry)


def test_publishing_keeps_an_earlier_verification(draft, author, reviewer):
    # given an item verified last year
    verified = timezone.now() - datetime.timedelta(days=365)
    ContentItem.objects.filter(pk=draft.item_id).update(last_verified_at=verified, verified_by=author)
    # when
    services.publish(services.submit_for_review(draft, by=author), by=reviewer)
    # then publishing is not a verification of the facts
    item = ContentItem.objects.get(pk=draft.item_id)
    assert (item.last_verified_at, item.verified_by) == (verified, author)


def test_only_a_translation_in_review_can_be_published(draft, reviewer):
    with pytest.raises(WorkflowError, match=ONLY_REVIEW_PUBLISHES):
        services.publish(draft, by=reviewer)
    assert (fresh(draft).status, fresh(draft).published_revision) == ("draft", None)


def test_the_author_may_publish_public_content(draft, author):
    services.publish(services.submit_for_review(draft, by=author), by=author)
    assert fresh(draft).status == "published"


@pytest.fixture
def critical(make_item, author) -> ContentTranslation:
    item = make_item("trafficking", sensitivity=Sensitivity.PROTECTION_CRITICAL)
    translation = services.save_translation(
        item, language="en", by=author, title="If someone keeps your papers"
    )
    return services.submit_for_review(translation, by=author)


def test_the_author_cannot_publish_protection_critical_content(critical, author):
    # when
    with pytest.raises(WorkflowError, match="needs a reviewer other than its author"):
        services.publish(critical, by=author)
    # then
    assert fresh(critical).status == "in_review"


@pytest.mark.parametrize("role", ["administrator", "site_manager"])
def test_another_content_manager_publishes_protection_critical_content(world, critical, role):
    services.publish(critical, by=world.user("a", role))
    assert (fresh(critical).status, fresh(critical).reviewed_by) == ("published", world.user("a", role))


def test_a_colleague_who_edited_and_submitted_does_not_make_the_author_a_reviewer(
    world, critical, author, reviewer
):
    # given the author wrote it, a colleague corrected a word and submitted it again
    colleague = world.user("a", "site_manager")
    services.send_back(critical, by=reviewer, note="One word")
    edited = services.save_translation(
        critical.item, language="en", by=colleague, title="If someone keeps your ID"
    )
    services.submit_for_review(edited, by=colleague)
    # when the author or the colleague try to publish
    for person in (author, colleague):
        with pytest.raises(WorkflowError):
            services.publish(critical, by=person)
    # then a third person can
    services.publish(critical, by=reviewer)
    assert fresh(critical).status == "published"


def test_after_publication_only_the_new_edits_count_as_authorship(world, critical, author, reviewer):
    # given the author's text was published by the reviewer
    services.publish(critical, by=reviewer)
    # when the reviewer edits and submits it, the author may review that edit
    edited = services.save_translation(critical.item, language="en", by=reviewer, title="Updated title")
    services.submit_for_review(edited, by=reviewer)
    services.publish(edited, by=author)
    # then
    assert (fresh(critical).published_revision, fresh(critical).reviewed_by) == (2, author)


def test_send_back_needs_a_note(critical, reviewer):
    for note in ("", "   "):
        with pytest.raises(ValidationError) as caught:
            services.send_back(critical, by=reviewer, note=note)
        assert caught.value.message_dict == {"note": ["Say what needs to change."]}
    assert fresh(critical).status == "in_review"


def test_send_back_returns_the_draft_with_the_note(critical, reviewer):
    # given
    since = last_audit_id()
    # when
    services.send_back(critical, by=reviewer, note="Add the hotline number. " + "x" * 400)
    # then
    stored = fresh(critical)
    assert stored.status == "draft"
    revision, action, by, note = history(stored)[-1]
    assert (revision, action, by, len(note)) == (1, "sent_back", reviewer.pk, 300)
    assert note.startswith("Add the hotline number.")
    [entry] = new_entries(since)
    assert (entry.detail, "hotline" in entry_text(entry)) == ({"status": "draft"}, False)


def test_only_a_translation_in_review_can_be_sent_back(draft, reviewer):
    with pytest.raises(WorkflowError, match=re.escape("Only a translation in review can be sent back.")):
        services.send_back(draft, by=reviewer, note="Fix it")


def test_archive_takes_the_words_offline(draft, author, reviewer):
    # given a published translation
    services.publish(services.submit_for_review(draft, by=author), by=reviewer)
    since = last_audit_id()
    # when
    services.archive(draft, by=author)
    # then
    stored = fresh(draft)
    assert (stored.status, stored.published_content, stored.published_revision) == ("archived", {}, None)
    assert list(services.public_items()) == []
    assert history(stored)[-1] == (1, "archived", author.pk, "")
    assert new_entries(since)[0].detail == {"status": "archived"}


def test_archiving_twice_is_refused(draft, author):
    services.archive(draft, by=author)
    with pytest.raises(WorkflowError, match="already archived"):
        services.archive(draft, by=author)


def test_an_archived_translation_can_be_written_again(draft, author):
    services.archive(draft, by=author)
    services.save_translation(draft.item, language="en", by=author, title="Back")
    assert (fresh(draft).status, fresh(draft).revision) == ("draft", 2)


def test_every_step_is_in_the_history_and_the_audit_log(draft, author, reviewer):
    # given
    item = draft.item
    since = last_audit_id()
    # when the draft goes through the whole workflow
    services.submit_for_review(draft, by=author)
    services.send_back(draft, by=reviewer, note="Shorter please")
    services.save_translation(item, language="en", by=author, body="Fewer words")
    services.submit_for_review(draft, by=author)
    services.publish(draft, by=reviewer)
    services.archive(draft, by=reviewer)
    # then
    assert history(draft) == [
        (1, "created", author.pk, ""),
        (1, "submitted", author.pk, ""),
        (1, "sent_back", reviewer.pk, "Shorter please"),
        (2, "edited", author.pk, ""),
        (2, "submitted", author.pk, ""),
        (2, "published", reviewer.pk, ""),
        (2, "archived", reviewer.pk, ""),
    ]
    assert ContentRevision.objects.get(translation=draft, action="edited").snapshot["body"] == "Fewer words"
    entries = new_entries(since)
    assert [(e.actor_id, e.fields, e.detail) for e in entries] == [
        (author.pk, ["status"], {"status": "in_review"}),
        (reviewer.pk, ["status"], {"status": "draft"}),
        (author.pk, ["body"], {"item": item.pk, "language": "en"}),
        (author.pk, ["status"], {"status": "in_review"}),
        (reviewer.pk, ["status"], {"status": "published"}),
        (reviewer.pk, ["status"], {"status": "archived"}),
    ]
    assert {(e.object_id, e.organisation_id) for e in entries} == {(str(draft.pk), item.owner_id)}


@pytest.mark.parametrize(
    "step",
    [
        lambda t, by: services.submit_for_review(t, by=by),
        lambda t, by: services.publish(t, by=by),
        lambda t, by: services.send_back(t, by=by, note="x"),
        lambda t, by: services.archive(t, by=by),
    ],
    ids=["submit", "publish", "send_back", "archive"],
)
def test_workflow_steps_need_a_content_manager_of_the_owner(world, critical, step):
    # given
    since = last_audit_id()
    # when B's administrator or A's caseworker try
    for person in (world.user("b", "administrator"), world.user("a", "caseworker")):
        with pytest.raises(ContentPermissionError):
            step(critical, person)
    # then nothing changed
    assert (fresh(critical).status, new_entries(since)) == ("in_review", [])


# --- verify_item ------------------------------------------------------------------------------------


def test_verify_item(make_item, author, world):
    # given
    item = make_item("asylum")
    since = last_audit_id()
    # when
    services.verify_item(item, by=author)
    # then
    stored = ContentItem.objects.get(pk=item.pk)
    assert (stored.verified_by, stored.last_verified_at is not None) == (author, True)
    [entry] = new_entries(since)
    assert entry.fields == ["last_verified_at", "verified_by"]
    # and B cannot
    with pytest.raises(ContentPermissionError):
        services.verify_item(item, by=world.user("b", "information_officer"))


# --- What the public reads --------------------------------------------------------------------------


def test_public_text_in_the_readers_language(make_item, publish_text):
    # given
    item = make_item("asylum")
    publish_text(item, "en", title="Asylum")
    publish_text(item, "ar", title="اللجوء")
    # when
    text = services.public_text(item, "ar")
    # then
    assert (text.language, text.words["title"], text.is_fallback, text.is_outdated) == (
        "ar",
        "اللجوء",
        False,
        False,
    )


def test_public_text_falls_back_to_the_source_language(make_item, publish_text):
    # given Spanish is the source; English and French also published
    item = make_item("asylum", source_language="es")
    publish_text(item, "en", title="Asylum")
    publish_text(item, "es", title="Asilo")
    publish_text(item, "fr", title="Asile")
    # when an Arabic reader comes
    text = services.public_text(item, "ar")
    # then
    assert (text.language, text.words["title"], text.is_fallback) == ("es", "Asilo", True)


def test_public_text_falls_back_to_any_published_language(make_item, publish_text, author):
    # given the English source is only a draft; French and Arabic are published
    item = make_item("asylum")
    services.save_translation(item, language="en", by=author, title="Draft")
    publish_text(item, "fr", title="Asile")
    publish_text(item, "ar", title="اللجوء")
    # when a Spanish reader comes
    text = services.public_text(item, "es")
    # then the first published language is shown, said to be a fallback
    assert (text.language, text.is_fallback) == ("ar", True)


def test_public_text_is_none_without_published_words(make_item, author):
    item = make_item("asylum")
    services.save_translation(item, language="en", by=author, title="Draft")
    assert services.public_text(item, "en") is None


def test_public_text_says_outdated_only_once_a_newer_source_is_published(
    make_item, publish_text, author, reviewer
):
    # given English and Spanish published, then the English source edited as a draft
    item = make_item("asylum")
    publish_text(item, "en", title="Asylum")
    publish_text(item, "es", title="Asilo")
    english = services.save_translation(item, language="en", by=author, title="Asylum, new rules")
    # then the Spanish page is not outdated: it matches the English the public reads
    spanish = services.public_text(item, "es")
    assert (spanish.words["title"], spanish.is_outdated) == ("Asilo", False)
    # when the new English is published
    services.publish(services.submit_for_review(english, by=author), by=reviewer)
    # then the Spanish page says it may be outdated; the English page shows the new words
    spanish, english_text = services.public_text(item, "es"), services.public_text(item, "en")
    assert (spanish.words["title"], spanish.is_outdated) == ("Asilo", True)
    assert (english_text.words["title"], english_text.is_outdated) == ("Asylum, new rules", False)
    # when the Spanish is updated as a draft, the published Spanish is still from the older source
    spanish_draft = services.save_translation(item, language="es", by=author, title="Asilo, nuevas reglas")
    assert services.public_text(item, "es").is_outdated is True
    # and once the updated Spanish is published, it is current
    services.publish(services.submit_for_review(spanish_draft, by=author), by=reviewer)
    spanish = services.public_text(item, "es")
    assert (spanish.words["title"], spanish.is_outdated) == ("Asilo, nuevas reglas", False)
    assert fresh(spanish_draft).published_source_revision == 2


def test_public_text_is_not_outdated_when_the_source_is_archived(make_item, publish_text, author, reviewer):
    # given Spanish published from English revision 1, English revision 2 published, then archived
    item = make_item("asylum")
    publish_text(item, "en", title="Asylum")
    publish_text(item, "es", title="Asilo")
    english = services.save_translation(item, language="en", by=author, title="Asylum 2")
    services.archive(
        services.publish(services.submit_for_review(english, by=author), by=reviewer), by=reviewer
    )
    # then there is no published source to be behind: the Spanish page says nothing
    assert services.public_text(item, "es").is_outdated is False


def test_public_text_uses_prefetched_translations(make_item, publish_text, django_assert_num_queries):
    # given
    item = make_item("asylum")
    publish_text(item, "en", title="Asylum")
    [loaded] = services.public_items()
    # when / then
    with django_assert_num_queries(0):
        assert services.public_text(loaded, "es").words["title"] == "Asylum"


def test_public_items_are_published_and_not_sensitive(make_item, publish_text, author):
    # given
    public = make_item("public")
    publish_text(public, "en")
    publish_text(public, "es")
    critical = make_item("critical", sensitivity=Sensitivity.PROTECTION_CRITICAL)
    publish_text(critical, "en")
    sensitive = make_item("sensitive", sensitivity=Sensitivity.SENSITIVE)
    publish_text(sensitive, "en")
    draft = make_item("draft")
    services.save_translation(draft, language="en", by=author, title="Draft")
    in_review = make_item("in-review")
    services.submit_for_review(
        services.save_translation(in_review, language="en", by=author, title="R"), by=author
    )
    make_item("empty")
    # when
    items = list(services.public_items())
    # then each public published item once, with only its published translations attached
    assert sorted(i.key for i in items) == ["critical", "public"]
    by_key = {i.key: i for i in items}
    assert sorted(t.language for t in by_key["public"].published_translations) == ["en", "es"]


@pytest.fixture
def alerts(make_item, publish_text):
    """Alerts valid at different times around NOON, and an article that is not an alert."""

    def alert(key: str, valid_from=None, valid_to=None):
        item = make_item(key, kind="alert", severity="warning", valid_from=valid_from, valid_to=valid_to)
        publish_text(item, "en")
        return item

    alert("always")
    alert("started", valid_from=NOON - 2 * HOUR)
    alert("started-later", valid_from=NOON - HOUR)
    alert("starts-now", valid_from=NOON)
    alert("future", valid_from=NOON + HOUR)
    alert("ended", valid_to=NOON - HOUR)
    alert("ends-now", valid_from=NOON - 3 * HOUR, valid_to=NOON)
    alert("ends-later", valid_to=NOON + HOUR)
    make_item("unpublished", kind="alert", severity="danger")
    publish_text(make_item("article"), "en")


def test_current_alerts_respect_validity_newest_first(alerts):
    # when
    keys = [item.key for item in services.current_alerts(NOON)]
    # then alerts valid at noon, newest start first, those without a start last (on every database)
    assert keys == ["starts-now", "started-later", "started", "always", "ends-later"]


def test_current_alerts_default_to_now(alerts):
    # at the present (long after NOON) only alerts without an end, already started, are current
    assert [item.key for item in services.current_alerts()] == [
        "future",
        "starts-now",
        "started-later",
        "started",
        "always",
    ]


# --- Staff lists, scoped to the user's organisations ------------------------------------------------


@pytest.fixture
def a_content(make_item, publish_text, author, settings):
    """A's item in review, an outdated translation, a stale item, and a recently verified one."""
    settings.DIRECTORY_STALE_DAYS = 90
    in_review = make_item("in-review")
    services.submit_for_review(
        services.save_translation(in_review, language="en", by=author, title="R"), by=author
    )
    outdated = make_item("outdated")
    publish_text(outdated, "en")
    publish_text(outdated, "es")
    publish_text(outdated, "en", title="Changed")
    old = make_item("verified-long-ago")
    ContentItem.objects.filter(pk=old.pk).update(
        last_verified_at=timezone.now() - datetime.timedelta(days=91)
    )
    recent = make_item("verified-recently")
    services.verify_item(recent, by=author)
    return in_review


def test_review_queue_of_a_manager(a_content, author, world):
    assert [(t.item.key, t.language) for t in services.review_queue(author)] == [("in-review", "en")]
    assert list(services.review_queue(world.user("b", "information_officer"))) == []
    assert list(services.review_queue(world.user("a", "caseworker"))) == []


def test_outdated_translations_of_a_manager(a_content, author, world):
    assert [(t.item.key, t.language) for t in services.outdated_translations(author)] == [("outdated", "es")]
    assert list(services.outdated_translations(world.user("b", "administrator"))) == []


def test_stale_items_of_a_manager(a_content, author, world, settings):
    # then never verified and verified over 90 days ago; published items count as verified on publication
    assert sorted(i.key for i in services.stale_items(author)) == ["in-review", "verified-long-ago"]
    assert list(services.stale_items(world.user("b", "site_manager"))) == []
    # when the period is shortened to nothing but a day, the recent ones are not yet stale
    settings.DIRECTORY_STALE_DAYS = 1
    assert sorted(i.key for i in services.stale_items(author)) == ["in-review", "verified-long-ago"]


def test_b_sees_its_own_lists(make_item, world):
    # given B's item never verified
    make_item("b-item", org="b")
    # then B sees it and A does not
    assert [i.key for i in services.stale_items(world.user("b", "information_officer"))] == ["b-item"]
    assert list(services.stale_items(world.user("a", "information_officer"))) == []
