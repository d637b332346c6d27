"""The hub API: published articles and current alerts (language fallback, conditional GET), and the staff
endpoints that write, review and publish content. Who may call what is in the authorisation matrix."""

from __future__ import annotations

import datetime
import json

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import http_date

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.directory.models import ServiceCategory
from ventanilla.hub import services
from ventanilla.hub.models import (
    ContentItem,
    ContentRevision,
    ContentTranslation,
    Sensitivity,
)
from ventanilla.testing.factories import AreaFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2025, 3, 3, 16, 0, tzinfo=datetime.UTC)
DAY = datetime.timedelta(days=1)
ARTICLES = "/api/v1/articles/"
ALERTS = "/api/v1/alerts/"
ITEMS = "/api/v1/content-items/"


@pytest.fixture(autouse=True)
def fresh_throttle():
    cache.clear()


@pytest.fixture
def frozen(monkeypatch):
    clock = {"now": NOW}
    monkeypatch.setattr(timezone, "now", lambda: clock["now"])
    return clock


@pytest.fixture
def content(frozen, make_item, publish_text, author):
    """Published articles and alerts, and items the public must never see."""
    asylum = make_item("asylum", kind="procedure")
    asylum.categories.set(ServiceCategory.objects.filter(code="legal"))
    asylum.areas.set([AreaFactory(pcode="MX07")])
    publish_text(
        asylum,
        "en",
        title="How to ask for asylum",
        summary="Ask at any office.",
        steps=["Go to the office.", "Fill in the form."],
        documents="Any ID",
        fees="Free",
        where="COMAR",
        duration="45 days",
    )
    publish_text(asylum, "es", title="Cómo pedir asilo", summary="Pregunte en cualquier oficina.")
    work = make_item("rights-at-work", kind="rights")
    publish_text(work, "en", title="Your rights at work")
    faq = make_item("faq-id", kind="faq")
    publish_text(faq, "es", title="¿Necesito papeles?")
    draft = make_item("draft-only", kind="rights")
    services.save_translation(draft, language="en", by=author, title="Not yet")
    secret = make_item("safe-houses", kind="rights", sensitivity=Sensitivity.SENSITIVE)
    publish_text(secret, "en", title="Safe houses")
    storm = make_item("storm", kind="alert", severity="danger", valid_from=NOW - DAY, valid_to=NOW + DAY)
    publish_text(storm, "en", title="Storm on the coast")
    publish_text(storm, "ar", title="عاصفة على الساحل")
    closure = make_item("bridge-closed", kind="alert", severity="warning", valid_from=NOW - 2 * DAY)
    publish_text(closure, "en", title="Bridge closed")
    expired = make_item("old-flood", kind="alert", severity="info", valid_to=NOW - DAY)
    publish_text(expired, "en", title="Old flood")
    future = make_item("next-week", kind="alert", severity="info", valid_from=NOW + 7 * DAY)
    publish_text(future, "en", title="Next week")
    return {"asylum": asylum, "work": work, "faq": faq, "draft": draft, "secret": secret, "storm": storm}


def keys(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["key"] for row in response.json()["results"]]


# --- Articles -------------------------------------------------------------------------------------


def test_articles_list_published_public_articles_only_in_short(content):
    # when anyone lists the articles
    response = Client().get(ARTICLES, HTTP_ACCEPT_LANGUAGE="en")
    # then drafts, sensitive items and alerts are not there; FAQs, procedures and rights are
    assert keys(response) == ["faq-id", "asylum", "rights-at-work"]
    assert response.json()["results"][1] == {
        "key": "asylum",
        "kind": "procedure",
        "categories": ["legal"],
        "areas": ["MX07"],
        "languages": ["en", "es"],
        "last_verified_at": "2025-03-03T16:00:00Z",
        "published_at": "2025-03-03T16:00:00Z",
        "text_language": "en",
        "text_is_fallback": False,
        "text_is_outdated": False,
        "title": "How to ask for asylum",
        "summary": "Ask at any office.",
    }
    assert response["Cache-Control"] == "public, max-age=60"


def test_one_article_has_every_step(content):
    response = Client().get(f"{ARTICLES}asylum/?lang=en")
    body = response.json()
    assert {name: body[name] for name in ("title", "steps", "documents", "fees", "where", "duration")} == {
        "title": "How to ask for asylum",
        "steps": ["Go to the office.", "Fill in the form."],
        "documents": "Any ID",
        "fees": "Free",
        "where": "COMAR",
        "duration": "45 days",
    }


