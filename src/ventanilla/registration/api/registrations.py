"""Registering a person with a filled form, and reading registrations (de-identified, with the
person's reference). `services.register` is the one path: the web form, OpenRosa and this endpoint
validate, ask consent, screen and look for duplicates the same way."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.api.errors import ERROR_RESPONSES, ErrorSerializer, conflict
from ventanilla.questionnaires.models import Source
from ventanilla.questionnaires.services import InvalidSubmission
from ventanilla.registration import services
from ventanilla.registration.api.common import PERSONAL, flag_view, reader_language
from ventanilla.registration.api.serializers import (
    RegisteredDuplicateSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    RegistrationDetailSerializer,
    RegistrationQuerySerializer,
    RegistrationSerializer,
)
from ventanilla.registration.models import Registration


def invalid_answers(errors: dict[str, str]) -> Response:
    """400 naming each question (`age_estimate`, `leg[2].leg_left`), messages in the form's language."""
    return Response(
        {
            "error": {
                "code": "invalid_answers",
                "message": _("Some answers are not accepted by the form."),
                "fields": {key: [message] for key, message in errors.items()},
            }
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


@extend_schema_view(
    list=extend_schema(
        summary="Registrations at your sites (de-identified facts and the person's reference)",
        parameters=[RegistrationQuerySerializer],
        responses={200: RegistrationSerializer(many=True), **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One registration, with its journey (the read is audited)",
        responses={200: RegistrationDetailSerializer, **ERROR_RESPONSES},
    ),
)
class RegistrationViewSet(viewsets.GenericViewSet):
    permission_classes = PERSONAL
    filter_backends: list[Any] = []
    lookup_value_regex = r"[0-9]+"

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        classes: dict[str, type[serializers.BaseSerializer]] = {
            "create": RegisterSerializer,
            "retrieve": RegistrationDetailSerializer,
        }
        return classes.get(self.action or "", RegistrationSerializer)

    def get_queryset(self) -> QuerySet[Registration]:
        return (
            Registration.objects.visible_to(self.request.user)
            .select_related("person")
            .prefetch_related("flags")
            .order_by("-registered_at", "-pk")
        )

    def list(self, request: Request) -> Response:
        query = RegistrationQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        rows = self.get_queryset()
        if "site" in filters:
            rows = rows.filter(site_id=filters["site"])
        if "person" in filters:
            rows = rows.filter(person__reference=filters["person"].strip().upper())
        if "registered_after" in filters:
            rows = rows.filter(registered_at__date__gte=filters["registered_after"])
        if "registered_before" in filters:
            rows = rows.filter(registered_at__date__lte=filters["registered_before"])
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(RegistrationSerializer(page, many=True).data)

    def retrieve(self, request: Request, pk: str) -> Response:
        registration = Registration.objects.get_for(request.user, pk, purpose="api")
        registration = self.get_queryset().prefetch_related("legs").get(pk=registration.pk)
        return Response(RegistrationDetailSerializer(registration).data)

    @extend_schema(
        summary="Register a person with a filled registration form",
        description=(
            "Runs every rule of the form, then consent decides what is stored: the person (201, "
            '`stored: "personal"`), only an anonymous statistical record (201, `"anonymous"`) or nothing '
            '(200, `"nothing"`). Flags come with their reasons in words, duplicates with reason codes. '
            "Answers the form refuses are a 400 with code `invalid_answers` whose `fields` are question "
            "keys (`age_estimate`, `leg[2].leg_left`), messages in `language` (else Accept-Language). "
            "A form instance received before (`instance_id` or the answers' `instanceID`) is a 409."
        ),
        request=RegisterSerializer,
        responses={
            201: RegisteredSerializer,
            200: RegisteredSerializer,
            409: ErrorSerializer,
            **ERROR_RESPONSES,
        },
    )
    def create(self, request: Request) -> Response:
        asked = request.data.get("language") if hasattr(request.data, "get") else None
        language = reader_language(asked if isinstance(asked, str) else None)
        with translation.override(language):
            return self._register(request, language)

    def _register(self, request: Request, language: str) -> Response:
        write = RegisterSerializer(data=request.data, context={"request": request})
        write.is_valid(raise_exception=True)
        data = write.validated_data
        site = data["site"]
        try:
            outcome = services.register(
                data["form_version"],
                data["answers"],
                organisation=site.organisation,
                site=site,
                by=request.user,  # type: ignore[arg-type]
                language=language,
                source=Source.API,
                instance_id=data.get("instance_id") or None,
                together_with=data["together_with"],
                relationship=data.get("relationship", ""),
            )
        except InvalidSubmission as error:
            return invalid_answers(error.errors)
        except services.AlreadyReceived:
            return conflict(_("This form was already received: it is not registered twice."))
        except services.RegistrationPermissionError as error:
            raise PermissionDenied(str(error)) from None
        except ValueError as error:  # linking to `together_with`
            raise serializers.ValidationError({"together_with": [str(error)]}) from None
        answer = {
            "stored": outcome.stored,
            "reference": outcome.person.reference if outcome.person else None,
            "registration": outcome.registration.pk if outcome.registration else None,
            "flags": [flag_view(flag, language) for flag in outcome.flags],
            "duplicates": RegisteredDuplicateSerializer(outcome.duplicates, many=True).data,
        }
        created = outcome.stored != "nothing"
        return Response(answer, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
