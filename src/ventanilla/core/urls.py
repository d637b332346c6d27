from django.urls import path

from ventanilla.core import views

app_name = "core"

urlpatterns = [
    path("staff/", views.dashboard, name="dashboard"),
    path("audit/", views.audit_log, name="audit_log"),
]
