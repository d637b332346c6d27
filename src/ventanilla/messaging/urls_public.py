"""The public feedback form (being built)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
