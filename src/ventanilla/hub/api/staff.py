"""Hub content for staff: content managers of the organisation keeping an item create it, write each
language, send it for review, publish it or send it back, and record a verification — all through
`hub.services`, which keeps the history and the audit. Items of other organisations do not exist here.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts.models import Organisation
from ventanilla.api.errors import ERROR_RESPONSES, ErrorSerializer, conflict
from ventanilla.areas.models import AdministrativeArea
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory.models import ServiceCategory
from ventanilla.hub import services
from ventanilla.hub.models import (
    ContentItem,
    ContentKind,
    ContentTranslation,
    Sensitivity,
    Severity,
)

ERRORS = ERROR_RESPONSES


def _managed(request: Request) -> set[int]:
    """Organisations whose content the caller manages."""
    return scope_for(request.user).organisations(Permission.MANAGE_CONTENT)


class ManagesContent(permissions.BasePermission):
    """Creating needs manage_content somewhere; items are looked up among those the caller manages, so
    another organisation's item (or any item, for a role without manage_content) is a 404."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return view.action != "create" or bool(_managed(request))


class TranslationStateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ContentTranslation
        fields = [
            "language",
            "status",
            "title",
            "revision",
            "is_outdated",
            "published_revision",
            "published_at",
            "updated_at",
        ]


class ContentItemSerializer(serializers.ModelSerializer):
    owner = serializers.IntegerField(source="owner_id", help_text="The organisation that keeps the item.")
    categories: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", many=True, read_only=True
    )
    areas: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="pcode", many=True, read_only=True
    )
    is_stale = serializers.SerializerMethodField(help_text="Not verified within DIRECTORY_STALE_DAYS.")
    translations = TranslationStateSerializer(many=True, source="translations.all")

    class Meta:
        model = ContentItem
        fields = [
            "key",
            "kind",
            "owner",
            "sensitivity",
            "source_language",
            "severity",
            "valid_from",
            "valid_to",
            "categories",
            "areas",
            "last_verified_at",
            "is_stale",
            "created_at",
            "translations",
        ]

    def get_is_stale(self, item: ContentItem) -> bool:
        limit = timezone.now() - datetime.timedelta(days=settings.DIRECTORY_STALE_DAYS)
        return item.last_verified_at is None or item.last_verified_at < limit


class ContentItemWriteSerializer(serializers.Serializer):
    owner = serializers.IntegerField(
        help_text="The organisation that keeps the item (you manage its content)."
    )
    key = serializers.SlugField(max_length=100, help_text="Stable, in URLs: how-to-ask-for-asylum.")
    kind = serializers.ChoiceField(choices=ContentKind.choices)
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, default=Sensitivity.PUBLIC)
    source_language = serializers.ChoiceField(choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, allow_blank=True, default="")
    valid_from = serializers.DateTimeField(required=False, allow_null=True, default=None)
    valid_to = serializers.DateTimeField(required=False, allow_null=True, default=None)

    def validate_owner(self, value: int) -> Organisation:
        if value not in _managed(self.context["request"]):
            raise serializers.ValidationError(_("You do not manage content for this organisation."))
        return Organisation.objects.get(pk=value)


class ContentItemSettingsSerializer(serializers.Serializer):
    """PATCH: only the settings given change. Key, kind, owner and source language are fixed."""

    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False, allow_blank=True)
    valid_from = serializers.DateTimeField(required=False, allow_null=True)
    valid_to = serializers.DateTimeField(required=False, allow_null=True)
    categories = serializers.SlugRelatedField(
        slug_field="code",
        queryset=ServiceCategory.objects.all(),
        many=True,
        required=False,
        help_text="Related service categories by code; the list replaces the current one.",
    )
    areas = serializers.SlugRelatedField(
        slug_field="pcode",
        queryset=AdministrativeArea.objects.all(),
        many=True,
        required=False,
        help_text="Areas concerned by P-code; the list replaces the current one.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: _("This setting cannot be changed here.") for name in unknown}
            )
        return attrs


