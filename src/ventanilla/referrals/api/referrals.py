"""Referrals over the API, for both sides: the sender's case staff and the partner's own systems.

Who sees what is `Referral.objects.visible_to`: the sending organisation's case staff by site, the
partner's receivers (receive_referrals) only while the referral is active; anything else is a 404.
Opening one referral (its payload or its timeline) is an audited read (`get_for`); a list call that
shows any referral is one READ entry per sending organisation, with the count and the ids. Every
change goes through `referrals.services` (which refuses, atomically, whatever the lifecycle does not
allow); its refusals are 400 naming the field, or 403 when the caller's side may not make the move.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, NoReturn

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts.models import User
from ventanilla.api.errors import ERROR_RESPONSES
from ventanilla.cases.models import Case
from ventanilla.core import audit
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory.models import Category, ServicePoint
from ventanilla.messaging import handover
from ventanilla.messaging.models_inbox import Conversation
from ventanilla.referrals import interop, lifecycle, services
from ventanilla.referrals.lifecycle import Side
from ventanilla.referrals.models import Pathway, Referral, ReferralStatus, Urgency, Via
from ventanilla.registration.models import Flag, Person

REFERENCE_PATH = OpenApiParameter(
    "reference", OpenApiTypes.STR, OpenApiParameter.PATH, description="RF-XXXX-XXXX"
)
# Loaded with every referral the payload is made from.
PAYLOAD_RELATIONS = (
    "organisation",
    "site",
    "case",
    "pathway__provider",
    "partner_organisation",
    "service_point",
)


def reader_side(user: Any, referral: Referral) -> Side:
    """The side whose view the caller gets: the one they may act for, else (a reader of the sending
    organisation who may not act) the sender's if they see it as such, else the partner's, which
    shows less."""
    side = services.side_of(user, referral)
    if side is not None:
        return side
    for grant in scope_for(user).grants:
        if (
            grant.organisation_id == referral.organisation_id
            and Permission.VIEW_PERSONAL_DATA in grant.permissions
            and (not grant.site_scoped or referral.site_id in grant.site_ids)
        ):
            return Side.SENDER
    return Side.PARTNER


class HandlesReferrals(permissions.BasePermission):
    """Listing needs view_personal_data (sender) or receive_referrals (partner) somewhere; creating
    needs edit_personal_data. One referral is looked up among those the caller sees: a 404 otherwise,
    so a refusal never confirms that a reference exists."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if getattr(view, "detail", False):
            return True
        scope = scope_for(request.user)
        if request.method in permissions.SAFE_METHODS:
            return scope.has(Permission.VIEW_PERSONAL_DATA) or scope.has(Permission.RECEIVE_REFERRALS)
        return scope.has(Permission.EDIT_PERSONAL_DATA)


# --- serializers ------------------------------------------------------------------------------------


class ReferralSummarySerializer(serializers.ModelSerializer):
    """A row of the list: statuses, dates and ids, no personal values (open one for its payload)."""

    side = serializers.SerializerMethodField(help_text="sender or partner: your side of this referral.")
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    category = serializers.ChoiceField(choices=Category.choices)
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    referring_organisation = serializers.IntegerField(source="organisation_id")
    referring_site = serializers.IntegerField(source="site_id", allow_null=True)
    partner_organisation = serializers.IntegerField(source="partner_organisation_id", allow_null=True)
    provider = serializers.CharField(source="pathway.provider.name", help_text="The partner's name.")

    class Meta:
        model = Referral
        fields = [
            "reference",
            "side",
            "status",
            "reason",
            "category",
            "urgency",
            "referring_organisation",
            "referring_site",
            "partner_organisation",
            "provider",
            "pathway",
            "created_at",
            "sent_at",
            "respond_by",
            "status_changed_at",
        ]

    def get_side(self, referral: Referral) -> str:
        return str(reader_side(self.context["request"].user, referral))


class ReferralQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    updated_since = serializers.DateTimeField(
        required=False, help_text="Referrals whose status changed at or after this moment (ISO 8601)."
    )


