"""Template helpers for the page shell."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.translation import get_language_info

register = template.Library()


@register.simple_tag(takes_context=True)
def language_links(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The current page in each language; links, not a form, so switching works without JavaScript."""
    request = context["request"]
    current = context.get("LANGUAGE_CODE", settings.LANGUAGE_CODE)
    links = []
    for code, _name in settings.LANGUAGES:
        info = get_language_info(code)
        url = translate_url(request.get_full_path(), code)
        links.append({"code": code, "name": info["name_local"], "url": url, "current": code == current})
    return links
