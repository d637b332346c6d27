"""Background work: enqueue() runs after commit, only ids cross, and the in-process periodic loop."""

from __future__ import annotations

import logging

import pytest
from celery import Celery
from celery.schedules import schedule
from django.core import mail
from django.db import transaction
from django.test import override_settings

from ventanilla.accounts import services
from ventanilla.accounts.models import Membership
from ventanilla.accounts.tasks import notify_access_changed
from ventanilla.core.tasks import enqueue, periodic_schedule, run_in_process_beat
from ventanilla.core.tests.helpers import explode, run_python
from ventanilla.testing.factories import UserFactory


class Rollback(Exception):
    pass


def make_membership(email: str = "maria@example.org") -> Membership:
    organisation = services.create_organisation(name="Casa Alfa", kind="ngo")
    user = UserFactory(username="maria", email=email)
    return services.grant_membership(user=user, organisation=organisation, role="caseworker", by=None)


def stop_after(loops: int):
    calls = iter([False] * loops + [True])
    return lambda: next(calls)


# --- enqueue ---------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_enqueue_runs_only_after_the_transaction_commits():
    # given
    membership = make_membership()
    mail.outbox.clear()
    # when
    with transaction.atomic():
        enqueue(notify_access_changed, membership.pk)
        # then nothing has run inside the transaction
        assert mail.outbox == []
    # and it has run once the block committed
    assert [message.to for message in mail.outbox] == [["maria@example.org"]]
    assert mail.outbox[0].subject == "Your Ventanilla access changed"


@pytest.mark.django_db(transaction=True)
def test_enqueue_never_runs_when_the_transaction_rolls_back():
    # given
    membership = make_membership()
    mail.outbox.clear()

    # when
    def enqueue_then_fail() -> None:
        with transaction.atomic():
            enqueue(notify_access_changed, membership.pk)
            raise Rollback

    with pytest.raises(Rollback):
        enqueue_then_fail()
    # then
    assert mail.outbox == []


@pytest.mark.django_db(transaction=True)
def test_enqueue_outside_a_transaction_runs_at_once():
    membership = make_membership()
    mail.outbox.clear()
    enqueue(notify_access_changed, membership.pk)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_a_service_enqueues_after_its_own_commit():
    # when a service grants a role (the task is enqueued inside its atomic block)
    make_membership()
    # then the person named is told once the grant is committed
    assert len(mail.outbox) == 1
    assert mail.outbox[0].body.startswith("You now have the role Caseworker in Casa Alfa.")


@pytest.mark.django_db
def test_enqueue_with_captured_callbacks(django_capture_on_commit_callbacks):
    # given
    membership = make_membership()
    # when
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue(notify_access_changed, membership.pk)
    # then it waits for the commit
    assert len(callbacks) == 1
    assert mail.outbox == []
    callbacks[0]()
    assert len(mail.outbox) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [object(), 1.5, None, [1], b"1"])
def test_enqueue_refuses_anything_but_ids(django_capture_on_commit_callbacks, bad):
    # given
    membership = make_membership()
    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(TypeError) as raised:
        enqueue(notify_access_changed, membership.pk, bad)
    # then nothing was scheduled
    assert str(raised.value) == "Tasks take ids (int or str), never objects: the worker loads what it needs."
    assert callbacks == []
    assert mail.outbox == []


@pytest.mark.django_db
def test_enqueue_refuses_a_model_instance(django_capture_on_commit_callbacks):
    membership = make_membership()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(TypeError):
        enqueue(notify_access_changed, membership)
    assert callbacks == []


@pytest.mark.django_db
def test_the_task_is_safe_to_run_twice():
    # given
    membership = make_membership()
    # when
    first = notify_access_changed.apply(args=(membership.pk,)).get()
    second = notify_access_changed.apply(args=(membership.pk,)).get()
    # then both runs say the same, true thing, and nothing else changed
    assert (first, second) == (True, True)
    assert len(mail.outbox) == 2
    assert mail.outbox[0].body == mail.outbox[1].body
    assert Membership.objects.get(pk=membership.pk).is_active is True


@pytest.mark.django_db
def test_the_task_tolerates_a_vanished_row_and_a_missing_email():
    membership = make_membership(email="")
    assert notify_access_changed.apply(args=(membership.pk,)).get() is False
    assert notify_access_changed.apply(args=(membership.pk + 1000,)).get() is False
    assert mail.outbox == []


