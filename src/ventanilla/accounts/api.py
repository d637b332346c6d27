"""API for organisations, sites and memberships — every queryset through the scoping layer."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts import services
from ventanilla.accounts.models import Membership, Organisation, Site
from ventanilla.core.roles import Permission, Role
from ventanilla.core.scoping import scope_for


class OrganisationSerializer(serializers.ModelSerializer):
    country: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="pcode", read_only=True
    )

    class Meta:
        model = Organisation
        fields = ["id", "name", "short_name", "kind", "country", "is_active"]


class ScopedRelationsMixin:
    """Related ids are looked up among what the caller may see, so another organisation's id reads
    as nonexistent (no probing), and the browsable API lists nothing foreign."""

    scoped_relations: dict[str, type[Any]] = {}

    def get_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = super().get_fields()  # type: ignore[misc]
        user = self.context["request"].user if "request" in self.context else None  # type: ignore[attr-defined]
        for name, model in self.scoped_relations.items():
            field = fields[name]
            target = field.child_relation if isinstance(field, serializers.ManyRelatedField) else field
            target.queryset = model.objects.visible_to(user)
        return fields


class SiteSerializer(ScopedRelationsMixin, serializers.ModelSerializer):
    area = serializers.SlugRelatedField(
        slug_field="pcode",
        queryset=Site._meta.get_field("area").related_model.objects.all(),  # type: ignore[union-attr]
        required=False,
        allow_null=True,
    )
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())
    scoped_relations = {"organisation": Organisation}

    class Meta:
        model = Site
        fields = [
            "id",
            "organisation",
            "name",
            "kind",
            "area",
            "latitude",
            "longitude",
            "time_zone",
            "is_active",
        ]

    def validate_organisation(self, value: Organisation) -> Organisation:
        user = self.context["request"].user
        if value.pk not in scope_for(user).organisations(Permission.MANAGE_SITES):
            raise serializers.ValidationError(_("You cannot manage sites of this organisation."))
        return value


class ScopedViewSetMixin:
    """Every viewset reads through `visible_to(request.user)`; nothing else is reachable."""

    model: Any

    def get_queryset(self) -> QuerySet[Any]:
        return self.model.objects.visible_to(self.request.user)  # type: ignore[attr-defined]


class MayWrite(permissions.BasePermission):
    """Writes need the viewset's `write_permission`: anywhere to create, in the object's organisation to edit.

    Checked before the body is validated, so a user who may not write learns nothing from field errors
    (which usernames or site ids exist), and the browsable API shows them no form listing them.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return True
        return bool(scope_for(request.user).organisations(view.write_permission))

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        return obj.organisation_id in scope_for(request.user).organisations(view.write_permission)


WRITE_PERMISSIONS = [permissions.IsAuthenticated, MayWrite]


class OrganisationViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    model = Organisation
    serializer_class = OrganisationSerializer
    filterset_fields = ["kind", "is_active"]

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("country")


class SiteViewSet(
    ScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    model = Site
    serializer_class = SiteSerializer
    filterset_fields = ["organisation", "kind", "is_active"]
    permission_classes = WRITE_PERMISSIONS
    write_permission = Permission.MANAGE_SITES

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("area")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        site = Site(**serializer.validated_data)
        serializer.instance = services.save_site(site, by=self.request.user)  # type: ignore[arg-type]

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        site: Site = serializer.instance  # type: ignore[assignment]
        if site.organisation_id not in scope_for(self.request.user).organisations(Permission.MANAGE_SITES):
            raise PermissionDenied
        data = dict(serializer.validated_data)
        if data.get("organisation", site.organisation) != site.organisation:
            raise ApiValidationError({"organisation": [_("A site cannot move to another organisation.")]})
        for key, value in data.items():
            setattr(site, key, value)
        services.save_site(site, by=self.request.user, changed=data.keys())  # type: ignore[arg-type]


class MembershipSerializer(ScopedRelationsMixin, serializers.ModelSerializer):
    # A plain username, resolved among the organisation's own members in validate(): a related field
    # would answer differently for usernames that exist elsewhere, letting callers probe them.
    user = serializers.CharField(source="user.username")
    organisation = serializers.PrimaryKeyRelatedField(queryset=Organisation.objects.none())
    role = serializers.ChoiceField(choices=Role.choices)
    sites = serializers.PrimaryKeyRelatedField(many=True, queryset=Site.objects.none(), required=False)
    scoped_relations = {"organisation": Organisation, "sites": Site}

    class Meta:
        model = Membership
        fields = ["id", "user", "organisation", "role", "sites", "is_active"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        organisation = attrs.get("organisation") or getattr(self.instance, "organisation", None)
        request_user = self.context["request"].user
        if organisation is None or organisation.pk not in scope_for(request_user).organisations(
            Permission.MANAGE_MEMBERS
        ):
            raise ApiValidationError({"organisation": [_("You cannot manage members of this organisation.")]})
        if (
            self.instance is not None
            and attrs.get("organisation", organisation) != self.instance.organisation
        ):
            raise ApiValidationError(
                {"organisation": [_("A membership cannot move to another organisation.")]}
            )
        username = attrs.pop("user", {}).get("username")
        if self.instance is not None:
            if username is not None and username != self.instance.user.username:
                raise ApiValidationError({"user": [_("A membership cannot move to another user.")]})
        else:
            user = services.members_of(organisation).filter(username=username).first()
            if user is None:
                raise ApiValidationError({"user": [_("No member of this organisation has this username.")]})
            attrs["user"] = user
        bad = [s.pk for s in attrs.get("sites", []) if s.organisation_id != organisation.pk]
        if bad:
            raise ApiValidationError(
                {"sites": [_("Site %(pk)s does not belong to this organisation.") % {"pk": pk} for pk in bad]}
            )
        return attrs


class MembershipViewSet(
    ScopedViewSetMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.ReadOnlyModelViewSet,
):
    """Administrators manage their organisation's memberships; everyone else sees their own."""

    model = Membership
    serializer_class = MembershipSerializer
    filterset_fields = ["organisation", "role", "is_active"]
    permission_classes = WRITE_PERMISSIONS
    write_permission = Permission.MANAGE_MEMBERS

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("user", "organisation").prefetch_related("sites")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        serializer.instance = services.grant_membership(
            user=data["user"],
            organisation=data["organisation"],
            role=data["role"],
            sites=data.get("sites", []),
            by=self.request.user,  # type: ignore[arg-type]
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = services.change_membership(
                serializer.instance,  # type: ignore[arg-type]
                by=self.request.user,  # type: ignore[arg-type]
                role=data.get("role"),
                sites=data.get("sites"),
                is_active=data.get("is_active"),
            )
        except services.AccessDenied:
            raise PermissionDenied from None
        except ValueError as error:
            raise ApiValidationError({"non_field_errors": [str(error)]}) from None


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    preferred_language = serializers.CharField()
    roles = serializers.ListField(child=serializers.DictField())


@extend_schema(responses=MeSerializer)
class MeViewSet(viewsets.ViewSet):
    """Who am I and what may I do: lets API clients adapt to the caller's roles."""

    def list(self, request: Request) -> Response:
        scope = scope_for(request.user)
        roles = [
            {"organisation": g.organisation_id, "role": g.role, "sites": sorted(g.site_ids)}
            for g in scope.grants
        ]
        user = request.user
        return Response(
            {
                "username": user.get_username(),
                "preferred_language": getattr(user, "preferred_language", "en"),
                "roles": roles,
            }
        )
