"""Staff pages for registration exports: ask for one, watch it being written, download it.

Who may use them: anyone holding view_aggregates, view_personal_data or export_personal_data (others
403). The personal-data kind is offered only with export_personal_data. A job is seen by the person who
asked for it only; anyone else gets 404. The status page refreshes itself: htmx polling when JavaScript
runs, a meta refresh when it does not.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Site
from ventanilla.registration import exports, screening
from ventanilla.registration.models import ExportJob, ExportKind

RECENT_JOBS = 20


class ExportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What to export"), widget=forms.RadioSelect)
    file_format = forms.ChoiceField(
        label=gettext_lazy("Format"), choices=[("xlsx", "Excel (XLSX)"), ("csv", "CSV")], initial="xlsx"
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Required for personal data. Kept, encrypted, with the record of the export."),
    )
    site = forms.ModelChoiceField(label=gettext_lazy("Site"), queryset=Site.objects.none(), required=False)
    registered_from = forms.DateField(
        label=gettext_lazy("Registered from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    registered_to = forms.DateField(
        label=gettext_lazy("Registered until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    flag = forms.ChoiceField(label=gettext_lazy("Flag"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        labels = dict(ExportKind.choices)
        kinds = exports.kinds_for(user)
        kind = self.fields["kind"]
        assert isinstance(kind, forms.ChoiceField)
        kind.choices = [(code, labels[code]) for code in kinds]
        kind.initial = kinds[-1] if kinds else None
        site = self.fields["site"]
        assert isinstance(site, forms.ModelChoiceField)
        site.queryset = Site.objects.visible_to(user).order_by("name")
        language = get_language() or "en"
        flag = self.fields["flag"]
        assert isinstance(flag, forms.ChoiceField)
        flag.choices = [("", _("Any"))] + [
            (rule.code, rule.text(language)) for rule in screening.active_ruleset().rules
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("registered_from"), cleaned.get("registered_to")
        if start and end and start > end:
            self.add_error("registered_to", _("The end date is before the start date."))
        if cleaned.get("kind") == ExportKind.PERSONAL and not (cleaned.get("reason") or "").strip():
            self.add_error(
                "reason", _("Say why you export personal data: the reason is kept with the export.")
            )
        return cleaned

    def filters(self) -> exports.Filters:
        data = self.cleaned_data
        return exports.Filters(
            site=data["site"].pk if data.get("site") else None,
            registered_from=data.get("registered_from"),
            registered_to=data.get("registered_to"),
            flag=data.get("flag") or "",
        )


def _require_some_export(request: HttpRequest) -> None:
    if not exports.kinds_for(request.user):
        raise PermissionDenied


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    """Ask for an export (POST), and the user's recent exports."""
    _require_some_export(request)
    form = ExportForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            job = exports.start_export(
                by=request.user,
                kind=form.cleaned_data["kind"],
                file_format=form.cleaned_data["file_format"],
                reason=form.cleaned_data["reason"] or "",
                filters=form.filters(),
            )
        except exports.InvalidExport as error:
            for name, message in error.errors.items():
                form.add_error(name if name in form.fields else None, message)
        except exports.ExportRefused as error:
            form.add_error("kind", str(error))
        else:
            return redirect("registration_exports:status", pk=job.pk)
    jobs = ExportJob.objects.visible_to(request.user)[:RECENT_JOBS]
    return render(request, "registration/exports/list.html", {"form": form, "jobs": jobs})


def _job(request: HttpRequest, pk: int) -> ExportJob:
    job: ExportJob = ExportJob.objects.get_for(request.user, pk)
    return job


@login_required
def export_status(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of one export; refreshes until it is written, then offers the download."""
    job = _job(request, pk)
    context = {"job": job, "poll": not job.finished}
    if getattr(request, "htmx", False):
        return render(request, "registration/exports/_status.html", context)
    return render(request, "registration/exports/status.html", context)


@login_required
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The file, decrypted for its requester; audited each time."""
    job = _job(request, pk)
    try:
        content = exports.open_download(job, by=request.user)
    except FileNotFoundError:
        raise Http404 from None
    name = exports.download_name(job)
    extension = name.rsplit(".", 1)[-1]
    response = HttpResponse(content, content_type=exports.tabular.CONTENT_TYPES[extension])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
