"""API of the questionnaires: the forms a caller may use, their versions, and uploading an XLSForm.

Reading follows the staff pages: everyone on the staff sees their organisations' forms and the shipped
ones (another organisation's form is a 404). Uploading needs manage_forms in the organisation that will
keep the form, goes through `services.upload_form` (the same checks and audit as the page), and a
broken workbook is a 400 whose `fields.file` lists every problem with its sheet, row and column.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from ventanilla.accounts.models import Organisation
from ventanilla.api.errors import ERROR_RESPONSES, ErrorSerializer
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.questionnaires import services
from ventanilla.questionnaires.models import FormVersion, Purpose, Questionnaire
from ventanilla.questionnaires.schema import describe
from ventanilla.questionnaires.xlsform import MAX_XLSFORM_BYTES, CellError, XLSFormError

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XFORM_TYPE = "text/xml"


def _manages_forms(request: Request) -> set[int]:
    return scope_for(request.user).organisations(Permission.MANAGE_FORMS)


class UploadsForms(permissions.BasePermission):
    """Uploading needs manage_forms somewhere, checked before the file is read (no probing by upload)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return view.action != "create" or bool(_manages_forms(request))


class VersionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = FormVersion
        fields = ["id", "version", "languages", "uploaded_at"]


class FormSerializer(serializers.ModelSerializer):
    owner = serializers.IntegerField(
        source="owner_id", allow_null=True, help_text="The organisation keeping the form; null: shipped."
    )
    current_version = VersionSummarySerializer(source="current", allow_null=True)
    languages = serializers.SerializerMethodField(help_text="Languages of the version in use.")

    class Meta:
        model = Questionnaire
        fields = ["id", "form_id", "title", "purpose", "owner", "archived", "current_version", "languages"]

    def get_languages(self, questionnaire: Questionnaire) -> list[str]:
        return list(questionnaire.current.languages) if questionnaire.current else []


class FormVersionSerializer(serializers.ModelSerializer):
    is_current = serializers.SerializerMethodField()
    warnings = serializers.ListField(child=serializers.CharField(), help_text="What pyxform warned about.")

    class Meta:
        model = FormVersion
        fields = [
            "id",
            "version",
            "xlsx_name",
            "sha256",
            "languages",
            "warnings",
            "uploaded_at",
            "is_current",
        ]

    def get_is_current(self, version: FormVersion) -> bool:
        return version.pk == version.questionnaire.current_id


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The XLSForm workbook (.xlsx, at most 5 MB).")
    owner = serializers.IntegerField(
        help_text="The organisation that will keep the form (you manage its forms)."
    )
    purpose = serializers.ChoiceField(choices=Purpose.choices, default=Purpose.SURVEY)
    make_current = serializers.BooleanField(
        default=True, help_text="Use the new version at once (else upload it for later)."
    )

    def validate_owner(self, value: int) -> int:
        if value not in _manages_forms(self.context["request"]):
            raise serializers.ValidationError(_("You do not manage forms for this organisation."))
        return value

    def validate_file(self, value: Any) -> Any:
        if value.size > MAX_XLSFORM_BYTES:
            raise serializers.ValidationError(_("The file is larger than 5 MB."))
        return value


class CellErrorSerializer(serializers.Serializer):
    """One problem in the workbook; row numbers are the ones a spreadsheet program shows."""

    sheet = serializers.CharField(help_text="survey, choices or settings (empty: the whole file).")
    row = serializers.IntegerField(allow_null=True)
    column = serializers.CharField(help_text="The column header, e.g. constraint.")
    message = serializers.CharField(help_text="In the caller's language.")


class XLSFormErrorFieldsSerializer(serializers.Serializer):
    file = CellErrorSerializer(many=True)


class XLSFormErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="invalid_xlsform")
    message = serializers.CharField()
    fields = XLSFormErrorFieldsSerializer()  # type: ignore[assignment]


class XLSFormErrorSerializer(serializers.Serializer):
    """The API's one error format; for a broken workbook, `fields.file` lists each problem at its cell."""

    error = XLSFormErrorDetailSerializer()


def invalid_xlsform(errors: list[CellError]) -> Response:
    message = _("The XLSForm has %(count)s problem(s): fix them in the workbook and upload it again.") % {
        "count": len(errors)
    }
    return Response(
        {
            "error": {
                "code": "invalid_xlsform",
                "message": message,
                "fields": {"file": [error.as_dict() for error in errors]},
            }
        },
        status=status.HTTP_400_BAD_REQUEST,
    )


class DownloadRenderer(renderers.BaseRenderer):
    """Lets a client ask for the file's own type (Accept: text/xml or the XLSX type) without a 406;
    the file itself is a plain HttpResponse, and errors still come as JSON."""

    media_type = "*/*"
    format = "download"
    charset = None

    def render(
        self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None
    ) -> bytes:
        return renderers.JSONRenderer().render(data)


