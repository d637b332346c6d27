from django.apps import AppConfig


class AreasConfig(AppConfig):
    name = "ventanilla.areas"
    label = "areas"
    verbose_name = "Areas"
