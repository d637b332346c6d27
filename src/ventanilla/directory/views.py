"""Staff pages for keeping the directory: providers, service points, the stale list, import and export.

Only content managers (the manage_content permission) use them, and only for rows kept by their own
organisations: anyone else gets 403, and another organisation's row is a 404.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet
from django.forms import BaseForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from ventanilla.accounts.models import Organisation, User
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory import exports, imports, jobs, services
from ventanilla.directory.forms import (
    ExceptionFormSet,
    ImportForm,
    PointFilterForm,
    PointForm,
    ProviderForm,
    WeeklyHoursForm,
    text_forms,
)
from ventanilla.directory.models import ImportJob, PublicationStatus, ServicePoint, ServiceProvider

PAGE_SIZE = 50
IMPORT_SESSION_KEY = "ventanilla_directory_import"
IMPORT_MAX_AGE_SECONDS = 24 * 3600


def managed_organisations(request: HttpRequest) -> set[int]:
    """The organisations whose directory the user keeps; 403 when there are none."""
    organisations = scope_for(request.user).organisations(Permission.MANAGE_CONTENT)
    if not organisations:
        raise PermissionDenied
    return organisations


def _owners(request: HttpRequest) -> QuerySet[Organisation]:
    return Organisation.objects.filter(pk__in=managed_organisations(request), is_active=True).order_by("name")


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _point(request: HttpRequest, pk: int) -> ServicePoint:
    point = ServicePoint.objects.filter(owner_id__in=managed_organisations(request), pk=pk).first()
    if point is None:
        raise Http404
    return point


def _next_or(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, {request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _attach(error: ValidationError, form: BaseForm, *others: BaseForm) -> None:
    """Put a service's ValidationError on the field that it names, else at the top of the form."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, messages_ in error.message_dict.items():
        target = next((f for f in (form, *others) if name in f.fields), None)
        for message in messages_:
            if target is not None:
                target.add_error(name, message)
            else:
                form.add_error(None, message)


# --- Service points -------------------------------------------------------------------------------


def _filtered_points(request: HttpRequest, form: PointFilterForm) -> QuerySet[ServicePoint]:
    points = ServicePoint.objects.filter(owner_id__in=managed_organisations(request))
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            points = points.filter(Q(name__icontains=data["q"]) | Q(provider__name__icontains=data["q"]))
        if data["status"]:
            points = points.filter(status=data["status"])
        if data["category"]:
            points = points.filter(categories__code=data["category"])
        if data["area"]:
            pcode = data["area"].strip().upper()
            points = points.filter(
                Q(area__pcode=pcode) | Q(area__parent__pcode=pcode) | Q(area__parent__parent__pcode=pcode)
            )
        if data["stale"]:
            points = points.filter(pk__in=services.stale_points(_user(request)).values("pk"))
    return points.distinct()


@login_required
def point_list(request: HttpRequest) -> HttpResponse:
    form = PointFilterForm(request.GET)
    points = (
        _filtered_points(request, form)
        .select_related("provider", "area")
        .prefetch_related("categories")
        .annotate(outdated_texts=Count("texts", filter=Q(texts__is_outdated=True), distinct=True))
        .order_by("name", "pk")
    )
    page = Paginator(points, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "now": timezone.now(),
        "stale_days": settings.DIRECTORY_STALE_DAYS,
    }
    template = (
        "directory/point_list_results.html"
        if getattr(request, "htmx", False)
        else "directory/point_list.html"
    )
    return render(request, template, context)


@login_required
def stale_list(request: HttpRequest) -> HttpResponse:
    managed_organisations(request)
    points = services.stale_points(_user(request)).select_related("provider", "verified_by")
    page = Paginator(points, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "directory/stale_list.html", {"page": page, "stale_days": settings.DIRECTORY_STALE_DAYS}
    )


