"""Referral pathways over the API: read by every member of the referring organisation and by the
partner's receivers; created and changed by the referring organisation's pathway managers, through
`referrals.pathways.save_pathway` (which checks and audits)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
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
from ventanilla.directory.models import Category, ServicePoint, ServiceProvider, Sexes
from ventanilla.referrals import pathways as pathway_service
from ventanilla.referrals import projection
from ventanilla.referrals.models import Pathway
from ventanilla.referrals.services import ReferralError, ReferralPermissionError


class FocalPointSerializer(serializers.Serializer):
    """A work contact at the partner who receives referrals (told by email or SMS)."""

    name = serializers.CharField(max_length=120)
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=20, default="")
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False, default="es")


class PathwaySerializer(serializers.ModelSerializer):
    provider_name = serializers.CharField(source="provider.name", read_only=True)
    partner_organisation = serializers.IntegerField(
        source="provider.organisation_id",
        allow_null=True,
        read_only=True,
        help_text="The partner's Ventanilla organisation (null: a partner without accounts).",
    )
    categories = serializers.SerializerMethodField(help_text="Service category codes.")
    service_points = serializers.SerializerMethodField(help_text="None: any of the partner's points.")
    focal_points = FocalPointSerializer(many=True, source="focal_points.all", read_only=True)
    sexes = serializers.ChoiceField(choices=Sexes.choices)
    language = serializers.ChoiceField(choices=settings.LANGUAGES)

    class Meta:
        model = Pathway
        fields = [
            "id",
            "organisation",
            "provider",
            "provider_name",
            "partner_organisation",
            "name",
            "categories",
            "service_points",
            "age_min",
            "age_max",
            "sexes",
            "eligibility",
            "response_hours",
            "language",
            "shared_fields",
            "valid_from",
            "valid_to",
            "is_active",
            "focal_points",
            "created_at",
            "updated_at",
        ]

    def get_categories(self, pathway: Pathway) -> list[str]:
        return [category.code for category in pathway.categories.all()]

    def get_service_points(self, pathway: Pathway) -> list[int]:
        return [point.pk for point in pathway.service_points.all()]


class PathwayWriteSerializer(serializers.Serializer):
    """What a pathway manager sets. On create: organisation (if you manage several), provider, name,
    categories and valid_from are needed; on update, only what changes."""

    organisation = serializers.IntegerField(
        required=False, help_text="The referring organisation (create only; default: the one you manage)."
    )
    provider = serializers.IntegerField(required=False, help_text="A service provider of the directory.")
    name = serializers.CharField(required=False, max_length=200)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.choices), required=False
    )
    service_points = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Points of the provider (none: any)."
    )
    age_min = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=130)
    age_max = serializers.IntegerField(required=False, allow_null=True, min_value=0, max_value=130)
    sexes = serializers.ChoiceField(choices=Sexes.choices, required=False)
    eligibility = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    response_hours = serializers.IntegerField(required=False, min_value=1, max_value=24 * 60)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    shared_fields = serializers.ListField(
        child=serializers.ChoiceField(choices=sorted(projection.FIELDS)),
        required=False,
        help_text="What referrals share (empty: each service's default).",
    )
    valid_from = serializers.DateField(required=False)
    valid_to = serializers.DateField(required=False, allow_null=True)
    is_active = serializers.BooleanField(required=False)
    focal_points = FocalPointSerializer(many=True, required=False, help_text="Replaces the current ones.")

    def validate_provider(self, value: int) -> ServiceProvider:
        provider = ServiceProvider.objects.visible_to(self.context["request"].user).filter(pk=value).first()
        if provider is None:
            raise serializers.ValidationError(_("Unknown partner."))
        return provider

    def validate_service_points(self, value: list[int]) -> list[ServicePoint]:
        points = list(ServicePoint.objects.visible_to(self.context["request"].user).filter(pk__in=value))
        if len(points) != len(set(value)):
            raise serializers.ValidationError(_("Unknown service point."))
        return points


def pathway_input(pathway: Pathway | None, values: dict[str, Any]) -> pathway_service.PathwayInput:
    """What the pages' form would hold: the pathway as it is, with the request's changes on top (the
    API changes only what it is sent; the pages always send everything)."""
    current: dict[str, Any] = {"name": "", "provider": None, "categories": [], "valid_from": None}
    if pathway is not None:
        current = {
            "name": pathway.name,
            "provider": pathway.provider,
            "categories": [category.code for category in pathway.categories.all()],
            "valid_from": pathway.valid_from,
            "service_points": list(pathway.service_points.all()),
            "age_min": pathway.age_min,
            "age_max": pathway.age_max,
            "sexes": pathway.sexes,
            "eligibility": pathway.eligibility,
            "response_hours": pathway.response_hours,
            "language": pathway.language,
            "shared_fields": list(pathway.shared_fields),
            "valid_to": pathway.valid_to,
            "is_active": pathway.is_active,
            "focal_points": [
                pathway_service.FocalPointInput(
                    name=point.name,
                    email=point.email,
                    phone=point.phone,
                    language=point.language,
                    id=point.pk,
                )
                for point in pathway.focal_points.all()
            ],
        }
    values.pop("organisation", None)
    if pathway is not None and "provider" in values and values["provider"] != pathway.provider:
        current["service_points"] = []  # points of the former partner do not follow
    if "focal_points" in values:
        values["focal_points"] = [
            pathway_service.FocalPointInput(
                name=contact.get("name", ""),
                email=contact.get("email", ""),
                phone=contact.get("phone", ""),
                language=contact.get("language") or "es",
            )
            for contact in values["focal_points"]
        ]
    return pathway_service.PathwayInput(**{**current, **values})


class ManagesPathways(permissions.BasePermission):
    """Creating needs manage_pathways somewhere (checked before the body, so a refusal reveals nothing);
    changing one needs it in the pathway's organisation (a partner reads its pathways, no more)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in permissions.SAFE_METHODS or getattr(view, "detail", False):
            return True
        return scope_for(request.user).has(Permission.MANAGE_PATHWAYS)

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return pathway_service.may_manage(request.user, obj)  # type: ignore[arg-type]


