"""insights pages (being built)."""

from django.urls import URLPattern

app_name = "message_insights"

urlpatterns: list[URLPattern] = []
