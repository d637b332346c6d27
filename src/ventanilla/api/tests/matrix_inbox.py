"""Matrix rows for the inbox: conversations, their changes, reply templates.

Objects: `a_conversation` came to A's generic JSON channel; `a_complaint` is a sensitive complaint of
A, which no principal of the matrix may see (none is a designated focal point: the designated case is
proven in messaging/tests/test_inbox.py). Message handlers of A are its site manager and information
officer; B's administrator handles no messages anywhere, so it is refused (403) before any lookup.
Each allowed write is checked and put back without the services, so the next principal finds the
same world and the reset leaves no audit entries.
"""

from __future__ import annotations

from typing import Any

from ventanilla.api.tests.matrix import LOGIN, Redirect, Row, everyone, expect, user_of
from ventanilla.core.models import AuditAction
from ventanilla.testing.world import World

READ, CREATE, UPDATE = AuditAction.READ, AuditAction.CREATE, AuditAction.UPDATE
INBOX = "/en/staff/inbox/"
CONVERSATION_PAGE = Redirect(r"/en/staff/inbox/\d+/")


def handlers(outcome: object, *, caseworker: object = 404) -> dict[str, object]:
    """A's message handlers get `outcome`; A's caseworker opens the inbox but finds only what is handed
    to them (`caseworker`: a 404 for a conversation that is not); everyone else is refused."""
    return expect(
        anonymous=LOGIN,
        a=403,
        site_manager=outcome,
        information_officer=outcome,
        caseworker=caseworker,
        other_organisation=403,
        outsider=403,
    )


def templates_for_handlers(outcome: object) -> dict[str, object]:
    """Reply templates: A's message handlers only (a caseworker too is refused)."""
    return handlers(outcome, caseworker=403)


def _cached(world: World, key: str, make: Any) -> Any:
    value = getattr(world, f"_matrix_inbox_{key}", None)
    if value is None:
        value = make()
        setattr(world, f"_matrix_inbox_{key}", value)
    return value


def a_channel(world: World) -> Any:
    from ventanilla.testing.messaging import gateway

    return _cached(world, "channel", lambda: gateway(world))


def a_conversation(world: World) -> Any:
    from ventanilla.messaging import ingest

    def make() -> Any:
        message = ingest.record_inbound(a_channel(world), sender="+529625550101", text="¿Dónde hay albergue?")
        return message.conversation

    return _cached(world, "conversation", make)


def a_complaint(world: World) -> Any:
    from ventanilla.messaging import ingest
    from ventanilla.messaging.models_inbox import Conversation

    def make() -> Any:
        message = ingest.record_inbound(a_channel(world), sender="+529625550102", text="El guardia me cobró")
        Conversation.objects.filter(pk=message.conversation_id).update(category="sensitive")
        return message.conversation

    return _cached(world, "complaint", make)


def a_template(world: World) -> Any:
    from ventanilla.messaging.models_inbox import ReplyTemplate

    return _cached(
        world,
        "template",
        lambda: ReplyTemplate.objects.create(
            organisation=world.a.organisation, name="Albergue", language="es", text="Casa del Migrante"
        ),
    )


def a_person(world: World) -> Any:
    """A person registered at A's first site (where A's site manager works)."""
    from ventanilla.testing.referrals import register_person

    return _cached(world, "person", lambda: register_person(world))


def a_handed_conversation(world: World) -> Any:
    """A conversation an officer of A handed to A's caseworker, to register the person."""
    from ventanilla.messaging import ingest
    from ventanilla.messaging.models_inbox import Conversation

    def make() -> Any:
        message = ingest.record_inbound(a_channel(world), sender="+529625550103", text="Necesito ayuda")
        Conversation.objects.filter(pk=message.conversation_id).update(
            assigned_to=world.user("a", "caseworker")
        )
        return message.conversation

    return _cached(world, "handed", make)


