"""Ventanilla.

The Celery app is loaded with Django so that every `shared_task` binds to it and its settings
(broker, eager mode, acks) apply in the web process too, not only in the worker.
"""

from ventanilla.celery_app import app as celery_app

__all__ = ["celery_app"]
