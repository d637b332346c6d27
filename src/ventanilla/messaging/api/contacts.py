"""Contacts over the API, for message handlers of their organisation: numbers are shown masked (the
last three digits), never in full; language, area and subscriptions can be changed, and a contact can
be opted out at once when they ask by phone or in person."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts.models import User
from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.areas.models import AdministrativeArea
from ventanilla.messaging import contacts as service
from ventanilla.messaging.api.common import HandlesMessages, raise_refusal
from ventanilla.messaging.inbox import InboxError
from ventanilla.messaging.models_inbox import Contact, Medium


class ContactSerializer(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField(help_text="Masked: only the last three digits are shown.")
    handle = serializers.SerializerMethodField(help_text="Masked, like the phone.")
    area: serializers.SlugRelatedField[AdministrativeArea] = serializers.SlugRelatedField(
        slug_field="pcode", read_only=True, allow_null=True
    )
    medium = serializers.ChoiceField(choices=Medium.choices)
    subscriptions = serializers.ListField(child=serializers.CharField())
    opted_out = serializers.BooleanField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "organisation",
            "phone",
            "handle",
            "language",
            "area",
            "medium",
            "subscriptions",
            "opted_out",
            "opted_out_at",
            "created_at",
        ]

    def get_phone(self, contact: Contact) -> str:
        return service.mask(contact.phone)

    def get_handle(self, contact: Contact) -> str:
        return service.mask(contact.handle)


class ContactQuerySerializer(serializers.Serializer):
    opted_out = serializers.BooleanField(required=False, allow_null=True, default=None)
    language = serializers.CharField(required=False, max_length=8)
    medium = serializers.ChoiceField(choices=Medium.choices, required=False)


class ContactChangeSerializer(serializers.Serializer):
    language = serializers.CharField(required=False, allow_blank=True, max_length=8)
    area = serializers.SlugRelatedField(
        slug_field="pcode", queryset=AdministrativeArea.objects.all(), required=False, allow_null=True
    )
    subscriptions = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, help_text="Codes; replaces the list."
    )


@extend_schema_view(
    list=extend_schema(
        summary="Contacts of the organisations whose messages you handle (numbers masked)",
        parameters=[ContactQuerySerializer],
        responses={200: ContactSerializer(many=True), **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(summary="One contact (number masked)"),
    partial_update=extend_schema(
        summary="Change a contact's language, area or subscriptions",
        request=ContactChangeSerializer,
        responses={200: ContactSerializer, **ERROR_RESPONSES},
    ),
)
class ContactViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, HandlesMessages]
    serializer_class = ContactSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Contact]:
        return (
            Contact.objects.visible_to(self.request.user)
            .select_related("area")
            .order_by("-created_at", "-pk")
        )

    def _user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def list(self, request: Request) -> Response:
        query = ContactQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        rows = self.get_queryset()
        if filters.get("opted_out") is not None:
            rows = rows.filter(opted_out_at__isnull=not filters["opted_out"])
        if filters.get("language"):
            rows = rows.filter(language=filters["language"])
        if filters.get("medium"):
            rows = rows.filter(medium=filters["medium"])
        page = self.paginate_queryset(rows) or []
        return self.get_paginated_response(ContactSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ContactSerializer(self.get_object()).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        contact = self.get_object()
        body = ContactChangeSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            service.update_contact(contact, by=self._user(), **body.validated_data)
        except InboxError as error:
            raise_refusal(error)
        return Response(ContactSerializer(self.get_queryset().get(pk=contact.pk)).data)

    @extend_schema(
        summary="Opt a contact out at once (they asked by phone or in person); nothing is sent to them",
        request=None,
        responses={200: ContactSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="opt-out", url_name="opt-out")
    def opt_out(self, request: Request, pk: str) -> Response:
        contact = self.get_object()
        try:
            service.opt_out(contact, by=self._user())
        except InboxError as error:
            raise_refusal(error)
        return Response(ContactSerializer(self.get_queryset().get(pk=contact.pk)).data)