def conversation_url(world: World, rest: str = "") -> str:
    return f"{INBOX}{a_conversation(world).pk}/{rest}"


def complaint_url(world: World, rest: str = "") -> str:
    return f"{INBOX}{a_complaint(world).pk}/{rest}"


# --- what the allowed writes did, and the reset ------------------------------------------------------


def _conversation(world: World) -> Any:
    from ventanilla.messaging.models_inbox import Conversation

    return Conversation.objects.get(pk=a_conversation(world).pk)


def _reset(world: World, **fields: Any) -> None:
    from ventanilla.messaging.models_inbox import Conversation

    Conversation.objects.filter(pk=a_conversation(world).pk).update(**fields)


def triaged_then_reset(world: World, principal: str) -> None:
    conversation = _conversation(world)
    assert (conversation.category, conversation.topics, conversation.language) == (
        "question",
        ["albergue"],
        "es",
    )
    _reset(world, category="", topics=[])


def assigned_then_reset(world: World, principal: str) -> None:
    from ventanilla.messaging.models import Notice

    assert _conversation(world).assigned_to_id == world.user("a", "information_officer").pk
    _reset(world, assigned_to=None)
    Notice.objects.filter(kind="conversation_assigned").delete()


def closed_then_reopened(world: World, principal: str) -> None:
    conversation = _conversation(world)
    assert (conversation.status, conversation.closed_at is not None) == ("closed", True)
    _reset(world, status="new", closed_at=None)


def noted_then_cleared(world: World, principal: str) -> None:
    conversation = _conversation(world)
    assert conversation.notes.endswith("\nCalled back, no answer.")
    _reset(world, notes="")


def linked_then_unlinked(world: World, principal: str) -> None:
    assert _conversation(world).person_id == a_person(world).pk
    _reset(world, person=None)


