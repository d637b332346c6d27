"""OpenRosa URLs. `urlpatterns` is mounted at /openrosa/ without a language prefix (phones call it);
`staff_urlpatterns` is the staff page, mounted at /<lang>/staff/openrosa/."""

from django.urls import path, re_path

from ventanilla.registration.openrosa import staff, views

app_name = "openrosa"

urlpatterns = [
    path("formList", views.form_list, name="form_list"),
    path("forms/<str:form_id>/<str:version>/form.xml", views.form_download, name="form_download"),
    path("forms/<str:form_id>/<str:version>/manifest.xml", views.manifest, name="manifest"),
    path("submission", views.submission, name="submission"),
    re_path(r"^.*$", views.not_found, name="not_found"),
]

staff_urlpatterns = (
    [
        path("", staff.devices, name="devices"),
        path("<int:pk>/revoke/", staff.revoke_device, name="device_revoke"),
    ],
    "openrosa_staff",
)
