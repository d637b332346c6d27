"""Service points: the public search (the one the web pages use), one point, the compact dataset — all
with conditional GET — and the staff writes (create, change, publish, archive, verify)."""

from __future__ import annotations

import dataclasses
import datetime
from decimal import Decimal
from typing import Any, NamedTuple

from django.db.models import QuerySet, prefetch_related_objects
from django.http import Http404, HttpResponse, HttpResponseBase
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.text import compress_string
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.api.caching import (
    CONDITIONAL_PARAMETERS,
    NOT_MODIFIED,
    PRIVATE,
    PUBLIC,
    Freshness,
    fingerprint,
    latest,
    not_modified,
    reader_language,
    stamp,
)
from ventanilla.api.errors import ErrorSerializer
from ventanilla.directory import services
from ventanilla.directory.answer_cache import GZIP_MIN_BYTES, accepts_gzip, is_cacheable_request, kept_answer
from ventanilla.directory.api.common import ERRORS, STAFF, PublicRateThrottle
from ventanilla.directory.api.serializers import (
    POINT_RESPONSES,
    SCALARS,
    DatasetSerializer,
    LanguageQuerySerializer,
    PointQuerySerializer,
    PointView,
    ServicePointSerializer,
    ServicePointWriteSerializer,
)
from ventanilla.directory.dataset import compact_dataset, dataset_version
from ventanilla.directory.freshness import version
from ventanilla.directory.models import PublicationStatus, ServicePoint


class KeptAnswer(NamedTuple):
    """A search answer as kept in the cache: its validators and the rendered body, compressed once
    when the reader accepts gzip (the cache key says whether they do)."""

    freshness: Freshness
    body: bytes
    content_type: str
    gzipped: bool


def public_points_prefetched(queryset: QuerySet[ServicePoint]) -> QuerySet[ServicePoint]:
    return queryset.select_related("provider", "area").prefetch_related(
        "categories", "hours", "exceptions", "texts"
    )


class PointPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


