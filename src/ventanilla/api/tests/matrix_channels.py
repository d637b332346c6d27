"""Matrix rows for channels (pages and API), the public feedback form, calls and social media entries,
and the conversations and contacts API (added to matrix_messaging's rows).

Objects belong to organisation A: an SMS channel (generic JSON), a hotline, a social media channel and a
web form, one conversation from a contact on the SMS channel, and a sensitive complaint that only the
designated focal point (A's information officer, designated by the row's object) reads. Administrators
(manage_organisation) configure channels; message handlers (site manager, information officer) handle
conversations, contacts, calls and social media.
"""

from __future__ import annotations

import io
import time
from typing import Any

from ventanilla.api.tests.matrix import LOGIN, Redirect, Row, everyone, expect, user_of
from ventanilla.core.models import AuditAction
from ventanilla.testing.world import World

# --- expected outcomes ---------------------------------------------------------------------------------

ADMIN_PAGE = expect(anonymous=LOGIN, a=403, administrator=200, other_organisation=200, outsider=403)
ADMIN_A_OBJECT = expect(anonymous=LOGIN, a=403, administrator=200, other_organisation=404, outsider=403)
HANDLER_PAGE = expect(
    anonymous=LOGIN, a=403, site_manager=200, information_officer=200, other_organisation=403, outsider=403
)
API_HANDLERS = expect(
    anonymous=401, a=403, site_manager=200, information_officer=200, other_organisation=403, outsider=403
)
API_HANDLERS_A_OBJECT = expect(
    anonymous=401, a=404, site_manager=200, information_officer=200, other_organisation=404, outsider=404
)
API_ADMIN = expect(anonymous=401, a=403, administrator=200, other_organisation=200, outsider=403)
API_ADMIN_A_OBJECT = expect(anonymous=401, a=404, administrator=200, other_organisation=404, outsider=404)
POST_ONLY = everyone(405, anonymous=401)

# --- objects (made once per world) ---------------------------------------------------------------------


def _cached(world: World, key: str, make: Any) -> Any:
    value = getattr(world, f"_matrix_channels_{key}", None)
    if value is None:
        value = make()
        setattr(world, f"_matrix_channels_{key}", value)
    return value


def a_channel(world: World, kind: str = "generic_json") -> Any:
    from ventanilla.testing.messaging import gateway

    return _cached(world, kind, lambda: gateway(world, kind))


def a_conversation(world: World) -> Any:
    from ventanilla.messaging import ingest

    return _cached(
        world,
        "conversation",
        lambda: (
            ingest.record_inbound(
                a_channel(world), sender="+529625550101", text="¿Dónde hay un albergue?"
            ).conversation
        ),
    )


def a_sensitive_conversation(world: World) -> Any:
    """A sensitive complaint of A; A's information officer is its designated focal point."""
    from ventanilla.accounts.models import Membership
    from ventanilla.messaging import ingest

    def make() -> Any:
        Membership.objects.filter(user=world.user("a", "information_officer")).update(
            handles_sensitive_complaints=True
        )
        conversation = ingest.record_inbound(
            a_channel(world), sender="+529625550199", text="Un empleado me pidió dinero"
        ).conversation
        conversation.category = "sensitive"
        conversation.save(update_fields=["category"])
        return conversation

    return _cached(world, "sensitive", make)


def a_contact(world: World) -> Any:
    return a_conversation(world).contact


def conversation_url(world: World, rest: str = "") -> str:
    return f"/api/v1/conversations/{a_conversation(world).pk}/{rest}"


def channel_page(world: World, rest: str = "") -> str:
    return f"/en/staff/channels/{a_channel(world).pk}/{rest}"


def feedback_url(world: World) -> str:
    return f"/en/feedback/?channel={a_channel(world, 'web_form').key}"


