"""The Celery application. Without CELERY_BROKER_URL no worker is needed: see core.tasks.enqueue."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ventanilla.settings")

app = Celery("ventanilla")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
