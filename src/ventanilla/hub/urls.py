from django.urls import path

from ventanilla.hub import views

app_name = "hub"

urlpatterns = [
    path("", views.home, name="home"),
    path("services/", views.results, name="results"),
    path("services/print/", views.print_list, name="print"),
    path("services/<int:pk>/", views.service, name="service"),
    path("info/", views.info, name="info"),
    path("info/<slug:key>/", views.article, name="article"),
    path("alerts/", views.alerts, name="alerts"),
]