def _point_page(request: HttpRequest, point: ServicePoint) -> HttpResponse:
    """The create and edit page: the point, its weekly hours, exceptional days and texts per language."""
    providers = ServiceProvider.objects.filter(owner_id__in=managed_organisations(request)).order_by("name")
    data = request.POST if request.method == "POST" else None
    form = PointForm(data, instance=point, providers=providers)
    periods = (
        [services.WeeklyPeriod(*row) for row in point.hours.values_list("weekday", "opens", "closes")]
        if point.pk
        else []
    )
    hours_form = WeeklyHoursForm(data, prefix="hours", periods=periods)
    initial_exceptions = (
        list(point.exceptions.values("date", "is_closed", "opens", "closes", "note")) if point.pk else []
    )
    exception_forms = ExceptionFormSet(data, prefix="exceptions", initial=initial_exceptions)
    texts = text_forms(data, point)
    if point.pk is None:
        # A new point starts in the time zone of one of the organisation's sites, not in UTC.
        from ventanilla.accounts.models import Site

        zone = (
            Site.objects.filter(organisation_id__in=managed_organisations(request))
            .order_by("pk")
            .values_list("time_zone", flat=True)
            .first()
        )
        if zone and not form.is_bound:
            form.initial["time_zone"] = zone
    status = 200
    if request.method == "POST":
        forms_valid = [form.is_valid(), hours_form.is_valid(), exception_forms.is_valid()]
        forms_valid += [text.is_valid() for text in texts]
        if all(forms_valid):
            point = form.build()
            try:
                services.save_point(
                    point,
                    by=_user(request),
                    categories=form.category_codes(),
                    texts={text.language: text.cleaned_data for text in texts},
                    changed=[name for name in form.changed_data if name != "categories"],
                    hours=hours_form.cleaned_data["periods"],
                    exceptions=exception_forms.exceptions(),  # type: ignore[attr-defined]
                )
            except services.DirectoryPermissionError:
                raise PermissionDenied from None
            except ValidationError as error:
                _attach(error, form, hours_form)
            else:
                messages.success(request, _("The service point “%(name)s” was saved.") % {"name": point.name})
                return redirect("directory:point_list")
        status = 400
    context = {
        "form": form,
        "hours_form": hours_form,
        "exception_forms": exception_forms,
        "text_forms": texts,
        "point": point if point.pk else None,
        "has_providers": providers.exists(),
        "statuses": PublicationStatus.choices,
    }
    return render(request, "directory/point_form.html", context, status=status)


@login_required
def point_create(request: HttpRequest) -> HttpResponse:
    managed_organisations(request)
    return _point_page(request, ServicePoint())


@login_required
def point_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _point_page(request, _point(request, pk))


@login_required
@require_POST
def point_status(request: HttpRequest, pk: int) -> HttpResponse:
    point = _point(request, pk)
    status = request.POST.get("status", "")
    try:
        services.set_point_status(point, status=status, by=_user(request))
    except ValidationError:
        messages.error(request, _("Unknown status."))
    else:
        labels = dict(PublicationStatus.choices)
        messages.success(
            request,
            _("“%(name)s” is now %(status)s.") % {"name": point.name, "status": str(labels[status]).lower()},
        )
    return redirect(_next_or(request, reverse("directory:point_edit", args=[point.pk])))


@login_required
@require_POST
def point_verify(request: HttpRequest, pk: int) -> HttpResponse:
    point = _point(request, pk)
    services.verify_point(point, by=_user(request))
    messages.success(request, _("“%(name)s” was marked as verified today.") % {"name": point.name})
    return redirect(_next_or(request, reverse("directory:point_edit", args=[point.pk])))


# --- Providers ------------------------------------------------------------------------------------


@login_required
def provider_list(request: HttpRequest) -> HttpResponse:
    providers = (
        ServiceProvider.objects.filter(owner_id__in=managed_organisations(request))
        .select_related("owner")
        .annotate(point_count=Count("points"))
        .order_by("name", "pk")
    )
    page = Paginator(providers, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "directory/provider_list.html", {"page": page})


def _provider_page(request: HttpRequest, provider: ServiceProvider) -> HttpResponse:
    form = ProviderForm(request.POST or None, instance=provider, owners=_owners(request))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.save_provider(form.instance, by=_user(request), changed=form.changed_data)
            except services.DirectoryPermissionError:
                raise PermissionDenied from None
            except ValidationError as error:
                _attach(error, form)
            else:
                messages.success(
                    request, _("The provider “%(name)s” was saved.") % {"name": form.instance.name}
                )
                return redirect("directory:provider_list")
        status = 400
    return render(
        request,
        "directory/provider_form.html",
        {"form": form, "provider": provider if provider.pk else None},
        status=status,
    )


@login_required
def provider_create(request: HttpRequest) -> HttpResponse:
    managed_organisations(request)
    return _provider_page(request, ServiceProvider())


@login_required
def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    provider = ServiceProvider.objects.filter(owner_id__in=managed_organisations(request), pk=pk).first()
    if provider is None:
        raise Http404
    return _provider_page(request, provider)


# --- Import and export ----------------------------------------------------------------------------