VERSION_PATH = OpenApiParameter(
    "version_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="Version id."
)
VERSION = r"versions/(?P<version_pk>[0-9]+)"
DOWNLOAD_RENDERERS = [renderers.JSONRenderer, DownloadRenderer]


@extend_schema_view(
    list=extend_schema(
        summary="Forms you may use",
        description="Your organisations' questionnaires and the ones shipped with Ventanilla (not archived).",
    ),
    retrieve=extend_schema(summary="One form", responses={200: FormSerializer, **ERROR_RESPONSES}),
)
class FormViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = FormSerializer
    permission_classes = [permissions.IsAuthenticated, UploadsForms]
    filter_backends: list[Any] = []
    # The upload is multipart; JSON is accepted too, so a JSON body without a file gets a field error.
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Questionnaire]:
        forms = Questionnaire.objects.visible_to(self.request.user).select_related("current")
        if self.action == "list":
            forms = forms.filter(archived=False)
        return forms.order_by("title", "pk")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        classes: dict[str, type[serializers.BaseSerializer]] = {
            "create": UploadSerializer,
            "versions": FormVersionSerializer,
        }
        return classes.get(self.action or "", FormSerializer)

    @extend_schema(
        summary="Upload an XLSForm (a new form, or a new version of one)",
        description=(
            "The `form_id` and `version` in the settings sheet decide which form and version it is. "
            "A workbook that cannot be used is a 400 whose `fields.file` lists every problem with its "
            "sheet, row and column."
        ),
        request={"multipart/form-data": UploadSerializer},
        responses={
            201: FormSerializer,
            400: XLSFormErrorSerializer,
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
    )
    def create(self, request: Request) -> Response:
        upload = UploadSerializer(data=request.data, context={"request": request})
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        file = data["file"]
        try:
            version = services.upload_form(
                content=file.read(),
                filename=file.name or "form.xlsx",
                owner=Organisation.objects.get(pk=data["owner"]),
                by=request.user,  # type: ignore[arg-type]
                purpose=data["purpose"],
                make_current=data["make_current"],
            )
        except services.FormPermissionError as error:
            raise PermissionDenied(str(error)) from None
        except XLSFormError as error:
            return invalid_xlsform(error.errors)
        questionnaire = self.get_queryset().get(pk=version.questionnaire_id)
        return Response(FormSerializer(questionnaire).data, status=status.HTTP_201_CREATED)

    def _version(self, version_pk: str) -> FormVersion:
        questionnaire: Questionnaire = self.get_object()
        version: FormVersion = get_object_or_404(
            FormVersion.objects.select_related("questionnaire"), questionnaire=questionnaire, pk=version_pk
        )
        return version

    @extend_schema(
        summary="The versions of a form, newest first",
        responses={200: FormVersionSerializer(many=True), **ERROR_RESPONSES},
    )
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request: Request, pk: str) -> Response:
        questionnaire: Questionnaire = self.get_object()
        versions = questionnaire.versions.select_related("questionnaire").order_by("-uploaded_at", "-pk")
        return Response(FormVersionSerializer(versions, many=True).data)

    @extend_schema(
        summary="Download the XLSForm workbook of a version",
        parameters=[VERSION_PATH],
        responses={(200, XLSX_TYPE): OpenApiTypes.BINARY, 404: ErrorSerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=f"{VERSION}/xlsx",
        url_name="version-xlsx",
        renderer_classes=DOWNLOAD_RENDERERS,
    )
    def version_xlsx(self, request: Request, pk: str, version_pk: str) -> HttpResponse:
        version = self._version(version_pk)
        response = HttpResponse(bytes(version.xlsx), content_type=XLSX_TYPE)
        name = f"{version.questionnaire.form_id}-{version.version}.xlsx"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response

    @extend_schema(
        summary="Download the XForm (XML) of a version, as ODK Collect reads it",
        parameters=[VERSION_PATH],
        responses={(200, XFORM_TYPE): OpenApiTypes.STR, 404: ErrorSerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=f"{VERSION}/xform",
        url_name="version-xform",
        renderer_classes=DOWNLOAD_RENDERERS,
    )
    def version_xform(self, request: Request, pk: str, version_pk: str) -> HttpResponse:
        version = self._version(version_pk)
        return HttpResponse(version.xform, content_type=f"{XFORM_TYPE}; charset=utf-8")

    @extend_schema(
        summary="The outline of a version: questions, groups, repeats, labels per language and rules",
        parameters=[VERSION_PATH],
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="form_id, version, title, languages and questions (name, path, kind, type, "
                "labels, relevant, constraint, calculate, required, itemset, children).",
            ),
            404: ErrorSerializer,
        },
    )
    @action(detail=True, methods=["get"], url_path=f"{VERSION}/schema", url_name="version-schema")
    def version_schema(self, request: Request, pk: str, version_pk: str) -> Response:
        return Response(describe(self._version(version_pk).schema))
