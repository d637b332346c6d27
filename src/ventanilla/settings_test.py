"""Test settings: the production settings plus speed switches only."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("HTTPS", "false")
os.environ.setdefault("TASKS_EAGER_PROPAGATES", "true")

from ventanilla.settings import *  # noqa: F403
from ventanilla.settings import DATA_DIR, DATABASES, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_AUTOREFRESH = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory: the leak test reads the bytes on disk.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
# With a broker configured (the PostgreSQL + Redis run of .ci/run), enqueue() takes the apply_async
# path; eager mode runs it here, so the suite needs no worker and still exercises that path.
CELERY_TASK_ALWAYS_EAGER = True
# Links in messages and the channels' webhook addresses point at the test server, not another host.
PUBLIC_BASE_URL = "http://testserver"
