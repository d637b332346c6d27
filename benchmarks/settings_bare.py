"""The bare-view floor without any middleware: what Django and gunicorn cost before the app adds anything.

This server only answers /bench/bare (and /healthz); the admin's checks for its middleware do not apply.
"""

from benchmarks.settings import *  # noqa: F403

MIDDLEWARE: list[str] = []
SILENCED_SYSTEM_CHECKS = ["admin.E408", "admin.E409", "admin.E410"]
