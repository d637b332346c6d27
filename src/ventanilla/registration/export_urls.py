"""Registration exports, mounted at /<lang>/staff/people/exports/."""

from django.urls import path

from ventanilla.registration import export_views

app_name = "registration_exports"

urlpatterns = [
    path("", export_views.export_list, name="list"),
    path("<int:pk>/", export_views.export_status, name="status"),
    path("<int:pk>/download/", export_views.export_download, name="download"),
]
