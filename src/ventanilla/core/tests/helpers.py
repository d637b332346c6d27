"""Helpers for the core tests: processes started with a controlled environment, raw audit tampering."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from celery import shared_task
from cryptography.fernet import Fernet
from django.db import connection

import ventanilla.settings

# Every variable settings.py reads, so that a child process sees only what a test gives it (the test
# process itself carries DEBUG=true and friends, set by settings_test).
SETTINGS_VARIABLES = frozenset(
    re.findall(r'(?:env_\w+|_secret)\(\s*"([A-Z0-9_]+)"', Path(ventanilla.settings.__file__).read_text())
) | {"DJANGO_SETTINGS_MODULE"}


def base_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name not in SETTINGS_VARIABLES}


def production_values(data_dir: Path) -> dict[str, str]:
    """What an operator sets on a real server: no DEBUG, HTTPS, real secrets, a host name."""
    return {
        "DEBUG": "false",
        "HTTPS": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode("ascii"),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
        "ALLOWED_HOSTS": "ventanilla.example.org",
        "VENTANILLA_DATA_DIR": str(data_dir),
    }


def run_ventanilla(
    args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """`python -m ventanilla ARGS` in a fresh process, environment = the test process's minus settings."""
    return subprocess.run(
        [sys.executable, "-m", "ventanilla", *args],
        env={**base_environment(), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_python(
    code: str, *, env: dict[str, str], cwd: Path, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base_environment(), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@contextmanager
def raw_audit_cursor() -> Iterator[Any]:
    """A cursor that can change the audit table behind the application's back (as an attacker would)."""
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER audit_append_only")
        try:
            yield cursor
        finally:
            if postgres:
                cursor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER audit_append_only")


@shared_task(name="ventanilla.core.tests.explode")
def explode(*ids: Any) -> None:
    """A task that always fails, to see how failures are reported."""
    raise RuntimeError("boom")
