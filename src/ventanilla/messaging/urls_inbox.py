"""inbox pages (being built)."""

from django.urls import URLPattern

app_name = "inbox"

urlpatterns: list[URLPattern] = []
