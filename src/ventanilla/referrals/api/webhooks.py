"""Webhooks: where an organisation's own system hears of its referrals' status changes.

Kept by the organisation's administrators (manage_organisation). The signing secret is write-only:
answered once, when the webhook is made (generated when not given), never again.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts.models import Organisation, User
from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.referrals import webhooks
from ventanilla.referrals.models import PartnerWebhook


class WebhookSerializer(serializers.ModelSerializer):
    class Meta:
        model = PartnerWebhook
        fields = ["id", "organisation", "url", "is_active", "created_at"]


class NewWebhookSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(
        required=False, help_text="Default: the one organisation you administer."
    )
    url = serializers.URLField(max_length=300, help_text="https:// address that receives the POSTs.")
    secret = serializers.CharField(
        required=False,
        allow_blank=True,
        write_only=True,
        min_length=webhooks.MIN_SECRET_LENGTH,
        max_length=200,
        help_text="Signs each delivery (HMAC-SHA256). Generated when not given.",
    )


class CreatedWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="Shown this once: keep it to verify X-Ventanilla-Signature.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class ManagesOrganisation(permissions.BasePermission):
    """The collection needs manage_organisation somewhere; one webhook is looked up among those of the
    organisations the caller administers (404 otherwise)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "detail", False):
            return True
        return scope_for(request.user).has(Permission.MANAGE_ORGANISATION)


@extend_schema_view(
    list=extend_schema(summary="Your organisations' webhooks (secrets are never shown again)"),
    retrieve=extend_schema(summary="One webhook"),
    create=extend_schema(
        summary="Add a webhook: status changes of your organisation's referrals are POSTed to it, signed",
        description=(
            "The answer holds the secret, this once. Payload and signature: docs/referral-payload.md."
        ),
        request=NewWebhookSerializer,
        responses={201: CreatedWebhookSerializer, **ERROR_RESPONSES},
    ),
    destroy=extend_schema(summary="Remove a webhook (its pending deliveries are dropped)"),
)
class WebhookViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, ManagesOrganisation]
    serializer_class = WebhookSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[PartnerWebhook]:
        return PartnerWebhook.objects.visible_to(self.request.user).order_by("pk")

    def _user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(WebhookSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(WebhookSerializer(self.get_object()).data)

    def create(self, request: Request) -> Response:
        body = NewWebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        managed = scope_for(request.user).organisations(Permission.MANAGE_ORGANISATION)
        wanted = body.validated_data.get("organisation")
        if wanted is None and len(managed) == 1:
            wanted = next(iter(managed))
        if wanted is None or wanted not in managed:
            raise serializers.ValidationError({"organisation": [_("Choose an organisation you administer.")]})
        try:
            hook = webhooks.add_webhook(
                Organisation.objects.get(pk=wanted),
                url=body.validated_data["url"],
                secret=body.validated_data.get("secret", ""),
                by=self._user(),
            )
        except webhooks.WebhookError as error:
            if not error.field:
                raise PermissionDenied(str(error)) from None
            raise serializers.ValidationError({error.field: [str(error)]}) from None
        return Response(CreatedWebhookSerializer(hook).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, pk: str) -> Response:
        hook = self.get_object()
        try:
            webhooks.remove_webhook(hook, by=self._user())
        except webhooks.WebhookError as error:
            raise PermissionDenied(str(error)) from None
        return Response(status=status.HTTP_204_NO_CONTENT)
