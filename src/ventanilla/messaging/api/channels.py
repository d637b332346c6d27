"""Channels over the API, for administrators (manage_organisation) of their organisations.

Credentials are write-only: a channel says which are set, never their values. A value left out keeps
the stored one; a shared secret or verify token not given when there is none is generated and answered
this once (`generated_credentials`). Every change goes through `channels.save_channel` (checked, audited).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts.models import Organisation, Site, User
from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging import channels as service
from ventanilla.messaging.api.common import ManagesOrganisation
from ventanilla.messaging.models_inbox import Gateway, GatewayKind, Medium


class ChannelSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=GatewayKind.choices)
    medium = serializers.ChoiceField(choices=Medium.choices)
    webhook_url = serializers.SerializerMethodField(help_text='Where the provider posts ("": no webhooks).')
    credentials_set = serializers.SerializerMethodField(
        help_text="Each credential of the kind: whether it holds a value (values are never shown)."
    )

    class Meta:
        model = Gateway
        fields = [
            "id",
            "organisation",
            "site",
            "name",
            "kind",
            "medium",
            "address",
            "send_url",
            "is_active",
            "webhook_url",
            "credentials_set",
            "created_at",
        ]

    def get_webhook_url(self, gateway: Gateway) -> str:
        return service.webhook_url(gateway)

    def get_credentials_set(self, gateway: Gateway) -> dict[str, bool]:
        return service.credentials_set(gateway)


class SavedChannelSerializer(ChannelSerializer):
    generated_credentials = serializers.DictField(
        child=serializers.CharField(),
        help_text="Values generated now (shared secret, verify token): shown this once.",
    )

    class Meta(ChannelSerializer.Meta):
        fields = [*ChannelSerializer.Meta.fields, "generated_credentials"]


class ChannelWriteSerializer(serializers.Serializer):
    """On create: name and kind are needed (and organisation if you administer several)."""

    organisation = serializers.IntegerField(
        required=False, help_text="Create only; default: the one you administer."
    )
    name = serializers.CharField(required=False, max_length=120)
    kind = serializers.ChoiceField(
        choices=GatewayKind.choices, required=False, help_text="Fixed once created."
    )
    medium = serializers.ChoiceField(choices=Medium.choices, required=False)
    site = serializers.IntegerField(required=False, allow_null=True)
    address = serializers.CharField(required=False, allow_blank=True, max_length=64)
    send_url = serializers.URLField(required=False, allow_blank=True, max_length=300)
    is_active = serializers.BooleanField(required=False)
    credentials = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=500),
        required=False,
        write_only=True,
        help_text=(
            "twilio: account_sid, auth_token; generic_json: secret; whatsapp_cloud: app_secret, "
            "access_token, verify_token. Only the ones given change."
        ),
    )


def _raise_for(error: service.ChannelError) -> NoReturn:
    if isinstance(error, service.ChannelPermissionError):
        raise PermissionDenied(str(error)) from None
    errors = (
        error.errors
        if isinstance(error, service.ChannelInvalid)
        else {error.field or "non_field_errors": str(error)}
    )
    fields: dict[str, Any] = {}
    for name, message in errors.items():
        if name.startswith("credentials."):
            fields.setdefault("credentials", {})[name.removeprefix("credentials.")] = [message]
        else:
            fields[name] = [message]
    raise serializers.ValidationError(fields) from None


@extend_schema_view(
    list=extend_schema(summary="Channels of the organisations you administer (credentials never shown)"),
    retrieve=extend_schema(summary="One channel"),
    create=extend_schema(
        summary="Add a channel",
        request=ChannelWriteSerializer,
        responses={201: SavedChannelSerializer, **ERROR_RESPONSES},
    ),
    partial_update=extend_schema(
        summary="Change a channel (credentials given replace the stored ones)",
        request=ChannelWriteSerializer,
        responses={200: SavedChannelSerializer, **ERROR_RESPONSES},
    ),
)
class ChannelViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, ManagesOrganisation]
    serializer_class = ChannelSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Gateway]:
        return service.channels_for(self.request.user).order_by("organisation__name", "name", "pk")

    def _user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(ChannelSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(ChannelSerializer(self.get_object()).data)

    def _input(
        self, gateway: Gateway | None, values: dict[str, Any], organisation_id: int
    ) -> service.ChannelInput:
        site: Site | None = gateway.site if gateway is not None else None
        if "site" in values:
            site = None
            if values["site"] is not None:
                site = Site.objects.filter(pk=values["site"], organisation_id=organisation_id).first()
                if site is None:
                    raise serializers.ValidationError(
                        {"site": [_("Choose a site of the channel's organisation.")]}
                    )
        current: dict[str, Any] = {
            "name": gateway.name if gateway else "",
            "kind": gateway.kind if gateway else "",
            "medium": gateway.medium if gateway else "",
            "address": gateway.address if gateway else "",
            "send_url": gateway.send_url if gateway else "",
            "is_active": gateway.is_active if gateway else True,
        }
        current.update({key: values[key] for key in current if key in values})
        return service.ChannelInput(site=site, credentials=dict(values.get("credentials") or {}), **current)

    def _answer(self, saved: service.SavedChannel, code: int) -> Response:
        gateway = self.get_queryset().get(pk=saved.gateway.pk)
        setattr(gateway, "generated_credentials", saved.generated)  # noqa: B010 - only for the answer
        return Response(SavedChannelSerializer(gateway).data, status=code)

    def create(self, request: Request) -> Response:
        body = ChannelWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        managed = scope_for(request.user).organisations(Permission.MANAGE_ORGANISATION)
        wanted = values.pop("organisation", None)
        if wanted is None and len(managed) == 1:
            wanted = next(iter(managed))
        if wanted is None or wanted not in managed:
            raise serializers.ValidationError({"organisation": [_("Choose an organisation you administer.")]})
        for name in ("name", "kind"):
            if not values.get(name):
                raise serializers.ValidationError({name: [_("This field is required.")]})
        data = self._input(None, values, wanted)
        try:
            saved = service.save_channel(
                None, data, by=self._user(), organisation=Organisation.objects.get(pk=wanted)
            )
        except service.ChannelError as error:
            _raise_for(error)
        return self._answer(saved, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        gateway = self.get_object()
        body = ChannelWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        if "organisation" in values:
            raise serializers.ValidationError({"organisation": [_("A channel stays with its organisation.")]})
        try:
            saved = service.save_channel(
                gateway, self._input(gateway, values, gateway.organisation_id), by=self._user()
            )
        except service.ChannelError as error:
            _raise_for(error)
        return self._answer(saved, status.HTTP_200_OK)
