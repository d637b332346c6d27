"""Service providers, for staff: everyone signed in reads the published ones and their own drafts."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.directory import services
from ventanilla.directory.api.common import ERRORS, STAFF
from ventanilla.directory.api.serializers import ProviderSerializer
from ventanilla.directory.models import ServiceProvider


@extend_schema_view(
    list=extend_schema(summary="Service providers (published, and the drafts you keep)"),
    retrieve=extend_schema(summary="One service provider", responses={200: ProviderSerializer, **ERRORS}),
    create=extend_schema(summary="Create a service provider", responses={201: ProviderSerializer, **ERRORS}),
    partial_update=extend_schema(
        summary="Change a service provider", responses={200: ProviderSerializer, **ERRORS}
    ),
)
class ServiceProviderViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    serializer_class = ProviderSerializer
    permission_classes = STAFF
    filter_backends: list[Any] = []
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[ServiceProvider]:
        return ServiceProvider.objects.visible_to(self.request.user).order_by("name", "pk")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = self._save(ServiceProvider(), serializer.validated_data)

    def partial_update(self, request: Request, pk: str) -> Response:
        provider: ServiceProvider = self.get_object()
        serializer = ProviderSerializer(
            provider, data=request.data, partial=True, context={"request": request}
        )
        serializer.is_valid(raise_exception=True)
        self._save(provider, serializer.validated_data)
        return Response(ProviderSerializer(provider, context={"request": request}).data)

    def _save(self, provider: ServiceProvider, data: dict[str, Any]) -> ServiceProvider:
        for name, value in data.items():
            setattr(provider, name, value)
        try:
            return services.save_provider(provider, by=self.request.user, changed=data.keys())  # type: ignore[arg-type]
        except services.DirectoryPermissionError as error:
            raise PermissionDenied(str(error)) from None
