"""GET /api/v1/message-insights/: one table of the message counts page, as the staff page shows it.

For callers holding view_aggregates or handle_messages (others 403); what is counted is
`insights.organisations_of`. Counts only: no person is named, so nothing here is audited as a read.
A count hidden as a small number is null (the page and the files show "<5").
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.messaging import insights
from ventanilla.messaging.models_inbox import Medium


class CountsMessages(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return insights.may_view(request.user)


class InsightsQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(
        choices=list(insights.GROUPINGS),
        default="category",
        help_text="One row per category, topic, channel, language, first- or second-level area, or ISO week.",
    )
    category = serializers.ChoiceField(
        choices=[code for code, _label in insights.FILTER_CATEGORIES],
        required=False,
        help_text="Only this category (never the sensitive one, which is not broken down).",
    )
    topic = serializers.CharField(
        required=False, max_length=100, help_text="Only conversations with this topic."
    )
    channel = serializers.ChoiceField(choices=Medium.values, required=False, help_text="Only this channel.")
    language = serializers.CharField(required=False, max_length=8, help_text="Only this language (a code).")
    area = serializers.CharField(
        required=False, max_length=20, help_text="Only this area (a P-code) and the areas under it."
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # `from` is a Python keyword, so these two are added here rather than declared.
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            required=False, help_text=f"First day (default: {insights.DEFAULT_DAYS} days before `to`)."
        )
        fields["to"] = serializers.DateField(required=False, help_text="Last day (default: today).")
        return fields


class InsightsRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text=(
            "The category, topic, channel or language code, the area's P-code, or the ISO week "
            "(2026-W01); empty for 'not known' (no topic, no area)."
        )
    )
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    conversations = serializers.IntegerField(
        allow_null=True, help_text="Conversations opened in the period; null when hidden as a small number."
    )
    messages = serializers.IntegerField(
        allow_null=True,
        help_text="Inbound messages received in the period; null when hidden as a small number.",
    )


class InsightsSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    filters = serializers.DictField(child=serializers.CharField())
    small_numbers_hidden = serializers.BooleanField(
        help_text=f"Counts from 1 to {insights.SMALL_NUMBER - 1} are null (area tables, or any area filter)."
    )
    sensitive_included = serializers.BooleanField(
        help_text="Whether sensitive complaints are counted (the category table without filters only)."
    )
    rows = InsightsRowSerializer(many=True)
    total = InsightsRowSerializer()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields


class MessageInsightsViewSet(viewsets.ViewSet):
    permission_classes = [permissions.IsAuthenticated, CountsMessages]

    @extend_schema(
        summary="Message counts by category, topic, channel, language, area or week (view_aggregates)",
        description=(insights.__doc__ or "").split("Who counts what:")[0].strip(),
        parameters=[InsightsQuerySerializer],
        responses={200: InsightsSerializer, **ERROR_RESPONSES},
    )
    def list(self, request: Request) -> Response:
        query = InsightsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        filters = insights.Filters(
            category=values.get("category", ""),
            topic=values.get("topic", "").strip(),
            channel=values.get("channel", ""),
            language=values.get("language", "").strip(),
            area=values.get("area", "").strip().upper(),
        )
        try:
            result = insights.message_insights(
                request.user,
                date_from=values.get("from"),
                date_to=values.get("to"),
                filters=filters,
                group_by=values["group_by"],
            )
        except insights.InsightsError as error:
            raise ValidationError({error.field: [str(error)]}) from None
        table = result.tables[values["group_by"]]
        body = {
            "group_by": table.group_by,
            "from": result.date_from,
            "to": result.date_to,
            "filters": filters.as_dict(),
            "small_numbers_hidden": table.small_numbers_hidden,
            "sensitive_included": table.sensitive_included,
            "rows": [row.as_dict() for row in table.rows],
            "total": table.total.as_dict(),
        }
        return Response(InsightsSerializer(body).data)
