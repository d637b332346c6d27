"""People: the scoped list with search, one person (every read audited), their consents, flags and
possible duplicates, and the caseworker's decisions (withdraw a consent, merge, not the same, undo,
erase), each through the registration service that checks and audits it.

What is audited: opening a person, or any of their sub-lists, is one READ entry for that person (through
`get_for`). The list shows names, so a list call that shows anyone is also a READ: one entry per
organisation on the page, with the count and the ids shown (never the search words). Writes are audited
by the services; their lookups do not add a READ.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts.models import User
from ventanilla.api.errors import ERROR_RESPONSES, ErrorSerializer, conflict
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.registration import matching, services
from ventanilla.registration.api.common import PERSONAL, SEVERITY_RANK, flag_view, reader_language
from ventanilla.registration.api.serializers import (
    REFERENCE,
    ConsentSerializer,
    DuplicateSerializer,
    ErasedSerializer,
    EraseSerializer,
    FlagSerializer,
    LanguageQuerySerializer,
    PersonListSerializer,
    PersonQuerySerializer,
    PersonSerializer,
)
from ventanilla.registration.models import (
    Consent,
    DuplicateCandidate,
    Flag,
    Person,
    PersonLink,
    Registration,
)

PHONE = r"^\+?[0-9][0-9 ()./-]{5,}$"
# Columns the list never needs: left encrypted in the database, not decrypted for a page of names.
NOT_LISTED = ("other_names", "phone", "documents")


def search_kind(text: str) -> str:
    """What the search box holds: a reference, a phone number or a name."""
    if REFERENCE.match(text.upper()):
        return "reference"
    if re.match(PHONE, text):
        return "phone"
    return "name"


def name_keys(text: str) -> set[str]:
    """Match keys for a name typed in the search box: one word as a given or a family name; several as
    given + family names in either order. Spelling and script do not matter (see `matching`)."""
    words = text.split()
    if len(words) == 1:
        return matching.match_keys(matching.Identity(given_name=words[0]), years=[], search_names=True) | (
            matching.match_keys(matching.Identity(family_name=words[0]), years=[], search_names=True)
        )
    given, family = words[0], " ".join(words[1:])
    keys = matching.match_keys(matching.Identity(given_name=given, family_name=family), years=[])
    keys |= matching.match_keys(
        matching.Identity(given_name=words[-1], family_name=" ".join(words[:-1])), years=[]
    )
    return keys


def search(people: QuerySet[Person], text: str) -> QuerySet[Person]:
    kind = search_kind(text)
    if kind == "reference":
        return people.filter(reference=text.upper())
    if kind == "phone":
        field: Any = Person._meta.get_field("phone_index")
        return people.filter(phone_index=field.lookup_value(text))
    return people.filter(match_keys__key__in=name_keys(text)).distinct()


def _may_edit(user: Any, person: Person) -> bool:
    condition = scope_for(user).site_q(
        Permission.EDIT_PERSONAL_DATA, organisation="organisation", site="site"
    )
    return Person.objects.filter(condition, pk=person.pk).exists()


OPEN_FLAGS = Prefetch(
    "flags", queryset=Flag.objects.filter(dismissed_at__isnull=True).only("person_id", "code", "dismissed_at")
)
REFERENCE_PATH = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="VT-XXXX-XXXX"
)


def _id_path(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(name, OpenApiTypes.INT, OpenApiParameter.PATH, description=what)


CONSENT_PATH = _id_path("consent_pk", "Consent id.")
DUPLICATE_PATH = _id_path("duplicate_pk", "Duplicate candidate id.")
DECISION_RESPONSES: dict[int, Any] = {200: DuplicateSerializer, 409: ErrorSerializer, **ERROR_RESPONSES}


@extend_schema_view(
    list=extend_schema(
        summary="People registered at your sites",
        description=(
            "Search with `q`: a reference, a phone number (matched by its keyed hash) or a name in any "
            "spelling or script (matched by keyed name skeletons). Merged records are reached through "
            "the person they were merged into. Listing shows names, so each call that shows anyone is "
            "audited once (the count and the ids shown)."
        ),
        parameters=[PersonQuerySerializer],
        responses={200: PersonListSerializer(many=True), **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One person (the read is audited)",
        parameters=[REFERENCE_PATH],
        responses={200: PersonSerializer, **ERROR_RESPONSES},
    ),
)
class PersonViewSet(viewsets.GenericViewSet):
    permission_classes = PERSONAL
    filter_backends: list[Any] = []
    lookup_field = "reference"
    lookup_value_regex = r"VT-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}"

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        classes: dict[str, type[serializers.BaseSerializer]] = {
            "list": PersonListSerializer,
            "consents": ConsentSerializer,
            "withdraw_consent": ConsentSerializer,
            "flags": FlagSerializer,
            "erase": EraseSerializer,
        }
        return classes.get(
            self.action or "", DuplicateSerializer if "dupl" in (self.action or "") else PersonSerializer
        )

    def get_queryset(self) -> QuerySet[Person]:
        return Person.objects.visible_to(self.request.user)

    def _user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def _person(self, reference: str, *, purpose: str | None) -> Person:
        """The person by reference among those the caller sees (404 otherwise); audited with `purpose`."""
        pk = self.get_queryset().filter(reference=reference.upper()).values_list("pk", flat=True).first()
        if pk is None:
            raise Http404
        if purpose is None:
            return self.get_queryset().get(pk=pk)
        return Person.objects.get_for(self.request.user, pk, purpose=purpose)

    def _editable(self, reference: str) -> Person:
        person = self._person(reference, purpose=None)
        if not _may_edit(self.request.user, person):
            raise PermissionDenied(_("You cannot change this record."))
        return person

    # -- reading ----------------------------------------------------------------------------------------

    def list(self, request: Request) -> Response:
        query = PersonQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        people = services.people(request.user).defer(*NOT_LISTED).prefetch_related(OPEN_FLAGS)
        text = (filters.get("q") or "").strip()
        if text:
            people = search(people, text)
        if "site" in filters:
            people = people.filter(site_id=filters["site"])
        if "registered_after" in filters:
            people = people.filter(registered_at__date__gte=filters["registered_after"])
        if "registered_before" in filters:
            people = people.filter(registered_at__date__lte=filters["registered_before"])
        if filters.get("flag"):
            people = people.filter(flags__code=filters["flag"], flags__dismissed_at__isnull=True).distinct()
        if filters.get("has_flags") is not None:
            with_flags = Flag.objects.filter(dismissed_at__isnull=True).values("person_id")
            people = (
                people.filter(pk__in=with_flags)
                if filters["has_flags"]
                else people.exclude(pk__in=with_flags)
            )
        page = list(self.paginate_queryset(people.order_by("-registered_at", "-pk")) or [])
        shown: dict[int, list[int]] = defaultdict(list)
        for person in page:
            shown[person.organisation_id].append(person.pk)
        for organisation_id, ids in shown.items():
            audit.record(
                AuditAction.READ,
                by=request.user,
                object_type="registration.person",
                organisation_id=organisation_id,
                detail={
                    "purpose": "list",
                    "count": len(ids),
                    "ids": ids,
                    "search": search_kind(text) if text else "",
                },
            )
        return self.get_paginated_response(PersonListSerializer(page, many=True).data)

    def retrieve(self, request: Request, reference: str) -> Response:
        person = self._person(reference, purpose="api")
        person = (
            Person.objects.filter(pk=person.pk)
            .select_related("merged_into")
            .prefetch_related(
                OPEN_FLAGS,
                Prefetch("registrations", queryset=Registration.objects.order_by("-registered_at")),
                Prefetch("links", queryset=PersonLink.objects.select_related("other")),
            )
            .get()
        )
        return Response(PersonSerializer(person).data)

    @extend_schema(
        summary="A person's consents, per purpose (the read is audited)",
        parameters=[REFERENCE_PATH],
        responses={200: ConsentSerializer(many=True), **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def consents(self, request: Request, reference: str) -> Response:
        person = self._person(reference, purpose="consents")
        rows = (
            Consent.objects.visible_to(request.user).filter(person=person).order_by("-recorded_at", "purpose")
        )
        return Response(ConsentSerializer(rows, many=True).data)

    @extend_schema(
        summary="A person's flags, with the answers that raised them in words (the read is audited)",
        parameters=[REFERENCE_PATH, LanguageQuerySerializer],
        responses={200: FlagSerializer(many=True), **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def flags(self, request: Request, reference: str) -> Response:
        query = LanguageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        language = reader_language(query.validated_data.get("lang"))
        person = self._person(reference, purpose="flags")
        rows = (
            Flag.objects.visible_to(request.user)
            .filter(person=person)
            .select_related("registration__form_version")
            .annotate(rank=SEVERITY_RANK)
            .order_by("rank", "-created_at", "pk")
        )
        return Response(FlagSerializer([flag_view(flag, language) for flag in rows], many=True).data)

    @extend_schema(
        summary="Possible duplicates of a person, either way (the read is audited)",
        parameters=[REFERENCE_PATH],
        responses={200: DuplicateSerializer(many=True), **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def duplicates(self, request: Request, reference: str) -> Response:
        person = self._person(reference, purpose="duplicates")
        return Response(DuplicateSerializer(self._candidates(person), many=True).data)

    def _candidates(self, person: Person) -> QuerySet[DuplicateCandidate]:
        return (
            DuplicateCandidate.objects.visible_to(self.request.user)
            .filter(Q(person=person) | Q(candidate=person))
            .select_related("person", "candidate")
            .order_by("-score", "pk")
        )

    # -- deciding -----------------------------------------------------------------------------------------

    @extend_schema(
        summary="Withdraw a consent",
        description=(
            "Withdrawing consent to registration erases the person's personal data (the de-identified "
            "record stays); withdrawing statistics removes the statistical answers. Withdrawing again "
            "changes nothing."
        ),
        parameters=[REFERENCE_PATH, CONSENT_PATH],
        request=None,
        responses={200: ConsentSerializer, **ERROR_RESPONSES},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"consents/(?P<consent_pk>[0-9]+)/withdraw",
        url_name="withdraw-consent",
    )
    def withdraw_consent(self, request: Request, reference: str, consent_pk: str) -> Response:
        person = self._editable(reference)
        consent = Consent.objects.visible_to(request.user).filter(person=person, pk=consent_pk).first()
        if consent is None:
            raise Http404
        services.withdraw_consent(consent, by=self._user())
        consent.refresh_from_db()
        return Response(ConsentSerializer(consent).data)

    def _decide(self, reference: str, duplicate_pk: str, decide: Any) -> Response:
        person = self._editable(reference)
        candidate = self._candidates(person).filter(pk=duplicate_pk).first()
        if candidate is None:
            raise Http404
        try:
            decide(candidate, by=self._user())
        except services.RegistrationPermissionError as error:
            raise PermissionDenied(str(error)) from None
        except ValueError as error:
            return conflict(str(error))
        candidate.refresh_from_db()
        return Response(DuplicateSerializer(candidate).data)

    @extend_schema(
        summary="Merge: the newer record is folded into the earlier one (reversible)",
        parameters=[REFERENCE_PATH, DUPLICATE_PATH],
        request=None,
        responses=DECISION_RESPONSES,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"duplicates/(?P<duplicate_pk>[0-9]+)/merge",
        url_name="duplicate-merge",
    )
    def merge_duplicate(self, request: Request, reference: str, duplicate_pk: str) -> Response:
        return self._decide(reference, duplicate_pk, services.merge)

    @extend_schema(
        summary="Not the same person: the pair is not proposed again",
        parameters=[REFERENCE_PATH, DUPLICATE_PATH],
        request=None,
        responses=DECISION_RESPONSES,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"duplicates/(?P<duplicate_pk>[0-9]+)/not-same",
        url_name="duplicate-not-same",
    )
    def not_same_duplicate(self, request: Request, reference: str, duplicate_pk: str) -> Response:
        return self._decide(reference, duplicate_pk, services.mark_not_same)

    @extend_schema(
        summary="Undo a merge: both records are separate again and the pair is to check again",
        parameters=[REFERENCE_PATH, DUPLICATE_PATH],
        request=None,
        responses=DECISION_RESPONSES,
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"duplicates/(?P<duplicate_pk>[0-9]+)/undo",
        url_name="duplicate-undo",
    )
    def undo_duplicate(self, request: Request, reference: str, duplicate_pk: str) -> Response:
        return self._decide(reference, duplicate_pk, services.undo_merge)

    @extend_schema(
        summary="Erase a person's personal data on request (audited; the de-identified record stays)",
        parameters=[REFERENCE_PATH],
        request=EraseSerializer,
        responses={200: ErasedSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def erase(self, request: Request, reference: str) -> Response:
        person = self._editable(reference)
        write = EraseSerializer(data=request.data)
        write.is_valid(raise_exception=True)
        services.erase_person(person, by=self._user(), reason=write.validated_data["reason"])
        person.refresh_from_db()
        return Response(ErasedSerializer(person).data)
