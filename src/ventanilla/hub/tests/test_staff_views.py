"""Staff pages for hub content: who may use them, writing, review, publication, history, lists."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.core.roles import Role
from ventanilla.hub import services
from ventanilla.hub.models import ContentItem, ContentRevision, ContentTranslation, TranslationStatus

MANAGERS = {"administrator", "site_manager", "information_officer"}
ITEMS = "/en/staff/content/"


def last_audit_id() -> int:
    return AuditEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def new_entries(since: int) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(pk__gt=since).order_by("pk"))


def errors(form: Any) -> dict[str, list[str]]:
    return {name: [str(message) for message in messages] for name, messages in form.errors.items()}


def content_state() -> dict[str, Any]:
    return {
        "items": list(ContentItem.objects.order_by("pk").values()),
        "translations": list(ContentTranslation.objects.order_by("pk").values()),
        "revisions": ContentRevision.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def words(**overrides: str) -> dict[str, str]:
    data = {
        "title": "How to ask for asylum",
        "summary": "You can ask at the border or inside the country.",
        "body": "Asking is free.",
        "steps": "Go to the office\n\n  Fill in the form  \nKeep your receipt",
        "documents": "Any identity document you have.",
        "fees": "None",
        "where": "Any office of the refugee commission.",
        "duration": "45 working days",
    }
    data.update(overrides)
    return data


def in_review(item: ContentItem, language: str, by: Any, **values: Any) -> ContentTranslation:
    values.setdefault("title", f"{item.key} {language}")
    translation = services.save_translation(item, language=language, by=by, **values)
    return services.submit_for_review(translation, by=by)


# --- Who may use the pages ------------------------------------------------------------------------


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_only_content_managers_open_the_content_pages(world, client_for, make_item, author, role):
    # given an item of A with an English translation in review
    item = make_item("asylum")
    in_review(item, "en", author)
    urls = [
        ITEMS,
        f"{ITEMS}new/",
        f"{ITEMS}review/",
        f"{ITEMS}outdated/",
        f"{ITEMS}stale/",
        f"{ITEMS}{item.pk}/",
        f"{ITEMS}{item.pk}/en/",
        f"{ITEMS}{item.pk}/fr/",
        f"{ITEMS}{item.pk}/en/review/",
        f"{ITEMS}{item.pk}/en/history/",
    ]
    client = client_for(world.user("a", role))
    # when each page is opened
    statuses = {url: client.get(url).status_code for url in urls}
    # then content managers get every page, everyone else 403
    expected = 200 if role in MANAGERS else 403
    assert statuses == dict.fromkeys(urls, expected)


@pytest.mark.parametrize("role", [role.value for role in Role])
def test_organisation_b_cannot_reach_organisation_a_content(world, client_for, make_item, author, role):
    # given A's item with a translation in review, and a user of B with this role
    item = make_item("asylum")
    in_review(item, "en", author)
    client = client_for(world.user("b", role))
    before = content_state()
    # when they open or act on it
    requests = [
        ("GET", f"{ITEMS}{item.pk}/"),
        ("GET", f"{ITEMS}{item.pk}/en/"),
        ("POST", f"{ITEMS}{item.pk}/en/"),
        ("GET", f"{ITEMS}{item.pk}/en/review/"),
        ("GET", f"{ITEMS}{item.pk}/en/history/"),
        ("POST", f"{ITEMS}{item.pk}/verify/"),
        ("POST", f"{ITEMS}{item.pk}/en/submit/"),
        ("POST", f"{ITEMS}{item.pk}/en/publish/"),
        ("POST", f"{ITEMS}{item.pk}/en/send-back/"),
        ("POST", f"{ITEMS}{item.pk}/en/archive/"),
    ]
    statuses = {
        f"{method} {url}": (
            client.get(url) if method == "GET" else client.post(url, {**words(), "note": "x"})
        ).status_code
        for method, url in requests
    }
    # then B's content managers find nothing (404); B's other roles may not use the pages (403)
    expected = 404 if role in MANAGERS else 403
    assert statuses == dict.fromkeys(statuses, expected)
    assert content_state() == before


def test_lists_show_only_the_users_organisations_items(world, client_for, make_item, author):
    # given an item in each organisation, both in review
    a_item = make_item("a-item")
    b_item = make_item("b-item", org="b")
    in_review(a_item, "en", author)
    in_review(b_item, "en", world.user("b", "information_officer"))
    client = client_for(world.user("a", "site_manager"))
    # when A's site manager opens the list and the review queue
    listed = [row["item"] for row in client.get(ITEMS).context["rows"]]
    queue = list(client.get(f"{ITEMS}review/").context["translations"])
    # then only A's appear
    assert listed == [a_item]
    assert [t.item for t in queue] == [a_item]


def test_unknown_or_unoffered_languages_are_404(world, client_for, make_item):
    item = make_item("asylum")
    client = client_for(world.user("a", "administrator"))
    assert client.get(f"{ITEMS}{item.pk}/de/").status_code == 404
    assert client.get(f"{ITEMS}{item.pk}/es/history/").status_code == 404  # no Spanish translation yet


# --- Creating and writing -------------------------------------------------------------------------


def test_creating_an_item_leads_to_writing_its_first_language(world, client_for):
    # given A's information officer
    officer = world.user("a", "information_officer")
    since = last_audit_id()
    # when they create a procedure written first in Spanish
    response = client_for(officer).post(
        f"{ITEMS}new/",
        {
            "key": "Pedir-Asilo",
            "kind": "procedure",
            "sensitivity": "protection_critical",
            "source_language": "es",
        },
    )
    # then the item exists, kept by A, and the page to write it in Spanish follows
    item = ContentItem.objects.get(key="pedir-asilo")
    assert (item.owner, item.kind, item.sensitivity, item.source_language) == (
        world.a.organisation,
        "procedure",
        "protection_critical",
        "es",
    )
    assert response["Location"] == f"{ITEMS}{item.pk}/es/"
    assert [(e.action, e.actor_id) for e in new_entries(since)] == [(AuditAction.CREATE, officer.pk)]


def test_item_errors_name_their_field_and_write_nothing(world, client_for, make_item):
    # given an existing key
    make_item("asylum")
    client = client_for(world.user("a", "administrator"))
    before = content_state()
    # when the key is taken, and when an alert has no severity or ends before it starts
    taken = client.post(
        f"{ITEMS}new/", {"key": "asylum", "kind": "rights", "sensitivity": "public", "source_language": "en"}
    )
    no_severity = client.post(
        f"{ITEMS}new/", {"key": "flood", "kind": "alert", "sensitivity": "public", "source_language": "en"}
    )
    backwards = client.post(
        f"{ITEMS}new/",
        {
            "key": "flood",
            "kind": "alert",
            "severity": "danger",
            "sensitivity": "public",
            "source_language": "en",
            "valid_from": "2025-03-02T10:00",
            "valid_to": "2025-03-01T10:00",
        },
    )
    # then each error names its field
    assert [r.status_code for r in (taken, no_severity, backwards)] == [400, 400, 400]
    assert errors(taken.context["form"]) == {"key": ["This key is taken; choose another."]}
    assert errors(no_severity.context["form"]) == {"severity": ["An alert needs a severity."]}
    assert errors(backwards.context["form"]) == {
        "valid_to": ["The end of validity must come after its start."]
    }
    assert content_state() == before


def test_writing_a_translation_saves_a_draft_with_numbered_steps(world, client_for, make_item):
    # given an item of A
    item = make_item("asylum", kind="procedure")
    officer = world.user("a", "information_officer")
    client = client_for(officer)
    # when the officer writes it in English
    response = client.post(f"{ITEMS}{item.pk}/en/", {**words(), "save": ""})
    # then a draft is stored, the steps one per line without blanks
    assert response["Location"] == f"{ITEMS}{item.pk}/"
    translation = ContentTranslation.objects.get(item=item, language="en")
    assert (translation.status, translation.title, translation.steps, translation.duration) == (
        TranslationStatus.DRAFT,
        "How to ask for asylum",
        ["Go to the office", "Fill in the form", "Keep your receipt"],
        "45 working days",
    )
    # and the edit page shows the steps one per line again
    form = client.get(f"{ITEMS}{item.pk}/en/").context["form"]
    assert form.initial["steps"] == "Go to the office\nFill in the form\nKeep your receipt"


def test_save_and_submit_sends_the_translation_for_review(world, client_for, make_item):
    # given
    item = make_item("asylum")
    client = client_for(world.user("a", "information_officer"))
    # when the officer saves and submits in one go
    client.post(f"{ITEMS}{item.pk}/en/", {**words(), "submit": ""})
    # then the translation waits for review
    assert ContentTranslation.objects.get(item=item, language="en").status == TranslationStatus.IN_REVIEW


def test_a_translation_without_a_title_is_refused(world, client_for, make_item):
    # given
    item = make_item("asylum")
    client = client_for(world.user("a", "information_officer"))
    before = content_state()
    # when the title is blank
    response = client.post(f"{ITEMS}{item.pk}/en/", words(title=""))
    # then
    assert response.status_code == 400
    assert errors(response.context["form"]) == {"title": ["This field is required."]}
    assert content_state() == before


def test_submitting_unchanged_words_in_review_changes_nothing(world, client_for, make_item, author):
    # given a translation already in review
    item = make_item("asylum")
    translation = in_review(
        item, "en", author, **{k: v for k, v in words().items() if k != "steps"}, steps=[]
    )
    client = client_for(author)
    before = content_state()
    # when the same words are saved and submitted again
    response = client.post(f"{ITEMS}{item.pk}/en/", {**words(steps=""), "submit": ""})
    # then the refusal is a form error and nothing changed
    assert response.status_code == 400
    assert errors(response.context["form"]) == {"__all__": ["Only a draft can be sent for review."]}
    assert content_state() == before
    assert translation.status == TranslationStatus.IN_REVIEW


def test_a_translation_shows_the_source_and_its_outdated_state(world, client_for, make_item, publish_text):
    # given English (source) and Spanish published, then a changed English published
    item = make_item("asylum")
    publish_text(item, "en", title="Asylum", body="Old text")
    publish_text(item, "es", title="Asilo", body="Texto")
    client = client_for(world.user("a", "administrator"))
    services.save_translation(item, language="en", by=world.user("a", "information_officer"), body="New text")
    # (while the new English is a draft, the Spanish is not outdated)
    assert "Outdated: the source text changed" not in client.get(f"{ITEMS}{item.pk}/es/").content.decode()
    publish_text(item, "en", title="Asylum", body="New text")
    # when the Spanish edit page and the outdated list are opened
    page = client.get(f"{ITEMS}{item.pk}/es/")
    outdated = list(client.get(f"{ITEMS}outdated/").context["translations"])
    # then the page shows the new source words and says the translation is outdated
    assert page.context["source"].body == "New text"
    assert "Outdated: the source text changed" in page.content.decode()
    assert [(t.item.key, t.language) for t in outdated] == [("asylum", "es")]


# --- Review and publication -----------------------------------------------------------------------


def test_a_reviewer_publishes_from_the_queue(world, client_for, make_item, author, reviewer):
    # given a translation in review by the officer
    item = make_item("asylum")
    translation = in_review(item, "en", author, title="Asylum")
    client = client_for(reviewer)
    assert list(client.get(f"{ITEMS}review/").context["translations"]) == [translation]
    since = last_audit_id()
    # when the administrator publishes it
    response = client.post(f"{ITEMS}{item.pk}/en/publish/")
    # then it is published, audited, and the queue is empty
    assert response["Location"] == f"{ITEMS}review/"
    translation.refresh_from_db()
    assert (translation.status, translation.reviewed_by, translation.published_content["title"]) == (
        TranslationStatus.PUBLISHED,
        reviewer,
        "Asylum",
    )
    assert [(e.action, e.actor_id, e.detail) for e in new_entries(since)] == [
        (AuditAction.UPDATE, reviewer.pk, {"status": "published"})
    ]
    assert list(client.get(f"{ITEMS}review/").context["translations"]) == []


def test_the_author_cannot_publish_protection_critical_content(world, client_for, make_item, author):
    # given a protection-critical item in review, written by the officer
    item = make_item("trafficking", sensitivity="protection_critical")
    in_review(item, "en", author)
    before = content_state()
    # when the officer tries to publish it
    response = client_for(author).post(f"{ITEMS}{item.pk}/en/publish/")
    # then the review page says why, and nothing changed
    assert response.status_code == 400
    assert response.context["errors"] == [
        "Protection-critical content needs a reviewer other than its author."
    ]
    assert content_state() == before


def test_publishing_a_draft_is_refused(world, client_for, make_item, author):
    # given a draft
    item = make_item("asylum")
    services.save_translation(item, language="en", by=author, title="Asylum")
    before = content_state()
    # when the administrator tries to publish it
    response = client_for(world.user("a", "administrator")).post(f"{ITEMS}{item.pk}/en/publish/")
    # then
    assert response.status_code == 400
    assert response.context["errors"] == ["Only a translation in review can be published."]
    assert content_state() == before


def test_sending_back_needs_a_note(world, client_for, make_item, author, reviewer):
    # given a translation in review
    item = make_item("asylum")
    translation = in_review(item, "en", author)
    client = client_for(reviewer)
    before = content_state()
    # when it is sent back without a note
    refused = client.post(f"{ITEMS}{item.pk}/en/send-back/", {"note": "   "})
    # then the note field says so and nothing changed
    assert refused.status_code == 400
    assert errors(refused.context["send_back_form"]) == {"note": ["This field is required."]}
    assert content_state() == before
    # when it is sent back with a note
    done = client.post(f"{ITEMS}{item.pk}/en/send-back/", {"note": "Add the fees."})
    # then it is a draft again, and the note is in its history
    assert done["Location"] == f"{ITEMS}review/"
    translation.refresh_from_db()
    assert translation.status == TranslationStatus.DRAFT
    assert translation.history.first().note == "Add the fees."
    history = client.get(f"{ITEMS}{item.pk}/en/history/")
    assert [r.action for r in history.context["page"]] == ["sent_back", "submitted", "created"]
    assert "Add the fees." in history.content.decode()


def test_submit_and_archive_buttons(world, client_for, make_item, author):
    # given a draft
    item = make_item("asylum")
    translation = services.save_translation(item, language="en", by=author, title="Asylum")
    client = client_for(author)
    # when it is submitted from the item page, then archived
    submitted = client.post(f"{ITEMS}{item.pk}/en/submit/")
    status_after_submit = ContentTranslation.objects.get(pk=translation.pk).status
    archived = client.post(f"{ITEMS}{item.pk}/en/archive/")
    again = client.post(f"{ITEMS}{item.pk}/en/archive/")
    # then each step is stored; archiving twice is refused with a reason
    assert [submitted.status_code, archived.status_code, again.status_code] == [302, 302, 400]
    assert status_after_submit == TranslationStatus.IN_REVIEW
    assert ContentTranslation.objects.get(pk=translation.pk).status == TranslationStatus.ARCHIVED
    assert again.context["errors"] == ["This translation is already archived."]


def test_workflow_steps_accept_only_post(world, client_for, make_item, author):
    item = make_item("asylum")
    in_review(item, "en", author)
    client = client_for(author)
    for step in ("submit", "publish", "send-back", "archive"):
        assert client.get(f"{ITEMS}{item.pk}/en/{step}/").status_code == 405
    assert client.get(f"{ITEMS}{item.pk}/verify/").status_code == 405


# --- Stale items ----------------------------------------------------------------------------------


def test_stale_items_are_listed_until_verified(world, client_for, make_item):
    # given an item never verified and one verified long ago, one verified today
    never = make_item("never")
    long_ago = make_item("long-ago")
    ContentItem.objects.filter(pk=long_ago.pk).update(
        last_verified_at=timezone.now() - datetime.timedelta(days=365)
    )
    today = make_item("today")
    ContentItem.objects.filter(pk=today.pk).update(last_verified_at=timezone.now())
    officer = world.user("a", "information_officer")
    client = client_for(officer)
    assert [i.key for i in client.get(f"{ITEMS}stale/").context["items"]] == ["never", "long-ago"]
    # when the officer marks one verified
    response = client.post(f"{ITEMS}{never.pk}/verify/")
    # then it leaves the list, verified by them
    assert response["Location"] == f"{ITEMS}{never.pk}/"
    never.refresh_from_db()
    assert never.verified_by == officer
    assert [i.key for i in client.get(f"{ITEMS}stale/").context["items"]] == ["long-ago"]


# --- The list -------------------------------------------------------------------------------------


def test_the_list_shows_each_languages_status(world, client_for, make_item, author, publish_text):
    # given an item published in English, in review in Spanish, missing in French and Arabic
    item = make_item("asylum")
    publish_text(item, "en", title="Asylum")
    in_review(item, "es", author)
    # when the list opens
    response = client_for(world.user("a", "administrator")).get(ITEMS)
    # then each language has its state
    [row] = response.context["rows"]
    assert [(e["code"], e["translation"].status if e["translation"] else None) for e in row["languages"]] == [
        ("en", "published"),
        ("es", "in_review"),
        ("fr", None),
        ("ar", None),
    ]
    page = response.content.decode()
    assert "1 translation waits for review." in page


def test_the_list_filters_by_kind_and_sensitivity(world, client_for, make_item):
    make_item("asylum", kind="procedure")
    make_item("rights-at-work", kind="rights", sensitivity="sensitive")
    client = client_for(world.user("a", "administrator"))
    assert [r["item"].key for r in client.get(f"{ITEMS}?kind=procedure").context["rows"]] == ["asylum"]
    assert [r["item"].key for r in client.get(f"{ITEMS}?sensitivity=sensitive").context["rows"]] == [
        "rights-at-work"
    ]
    assert [r["item"].key for r in client.get(f"{ITEMS}?q=work").context["rows"]] == ["rights-at-work"]


def test_the_list_uses_the_same_number_of_queries_for_many_items(world, client_for, make_item, author):
    # given two items with translations
    client = client_for(world.user("a", "administrator"))
    for n in range(2):
        services.save_translation(make_item(f"item-{n}"), language="en", by=author, title="x")
    client.get(ITEMS)
    with CaptureQueriesContext(connection) as few:
        client.get(ITEMS)
    # when there are twenty more
    for n in range(2, 22):
        item = make_item(f"item-{n}")
        services.save_translation(item, language="en", by=author, title="x")
        services.save_translation(item, language="ar", by=author, title="x")
    with CaptureQueriesContext(connection) as many:
        response = client.get(ITEMS)
    # then the list costs the same number of queries
    assert len(response.context["rows"]) == 22
    assert len(many) == len(few)