@pytest.mark.parametrize("key", ["draft-only", "safe-houses", "storm", "no-such-thing"])
def test_drafts_sensitive_items_and_alerts_are_not_articles(content, key):
    response = Client().get(f"{ARTICLES}{key}/")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=procedure", ["asylum"]),
        ("kind=rights", ["rights-at-work"]),
        ("category=legal", ["asylum"]),
        ("category=shelter", []),
    ],
)
def test_article_filters(content, query, expected):
    assert keys(Client().get(f"{ARTICLES}?{query}")) == expected


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("kind=alert", "kind"),
        ("kind=poems", "kind"),
        ("category=spaceships", "category"),
        ("lang=de", "lang"),
    ],
)
def test_a_bad_article_filter_is_a_400_naming_it(content, query, field):
    response = Client().get(f"{ARTICLES}?{query}")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == [field]


def texts(response) -> dict[str, tuple[str, str, bool]]:
    return {
        row["key"]: (row["title"], row["text_language"], row["text_is_fallback"])
        for row in response.json()["results"]
    }


def test_words_in_the_readers_language_or_a_fallback_said_so(content):
    spanish = Client().get(ARTICLES, HTTP_ACCEPT_LANGUAGE="es")
    french = Client().get(f"{ARTICLES}?lang=fr")
    assert texts(spanish) == {
        "asylum": ("Cómo pedir asilo", "es", False),
        "rights-at-work": ("Your rights at work", "en", True),
        "faq-id": ("¿Necesito papeles?", "es", False),
    }
    # an item written in Spanish only falls back to Spanish, its only language
    assert texts(french)["faq-id"] == ("¿Necesito papeles?", "es", True)


def test_an_edited_source_keeps_the_published_words_and_marks_translations_outdated_once_published(
    content, author, reviewer
):
    # given the English source is being rewritten (a draft, not yet published)
    draft = services.save_translation(
        content["asylum"], language="en", by=author, title="Asylum: the new way"
    )
    # when readers ask in English and in Spanish
    english = Client().get(f"{ARTICLES}asylum/?lang=en").json()
    spanish = Client().get(f"{ARTICLES}asylum/?lang=es").json()
    # then the published English stays online, and the Spanish still matches it
    assert (english["title"], english["text_is_outdated"]) == ("How to ask for asylum", False)
    assert (spanish["title"], spanish["text_is_outdated"]) == ("Cómo pedir asilo", False)
    # when the new English is published, the Spanish says it is behind its source
    services.publish(services.submit_for_review(draft, by=author), by=reviewer)
    english = Client().get(f"{ARTICLES}asylum/?lang=en").json()
    spanish = Client().get(f"{ARTICLES}asylum/?lang=es").json()
    assert (english["title"], english["text_is_outdated"]) == ("Asylum: the new way", False)
    assert (spanish["title"], spanish["text_is_outdated"]) == ("Cómo pedir asilo", True)


# --- Alerts ---------------------------------------------------------------------------------------


def test_alerts_are_the_current_ones_newest_first(content):
    # when anyone asks for alerts, in Arabic
    response = Client().get(ALERTS, HTTP_ACCEPT_LANGUAGE="ar")
    # then only alerts valid now are listed, newest first, in Arabic where it exists
    assert keys(response) == ["storm", "bridge-closed"]
    storm = response.json()["results"][0]
    assert (storm["title"], storm["text_language"], storm["text_is_fallback"]) == (
        "عاصفة على الساحل",
        "ar",
        False,
    )
    assert (storm["severity"], storm["valid_from"], storm["valid_to"]) == (
        "danger",
        "2025-03-02T16:00:00Z",
        "2025-03-04T16:00:00Z",
    )
    assert response.json()["results"][1]["text_is_fallback"] is True


@pytest.mark.parametrize(
    ("key", "status_code"), [("storm", 200), ("old-flood", 404), ("next-week", 404), ("asylum", 404)]
)
def test_one_alert_while_it_is_current(content, key, status_code):
    assert Client().get(f"{ALERTS}{key}/").status_code == status_code


