"""Public Find Help pages: tiny, readable without JavaScript, in the reader's language."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation

from ventanilla.directory.models import ServiceCategory
from ventanilla.hub import services


def home(request: HttpRequest) -> HttpResponse:
    language = translation.get_language() or "en"
    alerts = [text for item in services.current_alerts() if (text := services.public_text(item, language))]
    context = {"categories": ServiceCategory.objects.all(), "alerts": alerts}
    return render(request, "hub/home.html", context)