def answered_then_removed(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Message

    conversation = _conversation(world)
    sent = Message.objects.get(conversation=conversation, direction="out")
    assert (sent.body, sent.status, sent.sent_by_id, conversation.status) == (
        "Casa del Migrante, calle 5.",
        "queued",
        user_of(world, principal).pk,
        "answered",
    )
    sent.delete()
    _reset(world, status="new", answered_at=None)


def template_created_then_removed(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import ReplyTemplate

    template = ReplyTemplate.objects.get(name="Horario")
    assert (template.organisation_id, template.language, template.text) == (
        world.a.organisation.pk,
        "fr",
        "Ouvert de 9h à 17h.",
    )
    template.delete()


def template_changed_then_reset(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import ReplyTemplate

    assert ReplyTemplate.objects.get(pk=a_template(world).pk).text == "Casa del Migrante, calle 5."
    ReplyTemplate.objects.filter(pk=a_template(world).pk).update(text="Casa del Migrante")


def state() -> dict[str, Any]:
    """The inbox tables, for the write matrix's check that a refused write changed nothing."""
    from ventanilla.messaging.models import Notice
    from ventanilla.messaging.models_inbox import Conversation, Message, ReplyTemplate

    return {
        model._meta.label_lower: list(model.objects.order_by("pk").values())
        for model in (Conversation, Message, ReplyTemplate, Notice)
    }


NOT_SEEN = handlers(404)

READS = [
    Row("inbox:list", "GET", lambda w: INBOX, handlers(200, caseworker=200)),
    Row("inbox:overdue", "GET", lambda w: f"{INBOX}overdue/", handlers(200, caseworker=200)),
    Row("inbox:detail", "GET", lambda w: conversation_url(w), handlers(200)),
    Row(
        "inbox:detail",
        "GET",
        lambda w: f"{INBOX}{a_handed_conversation(w).pk}/",
        handlers(200, caseworker=200),
        id="GET inbox:detail (handed to the caseworker)",
    ),
    # A sensitive complaint exists only for designated focal points: none among the principals.
    Row("inbox:detail", "GET", lambda w: complaint_url(w), NOT_SEEN, id="GET inbox:detail (sensitive)"),
    Row("inbox:triage", "GET", lambda w: conversation_url(w, "triage/"), everyone(405)),
    Row("inbox:assign", "GET", lambda w: conversation_url(w, "assign/"), everyone(405)),
    Row("inbox:status", "GET", lambda w: conversation_url(w, "status/"), everyone(405)),
    Row("inbox:add_note", "GET", lambda w: conversation_url(w, "notes/"), everyone(405)),
    Row("inbox:reply", "GET", lambda w: conversation_url(w, "reply/"), everyone(405)),
    Row("inbox:person", "GET", lambda w: conversation_url(w, "person/"), everyone(405)),
    Row("inbox:templates", "GET", lambda w: f"{INBOX}templates/", templates_for_handlers(200)),
    Row("inbox:template_create", "GET", lambda w: f"{INBOX}templates/new/", templates_for_handlers(200)),
    Row(
        "inbox:template_edit",
        "GET",
        lambda w: f"{INBOX}templates/{a_template(w).pk}/",
        templates_for_handlers(200),
    ),
]

WRITES = [
    Row(
        "inbox:triage",
        "POST",
        lambda w: conversation_url(w, "triage/"),
        handlers(CONVERSATION_PAGE),
        data=lambda w: {"category": "question", "topics": "albergue", "urgency": "normal", "language": "es"},
        effect=triaged_then_reset,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "inbox:assign",
        "POST",
        lambda w: conversation_url(w, "assign/"),
        handlers(CONVERSATION_PAGE),
        data=lambda w: {"assigned_to": w.user("a", "information_officer").pk},
        effect=assigned_then_reset,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "inbox:status",
        "POST",
        lambda w: conversation_url(w, "status/"),
        handlers(CONVERSATION_PAGE),
        data=lambda w: {"status": "closed"},
        effect=closed_then_reopened,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "inbox:person",
        "POST",
        lambda w: conversation_url(w, "person/"),
        # handling messages is not enough: linking a record needs the right to register people (and
        # a caseworker, who has it, finds only conversations handed to them)
        expect(
            anonymous=LOGIN,
            a=403,
            site_manager=CONVERSATION_PAGE,
            information_officer=403,
            caseworker=404,
            other_organisation=403,
            outsider=403,
        ),
        data=lambda w: {"person": a_person(w).reference},
        effect=linked_then_unlinked,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "inbox:add_note",
        "POST",
        lambda w: conversation_url(w, "notes/"),
        handlers(CONVERSATION_PAGE),
        data=lambda w: {"text": "Called back, no answer."},
        effect=noted_then_cleared,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "inbox:add_note",
        "POST",
        lambda w: complaint_url(w, "notes/"),
        NOT_SEEN,
        data=lambda w: {"text": "Called back, no answer."},
        id="POST inbox:add_note (sensitive)",
    ),
    Row(
        "inbox:reply",
        "POST",
        lambda w: conversation_url(w, "reply/"),
        handlers(CONVERSATION_PAGE),
        data=lambda w: {"text": "Casa del Migrante, calle 5."},
        effect=answered_then_removed,
        audit_actions=(READ, UPDATE),
    ),
    Row(
        "inbox:template_create",
        "POST",
        lambda w: f"{INBOX}templates/new/",
        templates_for_handlers(f"302 {INBOX}templates/"),
        data=lambda w: {"name": "Horario", "language": "fr", "text": "Ouvert de 9h à 17h."},
        effect=template_created_then_removed,
        audit_actions=(CREATE,),
    ),
    Row(
        "inbox:template_edit",
        "POST",
        lambda w: f"{INBOX}templates/{a_template(w).pk}/",
        templates_for_handlers(f"302 {INBOX}templates/"),
        data=lambda w: {"name": "Albergue", "language": "es", "text": "Casa del Migrante, calle 5."},
        effect=template_changed_then_reset,
        audit_actions=(UPDATE,),
    ),
]
