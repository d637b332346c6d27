"""Public hub content: published articles (rights, procedures, FAQs) and current alerts.

No account needed, politely throttled, cacheable with ETag/Last-Modified; the words are in the reader's
language or, said so, in another one. Drafts and sensitive items are never here.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Max, Q, QuerySet
from django.http import Http404, HttpResponseBase
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, viewsets
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.api.caching import (
    CONDITIONAL_PARAMETERS,
    NOT_MODIFIED,
    Freshness,
    fingerprint,
    latest,
    not_modified,
    reader_language,
    stamp,
)
from ventanilla.api.errors import ErrorSerializer
from ventanilla.api.throttling import FixedWindowAnonThrottle
from ventanilla.directory.models import Category
from ventanilla.hub import services
from ventanilla.hub.models import (
    ContentItem,
    ContentKind,
    ContentTranslation,
    Severity,
)

ARTICLE_KINDS = [(kind.value, kind.label) for kind in ContentKind if kind != ContentKind.ALERT]


class PublicRateThrottle(FixedWindowAnonThrottle):
    """Anonymous callers share the `anon` rate; signed-in staff are never throttled."""


class ContentPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


# --- What the public reads ------------------------------------------------------------------------


@dataclass(frozen=True)
class ContentView:
    """An item as one reader sees it: the published words in their language, or in another one."""

    item: ContentItem
    text: services.PublicText
    published_at: datetime.datetime | None

    @classmethod
    def of(cls, item: ContentItem, language: str) -> ContentView | None:
        text = services.public_text(item, language)
        if text is None:
            return None
        shown = next(t for t in item.published_translations if t.language == text.language)  # type: ignore[attr-defined]
        return cls(item=item, text=text, published_at=shown.published_at)

    @property
    def languages(self) -> list[str]:
        return sorted(t.language for t in self.item.published_translations)  # type: ignore[attr-defined]

    def fingerprint(self) -> tuple[Any, ...]:
        """Everything the answer shows about the item, as ids, times and flags (cheap to hash)."""
        item = self.item
        return (
            item.pk,
            item.key,
            item.last_verified_at,
            item.severity,
            item.valid_from,
            item.valid_to,
            [c.code for c in item.categories.all()],
            [a.pcode for a in item.areas.all()],
            [
                (t.pk, t.language, t.published_revision, t.updated_at, t.published_source_revision)
                for t in item.published_translations  # type: ignore[attr-defined]
            ],
            self.text.language,
            self.text.is_fallback,
        )


def content_changed_at(kinds: list[str], at: datetime.datetime) -> datetime.datetime | None:
    """The latest change to any item of these kinds (created, verified, a translation saved or
    published) and, for alerts, the latest start or end of validity already passed: two queries."""
    items = ContentItem.objects.filter(kind__in=kinds).aggregate(
        created=Max("created_at"),
        verified=Max("last_verified_at"),
        started=Max("valid_from", filter=Q(valid_from__lte=at)),
        ended=Max("valid_to", filter=Q(valid_to__lte=at)),
    )
    words = ContentTranslation.objects.filter(item__kind__in=kinds).aggregate(saved=Max("updated_at"))
    return latest(items["created"], items["verified"], items["started"], items["ended"], words["saved"])


class ArticleSummarySerializer(serializers.Serializer):
    key = serializers.CharField(source="item.key")
    kind = serializers.ChoiceField(source="item.kind", choices=ContentKind.choices)
    categories = serializers.SerializerMethodField(help_text="Related service categories.")
    areas = serializers.SerializerMethodField(help_text="P-codes of the areas concerned.")
    languages = serializers.ListField(child=serializers.CharField(), help_text="Published languages.")
    last_verified_at = serializers.DateTimeField(source="item.last_verified_at", allow_null=True)
    published_at = serializers.DateTimeField(allow_null=True)
    text_language = serializers.CharField(source="text.language", help_text="The language of the words.")
    text_is_fallback = serializers.BooleanField(
        source="text.is_fallback", help_text="True: not available in the language asked for."
    )
    text_is_outdated = serializers.BooleanField(
        source="text.is_outdated", help_text="True: the source text changed since this translation."
    )
    title = serializers.CharField(source="text.words.title", default="")
    summary = serializers.CharField(source="text.words.summary", default="")

    def get_categories(self, view: ContentView) -> list[str]:
        return [category.code for category in view.item.categories.all()]

    def get_areas(self, view: ContentView) -> list[str]:
        return [area.pcode for area in view.item.areas.all()]


class ArticleSerializer(ArticleSummarySerializer):
    body = serializers.CharField(source="text.words.body", default="")
    steps = serializers.ListField(
        source="text.words.steps", child=serializers.CharField(), default=list, help_text="In order."
    )
    documents = serializers.CharField(source="text.words.documents", default="", help_text="To bring.")
    fees = serializers.CharField(source="text.words.fees", default="")
    where = serializers.CharField(source="text.words.where", default="", help_text="Where to go.")
    duration = serializers.CharField(source="text.words.duration", default="", help_text="How long.")


class AlertSerializer(ArticleSerializer):
    severity = serializers.ChoiceField(source="item.severity", choices=Severity.choices)
    valid_from = serializers.DateTimeField(source="item.valid_from", allow_null=True)
    valid_to = serializers.DateTimeField(source="item.valid_to", allow_null=True)


class LanguageQuerySerializer(serializers.Serializer):
    lang = serializers.ChoiceField(
        choices=settings.LANGUAGES, required=False, help_text="Language of the words (else Accept-Language)."
    )


class ArticleQuerySerializer(LanguageQuerySerializer):
    kind = serializers.ChoiceField(choices=ARTICLE_KINDS, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)


class PublicContentViewSet(viewsets.GenericViewSet):
    """Shared by articles and alerts: list and detail by key, with conditional GET."""

    kinds: list[str] = []
    detail_serializer: type[serializers.Serializer] = ArticleSerializer
    query_serializer: type[serializers.Serializer] = LanguageQuerySerializer
    permission_classes = [permissions.AllowAny]
    throttle_classes = [PublicRateThrottle]
    pagination_class = ContentPagination
    filter_backends: list[Any] = []
    lookup_field = "key"
    queryset = ContentItem.objects.none()  # only tells the schema what `key` is

    def items(self, at: datetime.datetime) -> QuerySet[ContentItem]:
        return services.public_items().filter(kind__in=self.kinds).order_by("kind", "key")

    def _filters(self) -> dict[str, Any]:
        query = self.query_serializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return dict(query.validated_data)

    def _answer(
        self, views: list[ContentView], data: Any, language: str, at: datetime.datetime, *, count: int
    ) -> HttpResponseBase:
        request = self.request
        freshness = Freshness(
            etag=fingerprint(
                self.basename,
                request.accepted_renderer.format,
                request.get_full_path(),
                language,
                count,
                [view.fingerprint() for view in views],
            ),
            last_modified=content_changed_at(self.kinds, at),
        )
        if (cached := not_modified(request, freshness)) is not None:
            return cached
        return stamp(data(), freshness)

    def list(self, request: Request) -> HttpResponseBase:
        filters = self._filters()
        language = reader_language(filters.get("lang"))
        now = timezone.now()
        items = self.items(now).prefetch_related("categories", "areas")
        if filters.get("kind"):
            items = items.filter(kind=filters["kind"])
        if filters.get("category"):
            items = items.filter(categories__code=filters["category"])
        page = self.paginate_queryset(items) or []
        views = [view for item in page if (view := ContentView.of(item, language)) is not None]
        serializer = self.get_serializer_class()
        return self._answer(
            views,
            lambda: self.get_paginated_response(serializer(views, many=True).data),
            language,
            now,
            count=self.paginator.count,  # type: ignore[union-attr]
        )

    def retrieve(self, request: Request, key: str) -> HttpResponseBase:
        filters = self._filters()
        language = reader_language(filters.get("lang"))
        now = timezone.now()
        item = self.items(now).prefetch_related("categories", "areas").filter(key=key).first()
        view = ContentView.of(item, language) if item is not None else None
        if view is None:
            raise Http404
        return self._answer(
            [view], lambda: Response(self.detail_serializer(view).data), language, now, count=1
        )


LIST_DESCRIPTION = (
    "Sends ETag and Last-Modified; answers 304 to If-None-Match/If-Modified-Since. Words are in the "
    "language asked for (`lang`, else Accept-Language) or, with `text_is_fallback`, in another one."
)


@extend_schema_view(
    list=extend_schema(
        summary="Published articles: rights, step-by-step procedures, FAQs",
        description=LIST_DESCRIPTION,
        parameters=[ArticleQuerySerializer, *CONDITIONAL_PARAMETERS],
        responses={200: ArticleSummarySerializer(many=True), 304: NOT_MODIFIED, 400: ErrorSerializer},
        auth=[],
    ),
    retrieve=extend_schema(
        summary="One published article",
        description=LIST_DESCRIPTION,
        parameters=[LanguageQuerySerializer, *CONDITIONAL_PARAMETERS],
        responses={200: ArticleSerializer, 304: NOT_MODIFIED, 400: ErrorSerializer, 404: ErrorSerializer},
        auth=[],
    ),
)
class ArticleViewSet(PublicContentViewSet):
    kinds = [kind for kind, _label in ARTICLE_KINDS]
    serializer_class = ArticleSummarySerializer
    detail_serializer = ArticleSerializer
    query_serializer = ArticleQuerySerializer


@extend_schema_view(
    list=extend_schema(
        summary="Current alerts (disasters, epidemics, route closures), newest first",
        description=LIST_DESCRIPTION,
        parameters=[LanguageQuerySerializer, *CONDITIONAL_PARAMETERS],
        responses={200: AlertSerializer(many=True), 304: NOT_MODIFIED, 400: ErrorSerializer},
        auth=[],
    ),
    retrieve=extend_schema(
        summary="One current alert",
        description=LIST_DESCRIPTION,
        parameters=[LanguageQuerySerializer, *CONDITIONAL_PARAMETERS],
        responses={200: AlertSerializer, 304: NOT_MODIFIED, 400: ErrorSerializer, 404: ErrorSerializer},
        auth=[],
    ),
)
class AlertViewSet(PublicContentViewSet):
    kinds = [ContentKind.ALERT.value]
    serializer_class = AlertSerializer
    detail_serializer = AlertSerializer

    def items(self, at: datetime.datetime) -> QuerySet[ContentItem]:
        return services.current_alerts(at)
