"""Pathway pages: every member reads their organisation's pathways (partners read those pointing to
them); pathway managers create and change them through `pathways.save_pathway`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.accounts.models import User
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory.models import Category, ServiceProvider
from ventanilla.referrals import pathways, projection
from ventanilla.referrals.forms import FocalPointFormSet, PathwayForm
from ventanilla.referrals.models import Pathway
from ventanilla.referrals.services import ReferralPermissionError


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


@login_required
def pathway_list(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.grants:
        raise PermissionDenied
    rows = list(
        Pathway.objects.visible_to(request.user)
        .select_related("organisation", "provider")
        .prefetch_related("categories", "focal_points", "service_points")
        .order_by("organisation__name", "name")
    )
    managed = scope.organisations(Permission.MANAGE_PATHWAYS)
    today = timezone.localdate()
    for pathway in rows:
        pathway.may_edit = pathway.organisation_id in managed
        pathway.in_force = (
            pathway.is_active
            and pathway.valid_from <= today
            and (pathway.valid_to is None or pathway.valid_to >= today)
        )
    return render(
        request,
        "referrals/pathway_list.html",
        {"rows": rows, "may_create": bool(managed)},
    )


def _defaults() -> list[tuple[str, list[str]]]:
    """What each service shares when a pathway ticks no field: shown next to the checkboxes."""
    labels = {name: str(label) for name, (label, _read) in projection.FIELDS.items()}
    return [
        (str(label), [labels[name] for name in projection.default_fields(code) if name in labels])
        for code, label in Category.choices
    ]


def _focal_initial(pathway: Pathway | None) -> list[dict[str, Any]]:
    if pathway is None:
        return []
    return [
        {"id": fp.pk, "name": fp.name, "email": fp.email, "phone": fp.phone, "language": fp.language}
        for fp in pathway.focal_points.all()
    ]


def _initial(pathway: Pathway | None) -> dict[str, Any]:
    if pathway is None:
        return {"valid_from": timezone.localdate(), "is_active": True, "response_hours": 48, "language": "es"}
    return {
        "name": pathway.name,
        "provider": pathway.provider_id,
        "categories": list(pathway.categories.values_list("code", flat=True)),
        "service_points": list(pathway.service_points.values_list("pk", flat=True)),
        "age_min": pathway.age_min,
        "age_max": pathway.age_max,
        "sexes": pathway.sexes,
        "eligibility": pathway.eligibility,
        "response_hours": pathway.response_hours,
        "language": pathway.language,
        "shared_fields": list(pathway.shared_fields),
        "valid_from": pathway.valid_from,
        "valid_to": pathway.valid_to,
        "is_active": pathway.is_active,
    }


def _chosen_provider(request: HttpRequest, pathway: Pathway | None, user: User) -> ServiceProvider | None:
    """The partner whose service points the form offers: as posted (or asked), else the pathway's."""
    value = request.POST.get("provider") or request.GET.get("provider")
    if value:
        try:
            return pathways.providers_for(user).filter(pk=int(value)).first()
        except ValueError:
            return None
    return pathway.provider if pathway is not None else None


@login_required
def pathway_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _user(request)
    pathway: Pathway | None = None
    if pk is not None:
        pathway = (
            Pathway.objects.visible_to(user).select_related("provider", "organisation").get_for(user, pk)
        )
        if not pathways.may_manage(user, pathway):
            raise PermissionDenied
        organisations = None
    else:
        organisations = pathways.managed_organisations(user)
        if not organisations.exists():
            raise PermissionDenied
    provider = _chosen_provider(request, pathway, user)
    data = request.POST if request.method == "POST" else None
    form = PathwayForm(
        data,
        organisations=organisations if organisations is not None and organisations.count() > 1 else None,
        providers=pathways.providers_for(user),
        points=pathways.points_of(provider, user),
        initial={**_initial(pathway), **({"provider": provider.pk} if provider else {})},
    )
    focal_points = FocalPointFormSet(data, prefix="focal_points", initial=_focal_initial(pathway))
    if request.method == "POST" and form.is_valid() and focal_points.is_valid():
        saved = _save(request, form, focal_points, pathway, organisations)
        if saved is not None:
            messages.success(request, _("The pathway %(name)s is saved.") % {"name": saved.name})
            return redirect("referrals:pathways")
    return render(
        request,
        "referrals/pathway_edit.html",
        {
            "pathway": pathway,
            "form": form,
            "focal_points": focal_points,
            "provider": provider,
            "providers": pathways.providers_for(user),
            "defaults": _defaults(),
        },
    )


def _save(
    request: HttpRequest,
    form: PathwayForm,
    formset: Any,
    pathway: Pathway | None,
    organisations: Any,
) -> Pathway | None:
    data = form.cleaned_data
    kept = formset.kept_forms()
    entry = pathways.PathwayInput(
        name=data["name"],
        provider=data["provider"],
        categories=list(data["categories"]),
        service_points=list(data["service_points"]),
        age_min=data["age_min"],
        age_max=data["age_max"],
        sexes=data["sexes"],
        eligibility=data["eligibility"],
        response_hours=data["response_hours"],
        language=data["language"],
        shared_fields=list(data["shared_fields"]),
        valid_from=data["valid_from"],
        valid_to=data["valid_to"],
        is_active=data["is_active"],
        focal_points=[
            pathways.FocalPointInput(
                id=row.cleaned_data.get("id"),
                name=row.cleaned_data.get("name", ""),
                email=row.cleaned_data.get("email", ""),
                phone=row.cleaned_data.get("phone", ""),
                language=row.cleaned_data.get("language") or "es",
            )
            for row in kept
        ],
    )
    organisation = None
    if pathway is None:
        organisation = data.get("organisation") or organisations.first()
    try:
        return pathways.save_pathway(pathway, entry, by=_user(request), organisation=organisation)
    except ReferralPermissionError:
        raise PermissionDenied from None
    except pathways.PathwayInvalid as error:
        for name, message in error.errors.items():
            if name.startswith("focal_points-"):
                _prefix, index, field = name.split("-", 2)
                kept[int(index)].add_error(field, message)
            else:
                form.add_error(name if name in form.fields else None, message)
        return None
