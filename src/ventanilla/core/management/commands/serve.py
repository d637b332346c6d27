"""`ventanilla serve`: the production web server (gunicorn), configured by the environment."""

from __future__ import annotations

import os
import sys
from typing import Any

from django.core.management.base import BaseCommand

from ventanilla.core.env import env_int, env_str


class Command(BaseCommand):
    help = "Serve the app with gunicorn (HOST, PORT, WEB_CONCURRENCY from the environment)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--bind", default=None, help="address:port (default HOST:PORT, 127.0.0.1:8000)")
        parser.add_argument("--workers", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        bind = options["bind"] or f"{env_str('HOST', '127.0.0.1')}:{env_int('PORT', 8000, minimum=1)}"
        workers = options["workers"] or env_int("WEB_CONCURRENCY", 2, minimum=1)
        argv = [
            sys.executable,
            "-m",
            "gunicorn",
            "ventanilla.wsgi:application",
            "--config",
            "python:ventanilla.core.gunicorn_conf",  # gc.freeze() after each worker loads the app
            "--bind",
            bind,
            "--workers",
            str(workers),
            "--access-logformat",
            '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',  # path without query string
            "--access-logfile",
            "-",
            "--forwarded-allow-ips",
            env_str("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            "--timeout",
            str(env_int("WEB_TIMEOUT", 60, minimum=5)),
        ]
        # The gunicorn of this interpreter, whether or not the virtualenv is on PATH.
        os.execv(sys.executable, argv)  # noqa: S606 - replaces this process with the server
