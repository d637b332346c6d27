"""The production topology end to end: gunicorn and a Celery worker on Redis, PostgreSQL, DEBUG off.

An administrator grants a role through the API with a bearer token; the web process enqueues
`notify_access_changed` on the broker and the worker sends the e-mail (file backend, into the outbox).

Needs a PostgreSQL `DATABASE_URL` (a fresh database is created next to it and dropped afterwards) and
`CELERY_BROKER_URL`. Selected only with `-m smoke` (`.ci/run` does); without those variables it fails.
"""

from __future__ import annotations

import base64
import email
import email.policy
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = pytest.mark.smoke

BIN = Path(sys.executable).parent
GRANTEE_EMAIL = "dana.smoke@example.org"
SETUP = """
from ventanilla.accounts import services
organisation = services.create_organisation(name="Smoke Test Centre", kind="ngo", short_name="STC")
admin = services.create_user(username="smoke_admin", password=None, full_name="Smoke Admin")
services.grant_membership(user=admin, organisation=organisation, role="administrator", by=None)
dana = services.create_user(username="dana", password=None, full_name="Dana", email="dana.smoke@example.org")
# The API grants further roles to members only (usernames of other organisations stay invisible).
services.grant_membership(user=dana, organisation=organisation, role="caseworker", by=None)
issued = services.issue_token(admin, name="smoke", days=1)
print("SETUP", organisation.pk, issued.key)
"""


