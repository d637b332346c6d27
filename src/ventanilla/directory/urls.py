"""Staff pages of the directory, under /<language>/staff/directory/."""

from django.urls import path

from ventanilla.directory import views

app_name = "directory"

urlpatterns = [
    path("", views.point_list, name="point_list"),
    path("points/new/", views.point_create, name="point_create"),
    path("points/<int:pk>/", views.point_edit, name="point_edit"),
    path("points/<int:pk>/status/", views.point_status, name="point_status"),
    path("points/<int:pk>/verify/", views.point_verify, name="point_verify"),
    path("stale/", views.stale_list, name="stale_list"),
    path("providers/", views.provider_list, name="provider_list"),
    path("providers/new/", views.provider_create, name="provider_create"),
    path("providers/<int:pk>/", views.provider_edit, name="provider_edit"),
    path("import/", views.import_upload, name="import"),
    path("import/<int:pk>/", views.import_job, name="import_job"),
    path("export/", views.export, name="export"),
]
