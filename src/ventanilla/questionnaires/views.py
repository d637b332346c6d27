"""Staff pages for questionnaires: the list, uploading a version, choosing the one in use, trying it.

Everyone on the staff may read the forms their organisations use (and the shipped ones); uploading and
choosing versions need the manage_forms permission in the owning organisation.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.accounts.models import User
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.questionnaires import filling, services
from ventanilla.questionnaires.forms import UploadForm
from ventanilla.questionnaires.models import FormVersion, Questionnaire
from ventanilla.questionnaires.schema import describe
from ventanilla.questionnaires.xlsform import XLSFormError

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _questionnaire(request: HttpRequest, pk: int) -> Questionnaire:
    return Questionnaire.objects.get_for(request.user, pk)


def _version(request: HttpRequest, pk: int, version_pk: int) -> FormVersion:
    questionnaire = _questionnaire(request, pk)
    return get_object_or_404(FormVersion, questionnaire=questionnaire, pk=version_pk)


@login_required
def form_list(request: HttpRequest) -> HttpResponse:
    organisations = scope_for(request.user).organisations(Permission.MANAGE_FORMS)
    upload = UploadForm(organisations=organisations) if organisations else None
    errors: list[Any] = []
    if request.method == "POST":
        if not organisations:
            raise PermissionDenied
        upload = UploadForm(request.POST, request.FILES, organisations=organisations)
        if upload.is_valid():
            file = upload.cleaned_data["file"]
            try:
                version = services.upload_form(
                    content=file.read(),
                    filename=file.name,
                    owner=upload.cleaned_data["owner"],
                    by=_user(request),
                    purpose=upload.cleaned_data["purpose"],
                )
            except XLSFormError as error:
                errors = error.errors
            else:
                messages.success(
                    request, _("Version %(version)s is uploaded and in use.") % {"version": version.version}
                )
                return redirect("questionnaires:detail", version.questionnaire_id)
    forms = (
        Questionnaire.objects.visible_to(request.user).select_related("current", "owner").order_by("title")
    )
    status = 422 if errors or (upload is not None and upload.errors) else 200
    return render(
        request,
        "questionnaires/list.html",
        {"forms": forms, "upload": upload, "errors": errors},
        status=status,
    )


@login_required
def form_detail(request: HttpRequest, pk: int) -> HttpResponse:
    questionnaire = _questionnaire(request, pk)
    versions = questionnaire.versions.select_related("uploaded_by").order_by("-uploaded_at", "-pk")
    outline = describe(questionnaire.current.schema) if questionnaire.current else None
    return render(
        request,
        "questionnaires/detail.html",
        {
            "questionnaire": questionnaire,
            "versions": versions,
            "outline": outline,
            "may_edit": questionnaire.editable_by(scope_for(request.user)),
        },
    )


@login_required
@require_POST
def make_current(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    version = _version(request, pk, version_pk)
    try:
        services.make_current(version, by=_user(request))
    except services.FormPermissionError:
        raise PermissionDenied from None
    messages.success(request, _("Version %(version)s is now in use.") % {"version": version.version})
    return redirect("questionnaires:detail", pk)


@login_required
def download_xlsx(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    version = _version(request, pk, version_pk)
    response = HttpResponse(bytes(version.xlsx), content_type=XLSX_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="{version.questionnaire.form_id}-{version.version}.xlsx"'
    )
    return response


@login_required
def download_xform(request: HttpRequest, pk: int, version_pk: int) -> HttpResponse:
    version = _version(request, pk, version_pk)
    return HttpResponse(version.xform, content_type="text/xml; charset=utf-8")


@login_required
def try_form(request: HttpRequest, pk: int) -> HttpResponse:
    """Fill the version in use to check its rules; nothing is stored."""
    questionnaire = _questionnaire(request, pk)
    version = questionnaire.current
    if version is None:
        raise Http404

    def done(answers: dict[str, Any], language: str) -> HttpResponse:
        return render(
            request,
            "questionnaires/tried.html",
            {
                "questionnaire": questionnaire,
                "version": version,
                "answers": answers,
                "form_language": language,
            },
        )

    return filling.fill(
        request,
        version,
        on_complete=done,
        context={"questionnaire": questionnaire, "trying": True},
    )
