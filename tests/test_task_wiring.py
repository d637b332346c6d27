"""Background tasks run on the project's Celery app, whichever process enqueues them."""

from __future__ import annotations

from django.conf import settings
from django.core import mail

from ventanilla.accounts import services
from ventanilla.accounts.tasks import notify_access_changed
from ventanilla.celery_app import app


def test_tasks_are_bound_to_the_configured_celery_app():
    # then the task uses the app configured from Django settings, not Celery's unconfigured default
    assert notify_access_changed.app is app
    assert app.conf.task_acks_late is settings.CELERY_TASK_ACKS_LATE is True
    assert app.conf.task_always_eager is settings.CELERY_TASK_ALWAYS_EAGER is True  # from settings_test


def test_a_grant_is_mailed_after_commit_with_or_without_a_broker(world, django_capture_on_commit_callbacks):
    # given (in-process without a broker; apply_async in eager mode with one, as in CI's second run)
    mail.outbox.clear()
    # when a role is granted
    with django_capture_on_commit_callbacks(execute=True):
        services.grant_membership(
            user=world.outsider, organisation=world.a.organisation, role="auditor", by=None
        )
    # then the person named is told
    assert [message.to for message in mail.outbox] == [[world.outsider.email]]
    assert mail.outbox[0].body.startswith("You now have the role Auditor in A.")