@extend_schema_view(
    list=extend_schema(summary="Pathways of your organisations, and those that refer to you"),
    retrieve=extend_schema(summary="One pathway"),
    create=extend_schema(
        summary="Add a pathway (manage_pathways)",
        request=PathwayWriteSerializer,
        responses={201: PathwaySerializer, **ERROR_RESPONSES},
    ),
    partial_update=extend_schema(
        summary="Change a pathway (manage_pathways in its organisation)",
        request=PathwayWriteSerializer,
        responses={200: PathwaySerializer, **ERROR_RESPONSES},
    ),
)
class PathwayViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, ManagesPathways]
    serializer_class = PathwaySerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Pathway]:
        return (
            Pathway.objects.visible_to(self.request.user)
            .select_related("provider")
            .prefetch_related("categories", "service_points", "focal_points")
            .order_by("name", "pk")
        )

    def _user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset()) or []
        return self.get_paginated_response(PathwaySerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        return Response(PathwaySerializer(self.get_object()).data)

    def _save(self, pathway: Pathway | None, body: PathwayWriteSerializer, **extra: Any) -> Pathway:
        data = pathway_input(pathway, dict(body.validated_data))
        try:
            return pathway_service.save_pathway(pathway, data, by=self._user(), **extra)
        except ReferralPermissionError as error:
            raise PermissionDenied(str(error)) from None
        except pathway_service.PathwayInvalid as error:
            raise serializers.ValidationError({k: [v] for k, v in error.errors.items()}) from None
        except ReferralError as error:
            raise serializers.ValidationError({error.field or "non_field_errors": [str(error)]}) from None

    def create(self, request: Request) -> Response:
        body = PathwayWriteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        managed = scope_for(request.user).organisations(Permission.MANAGE_PATHWAYS)
        wanted = body.validated_data.get("organisation")
        if wanted is None and len(managed) == 1:
            wanted = next(iter(managed))
        if wanted is None or wanted not in managed:
            raise serializers.ValidationError(
                {"organisation": [_("Choose an organisation whose pathways you manage.")]}
            )
        pathway = self._save(None, body, organisation=Organisation.objects.get(pk=wanted))
        return Response(
            PathwaySerializer(self.get_queryset().get(pk=pathway.pk)).data, status=status.HTTP_201_CREATED
        )

    def partial_update(self, request: Request, pk: str) -> Response:
        pathway = self.get_object()
        body = PathwayWriteSerializer(data=request.data, partial=True, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        if "organisation" in body.validated_data:
            raise serializers.ValidationError({"organisation": [_("A pathway stays with its organisation.")]})
        self._save(pathway, body)
        return Response(PathwaySerializer(self.get_queryset().get(pk=pathway.pk)).data)