class TranslationSerializer(serializers.ModelSerializer):
    """The words in one language as last saved (a draft may differ from what the public sees)."""

    steps = serializers.ListField(child=serializers.CharField(), help_text="Numbered steps, in order.")

    class Meta:
        model = ContentTranslation
        fields = [
            "language",
            "status",
            "revision",
            "source_revision",
            "is_outdated",
            "title",
            "summary",
            "body",
            "steps",
            "documents",
            "fees",
            "where",
            "duration",
            "published_revision",
            "published_source_revision",
            "published_at",
            "updated_at",
        ]


class TranslationWriteSerializer(serializers.Serializer):
    """PUT replaces the words: a field left out is emptied. Saving makes (or keeps) it a draft."""

    title = serializers.CharField(max_length=200)
    summary = serializers.CharField(allow_blank=True, required=False, default="")
    body = serializers.CharField(allow_blank=True, required=False, default="")
    steps = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    documents = serializers.CharField(allow_blank=True, required=False, default="")
    fees = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")
    where = serializers.CharField(allow_blank=True, required=False, default="")
    duration = serializers.CharField(max_length=200, allow_blank=True, required=False, default="")


class SendBackSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300, help_text="What needs to change.")


LANGUAGE_PATH = OpenApiParameter(
    "language", OpenApiTypes.STR, OpenApiParameter.PATH, enum=[code for code, _name in settings.LANGUAGES]
)
TRANSLATION = r"translations/(?P<language>[a-z]{2,8})"
TRANSLATION_RESPONSES: dict[int, Any] = {200: TranslationSerializer, 409: ErrorSerializer, **ERRORS}


