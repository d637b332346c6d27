"""Who needs attention today: the flags at the caller's sites, most severe first.

The list shows references and the answers that raised each flag, not names, so it is not audited as a
read of each person; opening a person from it is.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.api.errors import ERROR_RESPONSES, conflict
from ventanilla.registration import services
from ventanilla.registration.api.common import PERSONAL, SEVERITY_RANK, flag_view, reader_language
from ventanilla.registration.api.persons import _may_edit
from ventanilla.registration.api.serializers import FlagListSerializer, FlagQuerySerializer
from ventanilla.registration.models import Flag


class DismissSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, help_text="Why the flag no longer applies (kept with it).")


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

    @extend_schema(
        summary="Close a flag that no longer applies, with the reason (audited; the flag stays, closed)",
        request=DismissSerializer,
        responses={200: FlagListSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="dismiss", url_name="dismiss")
    def dismiss(self, request: Request, pk: str) -> Response:
        flag = self.get_queryset().filter(pk=pk).first()
        if flag is None or flag.person is None:
            raise Http404
        if not _may_edit(request.user, flag.person):
            raise PermissionDenied(_("You cannot change this record."))
        body = DismissSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if flag.dismissed_at is not None:
            return conflict(_("This flag is already closed."))
        services.dismiss_flag(flag, reason=body.validated_data["reason"], by=request.user)  # type: ignore[arg-type]
        flag.refresh_from_db()
        row = {
            **flag_view(flag, reader_language(None)),
            "person": flag.person.reference,
            "registration": flag.registration_id,
            "site": flag.site_id,
        }
        return Response(FlagListSerializer(row).data)