def _coordinate(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(f"{value:.5f}")


@extend_schema_view(
    list=extend_schema(
        summary="Search service points",
        description=(
            "Published service points, filtered; with `near`, nearest first within `radius_km` and with "
            "`distance_km`. Sends ETag and Last-Modified; answers 304 to If-None-Match/If-Modified-Since."
        ),
        parameters=[PointQuerySerializer, *CONDITIONAL_PARAMETERS],
        responses={200: ServicePointSerializer(many=True), 304: NOT_MODIFIED, 400: ErrorSerializer},
        auth=[],
    ),
    retrieve=extend_schema(
        summary="One service point",
        description="Published points for everyone; drafts only for the staff keeping them.",
        parameters=[LanguageQuerySerializer, *CONDITIONAL_PARAMETERS],
        responses={200: ServicePointSerializer, 304: NOT_MODIFIED, **ERRORS},
    ),
    create=extend_schema(
        summary="Create a service point (as a draft)",
        request=ServicePointWriteSerializer,
        responses={201: ServicePointSerializer, **ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change a service point",
        request=ServicePointWriteSerializer,
        responses={200: ServicePointSerializer, **ERRORS},
    ),
)
class ServicePointViewSet(viewsets.GenericViewSet):
    serializer_class = ServicePointSerializer
    pagination_class = PointPagination
    filter_backends: list[Any] = []
    throttle_classes = [PublicRateThrottle]
    lookup_value_regex = r"[0-9]+"

    def get_permissions(self) -> list[Any]:
        if self.action in ("list", "retrieve", "dataset"):
            return [permissions.AllowAny()]
        return [permission() for permission in STAFF]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action in ("create", "partial_update"):
            return ServicePointWriteSerializer
        return ServicePointSerializer

    def get_queryset(self) -> QuerySet[ServicePoint]:
        """Published points for everyone; the drafts of the organisations the caller keeps, too."""
        user = self.request.user
        points = (
            ServicePoint.objects.visible_to(user) if user.is_authenticated else services.published_points()
        )
        return public_points_prefetched(points)

    def _language(self) -> str:
        query = LanguageQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return reader_language(query.validated_data.get("lang"))

    def _answer(self, point: ServicePoint, *, status_code: int = 200) -> Response:
        view = PointView.of(point, language=self._language(), at=timezone.now())
        return Response(ServicePointSerializer(view).data, status=status_code)

    def _reloaded(self, pk: int) -> ServicePoint:
        return public_points_prefetched(ServicePoint.objects.filter(pk=pk)).get()

    # -- public ---------------------------------------------------------------------------------------

    def list(self, request: Request) -> HttpResponseBase:
        """The search; anonymous JSON answers come from the cache when the same search was answered
        in the same minute at the same directory version (`directory.answer_cache`), with the same ETag and
        Last-Modified, so conditional GET works the same whether or not the answer was kept."""
        now = timezone.now()
        format_ = request.accepted_renderer.format
        if not (is_cacheable_request(request) and format_ == "json"):
            freshness_, data = self._search(request, now)
            if (cached := not_modified(request, freshness_)) is not None:
                return cached
            return stamp(Response(data), freshness_)

        def compute() -> tuple[KeptAnswer, bool]:
            freshness_, data = self._search(request, now)
            renderer = request.accepted_renderer
            body = renderer.render(data, request.accepted_media_type, self.get_renderer_context())
            gzipped = accepts_gzip(request) and len(body) > GZIP_MIN_BYTES
            answer = KeptAnswer(
                freshness_,
                compress_string(body) if gzipped else body,
                request.accepted_media_type or renderer.media_type,
                gzipped,
            )
            return answer, True

        kept: KeptAnswer = kept_answer(request, format_, at=now, directory_version=version(), compute=compute)
        validators = kept.freshness
        if kept.gzipped:
            # As Django's GZipMiddleware: the compressed body is another representation of the same
            # answer, so its ETag is weak (conditional GET compares ETags weakly: a 304 still matches).
            validators = dataclasses.replace(validators, etag="W/" + validators.etag)
        response = not_modified(request, validators) or stamp(
            HttpResponse(kept.body, content_type=kept.content_type), validators
        )
        patch_vary_headers(response, ("Accept-Encoding",))
        if kept.gzipped and response.status_code == 200:
            response["Content-Encoding"] = "gzip"
        return response

    def _search(self, request: Request, now: datetime.datetime) -> tuple[Freshness, Any]:
        """What the list answers at `now`, and the validators that identify it."""
        query = PointQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        language = reader_language(filters.get("lang"))
        paginator: PointPagination = self.paginator  # type: ignore[assignment]
        limit = paginator.get_limit(request) or paginator.default_limit
        offset = paginator.get_offset(request)
        found = services.search_points(
            services.SearchQuery(
                text=filters.get("q", "").strip(),
                category=filters.get("category", ""),
                language=filters.get("language", ""),
                area=filters.get("area", ""),
                open_now=filters["open_now"],
                near=filters.get("near"),
                radius_km=filters["radius_km"],
                limit=limit,
                offset=offset,
            ),
            at=now,
        )
        points = [result.point for result in found.results]
        _prefetch_texts(points)
        views = [
            PointView.of(r.point, language=language, at=now, state=r.state, distance_km=r.distance_km)
            for r in found.results
        ]
        # Membership of the list changes when any point changes (an archived one leaves it), and with
        # open_now=true when any candidate opens or closes: the minute is then the honest bound.
        freshness_ = Freshness(
            etag=fingerprint(
                "points",
                request.accepted_renderer.format,
                request.get_full_path(),
                language,
                found.total,
                [view.fingerprint() for view in views],
            ),
            last_modified=latest(
                dataset_version().last_modified,
                *(view.last_modified for view in views),
                now.replace(second=0, microsecond=0) if filters["open_now"] else None,
            ),
        )
        paginator.request, paginator.limit, paginator.offset, paginator.count = (
            request,
            limit,
            offset,
            found.total,
        )
        data = ServicePointSerializer(views, many=True).data
        return freshness_, paginator.get_paginated_response(data).data

    def retrieve(self, request: Request, pk: str) -> HttpResponseBase:
        point = self.get_queryset().filter(pk=pk).first()
        if point is None:
            raise Http404
        now = timezone.now()
        language = self._language()
        view = PointView.of(point, language=language, at=now)
        is_public = point.status == PublicationStatus.PUBLISHED and (
            point.provider.status == PublicationStatus.PUBLISHED
        )
        freshness = Freshness(
            etag=fingerprint("point", request.accepted_renderer.format, language, view.fingerprint()),
            last_modified=view.last_modified,
            cache_control=PUBLIC if is_public else PRIVATE,
        )
        if (cached := not_modified(request, freshness)) is not None:
            return cached
        return stamp(Response(ServicePointSerializer(view).data), freshness)

    @extend_schema(
        summary="The compact directory dataset",
        description=(
            "Every published point in a compact shape for offline apps, partner websites and the "
            "browser's own 'near me' (the position never leaves the phone). ETag and Last-Modified as "
            "for the other public endpoints."
        ),
        parameters=CONDITIONAL_PARAMETERS,
        responses={200: DatasetSerializer, 304: NOT_MODIFIED},
        auth=[],
    )
    @action(detail=False, methods=["get"])
    def dataset(self, request: Request) -> HttpResponseBase:
        version = dataset_version()
        format_ = request.accepted_renderer.format
        freshness = Freshness(
            etag=f'"{version.etag}"' if format_ == "json" else fingerprint(version.etag, format_),
            last_modified=version.last_modified,
        )
        if (cached := not_modified(request, freshness)) is not None:
            return cached
        return stamp(Response(compact_dataset()), freshness)

    # -- staff ----------------------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        write = ServicePointWriteSerializer(data=request.data, context={"request": request})
        write.is_valid(raise_exception=True)
        data = dict(write.validated_data)
        point = ServicePoint(owner_id=data.pop("owner"), provider=data.pop("provider"))
        point = self._save(point, data)
        return self._answer(self._reloaded(point.pk), status_code=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, pk: str) -> Response:
        point: ServicePoint = self.get_object()
        write = ServicePointWriteSerializer(data=request.data, partial=True, context={"request": request})
        write.is_valid(raise_exception=True)
        data = dict(write.validated_data)
        if "owner" in data:
            point.owner_id = data.pop("owner")
        if "provider" in data:
            point.provider = data.pop("provider")
        self._save(point, data, changed=write.validated_data.keys())
        return self._answer(self._reloaded(point.pk))

    def _save(self, point: ServicePoint, data: dict[str, Any], changed: Any = ()) -> ServicePoint:
        for name in SCALARS:
            if name in data:
                setattr(point, name, data[name])
        for name in ("latitude", "longitude"):
            if name in data:
                setattr(point, name, _coordinate(data[name]))
        hours = data.get("hours")
        try:
            return services.save_point(
                point,
                by=self.request.user,  # type: ignore[arg-type]
                categories=data.get("categories"),
                texts=data.get("texts"),
                hours=None if hours is None else [services.WeeklyPeriod(**period) for period in hours],
                exceptions=data.get("exceptions"),
                changed=[
                    name for name in changed if name not in ("categories", "texts", "hours", "exceptions")
                ],
            )
        except services.DirectoryPermissionError as error:
            raise PermissionDenied(str(error)) from None

    def _set_status(self, new_status: str) -> Response:
        point: ServicePoint = self.get_object()
        try:
            services.set_point_status(point, status=new_status, by=self.request.user)  # type: ignore[arg-type]
        except services.DirectoryPermissionError as error:
            raise PermissionDenied(str(error)) from None
        return self._answer(self._reloaded(point.pk))

    @extend_schema(summary="Publish a service point", request=None, responses=POINT_RESPONSES)
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str) -> Response:
        return self._set_status(PublicationStatus.PUBLISHED)

    @extend_schema(summary="Archive (unpublish) a service point", request=None, responses=POINT_RESPONSES)
    @action(detail=True, methods=["post"])
    def archive(self, request: Request, pk: str) -> Response:
        return self._set_status(PublicationStatus.ARCHIVED)

    @extend_schema(
        summary="Record that the point was checked (by phone or visit) and still works as described",
        request=None,
        responses=POINT_RESPONSES,
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str) -> Response:
        point: ServicePoint = self.get_object()
        try:
            services.verify_point(point, by=request.user)  # type: ignore[arg-type]
        except services.DirectoryPermissionError as error:
            raise PermissionDenied(str(error)) from None
        return self._answer(self._reloaded(point.pk))


def _prefetch_texts(points: list[ServicePoint]) -> None:
    """The search prefetches what the results page needs; the API shows the words too (one query)."""
    prefetch_related_objects(points, "texts")
