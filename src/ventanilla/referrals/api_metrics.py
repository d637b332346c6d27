"""GET /api/v1/referral-metrics/: the referral metrics table, as the staff page shows it.

For callers holding view_aggregates (others 403); what is counted is `metrics.scope_q`. Counts, rates
(fractions 0–1) and hours only: no person is named, so nothing here is audited as a read.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.referrals import metrics


class ViewsAggregates(permissions.BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return metrics.may_view(request.user)


class MetricsQuerySerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(
        choices=list(metrics.GROUPINGS), default="partner", help_text="One row per partner, service or site."
    )
    side = serializers.ChoiceField(
        choices=list(metrics.SIDES),
        default="all",
        help_text="Referrals your organisations sent, received as a partner, or both.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        # `from` is a Python keyword, so these two are added here rather than declared.
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            required=False, help_text=f"First day sent (default: {metrics.DEFAULT_DAYS} days before `to`)."
        )
        fields["to"] = serializers.DateField(required=False, help_text="Last day sent (default: today).")
        return fields


class MetricsRowSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="The partner's (service provider's) id, the service code or the site id."
    )
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    sent = serializers.IntegerField()
    accepted = serializers.IntegerField()
    declined = serializers.IntegerField()
    expired = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    delivered = serializers.IntegerField()
    not_delivered = serializers.IntegerField()
    acceptance_rate = serializers.FloatField(
        allow_null=True, help_text="accepted ÷ (accepted + declined + expired); null when none."
    )
    hours_to_acceptance_median = serializers.FloatField(allow_null=True)
    hours_to_acceptance_p90 = serializers.FloatField(allow_null=True)
    hours_to_service_median = serializers.FloatField(allow_null=True)
    completion_rate = serializers.FloatField(
        allow_null=True, help_text="delivered ÷ (delivered + not delivered); null when none."
    )


class MetricsSerializer(serializers.Serializer):
    group_by = serializers.CharField()
    side = serializers.CharField()
    rows = MetricsRowSerializer(many=True)
    total = MetricsRowSerializer()

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField()
        fields["to"] = serializers.DateField()
        return fields


class ReferralMetricsViewSet(viewsets.ViewSet):
    permission_classes = [permissions.IsAuthenticated, ViewsAggregates]

    @extend_schema(
        summary="Referral metrics per partner, service or site for a period (view_aggregates)",
        description=(metrics.__doc__ or "").split("Who counts what:")[0].strip(),
        parameters=[MetricsQuerySerializer],
        responses={200: MetricsSerializer, **ERROR_RESPONSES},
    )
    def list(self, request: Request) -> Response:
        query = MetricsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        try:
            result = metrics.referral_metrics(
                request.user,
                group_by=values["group_by"],
                side=values["side"],
                date_from=values.get("from"),
                date_to=values.get("to"),
            )
        except metrics.MetricsError as error:
            raise ValidationError({error.field: [str(error)]}) from None
        body = {
            "group_by": result.group_by,
            "side": result.side,
            "from": result.date_from,
            "to": result.date_to,
            "rows": [row.as_dict() for row in result.rows],
            "total": result.total.as_dict(),
        }
        return Response(MetricsSerializer(body).data)
