"""Read-only API for administrative areas (reference data, readable by every signed-in user)."""

from __future__ import annotations

from rest_framework import serializers, viewsets

from ventanilla.areas.models import AdministrativeArea


class AreaSerializer(serializers.ModelSerializer):
    parent: serializers.SlugRelatedField[AdministrativeArea] = serializers.SlugRelatedField(  # type: ignore[assignment]
        slug_field="pcode", read_only=True
    )

    class Meta:
        model = AdministrativeArea
        fields = ["pcode", "level", "name", "names", "parent", "country_pcode"]


class AreaViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = AdministrativeArea.objects.select_related("parent").order_by("pcode")
    serializer_class = AreaSerializer
    lookup_field = "pcode"
    filterset_fields = ["level", "country_pcode", "parent__pcode"]