def _import_dir() -> Path:
    directory = jobs.upload_dir()
    # Files of abandoned previews are removed after a day.
    for old in directory.glob("*"):
        if old.is_file() and time.time() - old.stat().st_mtime > IMPORT_MAX_AGE_SECONDS:
            old.unlink(missing_ok=True)
    return directory


def _pending_import(request: HttpRequest) -> tuple[Path, dict[str, Any]] | None:
    pending = request.session.get(IMPORT_SESSION_KEY)
    if not isinstance(pending, dict):
        return None
    path = _import_dir() / f"{pending.get('token', '')}{pending.get('suffix', '')}"
    if not pending.get("token") or not path.is_file():
        return None
    return path, pending


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    """Upload → a report on every row (nothing written) → confirm → written in one transaction.

    The check runs in the request; the import itself is a background job with a status page."""
    owners = _owners(request)
    if request.method == "POST" and "confirm" in request.POST:
        return _import_confirm(request, owners)
    form = ImportForm(request.POST or None, request.FILES or None, owners=owners)
    context: dict[str, Any] = {"form": form, "columns": exports.COLUMNS, "required": imports.REQUIRED_COLUMNS}
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "directory/import.html", context, status=400)
        upload = form.cleaned_data["file"]
        organisation = form.cleaned_data["organisation"]
        suffix = Path(upload.name).suffix.lower()
        token = secrets.token_urlsafe(16)
        path = _import_dir() / f"{token}{suffix}"
        with path.open("wb") as handle:
            for chunk in upload.chunks():
                handle.write(chunk)
        report = imports.check_file(path, organisation=organisation, user=_user(request))
        skip_invalid = form.cleaned_data["skip_invalid"]
        request.session[IMPORT_SESSION_KEY] = {
            "token": token,
            "suffix": suffix,
            "name": upload.name[:200],
            "organisation": organisation.pk,
            "skip_invalid": skip_invalid,
        }
        context.update(
            report=report,
            file_name=upload.name,
            organisation=organisation,
            skip_invalid=skip_invalid,
            can_import=report.can_import(skip_invalid=skip_invalid),
            sample=report.valid[:20],
            token=token,
        )
        return render(request, "directory/import_report.html", context)
    return render(request, "directory/import.html", context)


def _import_confirm(request: HttpRequest, owners: QuerySet[Organisation]) -> HttpResponse:
    """Start the import as a background job and follow it on its status page."""
    pending = _pending_import(request)
    if pending is None or request.POST.get("confirm") != pending[1]["token"]:
        messages.error(request, _("That upload has expired or was already imported. Upload the file again."))
        return redirect("directory:import")
    path, details = pending
    organisation = owners.filter(pk=details["organisation"]).first()
    if organisation is None:
        raise PermissionDenied
    request.session.pop(IMPORT_SESSION_KEY, None)
    # The job owns the file from here and removes it when it ends.
    job = jobs.start_import(
        path.name,
        organisation=organisation,
        by=_user(request),
        file_name=details["name"],
        skip_invalid=bool(details["skip_invalid"]),
    )
    return redirect("directory:import_job", pk=job.pk)


@login_required
def import_job(request: HttpRequest, pk: int) -> HttpResponse:
    """Progress of an import while it runs (refreshed by htmx, or by a meta refresh without JavaScript),
    then its report. Another organisation's job does not exist here."""
    managed_organisations(request)
    job = (
        ImportJob.objects.visible_to(request.user)
        .select_related("organisation", "created_by")
        .filter(pk=pk)
        .first()
    )
    if job is None:
        raise Http404
    template = (
        "directory/_import_job.html" if getattr(request, "htmx", False) else "directory/import_job.html"
    )
    return render(request, template, {"job": job, "refresh_seconds": 2})


@login_required
def export(request: HttpRequest) -> HttpResponse:
    """The points of the list (same filters) as CSV or XLSX, with an HXL row; audited."""
    file_format = request.GET.get("format", "csv")
    if file_format not in exports.FORMATS:
        file_format = "csv"
    points = _filtered_points(request, PointFilterForm(request.GET))
    organisations = managed_organisations(request)
    exported = exports.export_points(
        points,
        file_format=file_format,
        by=request.user,
        organisation_id=next(iter(organisations)) if len(organisations) == 1 else None,
    )
    response = HttpResponse(exported.content, content_type=exports.CONTENT_TYPES[file_format])
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="service-points-{stamp}.{file_format}"'
    return response
