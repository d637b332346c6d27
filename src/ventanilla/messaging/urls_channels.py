"""channels pages (being built)."""

from django.urls import URLPattern

app_name = "channels"

urlpatterns: list[URLPattern] = []