READS = [
    # --- configuration: administrators; B's administrator sees B's channels, never A's ---------------
    Row("channels:list", "GET", lambda w: "/en/staff/channels/", ADMIN_PAGE),
    Row("channels:create", "GET", lambda w: "/en/staff/channels/new/", ADMIN_PAGE),
    Row(
        "channels:create",
        "GET",
        lambda w: "/en/staff/channels/new/?kind=whatsapp_cloud",
        {
            **ADMIN_PAGE,
            "anonymous": "302 /en/accounts/login/?next=/en/staff/channels/new/%3Fkind%3Dwhatsapp_cloud",
        },
        id="GET channels:create (WhatsApp Cloud form)",
    ),
    Row("channels:edit", "GET", lambda w: channel_page(w), ADMIN_A_OBJECT),
    Row("channels:rotate_key", "GET", lambda w: channel_page(w, "rotate-key/"), everyone(405)),
    Row("channels:focal_points", "GET", lambda w: "/en/staff/channels/focal-points/", ADMIN_PAGE),
    Row("channels:response_times", "GET", lambda w: "/en/staff/channels/response-times/", ADMIN_PAGE),
    # --- entries by message handlers -------------------------------------------------------------------
    Row("channels:call_new", "GET", lambda w: "/en/staff/channels/calls/new/", HANDLER_PAGE),
    Row("channels:social_new", "GET", lambda w: "/en/staff/channels/social/new/", HANDLER_PAGE),
    Row("channels:social_import", "GET", lambda w: "/en/staff/channels/social/import/", HANDLER_PAGE),
    # --- the public feedback form: anyone, when a web form channel exists -------------------------------
    Row("feedback", "GET", lambda w: feedback_url(w), everyone(200, anonymous=200)),
    Row(
        "feedback",
        "GET",
        lambda w: "/en/feedback/",
        everyone(404, anonymous=404),
        id="GET feedback (no web form channel)",
    ),
    Row("feedback_thanks", "GET", lambda w: "/en/feedback/thanks/", everyone(200, anonymous=200)),
    # --- API: conversations and contacts for message handlers, channels for administrators -------------
    # A's caseworker lists the conversations handed to them (none here)
    Row(
        "conversation-list",
        "GET",
        lambda w: "/api/v1/conversations/",
        expect(
            anonymous=401,
            a=403,
            site_manager=200,
            information_officer=200,
            caseworker=200,
            other_organisation=403,
            outsider=403,
        ),
    ),
    Row("conversation-detail", "GET", lambda w: conversation_url(w), API_HANDLERS_A_OBJECT),
    Row(
        "conversation-detail",
        "GET",
        lambda w: f"/api/v1/conversations/{a_sensitive_conversation(w).pk}/",
        # Only the designated focal point; the site manager handles messages but is not designated.
        expect(anonymous=401, a=404, information_officer=200, other_organisation=404, outsider=404),
        id="GET conversation-detail (sensitive complaint)",
    ),
    Row("conversation-messages", "GET", lambda w: conversation_url(w, "messages/"), API_HANDLERS_A_OBJECT),
    Row(
        "conversation-messages",
        "GET",
        lambda w: f"/api/v1/conversations/{a_sensitive_conversation(w).pk}/messages/",
        expect(anonymous=401, a=404, information_officer=200, other_organisation=404, outsider=404),
        id="GET conversation-messages (sensitive complaint)",
    ),
    Row("conversation-reply", "GET", lambda w: conversation_url(w, "reply/"), POST_ONLY),
    Row("contact-list", "GET", lambda w: "/api/v1/contacts/", API_HANDLERS),
    Row("contact-detail", "GET", lambda w: f"/api/v1/contacts/{a_contact(w).pk}/", API_HANDLERS_A_OBJECT),
    Row("contact-opt-out", "GET", lambda w: f"/api/v1/contacts/{a_contact(w).pk}/opt-out/", POST_ONLY),
    Row("channel-list", "GET", lambda w: "/api/v1/channels/", API_ADMIN),
    Row("channel-detail", "GET", lambda w: f"/api/v1/channels/{a_channel(w).pk}/", API_ADMIN_A_OBJECT),
    Row("response-times-list", "GET", lambda w: "/api/v1/response-times/", API_ADMIN),
]


# --- effects of the allowed writes (each undoes itself, so the next allowed principal can act) ---------