class CreateReferralSerializer(serializers.Serializer):
    """A referral along one of your organisation's pathways; it is sent at once."""

    person = serializers.CharField(help_text="The person's reference (VT-XXXX-XXXX).")
    pathway = serializers.IntegerField(help_text="A pathway of the person's organisation, in force today.")
    category = serializers.ChoiceField(choices=Category.choices, help_text="One of the pathway's services.")
    need = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default="", help_text="Shared with the partner."
    )
    service_point = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="One of the pathway's service points."
    )
    flag = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="The screening flag that suggested it."
    )
    case = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="The person's open case (CS-XXXX-XXXX)."
    )
    urgency = serializers.ChoiceField(
        choices=Urgency.choices,
        required=False,
        allow_null=True,
        default=None,
        help_text="Default: urgent when the flag is critical, else normal.",
    )
    appointment = serializers.CharField(
        required=False, allow_blank=True, max_length=300, default="", help_text="Where and when to go."
    )
    tell_person = serializers.BooleanField(
        required=False, default=True, help_text="Send the person an SMS (if they agreed to be contacted)."
    )
    conversation = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="The inbox conversation it is made from (linked to the person; you must handle it).",
    )

    def _user(self) -> User:
        user: User = self.context["request"].user
        return user

    def validate_person(self, value: str) -> Person:
        person = Person.objects.visible_to(self._user()).filter(reference=value.strip().upper()).first()
        if person is None:
            raise serializers.ValidationError(_("No person with this reference."))
        return person

    def validate_pathway(self, value: int) -> Pathway:
        pathway = Pathway.objects.visible_to(self._user()).filter(pk=value).select_related("provider").first()
        if pathway is None:
            raise serializers.ValidationError(_("Unknown pathway."))
        return pathway

    def validate_service_point(self, value: int | None) -> ServicePoint | None:
        if value is None:
            return None
        point = ServicePoint.objects.visible_to(self._user()).filter(pk=value).first()
        if point is None:
            raise serializers.ValidationError(_("Unknown service point."))
        return point

    def validate_flag(self, value: int | None) -> Flag | None:
        if value is None:
            return None
        flag = Flag.objects.visible_to(self._user()).filter(pk=value).first()
        if flag is None:
            raise serializers.ValidationError(_("Unknown flag."))
        return flag

    def validate_conversation(self, value: int | None) -> Conversation | None:
        if value is None:
            return None
        conversation = Conversation.objects.visible_to(self._user()).filter(pk=value).first()
        if conversation is None or not handover.may_hand_over(self._user(), conversation):
            raise serializers.ValidationError(_("Unknown conversation."))
        return conversation

    def validate_case(self, value: str) -> Case | None:
        if not value.strip():
            return None
        case = Case.objects.visible_to(self._user()).filter(reference=value.strip().upper()).first()
        if case is None:
            raise serializers.ValidationError(_("No case with this reference."))
        return case


# What a caller may ask a referral to become (expiry is the system's).
STATUS_CHANGES = [
    (code, ReferralStatus(code).label) for code in lifecycle.ALLOWED if code != ReferralStatus.EXPIRED
]


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=STATUS_CHANGES,
        help_text=(
            "Partner: accepted, declined, in_progress, delivered, not_delivered. "
            "Sender: withdrawn, closed, sent (resend an expired referral)."
        ),
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=40,
        default="",
        help_text="A reason code, required for declined, not_delivered and withdrawn.",
    )
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        default="",
        help_text="Partner: the service given or why not (kept as the outcome). Sender: for your staff.",
    )


class StatusChangedSerializer(serializers.Serializer):
    reference = serializers.CharField()
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    from_status = serializers.ChoiceField(choices=ReferralStatus.choices)
    reason = serializers.CharField(allow_blank=True)
    at = serializers.DateTimeField()
    via = serializers.ChoiceField(choices=Via.choices)


class EventSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ReferralStatus.choices)
    from_status = serializers.ChoiceField(choices=ReferralStatus.choices, allow_null=True)
    at = serializers.DateTimeField()
    via = serializers.ChoiceField(choices=Via.choices)
    reason = serializers.CharField(allow_null=True)
    reason_label = serializers.CharField(allow_null=True)
    note = serializers.CharField(allow_null=True, help_text="The sender's side only (null for the partner).")


def _raise_for(error: services.ReferralError) -> NoReturn:
    if isinstance(error, services.ReferralPermissionError):
        raise PermissionDenied(str(error)) from None
    raise serializers.ValidationError({error.field or "non_field_errors": [str(error)]}) from None


# --- the viewset ------------------------------------------------------------------------------------

PAYLOAD_DESCRIPTION = (
    'The interoperable payload "ventanilla.referral/1" (docs/referral-payload.md; JSON Schema in '
    "referrals/data/referral-payload.schema.json). The partner's view holds only what the service "
    "category shares."
)


