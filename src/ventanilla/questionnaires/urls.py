"""Staff pages of questionnaires, under /<language>/staff/forms/."""

from django.urls import path

from ventanilla.questionnaires import views

app_name = "questionnaires"

urlpatterns = [
    path("", views.form_list, name="list"),
    path("<int:pk>/", views.form_detail, name="detail"),
    path("<int:pk>/try/", views.try_form, name="try"),
    path("<int:pk>/versions/<int:version_pk>/use/", views.make_current, name="make_current"),
    path("<int:pk>/versions/<int:version_pk>/xlsx/", views.download_xlsx, name="xlsx"),
    path("<int:pk>/versions/<int:version_pk>/xform/", views.download_xform, name="xform"),
]