def _required_environment() -> tuple[str, str]:
    database_url = os.environ.get("DATABASE_URL", "")
    broker_url = os.environ.get("CELERY_BROKER_URL", "")
    if not database_url.startswith(("postgres://", "postgresql://")) or not broker_url:
        pytest.fail(
            "The smoke test needs a PostgreSQL DATABASE_URL and CELERY_BROKER_URL (see .ci/run); "
            "deselect it with -m 'not smoke' (the default)."
        )
    return database_url, broker_url


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smoke_database() -> Iterator[str]:
    """A fresh, empty database on the server of DATABASE_URL; dropped afterwards."""
    import psycopg
    from psycopg import sql

    database_url, _broker = _required_environment()
    parts = urlsplit(database_url)
    name = f"{parts.path.lstrip('/') or 'ventanilla'}_smoke_{secrets.token_hex(4)}"
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def production_env(smoke_database: str, tmp_path: Path) -> dict[str, str]:
    _database, broker_url = _required_environment()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "EMAIL_"))}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "ventanilla.settings",
            "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}",
            "DEBUG": "false",
            "HTTPS": "false",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
            "ALLOWED_HOSTS": "127.0.0.1",
            "VENTANILLA_DATA_DIR": str(tmp_path / "data"),
            "DATABASE_URL": smoke_database,
            "CELERY_BROKER_URL": broker_url,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("TASKS_EAGER_PROPAGATES", None)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 180) -> str:
    result = subprocess.run(
        [str(BIN / "ventanilla"), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"ventanilla {args[0]} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _start(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen(
        [str(BIN / "ventanilla"), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=handle,
        stderr=subprocess.STDOUT,
    )  # same process group as pytest: whoever stops the run (Ctrl-C, CI's timeout) stops these too


def _stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    """SIGTERM (graceful shutdown for gunicorn and Celery), then SIGKILL if it hangs."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
        return -signal.SIGKILL


def _request(url: str, *, data: dict[str, Any] | None = None, token: str = "") -> tuple[int, dict[str, Any]]:
    headers = {"Accept": "application/json"}
    body = None
    if data is not None:
        body = json.dumps(data).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=body, headers=headers, method="POST" if data else "GET")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - 127.0.0.1 only
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _wait_ready(
    base: str, processes: dict[str, subprocess.Popen[bytes]], logs: dict[str, Path]
) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    last: object = None
    while time.monotonic() < deadline:
        for name, process in processes.items():
            assert process.poll() is None, f"{name} exited early:\n{_tail(logs[name])}"
        try:
            status, body = _request(f"{base}/readyz")
            if status == 200 and body.get("checks", {}).get("broker") == "ok":
                return body
            last = (status, body)
        except (OSError, ValueError) as error:
            last = error
        time.sleep(0.5)
    pytest.fail(f"/readyz never became ready with the broker ok (last answer: {last})\n{_tail(logs['web'])}")


def _messages_to(outbox: Path, address: str) -> list[email.message.EmailMessage]:
    """Messages in the file backend's outbox (files of messages separated by a line of dashes)."""
    found = []
    for path in sorted(outbox.glob("*.log")) if outbox.is_dir() else []:
        for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
            if not chunk.strip():
                continue
            message = email.message_from_bytes(chunk.lstrip(), policy=email.policy.default)
            if address in str(message.get("To", "")):
                found.append(message)  # type: ignore[arg-type]
    return found


def _tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""


def test_role_granted_through_the_api_is_mailed_by_the_celery_worker(production_env, tmp_path):
    env = production_env
    # given a migrated database, collected static files, an administrator with a token and a second user
    _run(["migrate", "--no-input", "-v", "0"], env)
    _run(["collectstatic", "--no-input", "-v", "0"], env)
    setup = [line for line in _run(["shell", "-c", SETUP], env).splitlines() if line.startswith("SETUP ")]
    _label, organisation_pk, token = setup[0].split()
    # and gunicorn and a Celery worker running as in production
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    logs = {"web": tmp_path / "web.log", "worker": tmp_path / "worker.log"}
    processes = {
        "web": _start(["serve", "--workers", "2", "--bind", f"127.0.0.1:{port}"], env, logs["web"]),
        "worker": _start(["worker", "--concurrency", "1"], env, logs["worker"]),
    }
    outbox = Path(env["VENTANILLA_DATA_DIR"]) / "outbox"
    try:
        ready = _wait_ready(base, processes, logs)
        assert ready["status"] == "ok"
        assert {"database", "broker"} <= ready["checks"].keys()
        assert set(ready["checks"].values()) == {"ok"}
        login_page = urllib.request.urlopen(f"{base}/en/accounts/login/", timeout=10)  # noqa: S310
        assert login_page.status == 200  # templates and the static manifest work with DEBUG off

        # when the administrator grants the second user a role through the API
        status, body = _request(
            f"{base}/api/v1/memberships/",
            data={"user": "dana", "organisation": int(organisation_pk), "role": "data_analyst"},
            token=token,
        )

        # then the membership is created
        assert status == 201, body
        assert body["user"] == "dana"
        assert body["role"] == "data_analyst"
        # and the worker mails the grantee within a bounded time: the set-up grant (enqueued by the shell
        # before the worker started) and the API grant (enqueued by a gunicorn worker)
        expected = {
            "You now have the role Caseworker in STC.",
            "You now have the role Data analyst in STC.",
        }
        deadline = time.monotonic() + 30
        messages = _messages_to(outbox, GRANTEE_EMAIL)
        while len(messages) < len(expected) and time.monotonic() < deadline:
            for name, process in processes.items():
                assert process.poll() is None, f"{name} exited:\n{_tail(logs[name])}"
            time.sleep(0.25)
            messages = _messages_to(outbox, GRANTEE_EMAIL)
        first_lines = {message.get_content().splitlines()[0] for message in messages}
        assert first_lines == expected, f"mail after 30 s: {first_lines}\nworker:\n{_tail(logs['worker'])}"
        assert len(messages) == len(expected)
        assert {message["Subject"] for message in messages} == {"Your Ventanilla access changed"}
    finally:
        # and both processes stop cleanly on SIGTERM
        exit_codes = {name: _stop(process) for name, process in processes.items()}
    assert exit_codes == {"web": 0, "worker": 0}, {name: _tail(path) for name, path in logs.items()}