@extend_schema_view(
    list=extend_schema(
        summary="Referrals you sent (by site) or received (while active)",
        description=(
            "Newest first. Rows hold statuses, dates and ids; open one for its payload. Each call that "
            "shows any referral is audited (the count and the ids)."
        ),
        parameters=[ReferralQuerySerializer],
        responses={200: ReferralSummarySerializer(many=True), **ERROR_RESPONSES},
    ),
    retrieve=extend_schema(
        summary="One referral, as the interoperable payload (the read is audited)",
        description=PAYLOAD_DESCRIPTION,
        parameters=[REFERENCE_PATH],
        responses={200: interop.openapi_schema(), **ERROR_RESPONSES},
    ),
    create=extend_schema(
        summary="Refer a person along a pathway (sent at once)",
        description=(
            "Refused with a 400 naming the field: no consent to referral (`consent`), a pathway of "
            "another organisation or not in force, a service the partner does not take (`category`), "
            "a service point outside the pathway, a closed case. Answers the sender's payload."
        ),
        request=CreateReferralSerializer,
        responses={201: interop.openapi_schema(), **ERROR_RESPONSES},
    ),
)
class ReferralViewSet(viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, HandlesReferrals]
    filter_backends: list[Any] = []
    serializer_class = ReferralSummarySerializer
    lookup_field = "reference"
    lookup_value_regex = r"RF-[A-Za-z0-9]{4}-[A-Za-z0-9]{4}"

    def get_queryset(self) -> QuerySet[Referral]:
        return Referral.objects.visible_to(self.request.user)

    def _user(self) -> User:
        return self.request.user  # type: ignore[return-value]

    def _referral(self, reference: str, *, purpose: str | None) -> Referral:
        """The referral among those the caller sees (else 404); audited as read when `purpose` is given."""
        pk = self.get_queryset().filter(reference=reference.upper()).values_list("pk", flat=True).first()
        if pk is None:
            raise Http404
        referrals = Referral.objects.select_related(*PAYLOAD_RELATIONS)
        if purpose is None:
            return referrals.get(pk=pk)
        referral: Referral = referrals.get_for(self.request.user, pk, purpose=purpose)
        return referral

    # -- reading ------------------------------------------------------------------------------------

    def list(self, request: Request) -> Response:
        query = ReferralQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = query.validated_data
        referrals = self.get_queryset().select_related("pathway__provider")
        if filters.get("status"):
            referrals = referrals.filter(status=filters["status"])
        if filters.get("category"):
            referrals = referrals.filter(category=filters["category"])
        if filters.get("updated_since"):
            referrals = referrals.filter(status_changed_at__gte=filters["updated_since"])
        page = list(self.paginate_queryset(referrals.order_by("-created_at", "-pk")) or [])
        shown: dict[int, list[int]] = defaultdict(list)
        for referral in page:
            shown[referral.organisation_id].append(referral.pk)
        for organisation_id, ids in shown.items():
            audit.record(
                AuditAction.READ,
                by=request.user,
                object_type="referrals.referral",
                organisation_id=organisation_id,
                detail={"purpose": "list", "count": len(ids), "ids": ids},
            )
        data = ReferralSummarySerializer(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    def retrieve(self, request: Request, reference: str) -> Response:
        referral = self._referral(reference, purpose="api")
        return Response(interop.referral_payload(referral, side=reader_side(request.user, referral)))

    @extend_schema(
        summary="The referral's timeline: each status, when, how and why (the read is audited)",
        description="Notes are shown to the sending side only.",
        parameters=[REFERENCE_PATH],
        responses={200: EventSerializer(many=True), **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def events(self, request: Request, reference: str) -> Response:
        referral = self._referral(reference, purpose="events")
        side = reader_side(request.user, referral)
        rows = [interop.event_view(event, side=side) for event in referral.events.order_by("at", "pk")]
        return Response(EventSerializer(rows, many=True).data)

    # -- writing ------------------------------------------------------------------------------------

    def create(self, request: Request) -> Response:
        body = CreateReferralSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        values = body.validated_data
        try:
            made = services.create_referral(
                values["person"],
                pathway=values["pathway"],
                category=values["category"],
                by=self._user(),
                need=values["need"],
                service_point=values["service_point"],
                flag=values["flag"],
                case=values["case"],
                conversation=values["conversation"],
                urgency=values["urgency"],
                appointment=values["appointment"],
                tell_person=values["tell_person"],
                via=Via.API,
            )
        except services.ReferralError as error:
            _raise_for(error)
        referral = Referral.objects.select_related(*PAYLOAD_RELATIONS).get(pk=made.pk)
        return Response(interop.referral_payload(referral, side=Side.SENDER), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a referral's status: the partner's answer and outcome, or the sender's withdraw, "
        "close and resend",
        description=(
            "The lifecycle decides what may follow what, and which side may make each move: a move "
            "the referral's current status does not allow, or a missing reason, is a 400 naming the "
            "field (`status`, `reason`); a move for the other side is a 403; a referral you do not see "
            "(or no longer see: after a decline the partner does not) is a 404. Nothing changes on a "
            "refusal. Reason codes: docs/referral-payload.md."
        ),
        parameters=[REFERENCE_PATH],
        request=StatusChangeSerializer,
        responses={200: StatusChangedSerializer, **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="status", url_name="status")
    def change_status(self, request: Request, reference: str) -> Response:
        referral = self._referral(reference, purpose=None)
        body = StatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        values = body.validated_data
        try:
            event = services.transition(
                referral,
                values["status"],
                by=self._user(),
                via=Via.API,
                reason=values["reason"],
                note=values["note"],
            )
        except services.ReferralError as error:
            _raise_for(error)
        answer = {
            "reference": referral.reference,
            "status": event.to_status,
            "from_status": event.from_status,
            "reason": event.reason,
            "at": event.at,
            "via": event.via,
        }
        return Response(StatusChangedSerializer(answer).data)
