"""Case pages under /<language>/staff/cases/, the overdue list and in-app notices."""

from django.urls import path, register_converter

from ventanilla.cases import views, views_desk


class CaseReferenceConverter:
    regex = "CS-[A-Z0-9]{4}-[A-Z0-9]{4}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(CaseReferenceConverter, "case")

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("overdue/", views_desk.overdue, name="overdue"),
    path("notices/", views_desk.notices, name="notices"),
    path("transfers/", views_desk.transfers, name="transfers"),
    path("transfers/<int:pk>/decide/", views_desk.decide_transfer, name="decide_transfer"),
    path("open/<reference:person_reference>/", views.open_case, name="open"),
    path("<case:reference>/", views.detail, name="detail"),
    path("<case:reference>/edit/", views.edit, name="edit"),
    path("<case:reference>/close/", views.close, name="close"),
    path("<case:reference>/reassign/", views.reassign, name="reassign"),
    path("<case:reference>/transfer/", views.transfer, name="transfer"),
    path("<case:reference>/tasks/", views.add_task, name="add_task"),
    path("<case:reference>/tasks/<int:task_id>/done/", views.complete_task, name="complete_task"),
    path("<case:reference>/notes/", views.add_note, name="add_note"),
]
