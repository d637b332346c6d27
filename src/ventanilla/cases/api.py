"""Cases over the API: the scoped list, one case (the read is audited), its follow-up tasks, and the
caseworker's changes (open, update, close, add and complete tasks), each through `cases.services`,
which checks who may and audits.

Like people, cases are personal records: reading needs view_personal_data and writing
edit_personal_data, each for the sites the role covers; another organisation's case is a 404. A list
call that shows any case is one READ entry per organisation, with the count and the ids.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NoReturn

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts.models import User
from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.cases import services
from ventanilla.cases.models import Case, CaseStatus, CaseTask, CloseReason
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.registration.api.common import PERSONAL
from ventanilla.registration.models import Person

REFERENCE_PATH = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="CS-XXXX-XXXX"
)
TASK_PATH = OpenApiParameter("task_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Task id.")


class CaseListSerializer(serializers.ModelSerializer):
    person = serializers.CharField(source="person.reference", help_text="The person's reference.")
    status = serializers.ChoiceField(choices=CaseStatus.choices)
    open_tasks = serializers.IntegerField(help_text="Tasks not done yet.")

    class Meta:
        model = Case
        fields = [
            "reference",
            "person",
            "organisation",
            "site",
            "owner",
            "status",
            "opened_at",
            "closed_at",
            "updated_at",
            "open_tasks",
        ]


class CaseSerializer(CaseListSerializer):
    close_reason = serializers.ChoiceField(choices=CloseReason.choices, allow_blank=True)

    class Meta(CaseListSerializer.Meta):
        fields = [*CaseListSerializer.Meta.fields, "needs", "plan", "close_reason"]


class CaseQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=CaseStatus.choices, required=False)
    person = serializers.CharField(required=False, help_text="A person's reference.")
    owner = serializers.IntegerField(required=False, help_text="The caseworker's user id.")


class OpenCaseSerializer(serializers.Serializer):
    person = serializers.CharField(help_text="The person's reference (VT-XXXX-XXXX).")
    owner = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Case staff at the person's site (default: you).",
    )
    needs = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    plan = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")

    def validate_person(self, value: str) -> Person:
        person = (
            Person.objects.visible_to(self.context["request"].user)
            .filter(reference=value.strip().upper())
            .first()
        )
        if person is None:
            raise serializers.ValidationError(_("No person with this reference."))
        return person

    def validate_owner(self, value: int | None) -> User | None:
        if value is None:
            return None
        owner = User.objects.filter(pk=value, is_active=True).first()
        if owner is None:
            raise serializers.ValidationError(_("The caseworker must work at the person's site."))
        return owner


# What an update may set; closing has its own call, with a reason.
STATUS_CHANGES = [choice for choice in CaseStatus.choices if choice[0] != CaseStatus.CLOSED]


class UpdateCaseSerializer(serializers.Serializer):
    needs = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    plan = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    status = serializers.ChoiceField(
        choices=STATUS_CHANGES,
        required=False,
        help_text="open, active or on_hold (close with POST .../close/).",
    )


class CloseCaseSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=CloseReason.choices)


class TaskSerializer(serializers.ModelSerializer):
    done = serializers.SerializerMethodField()

    class Meta:
        model = CaseTask
        fields = ["id", "title", "due_on", "assigned_to", "created_at", "done_at", "done"]

    def get_done(self, task: CaseTask) -> bool:
        return task.done_at is not None


class NewTaskSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=500, help_text="What to do.")
    due_on = serializers.DateField()
    assigned_to = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Case staff at the case's site (default: owner).",
    )

    def validate_assigned_to(self, value: int | None) -> User | None:
        if value is None:
            return None
        user = User.objects.filter(pk=value, is_active=True).first()
        if user is None:
            raise serializers.ValidationError(_("The task must go to someone working at the case's site."))
        return user


def _raise_for(error: services.CaseError) -> NoReturn:
    if isinstance(error, services.CasePermissionError):
        raise PermissionDenied(str(error)) from None
    raise serializers.ValidationError({error.field or "non_field_errors": [str(error)]}) from None


OPEN_TASKS = Count("tasks", filter=Q(tasks__done_at__isnull=True))


@extend_schema_view(
    list=extend_schema(
        summary="Cases at your sites",
        description="Each call that shows any case is audited (the count and the ids).",
        parameters=[CaseQuerySerializer],
        responses={200: CaseListSerializer(many=True), **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One case (the read is audited)",
        parameters=[REFERENCE_PATH],
        responses={200: CaseSerializer, **ERROR_RESPONSES},
    ),
    create=extend_schema(
        summary="Open a case for a person (one open case per person)",
        request=OpenCaseSerializer,
        responses={201: CaseSerializer, **ERROR_RESPONSES},
    ),
    partial_update=extend_schema(
        summary="Change a case's needs, plan or status",
        parameters=[REFERENCE_PATH],
        request=UpdateCaseSerializer,
        responses={200: CaseSerializer, **ERROR_RESPONSES},
    ),
)
class CaseViewSet(viewsets.GenericViewSet):
    permission_classes = PERSONAL
    filter_backends: list[Any] = []
    serializer_class = CaseSerializer
    lookup_field = "reference"
    lookup_value_regex = r"CS-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}"

    def get_queryset(self) -> QuerySet[Case]:
        return Case.objects.visible_to(self.request.user)

    def _user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def _case(self, reference: str, *, purpose: str | None) -> Case:
        """The case among those the caller sees (else 404); audited as read when `purpose` is given."""
        pk = self.get_queryset().filter(reference=reference.upper()).values_list("pk", flat=True).first()
        if pk is None:
            raise Http404
        cases = Case.objects.select_related("person").annotate(open_tasks=OPEN_TASKS)
        if purpose is None:
            return cases.get(pk=pk)
        case: Case = cases.get_for(self.request.user, pk, purpose=purpose)
        return case

    def _answer(self, case: Case, code: int = status.HTTP_200_OK) -> Response:
        fresh = Case.objects.select_related("person").annotate(open_tasks=OPEN_TASKS).get(pk=case.pk)
        return Response(CaseSerializer(fresh).data, status=code)

    # -- reading ------------------------------------------------------------------------------------

    def list(self, request: Request) -> Response:
        query = CaseQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        cases = (
            self.get_queryset()
            .select_related("person")
            .defer("needs", "plan")
            .annotate(open_tasks=OPEN_TASKS)
        )
        if filters.get("status"):
            cases = cases.filter(status=filters["status"])
        if filters.get("person"):
            cases = cases.filter(person__reference=filters["person"].strip().upper())
        if "owner" in filters:
            cases = cases.filter(owner_id=filters["owner"])
        page = list(self.paginate_queryset(cases.order_by("-opened_at", "-pk")) or [])
        shown: dict[int, list[int]] = defaultdict(list)
        for case in page:
            shown[case.organisation_id].append(case.pk)
        for organisation_id, ids in shown.items():
            audit.record(
                AuditAction.READ,
                by=request.user,
                object_type="cases.case",
                organisation_id=organisation_id,
                detail={"purpose": "list", "count": len(ids), "ids": ids},
            )
        return self.get_paginated_response(CaseListSerializer(page, many=True).data)

    def retrieve(self, request: Request, reference: str) -> Response:
        return Response(CaseSerializer(self._case(reference, purpose="api")).data)

    # -- writing ------------------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        body = OpenCaseSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        values = body.validated_data
        try:
            case = services.open_case(
                values["person"],
                by=self._user(),
                owner=values["owner"],
                needs=values["needs"],
                plan=values["plan"],
            )
        except services.CaseError as error:
            _raise_for(error)
        return self._answer(case, status.HTTP_201_CREATED)

    def partial_update(self, request: Request, reference: str) -> Response:
        case = self._case(reference, purpose=None)
        body = UpdateCaseSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        try:
            services.update_case(case, by=self._user(), **body.validated_data)
        except services.CaseError as error:
            _raise_for(error)
        return self._answer(case)

    @extend_schema(
        summary="Close a case with a reason (its open tasks are done, a pending transfer cancelled)",
        parameters=[REFERENCE_PATH],
        request=CloseCaseSerializer,
        responses={200: CaseSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, reference: str) -> Response:
        case = self._case(reference, purpose=None)
        body = CloseCaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            services.close_case(case, by=self._user(), reason=body.validated_data["reason"])
        except services.CaseError as error:
            _raise_for(error)
        return self._answer(case)

    # -- tasks --------------------------------------------------------------------------------------

    @extend_schema(
        summary="A case's follow-up tasks, by due date (the read is audited)",
        parameters=[REFERENCE_PATH],
        responses={200: TaskSerializer(many=True), **ERROR_RESPONSES},
        methods=["GET"],
    )
    @extend_schema(
        summary="Add a follow-up task to an open case",
        parameters=[REFERENCE_PATH],
        request=NewTaskSerializer,
        responses={201: TaskSerializer, **ERROR_RESPONSES},
        methods=["POST"],
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None)
    def tasks(self, request: Request, reference: str) -> Response:
        if request.method == "GET":
            case = self._case(reference, purpose="tasks")
            rows = CaseTask.objects.visible_to(request.user).filter(case=case).order_by("due_on", "pk")
            return Response(TaskSerializer(rows, many=True).data)
        case = self._case(reference, purpose=None)
        body = NewTaskSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        try:
            task = services.add_task(
                case,
                title=values["title"],
                due_on=values["due_on"],
                assigned_to=values["assigned_to"],
                by=self._user(),
            )
        except services.CaseError as error:
            _raise_for(error)
        return Response(TaskSerializer(task).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Mark a follow-up task done (done again changes nothing)",
        parameters=[REFERENCE_PATH, TASK_PATH],
        request=None,
        responses={200: TaskSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path=r"tasks/(?P<task_pk>[0-9]+)/done", url_name="task-done")
    def complete_task(self, request: Request, reference: str, task_pk: str) -> Response:
        case = self._case(reference, purpose=None)
        task = (
            CaseTask.objects.visible_to(request.user)
            .filter(case=case, pk=task_pk)
            .select_related("case")
            .first()
        )
        if task is None:
            raise Http404
        try:
            services.complete_task(task, by=self._user())
        except services.CaseError as error:
            _raise_for(error)
        return Response(TaskSerializer(task).data)
