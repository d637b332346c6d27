"""The process commands: serve, worker and beat. The process each would start is recorded instead of
run (every exec, spawn and Popen is replaced); everything up to that point is real."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.test import override_settings

from ventanilla.core.env import EnvironmentError_


class Started(Exception):
    """Stands in for the process that would replace the command."""


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Record, instead of running, any process the command starts."""
    calls: list[list[str]] = []

    def record(*args: object, **kwargs: object) -> None:
        argv = next((a for a in reversed(args) if isinstance(a, list | tuple)), args)
        calls.append([str(part) for part in argv])
        raise Started

    for name in dir(os):
        if name.startswith(("exec", "spawn", "posix_spawn")) and callable(getattr(os, name)):
            monkeypatch.setattr(os, name, record)
    monkeypatch.setattr(subprocess, "Popen", record)
    return calls


def gunicorn_arguments(argv: list[str]) -> list[str]:
    """What follows `gunicorn` (run as a script or as `python -m gunicorn`)."""
    position = argv.index("gunicorn")
    assert argv[:position] in ([], [sys.executable, "-m"])
    return argv[position + 1 :]


# --- serve -----------------------------------------------------------------------------------------


def test_serve_starts_gunicorn_with_defaults(monkeypatch, started):
    # given no HOST, PORT, WEB_CONCURRENCY ...
    for name in ("HOST", "PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "WEB_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    # when
    with pytest.raises(Started):
        call_command("serve")
    # then the access log leaves out query strings (they may carry personal data)
    assert len(started) == 1
    assert gunicorn_arguments(started[0]) == [
        "ventanilla.wsgi:application",
        "--config",
        "python:ventanilla.core.gunicorn_conf",
        "--bind",
        "127.0.0.1:8000",
        "--workers",
        "2",
        "--access-logformat",
        '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
        "--access-logfile",
        "-",
        "--forwarded-allow-ips",
        "127.0.0.1",
        "--timeout",
        "60",
    ]


def test_each_worker_freezes_the_loaded_app_out_of_the_collector_unless_told_not_to(monkeypatch):
    from ventanilla.core import gunicorn_conf

    calls: list[str] = []
    monkeypatch.setattr(gunicorn_conf.gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(gunicorn_conf.gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.delenv("WEB_GC_FREEZE", raising=False)
    gunicorn_conf.post_worker_init(worker=None)
    assert calls == ["collect", "freeze"]
    monkeypatch.setenv("WEB_GC_FREEZE", "false")
    gunicorn_conf.post_worker_init(worker=None)
    assert calls == ["collect", "freeze"]


def test_serve_reads_the_environment(monkeypatch, started):
    # given
    monkeypatch.setenv("HOST", "10.0.0.5")
    monkeypatch.setenv("PORT", "9000")
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    monkeypatch.setenv("WEB_TIMEOUT", "30")
    # when
    with pytest.raises(Started):
        call_command("serve")
    # then
    argv = started[0]
    assert argv[argv.index("--bind") + 1] == "10.0.0.5:9000"
    assert argv[argv.index("--workers") + 1] == "4"
    assert argv[argv.index("--timeout") + 1] == "30"


def test_serve_options_win_over_the_environment(monkeypatch, started):
    monkeypatch.setenv("PORT", "9000")
    with pytest.raises(Started):
        call_command("serve", "--bind", "127.0.0.1:7000", "--workers", "1")
    argv = started[0]
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:7000"
    assert argv[argv.index("--workers") + 1] == "1"


def test_serve_refuses_a_bad_port_before_starting_anything(monkeypatch, started):
    monkeypatch.setenv("PORT", "0")
    with pytest.raises(EnvironmentError_) as raised:
        call_command("serve")
    assert str(raised.value) == "The environment variable PORT must be at least 1, not 0."
    assert started == []


# --- worker and beat -------------------------------------------------------------------------------


def test_worker_without_a_broker_explains_itself(started):
    with override_settings(CELERY_BROKER_URL=""), pytest.raises(CommandError) as raised:
        call_command("worker")
    assert str(raised.value) == (
        "CELERY_BROKER_URL is not set: without a broker, tasks already run in-process."
    )
    assert started == []


def test_worker_with_a_broker_starts_celery(monkeypatch, project_celery_app, started):
    # given
    calls: list[list[str]] = []
    monkeypatch.setattr(project_celery_app, "worker_main", calls.append)
    # when
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/15"):
        call_command("worker", "--concurrency", "3")
    # then
    assert calls == [["worker", "--loglevel=INFO", "--concurrency=3", "--without-gossip"]]


def test_beat_with_a_broker_starts_celery_beat(monkeypatch, project_celery_app, started):
    calls: list[list[str]] = []
    monkeypatch.setattr(project_celery_app, "start", calls.append)
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:6379/15"):
        call_command("beat")
    assert calls == [
        ["beat", "--loglevel=INFO", "--schedule", str(settings.DATA_DIR / "celerybeat-schedule")]
    ]


def test_beat_without_a_broker_runs_the_in_process_loop(monkeypatch, started):
    # given
    from ventanilla.core import tasks

    runs: list[dict[str, object]] = []
    monkeypatch.setattr(tasks, "run_in_process_beat", lambda **kwargs: runs.append(kwargs))
    out = StringIO()
    # when
    with override_settings(CELERY_BROKER_URL=""):
        call_command("beat", stdout=out)
    # then
    assert out.getvalue() == "No broker configured: running periodic jobs in this process.\n"
    assert runs == [{}]


# --- load-demo -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_load_demo_is_safe_to_run_twice(capsys):
    # given
    from ventanilla.accounts.models import Membership, Organisation, User
    from ventanilla.core.audit import verify_chain

    # when
    call_command("load_demo")
    first = capsys.readouterr().out
    counts = (Organisation.objects.count(), User.objects.count(), Membership.objects.count())
    call_command("load_demo")
    second = capsys.readouterr().out
    # then the second run adds nothing, and both list the demo logins
    assert counts == (2, 11, 11)
    assert (Organisation.objects.count(), User.objects.count(), Membership.objects.count()) == counts
    assert "Demo data ready" in first
    assert "Demo data ready: 0 new areas" in second
    assert "casa_caseworker" in second
    assert verify_chain().ok


@pytest.mark.django_db
def test_load_demo_reports_a_broken_area_file(monkeypatch, tmp_path):
    from ventanilla.core.management.commands import load_demo

    broken = tmp_path / "areas.csv"
    broken.write_text("not,an,area,file\n")
    monkeypatch.setattr(load_demo, "CORRIDOR_FILE", broken)
    with pytest.raises(CommandError, match=r"^The demo area file is invalid: "):
        call_command("load_demo")