@extend_schema_view(
    list=extend_schema(summary="Content items you manage, with the state of each translation"),
    retrieve=extend_schema(
        summary="One content item you manage", responses={200: ContentItemSerializer, **ERRORS}
    ),
    create=extend_schema(
        summary="Create a content item (then write its words)",
        request=ContentItemWriteSerializer,
        responses={201: ContentItemSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change an item's settings",
        description="Making an item sensitive takes every published language offline.",
        request=ContentItemSettingsSerializer,
        responses={200: ContentItemSerializer, **ERRORS},
    ),
)
class ContentItemViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = ContentItemSerializer
    permission_classes = [permissions.IsAuthenticated, ManagesContent]
    filter_backends: list[Any] = []
    lookup_field = "key"

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        """What each action reads or answers (the browsable API builds its forms from it)."""
        classes: dict[str, type[serializers.BaseSerializer]] = {
            "create": ContentItemWriteSerializer,
            "partial_update": ContentItemSettingsSerializer,
            "translation": TranslationSerializer,
            "submit": TranslationSerializer,
            "publish": TranslationSerializer,
            "send_back": SendBackSerializer,
        }
        return classes.get(self.action or "", ContentItemSerializer)

    def get_queryset(self) -> QuerySet[ContentItem]:
        """Through visible_to, then only the caller's own organisations: drafts and history are theirs."""
        return (
            ContentItem.objects.visible_to(self.request.user)
            .filter(owner_id__in=_managed(self.request))
            .prefetch_related("translations", "categories", "areas")
            .order_by("kind", "key")
        )

    def create(self, request: Request) -> Response:
        write = ContentItemWriteSerializer(data=request.data, context={"request": request})
        write.is_valid(raise_exception=True)
        try:
            item = services.create_item(by=request.user, **write.validated_data)  # type: ignore[arg-type]
        except services.ContentPermissionError as error:
            raise PermissionDenied(str(error)) from None
        item = self.get_queryset().get(pk=item.pk)
        return Response(ContentItemSerializer(item).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, key: str) -> Response:
        item: ContentItem = self.get_object()
        write = ContentItemSettingsSerializer(data=request.data, partial=True)
        write.is_valid(raise_exception=True)
        try:
            services.update_item(item, by=request.user, **write.validated_data)  # type: ignore[arg-type]
        except services.ContentPermissionError as error:
            raise PermissionDenied(str(error)) from None
        return Response(ContentItemSerializer(self.get_queryset().get(pk=item.pk)).data)

    def _translation(self, language: str) -> ContentTranslation:
        translation = ContentTranslation.objects.filter(item=self.get_object(), language=language).first()
        if translation is None:
            raise Http404
        return translation

    @extend_schema(
        methods=["GET"],
        summary="The words of an item in one language",
        parameters=[LANGUAGE_PATH],
        responses={200: TranslationSerializer, **ERRORS},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Write the words of an item in one language (saved as a draft)",
        parameters=[LANGUAGE_PATH],
        request=TranslationWriteSerializer,
        responses={200: TranslationSerializer, 201: TranslationSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "put"], url_path=TRANSLATION, url_name="translation")
    def translation(self, request: Request, key: str, language: str) -> Response:
        if request.method == "GET":
            return Response(TranslationSerializer(self._translation(language)).data)
        item: ContentItem = self.get_object()
        write = TranslationWriteSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        existed = ContentTranslation.objects.filter(item=item, language=language).exists()
        try:
            saved = services.save_translation(
                item,
                language=language,
                by=request.user,  # type: ignore[arg-type]
                **write.validated_data,
            )
        except services.ContentPermissionError as error:
            raise PermissionDenied(str(error)) from None
        return Response(
            TranslationSerializer(saved).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )

    def _step(self, language: str, step: Any, **arguments: Any) -> Response:
        translation = self._translation(language)
        try:
            done = step(translation, by=self.request.user, **arguments)
        except services.ContentPermissionError as error:
            raise PermissionDenied(str(error)) from None
        except services.WorkflowError as error:
            return conflict(str(error))
        return Response(TranslationSerializer(done).data)

    @extend_schema(
        summary="Send a draft translation for review",
        parameters=[LANGUAGE_PATH],
        request=None,
        responses=TRANSLATION_RESPONSES,
    )
    @action(detail=True, methods=["post"], url_path=f"{TRANSLATION}/submit", url_name="translation-submit")
    def submit(self, request: Request, key: str, language: str) -> Response:
        return self._step(language, services.submit_for_review)

    @extend_schema(
        summary="Approve and publish a translation in review",
        description="A protection-critical item needs a reviewer other than the author (409 otherwise).",
        parameters=[LANGUAGE_PATH],
        request=None,
        responses=TRANSLATION_RESPONSES,
    )
    @action(detail=True, methods=["post"], url_path=f"{TRANSLATION}/publish", url_name="translation-publish")
    def publish(self, request: Request, key: str, language: str) -> Response:
        return self._step(language, services.publish)

    @extend_schema(
        summary="Send a translation in review back to its author, saying what to change",
        parameters=[LANGUAGE_PATH],
        request=SendBackSerializer,
        responses=TRANSLATION_RESPONSES,
    )
    @action(
        detail=True, methods=["post"], url_path=f"{TRANSLATION}/send-back", url_name="translation-send-back"
    )
    def send_back(self, request: Request, key: str, language: str) -> Response:
        note = SendBackSerializer(data=request.data)
        note.is_valid(raise_exception=True)
        return self._step(language, services.send_back, note=note.validated_data["note"])

    @extend_schema(
        summary="Record that the item was checked and is still right",
        request=None,
        responses={200: ContentItemSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, key: str) -> Response:
        item: ContentItem = self.get_object()
        try:
            services.verify_item(item, by=request.user)  # type: ignore[arg-type]
        except services.ContentPermissionError as error:
            raise PermissionDenied(str(error)) from None
        return Response(ContentItemSerializer(self.get_queryset().get(pk=item.pk)).data)
