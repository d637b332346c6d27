from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "ventanilla.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        # Bind every shared_task to the Celery app (broker, eager mode) in the web process too.
        # Here rather than in ventanilla/__init__.py: importing the package must not choose settings.
        from ventanilla import celery_app  # noqa: F401