@pytest.mark.django_db
def test_an_in_process_failure_is_logged_without_personal_data(
    django_capture_on_commit_callbacks, no_eager_propagation, caplog
):
    # when (in-process: the embedded set-up, even where the suite runs with a broker)
    with (
        override_settings(ENQUEUE_IN_PROCESS=True),
        caplog.at_level(logging.ERROR, logger="ventanilla.core.tasks"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        enqueue(explode, 42)
    # then the log names the task and the error type only
    assert [record.getMessage() for record in caplog.records if record.name == "ventanilla.core.tasks"] == [
        "In-process task ventanilla.core.tests.explode failed (RuntimeError)"
    ]


@pytest.mark.django_db
def test_with_a_broker_enqueue_sends_the_ids_to_it(django_capture_on_commit_callbacks):
    # given a Celery app on an in-memory broker
    app = Celery("enqueue-test", broker="memory://", set_as_current=False)

    @app.task(name="ventanilla.core.tests.record_ids")
    def record_ids(*ids: object) -> None:  # pragma: no cover - runs on a worker, not here
        pass

    # when in-process mode is off
    with override_settings(ENQUEUE_IN_PROCESS=False), django_capture_on_commit_callbacks(execute=True):
        enqueue(record_ids, 7, "abc")
    # then the message on the queue carries the task name and the ids
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        message = queue.get(timeout=2)
        message.ack()
        queue.close()
    assert message.headers["task"] == "ventanilla.core.tests.record_ids"
    assert message.payload[0] == [7, "abc"]


# --- Periodic work ---------------------------------------------------------------------------------


def test_the_project_schedule_names_registered_tasks():
    # given the schedule shipped in settings
    from celery import current_app

    from ventanilla.accounts import tasks  # noqa: F401 - registers the accounts tasks

    # then every entry names a task that exists
    assert {entry["task"] for entry in periodic_schedule().values()} <= set(current_app.tasks)


@pytest.mark.django_db
def test_in_process_beat_runs_a_due_task():
    # given a membership and a schedule that is always due
    membership = make_membership()
    due = {
        "notify": {
            "task": "ventanilla.accounts.notify_access_changed",
            "schedule": schedule(run_every=0.0),
            "args": (membership.pk,),
        }
    }
    # when one loop runs
    with override_settings(CELERY_BEAT_SCHEDULE=due):
        run_in_process_beat(stop=stop_after(1), tick_seconds=0)
    # then the task ran once
    assert [message.to for message in mail.outbox] == [["maria@example.org"]]


@pytest.mark.django_db
def test_in_process_beat_skips_a_task_that_is_not_due():
    membership = make_membership()
    hourly = {
        "notify": {
            "task": "ventanilla.accounts.notify_access_changed",
            "schedule": schedule(run_every=3600),
            "args": (membership.pk,),
        }
    }
    with override_settings(CELERY_BEAT_SCHEDULE=hourly):
        run_in_process_beat(stop=stop_after(2), tick_seconds=0)
    assert mail.outbox == []


@pytest.mark.django_db
def test_in_process_beat_logs_a_failure_and_keeps_going(no_eager_propagation, caplog):
    # given a failing task, always due
    failing = {"explode": {"task": "ventanilla.core.tests.explode", "schedule": schedule(run_every=0.0)}}
    # when two loops run
    with override_settings(CELERY_BEAT_SCHEDULE=failing), caplog.at_level(logging.ERROR):
        run_in_process_beat(stop=stop_after(2), tick_seconds=0)
    # then each failure was logged and the loop went on
    assert [r.getMessage() for r in caplog.records if r.name == "ventanilla.core.tasks"] == [
        "Periodic task explode failed (RuntimeError)",
        "Periodic task explode failed (RuntimeError)",
    ]


BEAT_IN_A_FRESH_PROCESS = """
import django
django.setup()
from celery.schedules import schedule
from django.conf import settings
from django.core.management import call_command
call_command("migrate", verbosity=0)
settings.CELERY_BEAT_SCHEDULE = {
    "purge": {"task": "ventanilla.accounts.purge_login_failures", "schedule": schedule(run_every=0.0)},
}
from ventanilla.core.tasks import run_in_process_beat
loops = iter([False, True])
run_in_process_beat(stop=lambda: next(loops), tick_seconds=0)
print("ran")
"""


def test_in_process_beat_finds_tasks_nothing_else_imported(tmp_path):
    # given a fresh process (as `ventanilla beat`), where no view or service imported accounts.tasks
    env = {"DJANGO_SETTINGS_MODULE": "ventanilla.settings", "DEBUG": "true"}
    env["VENTANILLA_DATA_DIR"] = str(tmp_path)
    # when
    result = run_python(BEAT_IN_A_FRESH_PROCESS, env=env, cwd=tmp_path)
    # then the scheduled task was found and ran cleanly
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ran\n"
    assert "failed" not in result.stderr


FAILING_TASK_IN_TEST_SETTINGS = """
import django
django.setup()
from celery import shared_task
from ventanilla.core.tasks import enqueue

@shared_task(name="fresh.explode")
def explode(n):
    raise RuntimeError("boom")

enqueue(explode, 1)
print("swallowed")
"""


def test_test_settings_make_in_process_task_failures_raise(tmp_path):
    # The project's Celery app must be the one tasks bind to, or CELERY_* settings are silently ignored.
    # given the test settings, which ask for failing tasks to raise (TASKS_EAGER_PROPAGATES=true)
    env = {"DJANGO_SETTINGS_MODULE": "ventanilla.settings_test", "VENTANILLA_DATA_DIR": str(tmp_path)}
    # when a failing task is enqueued outside any transaction
    result = run_python(FAILING_TASK_IN_TEST_SETTINGS, env=env, cwd=tmp_path)
    # then the failure reaches the caller
    assert result.returncode == 1
    assert "RuntimeError: boom" in result.stderr
