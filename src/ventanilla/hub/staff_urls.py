"""Staff pages of hub content, under /<language>/staff/content/."""

from django.urls import path

from ventanilla.hub import staff_views as views

app_name = "content"

urlpatterns = [
    path("", views.item_list, name="item_list"),
    path("new/", views.item_create, name="item_create"),
    path("review/", views.review_queue, name="review_queue"),
    path("outdated/", views.outdated_list, name="outdated_list"),
    path("stale/", views.stale_list, name="stale_list"),
    path("<int:pk>/", views.item_detail, name="item_detail"),
    path("<int:pk>/settings/", views.item_settings, name="item_settings"),
    path("<int:pk>/verify/", views.item_verify, name="item_verify"),
    path("<int:pk>/<slug:language>/", views.translation_edit, name="translation_edit"),
    path("<int:pk>/<slug:language>/review/", views.translation_review, name="translation_review"),
    path("<int:pk>/<slug:language>/history/", views.translation_history, name="translation_history"),
    path("<int:pk>/<slug:language>/submit/", views.translation_submit, name="translation_submit"),
    path("<int:pk>/<slug:language>/publish/", views.translation_publish, name="translation_publish"),
    path("<int:pk>/<slug:language>/send-back/", views.translation_send_back, name="translation_send_back"),
    path("<int:pk>/<slug:language>/archive/", views.translation_archive, name="translation_archive"),
]
