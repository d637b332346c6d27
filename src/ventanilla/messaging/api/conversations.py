"""Conversations over the API: list (filtered), one (an audited read), its messages, triage and
assignment and status (PATCH), and replies on the conversation's channel.

Rows are read through `Conversation.objects.visible_to`: message handlers of the organisation, and a
sensitive complaint only for its designated focal points (for anyone else it is not there: a 404, and
absent from the list). A list call that shows any conversation is one READ entry per organisation
with the count and the ids; opening one, or its messages, is a READ of that conversation.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts.models import User
from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.areas.models import AdministrativeArea
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.messaging import handover, inbox
from ventanilla.messaging.api.common import OpensInbox, raise_refusal
from ventanilla.messaging.inbox import InboxError
from ventanilla.messaging.inbox_queries import (
    NOBODY,
    UNTRIAGED,
    InboxFilterError,
    InboxFilters,
    inbox_queryset,
)
from ventanilla.messaging.models_inbox import (
    Category,
    Conversation,
    ConversationStatus,
    Direction,
    Medium,
    Message,
    MessageStatus,
    Urgency,
)
from ventanilla.registration.models import Person


def _message_count() -> Coalesce:
    """Per row, counted only for the rows of the page (a join and GROUP BY would count every message
    of every visible conversation first)."""
    counted = (
        Message.objects.filter(conversation=OuterRef("pk"))
        .order_by()
        .values("conversation")
        .annotate(total=Count("pk"))
        .values("total")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


class ConversationSerializer(serializers.ModelSerializer):
    """A conversation's state; no texts (its messages are their own endpoint)."""

    channel = serializers.IntegerField(source="gateway_id")
    contact = serializers.IntegerField(source="contact_id", allow_null=True, help_text="null: anonymous.")
    area: serializers.SlugRelatedField[AdministrativeArea] = serializers.SlugRelatedField(
        slug_field="pcode", read_only=True, allow_null=True
    )
    category = serializers.ChoiceField(choices=Category.choices)
    status = serializers.ChoiceField(choices=ConversationStatus.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    medium = serializers.ChoiceField(choices=Medium.choices)
    topics = serializers.ListField(child=serializers.CharField())
    assigned_to = serializers.IntegerField(source="assigned_to_id", allow_null=True)
    person: serializers.SlugRelatedField[Person] = serializers.SlugRelatedField(
        slug_field="reference",
        read_only=True,
        allow_null=True,
        help_text="The registered person the conversation is with (VT-XXXX-XXXX), once linked.",
    )
    message_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Conversation
        fields = [
            "id",
            "organisation",
            "site",
            "channel",
            "medium",
            "contact",
            "category",
            "topics",
            "language",
            "area",
            "urgency",
            "urgent_reason",
            "status",
            "assigned_to",
            "person",
            "message_count",
            "opened_at",
            "last_message_at",
            "respond_by",
            "answered_at",
            "closed_at",
        ]


class ConversationQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ConversationStatus.choices, required=False)
    category = serializers.ChoiceField(
        choices=Category.choices, required=False, help_text='"" for conversations not triaged yet.'
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    medium = serializers.ChoiceField(choices=Medium.choices, required=False)
    channel = serializers.IntegerField(required=False)
    assigned_to = serializers.IntegerField(required=False, help_text="A user id.")
    unassigned = serializers.BooleanField(required=False, default=False)
    since = serializers.DateTimeField(
        required=False, help_text="Conversations with a message at or after this moment (ISO 8601)."
    )
    number = serializers.CharField(
        required=False,
        max_length=40,
        help_text="The contact's whole phone number with its country code (an exact match).",
    )


class ConversationChangeSerializer(serializers.Serializer):
    """Only what is sent changes."""

    category = serializers.ChoiceField(choices=Category.choices, required=False, allow_blank=True)
    topics = serializers.ListField(
        child=serializers.CharField(max_length=100), required=False, max_length=20, help_text="Free tags."
    )
    language = serializers.CharField(required=False, allow_blank=True, max_length=8)
    area = serializers.SlugRelatedField(
        slug_field="pcode", queryset=AdministrativeArea.objects.all(), required=False, allow_null=True
    )
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    status = serializers.ChoiceField(choices=ConversationStatus.choices, required=False)
    assigned_to = serializers.IntegerField(
        required=False,
        allow_null=True,
        help_text="A user id of a message handler of the organisation; null unassigns.",
    )
    person = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        max_length=30,
        help_text=(
            "Link the conversation to a registered person of its organisation (VT-XXXX-XXXX); null or "
            '"" removes the link. Needs the right to register people there.'
        ),
    )


class MessageSerializer(serializers.ModelSerializer):
    direction = serializers.ChoiceField(choices=Direction.choices)
    status = serializers.ChoiceField(choices=MessageStatus.choices)
    text = serializers.CharField(source="body")
    sent_by = serializers.IntegerField(source="sent_by_id", allow_null=True)

    class Meta:
        model = Message
        fields = [
            "id",
            "direction",
            "text",
            "status",
            "at",
            "status_at",
            "error",
            "sent_by",
            "call_minutes",
            "call_outcome",
        ]


class ReplySerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=5000, allow_blank=True, help_text="At most 1,600 characters sent."
    )


@extend_schema_view(
    list=extend_schema(
        summary="Conversations of the organisations whose messages you handle",
        description=(
            "Newest activity first. Sensitive complaints appear only for designated focal points. Each "
            "call that shows any conversation is audited (the count and the ids)."
        ),
        parameters=[ConversationQuerySerializer],
        responses={200: ConversationSerializer(many=True), **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One conversation (the read is audited)",
        responses={200: ConversationSerializer, **ERROR_RESPONSES},
    ),
    partial_update=extend_schema(
        summary="Triage, assign or change the status of a conversation",
        description=(
            "A wrong value is a 400 naming the field; `assigned_to` must be a message handler of the "
            "organisation (a designated focal point for a sensitive complaint). Marking a conversation as "
            "a sensitive complaint when you are not a focal point answers 204: it is no longer yours to see."
        ),
        request=ConversationChangeSerializer,
        responses={200: ConversationSerializer, 204: None, **ERROR_RESPONSES},
    ),
)
class ConversationViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, OpensInbox]
    serializer_class = ConversationSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Conversation]:
        return (
            Conversation.objects.visible_to(self.request.user)
            .select_related("area", "person")
            .annotate(message_count=_message_count())
        )

    def _user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def _conversation(self, pk: str, *, purpose: str | None) -> Conversation:
        """One the caller sees (else 404); an audited read when `purpose` is given."""
        if purpose is None:
            found = self.get_queryset().filter(pk=pk).first() if str(pk).isdigit() else None
            if found is None:
                raise Http404
            return found
        conversation: Conversation = self.get_queryset().get_for(  # type: ignore[attr-defined]
            self.request.user, pk, purpose=purpose
        )
        return conversation

    def list(self, request: Request) -> Response:
        query = ConversationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        given = query.validated_data
        assigned = given.get("assigned_to")
        filters = InboxFilters(
            status=given.get("status", ""),
            # the category "" (not triaged yet) is a filter of its own, not "any"
            category=UNTRIAGED if given.get("category") == "" else given.get("category", ""),
            urgency=given.get("urgency", ""),
            medium=given.get("medium", ""),
            channel=given.get("channel"),
            assigned_to=NOBODY if given.get("unassigned") else str(assigned) if assigned else "",
            since=given.get("since"),
            number=given.get("number", ""),
        )
        try:
            rows = inbox_queryset(request.user, filters).annotate(message_count=_message_count())
        except InboxFilterError as error:
            raise serializers.ValidationError({error.field: [str(error)]}) from None
        page = list(self.paginate_queryset(rows) or [])
        searched = {"by_number": True} if filters.number else {}
        shown: dict[int, list[int]] = defaultdict(list)
        for conversation in page:
            shown[conversation.organisation_id].append(conversation.pk)
        for organisation_id, ids in shown.items():
            audit.record(
                AuditAction.READ,
                by=request.user,
                object_type="messaging.conversation",
                organisation_id=organisation_id,
                detail={"purpose": "list", "count": len(ids), "ids": ids, **searched},
            )
        return self.get_paginated_response(ConversationSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ConversationSerializer(self._conversation(pk, purpose="api")).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        conversation = self._conversation(pk, purpose=None)
        body = ConversationChangeSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        if "assigned_to" in values and values["assigned_to"] is not None:
            assignee = User.objects.filter(pk=values["assigned_to"], is_active=True).first()
            if assignee is None:
                raise serializers.ValidationError({"assigned_to": [_("Unknown user.")]})
            values["assigned_to"] = assignee
        linking = "person" in values
        reference = str(values.pop("person", None) or "").strip().upper()
        try:
            with transaction.atomic():  # the link and the change both happen, or neither
                if linking:
                    person = handover.find_linkable(self._user(), conversation, reference)
                    handover.link_person(conversation, person, by=self._user())
                inbox.change(conversation, by=self._user(), **values)
        except InboxError as error:
            raise_refusal(error)
        found = self.get_queryset().filter(pk=conversation.pk).first()
        if found is None:  # marked as a sensitive complaint by someone who is not a focal point
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ConversationSerializer(found).data)

    @extend_schema(
        summary="The conversation's messages, oldest first (the read is audited)",
        responses={200: MessageSerializer(many=True), **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"])
    def messages(self, request: Request, pk: str) -> Response:
        conversation = self._conversation(pk, purpose="messages")
        rows = Message.objects.filter(conversation=conversation).order_by("at", "pk")
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(MessageSerializer(page, many=True).data)

    @extend_schema(
        summary="Answer on the conversation's channel",
        description=(
            "Queued and sent in the background; its status follows the provider's receipts. Refused with a "
            "400 naming `text` when the contact opted out (STOP), when there is no number to answer, or "
            "when the text is empty or too long; a hotline or web form conversation cannot be answered "
            "here (400)."
        ),
        request=ReplySerializer,
        responses={201: MessageSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def reply(self, request: Request, pk: str) -> Response:
        conversation = self._conversation(pk, purpose=None)
        body = ReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            message = inbox.reply(conversation, body.validated_data["text"], by=self._user())
        except InboxError as error:
            raise_refusal(error)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)