def test_an_alert_leaves_the_list_when_it_ends_and_last_modified_says_when(content, frozen):
    client = Client()
    first = client.get(ALERTS)
    # when the storm alert ends (a day later) and the client asks again with its copy's date
    frozen["now"] = NOW + DAY + datetime.timedelta(minutes=5)
    again = client.get(ALERTS, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    # then the copy is stale: the list changed when the alert ended, and says so
    assert keys(again) == ["bridge-closed"]
    assert again["Last-Modified"] == http_date((NOW + DAY).timestamp())


# --- Conditional GET ------------------------------------------------------------------------------


def test_articles_answer_304_until_something_is_published(content, frozen, author, reviewer):
    client = Client()
    first = client.get(ARTICLES)
    assert first["Last-Modified"] == http_date(NOW.timestamp())
    assert client.get(ARTICLES, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert client.get(ARTICLES, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304
    assert client.get(f"{ARTICLES}?lang=es", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    # when, an hour later, the Spanish words of "rights at work" are published
    frozen["now"] = NOW + datetime.timedelta(hours=1)
    translation = services.save_translation(content["work"], language="es", by=author, title="Sus derechos")
    services.publish(services.submit_for_review(translation, by=author), by=reviewer)
    # then the list in Spanish changed, and the English one too (it lists the languages)
    response = client.get(ARTICLES, HTTP_IF_NONE_MATCH=first["ETag"])
    assert response.status_code == 200
    assert response["Last-Modified"] == http_date(frozen["now"].timestamp())
    assert response.json()["results"][2]["languages"] == ["en", "es"]


def test_one_article_answers_304(content):
    client = Client()
    first = client.get(f"{ARTICLES}asylum/")
    again = client.get(f"{ARTICLES}asylum/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert (again.status_code, again.content, again["ETag"]) == (304, b"", first["ETag"])


def test_articles_cost_the_same_queries_for_3_or_25(
    content, make_item, publish_text, django_assert_max_num_queries
):
    client = Client()
    client.get(ARTICLES)
    with CaptureQueriesContext(connection) as captured:
        client.get(ARTICLES)
    for n in range(22):
        item = make_item(f"extra-{n:02d}", kind="faq")
        item.categories.set(ServiceCategory.objects.filter(code__in=["legal", "food"]))
        publish_text(item, "en")
        publish_text(item, "es")
    with django_assert_max_num_queries(len(captured.captured_queries)):
        response = client.get(ARTICLES)
    assert len(keys(response)) == 25


def test_alerts_cost_the_same_queries_for_2_or_24(
    content, make_item, publish_text, django_assert_max_num_queries
):
    client = Client()
    client.get(ALERTS)
    with CaptureQueriesContext(connection) as captured:
        client.get(ALERTS)
    for n in range(22):
        publish_text(make_item(f"alert-{n:02d}", kind="alert", severity="info"), "en")
    with django_assert_max_num_queries(len(captured.captured_queries)):
        response = client.get(ALERTS)
    assert len(keys(response)) == 24


# --- Staff: items ---------------------------------------------------------------------------------


def post(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def put(client, url, body):
    return client.put(url, json.dumps(body), content_type="application/json")


def item_body(world, **changes):
    return {"owner": world.a.organisation.pk, "key": "recruiters", "kind": "procedure", **changes}


def test_a_content_manager_creates_an_item(world, client_for, author):
    response = post(client_for(author), ITEMS, item_body(world, source_language="es"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert {
        name: body[name]
        for name in ("key", "kind", "owner", "sensitivity", "source_language", "translations")
    } == {
        "key": "recruiters",
        "kind": "procedure",
        "owner": world.a.organisation.pk,
        "sensitivity": "public",
        "source_language": "es",
        "translations": [],
    }
    entry = AuditEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.actor_id, entry.object_type) == (
        AuditAction.CREATE,
        author.pk,
        "hub.contentitem",
    )


def test_only_the_items_one_manages_are_listed_drafts_included(world, client_for, content, make_item):
    make_item("b-item", org="b")
    listed = {
        who: [row["key"] for row in client_for(world.user(org, role)).get(ITEMS).json()["results"]]
        for who, (org, role) in {
            "a officer": ("a", "information_officer"),
            "a caseworker": ("a", "caseworker"),
            "b administrator": ("b", "administrator"),
        }.items()
    }
    assert listed == {
        "a officer": [
            "bridge-closed",
            "next-week",
            "old-flood",
            "storm",
            "faq-id",
            "asylum",
            "draft-only",
            "rights-at-work",
            "safe-houses",
        ],
        "a caseworker": [],
        "b administrator": ["b-item"],
    }


def items_state() -> tuple:
    return (
        list(ContentItem.objects.order_by("pk").values()),
        list(ContentTranslation.objects.order_by("pk").values()),
        ContentRevision.objects.count(),
        AuditEntry.objects.count(),
    )


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"key": "taken"}, {"key": ["Content item with this Key already exists."]}),
        ({"key": "not a slug!"}, None),
        ({"kind": "poem"}, None),
        ({"kind": "alert"}, {"severity": ["An alert needs a severity."]}),
        (
            {
                "kind": "alert",
                "severity": "info",
                "valid_from": "2025-03-05T00:00:00Z",
                "valid_to": "2025-03-04T00:00:00Z",
            },
            {"valid_to": ["The end of validity must come after its start."]},
        ),
        ({"source_language": "de"}, None),
        ({"owner": "b"}, {"owner": ["You do not manage content for this organisation."]}),
    ],
)
def test_a_bad_item_is_refused_naming_the_field(world, client_for, make_item, changes, fields):
    make_item("taken")
    if changes.get("owner") == "b":
        changes = {**changes, "owner": world.b.organisation.pk}
    before = items_state()
    response = post(client_for(world.user("a", "administrator")), ITEMS, item_body(world, **changes))
    assert response.status_code == 400
    actual = response.json()["error"]["fields"]
    assert actual == fields if fields is not None else list(actual) == list(changes)
    assert items_state() == before


# --- Staff: translations and the workflow ---------------------------------------------------------


def translation_url(key: str, language: str, step: str = "") -> str:
    return f"{ITEMS}{key}/translations/{language}/{step + '/' if step else ''}"


def test_writing_a_translation_makes_a_draft_and_rewriting_a_new_revision(
    world, client_for, author, make_item
):
    make_item("recruiters", kind="procedure")
    client = client_for(author)
    words = {"title": "Check a recruiter", "steps": ["Ask for the licence.", "Call the ministry."]}
    # when the author writes the English words, then rewrites them
    created = put(client, translation_url("recruiters", "en"), words)
    edited = put(client, translation_url("recruiters", "en"), {**words, "summary": "Before you pay."})
    read = client.get(translation_url("recruiters", "en"))
    # then the first is created, the second is a new revision, both drafts
    assert (created.status_code, created.json()["revision"], created.json()["status"]) == (201, 1, "draft")
    assert (edited.status_code, edited.json()["revision"], edited.json()["status"]) == (200, 2, "draft")
    assert {name: read.json()[name] for name in ("title", "summary", "steps", "body")} == {
        "title": "Check a recruiter",
        "summary": "Before you pay.",
        "steps": ["Ask for the licence.", "Call the ministry."],
        "body": "",
    }
    # and nothing is public yet
    assert Client().get(f"{ARTICLES}recruiters/").status_code == 404


@pytest.mark.parametrize(
    ("language", "body", "fields"),
    [
        ("de", {"title": "Anwerber"}, {"language": ["Ventanilla does not offer the language de."]}),
        ("en", {"summary": "No title"}, {"title": ["This field is required."]}),
        (
            "en",
            {"title": "x", "steps": "one step"},
            {"steps": ['Expected a list of items but got type "str".']},
        ),
    ],
)
def test_a_bad_translation_is_refused_naming_the_field(
    world, client_for, author, make_item, language, body, fields
):
    make_item("recruiters", kind="procedure")
    before = items_state()
    response = put(client_for(author), translation_url("recruiters", language), body)
    assert (response.status_code, response.json()["error"]["fields"]) == (400, fields)
    assert items_state() == before


def test_submit_publish_and_the_public_sees_it(world, client_for, author, reviewer, make_item):
    make_item("recruiters", kind="procedure")
    put(client_for(author), translation_url("recruiters", "en"), {"title": "Check a recruiter"})
    # when the author submits and the reviewer publishes
    submitted = post(client_for(author), translation_url("recruiters", "en", "submit"))
    published = post(client_for(reviewer), translation_url("recruiters", "en", "publish"))
    # then the steps show, and the public reads the article
    assert (submitted.status_code, submitted.json()["status"]) == (200, "in_review")
    assert (published.status_code, published.json()["status"]) == (200, "published")
    assert Client().get(f"{ARTICLES}recruiters/").json()["title"] == "Check a recruiter"


def test_a_reviewer_sends_back_with_a_note(world, client_for, author, reviewer, make_item):
    make_item("recruiters", kind="procedure")
    put(client_for(author), translation_url("recruiters", "en"), {"title": "Check a recruiter"})
    post(client_for(author), translation_url("recruiters", "en", "submit"))
    # when the reviewer sends it back without a note, then with one
    without = post(client_for(reviewer), translation_url("recruiters", "en", "send-back"))
    sent_back = post(
        client_for(reviewer), translation_url("recruiters", "en", "send-back"), {"note": "Add the fee."}
    )
    # then a note is required, and the translation is a draft again with the note in its history
    assert (without.status_code, without.json()["error"]["fields"]) == (
        400,
        {"note": ["This field is required."]},
    )
    assert (sent_back.status_code, sent_back.json()["status"]) == (200, "draft")
    assert ContentRevision.objects.filter(action="sent_back").get().note == "Add the fee."


def test_a_step_out_of_order_is_a_409_and_changes_nothing(world, client_for, author, make_item):
    make_item("recruiters", kind="procedure")
    put(client_for(author), translation_url("recruiters", "en"), {"title": "Check a recruiter"})
    before = items_state()
    response = post(client_for(author), translation_url("recruiters", "en", "publish"))
    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "conflict",
        "message": "Only a translation in review can be published.",
        "fields": {},
    }
    assert items_state() == before


def test_protection_critical_content_needs_a_second_person(world, client_for, author, reviewer, make_item):
    make_item("trafficking", kind="rights", sensitivity=Sensitivity.PROTECTION_CRITICAL)
    put(
        client_for(author), translation_url("trafficking", "en"), {"title": "If someone keeps your documents"}
    )
    post(client_for(author), translation_url("trafficking", "en", "submit"))
    own = post(client_for(author), translation_url("trafficking", "en", "publish"))
    other = post(client_for(reviewer), translation_url("trafficking", "en", "publish"))
    assert (own.status_code, own.json()["error"]["message"]) == (
        409,
        "Protection-critical content needs a reviewer other than its author.",
    )
    assert other.status_code == 200


def test_a_step_on_a_language_never_written_is_a_404(world, client_for, author, make_item):
    make_item("recruiters", kind="procedure")
    assert post(client_for(author), translation_url("recruiters", "fr", "submit")).status_code == 404
    assert client_for(author).get(translation_url("recruiters", "fr")).status_code == 404


def test_verify_an_item(world, client_for, author, make_item, frozen):
    make_item("recruiters", kind="procedure")
    response = post(client_for(author), f"{ITEMS}recruiters/verify/")
    assert (response.status_code, response.json()["last_verified_at"], response.json()["is_stale"]) == (
        200,
        "2025-03-03T16:00:00Z",
        False,
    )
    assert ContentItem.objects.get(key="recruiters").verified_by == author


def test_another_organisations_item_is_not_there_for_its_managers(world, client_for, make_item):
    make_item("recruiters", kind="procedure")
    client = client_for(world.user("b", "administrator"))
    before = items_state()
    responses = [
        client.get(f"{ITEMS}recruiters/").status_code,
        put(client, translation_url("recruiters", "en"), {"title": "Taken over"}).status_code,
        post(client, f"{ITEMS}recruiters/verify/").status_code,
    ]
    assert responses == [404, 404, 404]
    assert items_state() == before


def test_content_items_list_costs_the_same_queries_for_1_or_23(
    world, client_for, author, make_item, django_assert_max_num_queries
):
    client = client_for(author)

    def add(n: int) -> None:
        item = make_item(f"item-{n:02d}")
        services.save_translation(item, language="en", by=author, title=f"Item {n}")
        services.save_translation(item, language="es", by=author, title=f"Artículo {n}")

    add(0)
    client.get(ITEMS)
    with CaptureQueriesContext(connection) as captured:
        client.get(ITEMS)
    for n in range(1, 23):
        add(n)
    with django_assert_max_num_queries(len(captured.captured_queries)):
        rows = client.get(ITEMS).json()["results"]
    assert [[t["language"] for t in row["translations"]] for row in rows] == [["en", "es"]] * 23
