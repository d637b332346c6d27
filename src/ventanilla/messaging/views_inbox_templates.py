"""Reply templates: the ready answers of an organisation, one row per language, kept by its message
handlers and offered on the conversation page."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.messaging import inbox
from ventanilla.messaging.forms_inbox import ReplyTemplateForm
from ventanilla.messaging.models_inbox import ReplyTemplate


def _require(request: HttpRequest) -> None:
    """Message handlers only (a caseworker opens the inbox for conversations handed to them alone)."""
    if not scope_for(request.user).has(Permission.HANDLE_MESSAGES):
        raise PermissionDenied


@login_required
def template_list(request: HttpRequest) -> HttpResponse:
    _require(request)
    templates = list(
        ReplyTemplate.objects.visible_to(request.user)
        .select_related("organisation")
        .order_by("organisation__name", "name", "language")
    )
    several = len({t.organisation_id for t in templates}) > 1
    return render(request, "messaging/inbox_templates.html", {"templates": templates, "several": several})


def _edit_page(request: HttpRequest, template: ReplyTemplate | None) -> HttpResponse:
    organisations = inbox.message_organisations(request.user)
    if template is not None:
        organisations = organisations.filter(pk=template.organisation_id)
    initial = (
        {"name": template.name, "language": template.language, "text": template.text}
        if template is not None
        else {"language": request.GET.get("language", "")}
    )
    form = ReplyTemplateForm(request.POST or None, organisations=organisations, initial=initial)
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            try:
                inbox.save_template(
                    organisation=form.chosen_organisation(),
                    name=form.cleaned_data["name"],
                    language=form.cleaned_data["language"],
                    text=form.cleaned_data["text"],
                    by=request.user,
                    template=template,
                )
            except inbox.InboxPermissionError:
                raise PermissionDenied from None
            except inbox.InboxError as error:
                form.add_error(error.field if error.field in form.fields else None, str(error))
            else:
                messages.success(request, _("The reply template is saved."))
                return redirect("inbox:templates")
    return render(
        request, "messaging/inbox_template_edit.html", {"form": form, "template": template}, status=status
    )


@login_required
def template_create(request: HttpRequest) -> HttpResponse:
    _require(request)
    return _edit_page(request, None)


@login_required
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request)
    template = ReplyTemplate.objects.visible_to(request.user).filter(pk=pk).first()
    if template is None:
        raise Http404
    return _edit_page(request, template)
