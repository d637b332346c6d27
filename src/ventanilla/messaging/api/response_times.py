"""Response-time targets over the API: each organisation you administer, and a change to one.

The same service as the page (`messaging.response_times`): limits checked, every wrong value named,
the change audited. An organisation you do not administer is not there (404).
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.messaging import channels, response_times
from ventanilla.messaging.api.common import ManagesOrganisation, raise_refusal
from ventanilla.messaging.inbox import InboxError


class ResponseTimesSerializer(serializers.Serializer):
    organisation = serializers.IntegerField(read_only=True)
    answer_hours = serializers.IntegerField(
        help_text="Hours to answer a message that opens or reopens a conversation (1 to 720)."
    )
    urgent_hours = serializers.IntegerField(
        help_text="Hours to answer an urgent message (1 to 72, at most answer_hours)."
    )
    category_hours = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        required=False,
        help_text=(
            "Hours to answer, by category code (question, help, complaint, sensitive, rumour, "
            "service_feedback, thanks, other), once a conversation has that category; a category left "
            "out or null follows answer_hours. Left out of a PUT: the category targets stay as they are."
        ),
    )


def _row(organisation_id: int) -> dict[str, Any]:
    targets = response_times.targets_for(organisation_id)
    return {
        "organisation": organisation_id,
        "answer_hours": targets.answer_hours,
        "urgent_hours": targets.urgent_hours,
        "category_hours": dict(targets.category_hours),
    }


@extend_schema_view(
    list=extend_schema(
        summary="Response times of the organisations you administer",
        responses={200: ResponseTimesSerializer(many=True), **ERROR_RESPONSES},
    ),
    update=extend_schema(
        summary="Set an organisation's response times (the id is the organisation's)",
        parameters=[
            OpenApiParameter("id", OpenApiTypes.INT, OpenApiParameter.PATH, description="An organisation id.")
        ],
        description="Applies to messages that arrive afterwards. A wrong value is a 400 naming the field.",
        request=ResponseTimesSerializer,
        responses={200: ResponseTimesSerializer, **ERROR_RESPONSES},
    ),
)
class ResponseTimesViewSet(viewsets.ViewSet):
    permission_classes = [permissions.IsAuthenticated, ManagesOrganisation]

    def list(self, request: Request) -> Response:
        return Response([_row(o.pk) for o in channels.managed_organisations(request.user)])

    def update(self, request: Request, pk: str) -> Response:
        organisation = (
            channels.managed_organisations(request.user).filter(pk=pk if pk.isdigit() else 0).first()
        )
        if organisation is None:
            raise Http404
        body = ResponseTimesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            response_times.set_targets(organisation, by=request.user, **body.validated_data)
        except InboxError as error:
            raise_refusal(error)
        return Response(_row(organisation.pk))
