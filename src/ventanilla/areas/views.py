"""Staff page listing administrative areas, with search by name or P-code."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ventanilla.areas.models import AdministrativeArea


@login_required
def area_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()
    areas = AdministrativeArea.objects.select_related("parent").order_by("pcode")
    if query:
        areas = areas.filter(Q(pcode__istartswith=query) | Q(name__icontains=query))
    page = Paginator(areas, 100).get_page(request.GET.get("page"))
    return render(request, "areas/area_list.html", {"page": page, "q": query})
