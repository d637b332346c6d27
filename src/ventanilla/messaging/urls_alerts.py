"""Urgent alert pages under /<language>/staff/alerts/: open alerts, acknowledging, the duty rota."""

from django.urls import path

from ventanilla.messaging import views_alerts

app_name = "alerts"

urlpatterns = [
    path("", views_alerts.alert_list, name="list"),
    path("<int:pk>/acknowledge/", views_alerts.acknowledge, name="acknowledge"),
    path("duty/", views_alerts.duty, name="duty"),
    path("duty/<int:pk>/remove/", views_alerts.remove_shift, name="duty_remove"),
]
