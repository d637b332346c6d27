"""Seeing the whole: /staff/insights/messages/ (view_aggregates or handle_messages)."""

from django.urls import path

from ventanilla.messaging import views_insights

app_name = "message_insights"

urlpatterns = [
    path("", views_insights.overview, name="overview"),
    path("export/", views_insights.export, name="export"),
]
