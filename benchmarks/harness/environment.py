"""A throw-away installation per benchmark script: data dir, secrets, database, real servers."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .config import BIN, HOST, REPO, SETTINGS
from .load import Server, Target, send


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Ask gunicorn to stop (SIGTERM, graceful); kill its process group, which we created, if it hangs."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


_PG_SCHEMES = ("postgres", "postgresql", "pgsql")


def _parse_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


class Environment:
    """A throw-away installation for one benchmark script: use as a context manager.

    Sets os.environ for this process (so Django set up here uses the same settings and database as the
    servers it starts) and removes everything on exit, dropping the PostgreSQL database it created.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.tmp = Path()
        self.values: dict[str, str] = {}
        self._pg_admin_url = ""
        self._pg_database = ""
        self._servers: list[subprocess.Popen[bytes]] = []

    # set-up and tear-down

    def __enter__(self) -> Environment:
        self.tmp = Path(tempfile.mkdtemp(prefix=f"ventanilla-bench-{self.name}-"))
        try:
            env_file = self.tmp / "bench.env"
            subprocess.run(
                [str(BIN / "ventanilla"), "init-env", str(env_file), "--data-dir", str(self.tmp)],
                check=True,
                capture_output=True,
            )
            self.values = _parse_env_file(env_file)
            self.values["DATABASE_URL"] = self._database_url(os.environ.get("DATABASE_URL", ""))
            self.values["DJANGO_SETTINGS_MODULE"] = SETTINGS
            self.values["PYTHONPATH"] = os.pathsep.join(
                filter(None, [str(REPO), os.environ.get("PYTHONPATH")])
            )
            self.values["PATH"] = os.pathsep.join([str(BIN), os.environ.get("PATH", "")])
            os.environ.update(self.values)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        for process in self._servers:
            _stop(process)
        if "django" in sys.modules:
            from django.db import connections

            with contextlib.suppress(Exception):
                connections.close_all()
        if self._pg_database:
            self._drop_pg_database()
        if os.environ.get("BENCH_KEEP"):
            print(f"BENCH_KEEP is set: kept {self.tmp}", file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def _database_url(self, given: str) -> str:
        """SQLite in the temporary dir unless DATABASE_URL names a PostgreSQL server, in which case a
        dedicated database is created there (the database named in the URL is never touched)."""
        if not given or given.startswith("sqlite:"):
            return f"sqlite:///{self.tmp / 'bench.sqlite3'}"
        parts = urlsplit(given)
        if parts.scheme not in _PG_SCHEMES:
            raise SystemExit(f"Benchmarks run on SQLite or PostgreSQL, not {parts.scheme!r}.")
        if parts.hostname not in (HOST, "localhost", "::1"):
            raise SystemExit("Benchmarks only use a PostgreSQL server on this machine (127.0.0.1).")
        base = re.sub(r"[^a-z0-9_]", "_", parts.path.lstrip("/").lower()) or "ventanilla"
        name = f"{base}_bench_{re.sub(r'[^a-z0-9_]', '_', self.name)}_{os.getpid()}"[:63]
        self._pg_admin_url = urlunsplit(parts._replace(path="/postgres"))
        import psycopg
        from psycopg import sql

        with psycopg.connect(self._pg_admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self._pg_database = name
        return urlunsplit(parts._replace(path=f"/{name}"))

    # PostgreSQL databases kept between runs (BENCH_KEEP_DB): generate once, copy for every run

    @property
    def on_postgresql(self) -> bool:
        return bool(self._pg_database)

    def pg_database_url(self, name: str) -> str:
        """The URL of another database on the same PostgreSQL server (a kept template, for example)."""
        return urlunsplit(urlsplit(self._pg_admin_url)._replace(path=f"/{name}"))

    def pg_template_name(self, label: str) -> str:
        """A stable database name for a kept copy: `<db>_bench_<label>` (63 characters at most)."""
        base = self._pg_database.split("_bench_", 1)[0]
        return f"{base}_bench_{re.sub(r'[^a-z0-9_]', '_', label.lower())}"[:63]

    def pg_databases(self, prefix: str) -> list[str]:
        import psycopg

        with psycopg.connect(self._pg_admin_url, autocommit=True) as connection:
            rows = connection.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY datname",
                [prefix.replace("_", r"\_") + "%"],
            ).fetchall()
        return [row[0] for row in rows]

    def pg_copy_database(self, source: str, target: str) -> None:
        """`CREATE DATABASE target TEMPLATE source`, replacing `target`. Nobody may be connected to
        `source`: Django's connections in this process are closed first."""
        import psycopg
        from psycopg import sql

        if "django" in sys.modules:
            from django.db import connections

            connections.close_all()
        with psycopg.connect(self._pg_admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target))
            )
            connection.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(target), sql.Identifier(source)
                )
            )

    def pg_restore(self, template: str) -> None:
        """Replace this run's database with a copy of the kept `template` (dropped at the end as usual)."""
        self.pg_copy_database(template, self._pg_database)

    def pg_keep_as(self, template: str) -> None:
        """Copy this run's database to `template`, which outlives the run."""
        self.pg_copy_database(self._pg_database, template)

    def pg_drop(self, name: str) -> None:
        """Drop a kept database (never this run's own: it is dropped on exit)."""
        import psycopg
        from psycopg import sql

        if name == self._pg_database:
            return

        with psycopg.connect(self._pg_admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )

    def _drop_pg_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self._pg_admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self._pg_database))
            )
        self._pg_database = ""

    # Django in this process

    def setup_django(self) -> None:
        import logging

        import django

        django.setup()
        # In-process tasks log each run at INFO; the benchmark's own output should stay readable.
        logging.getLogger("celery").setLevel(logging.WARNING)

    def migrate(self) -> None:
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=0)

    def collectstatic(self) -> None:
        """Needed before serving pages: with DEBUG off, templates resolve static files via the manifest."""
        from django.core.management import call_command

        call_command("collectstatic", interactive=False, verbosity=0)

    # servers

    @contextlib.contextmanager
    def server(
        self, *, settings_module: str = SETTINGS, workers: int = 2, timeout: float = 30.0
    ) -> Iterator[Server]:
        """`ventanilla serve --bind 127.0.0.1:<free port> --workers N`, as in production, until /healthz
        answers 200. Its access log goes to a file in the temporary dir."""
        port = free_port()
        log = self.tmp / f"server-{port}.log"
        env = {**os.environ, **self.values, "DJANGO_SETTINGS_MODULE": settings_module}
        with log.open("wb") as handle:
            process = subprocess.Popen(
                [str(BIN / "ventanilla"), "serve", "--bind", f"{HOST}:{port}", "--workers", str(workers)],
                env=env,
                cwd=self.tmp,
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._servers.append(process)
        server = Server(HOST, port, log, process.pid)
        try:
            self._wait_healthy(server, process, timeout)
            yield server
        finally:
            _stop(process)
            self._servers.remove(process)

    @staticmethod
    def _wait_healthy(server: Server, process: subprocess.Popen[bytes], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        health = Target(server, "/healthz")
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"The server exited with {process.returncode}:\n{_log_tail(server.log)}")
            with contextlib.suppress(OSError):
                if send(health, timeout=2)[0] == 200:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"The server did not answer /healthz within {timeout} s:\n{_log_tail(server.log)}")


def session_cookie(user: Any) -> str:
    """A signed-in session for `user`, as the login page would leave it (no password hashing, so
    creating one per client stays cheap). Returns the Cookie header value."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import login
    from django.http import HttpRequest

    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    return f"{settings.SESSION_COOKIE_NAME}={request.session.session_key}"
