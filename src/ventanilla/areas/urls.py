from django.urls import path

from ventanilla.areas import views

app_name = "areas"

urlpatterns = [
    path("", views.area_list, name="list"),
]
