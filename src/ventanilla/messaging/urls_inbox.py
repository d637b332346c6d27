"""Inbox pages under /<language>/staff/inbox/: conversations, their changes, reply templates."""

from django.urls import path

from ventanilla.messaging import views_inbox, views_inbox_templates

app_name = "inbox"

urlpatterns = [
    path("", views_inbox.conversation_list, name="list"),
    path("overdue/", views_inbox.conversation_list, {"overdue": True}, name="overdue"),
    path("<int:pk>/", views_inbox.detail, name="detail"),
    path("<int:pk>/triage/", views_inbox.triage, name="triage"),
    path("<int:pk>/assign/", views_inbox.assign, name="assign"),
    path("<int:pk>/status/", views_inbox.set_status, name="status"),
    path("<int:pk>/notes/", views_inbox.add_note, name="add_note"),
    path("<int:pk>/reply/", views_inbox.reply, name="reply"),
    path("<int:pk>/person/", views_inbox.link_person, name="person"),
    path("templates/", views_inbox_templates.template_list, name="templates"),
    path("templates/new/", views_inbox_templates.template_create, name="template_create"),
    path("templates/<int:pk>/", views_inbox_templates.template_edit, name="template_edit"),
]