def _organisation_of(world: World, principal: str) -> Any:
    return world.b.organisation if principal == "other_organisation" else world.a.organisation


def channel_created_then_removed(world: World, principal: str) -> None:
    import json

    from ventanilla.messaging.models_inbox import Gateway

    gateway = Gateway.objects.get(name="Matrix SMS")
    assert (gateway.organisation, gateway.kind) == (_organisation_of(world, principal), "generic_json")
    assert json.loads(gateway.credentials) == {"secret": "a-long-shared-secret"}
    gateway.delete()


def channel_renamed_then_reset(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Gateway

    gateway = Gateway.objects.get(pk=a_channel(world).pk)
    assert gateway.name == "SMS renamed"
    Gateway.objects.filter(pk=gateway.pk).update(name="generic_json channel")


def key_rotated(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Gateway

    assert Gateway.objects.get(pk=a_channel(world).pk).key != a_channel(world).key


def response_times_set_then_removed(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import ResponseTimes

    row = ResponseTimes.objects.get(organisation=world.a.organisation)
    assert (row.answer_hours, row.urgent_hours) == (8, 2)
    row.delete()


def officer_designated_then_reset(world: World, principal: str) -> None:
    from ventanilla.accounts.models import Membership

    membership = Membership.objects.get(user=world.user("a", "information_officer"))
    assert membership.handles_sensitive_complaints is True
    Membership.objects.filter(pk=membership.pk).update(handles_sensitive_complaints=False)


def _last_message_removed(expected: dict[str, Any]) -> Any:
    from ventanilla.messaging.models_inbox import Message

    def check(world: World, principal: str) -> None:
        message = Message.objects.select_related("conversation").latest("pk")
        actual = {name: getattr(message, name) for name in expected if name != "medium"}
        actual["medium"] = message.conversation.medium
        actual["sent_by"] = message.sent_by
        assert actual == {**expected, "sent_by": user_of(world, principal)}
        message.conversation.delete()

    return check


def feedback_stored_then_removed(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Message

    message = Message.objects.select_related("conversation").get()
    assert (message.body, message.conversation.medium, message.conversation.contact) == (
        "La clínica cerró temprano",
        "web",
        None,
    )
    message.conversation.delete()


def feedback_data(world: World) -> dict[str, Any]:
    from django.core import signing

    from ventanilla.messaging import feedback

    return {
        "category": "service_feedback",
        "text": "La clínica cerró temprano",
        "phone": "",
        "language": "es",
        "website": "",
        "shown": signing.dumps(int(time.time()) - 60, salt=feedback.SALT),
    }


class Rewinding(io.BytesIO):
    """An upload the test client can send more than once (it reads without seeking back)."""

    name = "social.csv"

    def read(self, size: int | None = -1) -> bytes:
        self.seek(0)
        return super().read(size)


def social_csv(world: World) -> dict[str, Any]:
    content = "platform,handle,text,date\nfacebook,@vecina,¿Es cierto que cierran la frontera?,2026-03-01\n"
    return {"channel": a_channel(world, "social").pk, "file": Rewinding(content.encode())}


def conversation_triaged_then_reset(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Conversation

    conversation = Conversation.objects.get(pk=a_conversation(world).pk)
    assert (conversation.status, conversation.category) == ("in_progress", "question")
    Conversation.objects.filter(pk=conversation.pk).update(status="new", category="")


def reply_queued_then_removed(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Conversation, Message

    message = Message.objects.filter(conversation=a_conversation(world), direction="out").get()
    assert (message.body, message.status, message.sent_by) == ("Hola", "queued", user_of(world, principal))
    message.delete()
    Conversation.objects.filter(pk=a_conversation(world).pk).update(status="new", answered_at=None)


def contact_changed_then_reset(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Contact

    assert Contact.objects.get(pk=a_contact(world).pk).language == "fr"
    Contact.objects.filter(pk=a_contact(world).pk).update(language="es")


def contact_opted_out_then_reset(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Contact

    assert Contact.objects.get(pk=a_contact(world).pk).opted_out
    Contact.objects.filter(pk=a_contact(world).pk).update(opted_out_at=None)


def api_channel_created_then_removed(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Gateway

    gateway = Gateway.objects.get(name="API SMS")
    assert gateway.organisation == world.a.organisation
    gateway.delete()


def api_channel_renamed_then_reset(world: World, principal: str) -> None:
    from ventanilla.messaging.models_inbox import Gateway

    assert Gateway.objects.get(pk=a_channel(world).pk).name == "API renamed"
    Gateway.objects.filter(pk=a_channel(world).pk).update(name="generic_json channel")


def _handlers_write(outcome: object) -> dict[str, object]:
    return expect(
        anonymous=LOGIN,
        a=403,
        site_manager=outcome,
        information_officer=outcome,
        other_organisation=403,
        outsider=403,
    )


API_HANDLERS_WRITE = API_HANDLERS_A_OBJECT
THANKS = Redirect(r"/en/feedback/thanks/\?channel=[0-9a-f-]+")
WRITES = [
    Row(
        "channels:create",
        "POST",
        lambda w: "/en/staff/channels/new/",
        # B's administrator adds the channel to B, the one organisation they administer.
        expect(
            anonymous=LOGIN,
            a=403,
            administrator=Redirect(r"/en/staff/channels/\d+/"),
            other_organisation=Redirect(r"/en/staff/channels/\d+/"),
            outsider=403,
        ),
        data=lambda w: {
            "kind": "generic_json",
            "name": "Matrix SMS",
            "medium": "sms",
            "send_url": "https://gateway.example/send",
            "address": "+529621000001",
            "is_active": "on",
            "credential_secret": "a-long-shared-secret",
        },
        effect=channel_created_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "channels:edit",
        "POST",
        lambda w: channel_page(w),
        expect(
            anonymous=LOGIN,
            a=403,
            administrator=Redirect(r"/en/staff/channels/\d+/"),
            other_organisation=404,
            outsider=403,
        ),
        data=lambda w: {
            "name": "SMS renamed",
            "medium": "sms",
            "send_url": "http://127.0.0.1:9/send",
            "address": "+529621000000",
            "is_active": "on",
        },
        effect=channel_renamed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "channels:rotate_key",
        "POST",
        lambda w: channel_page(w, "rotate-key/"),
        expect(
            anonymous=LOGIN,
            a=403,
            administrator=Redirect(r"/en/staff/channels/\d+/"),
            other_organisation=404,
            outsider=403,
        ),
        effect=key_rotated,
        audit_actions=(AuditAction.KEY_ROTATION,),
    ),
    Row(
        "channels:focal_points",
        "POST",
        lambda w: "/en/staff/channels/focal-points/",
        expect(
            anonymous=LOGIN,
            a=403,
            administrator="302 /en/staff/channels/focal-points/",
            other_organisation=404,
            outsider=403,
        ),
        data=lambda w: {
            "organisation": w.a.organisation.pk,
            "membership": [
                w.user("a", "information_officer").memberships.get().pk,
            ],
        },
        effect=officer_designated_then_reset,
        audit_actions=(AuditAction.ROLE_CHANGE,),
    ),
    Row(
        "channels:response_times",
        "POST",
        lambda w: "/en/staff/channels/response-times/",
        expect(
            anonymous=LOGIN,
            a=403,
            administrator="302 /en/staff/channels/response-times/",
            other_organisation=404,
            outsider=403,
        ),
        data=lambda w: {
            "organisation": w.a.organisation.pk,
            f"org{w.a.organisation.pk}-answer_hours": "8",
            f"org{w.a.organisation.pk}-urgent_hours": "2",
        },
        effect=response_times_set_then_removed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "channels:call_new",
        "POST",
        lambda w: "/en/staff/channels/calls/new/",
        _handlers_write("302 /en/staff/channels/calls/new/"),
        data=lambda w: {
            "channel": a_channel(w, "hotline").pk,
            "caller": "+52 962 555 0177",
            "language": "es",
            "category": "help",
            "topics": "albergue, documentos",
            "minutes": "7",
            "outcome": "referred",
            "notes": "Busca albergue para su familia",
        },
        effect=_last_message_removed(
            {
                "call_minutes": 7,
                "call_outcome": "referred",
                "body": "Busca albergue para su familia",
                "medium": "hotline",
            }
        ),
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "channels:social_new",
        "POST",
        lambda w: "/en/staff/channels/social/new/",
        _handlers_write("302 /en/staff/channels/social/new/"),
        data=lambda w: {
            "channel": a_channel(w, "social").pk,
            "platform": "facebook",
            "handle": "@vecina",
            "text": "¿Es cierto que cierran la frontera?",
            "date": "2026-03-01 10:30",
        },
        effect=_last_message_removed({"body": "¿Es cierto que cierran la frontera?", "medium": "social"}),
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "channels:social_import",
        "POST",
        lambda w: "/en/staff/channels/social/import/",
        _handlers_write("302 /en/staff/channels/social/import/"),
        data=social_csv,
        effect=_last_message_removed({"body": "¿Es cierto que cierran la frontera?", "medium": "social"}),
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "feedback",
        "POST",
        lambda w: feedback_url(w),
        # Anyone may write; nothing to audit (no account acts), the message is the record.
        everyone(THANKS, anonymous=THANKS),
        data=feedback_data,
        effect=feedback_stored_then_removed,
        audit_actor_is_principal=False,
    ),
    # --- API -------------------------------------------------------------------------------------------
    Row(
        "conversation-detail",
        "PATCH",
        lambda w: conversation_url(w),
        API_HANDLERS_WRITE,
        data=lambda w: {"status": "in_progress", "category": "question"},
        effect=conversation_triaged_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "conversation-reply",
        "POST",
        lambda w: conversation_url(w, "reply/"),
        expect(
            anonymous=401,
            a=404,
            site_manager=201,
            information_officer=201,
            other_organisation=404,
            outsider=404,
        ),
        data=lambda w: {"text": "Hola"},
        effect=reply_queued_then_removed,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "contact-detail",
        "PATCH",
        lambda w: f"/api/v1/contacts/{a_contact(w).pk}/",
        API_HANDLERS_WRITE,
        data=lambda w: {"language": "fr"},
        effect=contact_changed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "contact-opt-out",
        "POST",
        lambda w: f"/api/v1/contacts/{a_contact(w).pk}/opt-out/",
        API_HANDLERS_WRITE,
        effect=contact_opted_out_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "channel-list",
        "POST",
        lambda w: "/api/v1/channels/",
        # B's administrator may not add a channel to A: a field error on the organisation.
        expect(anonymous=401, a=403, administrator=201, other_organisation=400, outsider=403),
        data=lambda w: {
            "organisation": w.a.organisation.pk,
            "name": "API SMS",
            "kind": "generic_json",
            "send_url": "https://gateway.example/send",
            "credentials": {"secret": "a-long-shared-secret"},
        },
        effect=api_channel_created_then_removed,
        audit_actions=(AuditAction.CREATE,),
    ),
    Row(
        "channel-detail",
        "PATCH",
        lambda w: f"/api/v1/channels/{a_channel(w).pk}/",
        API_ADMIN_A_OBJECT,
        data=lambda w: {"name": "API renamed"},
        effect=api_channel_renamed_then_reset,
        audit_actions=(AuditAction.UPDATE,),
    ),
    Row(
        "response-times-detail",
        "PUT",
        lambda w: f"/api/v1/response-times/{w.a.organisation.pk}/",
        API_ADMIN_A_OBJECT,
        data=lambda w: {"answer_hours": 8, "urgent_hours": 2},
        effect=response_times_set_then_removed,
        audit_actions=(AuditAction.UPDATE,),
    ),
]


def state() -> dict[str, Any]:
    """The messaging tables, for the write matrix's check that a refused write changed nothing."""
    from ventanilla.messaging.models_inbox import Contact, Conversation, Gateway, Message, ResponseTimes

    return {
        model._meta.label_lower: list(model.objects.order_by("pk").values())
        for model in (Gateway, Contact, Conversation, Message, ResponseTimes)
    }
