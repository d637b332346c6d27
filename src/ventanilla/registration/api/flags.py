"""Who needs attention today: the flags at the caller's sites, most severe first.

The list shows references and the answers that raised each flag, not names, so it is not audited as a
read of each person; opening a person from it is.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.registration.api.common import PERSONAL, SEVERITY_RANK, flag_view, reader_language
from ventanilla.registration.api.serializers import FlagListSerializer, FlagQuerySerializer
from ventanilla.registration.models import Flag


class FlagViewSet(viewsets.GenericViewSet):
    permission_classes = PERSONAL
    filter_backends: list[Any] = []
    serializer_class = FlagListSerializer

    def get_queryset(self) -> QuerySet[Flag]:
        return (
            Flag.objects.visible_to(self.request.user)
            .filter(person__isnull=False, person__erased_at__isnull=True)
            .select_related("registration__form_version", "person")
            .annotate(rank=SEVERITY_RANK)
            .order_by("rank", "-created_at", "-pk")
        )

    @extend_schema(
        summary="Flags at your sites, most severe first (who needs attention today)",
        description="Labels and reasons in `lang` (else Accept-Language). `open=true`: not dismissed.",
        parameters=[FlagQuerySerializer],
        responses={200: FlagListSerializer(many=True), **ERROR_RESPONSES},
    )
    def list(self, request: Request) -> Response:
        query = FlagQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        language = reader_language(filters.get("lang"))
        flags = self.get_queryset()
        if filters.get("code"):
            flags = flags.filter(code=filters["code"])
        if filters.get("severity"):
            flags = flags.filter(severity=filters["severity"])
        if "site" in filters:
            flags = flags.filter(site_id=filters["site"])
        if filters.get("open") is not None:
            flags = flags.filter(dismissed_at__isnull=filters["open"])
        page = self.paginate_queryset(flags) or []
        rows = [
            {
                **flag_view(flag, language),
                "person": flag.person.reference if flag.person else None,
                "registration": flag.registration_id,
                "site": flag.site_id,
            }
            for flag in page
        ]
        return self.get_paginated_response(FlagListSerializer(rows, many=True).data)
