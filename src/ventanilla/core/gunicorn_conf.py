"""gunicorn settings that `ventanilla serve` loads (`--config python:ventanilla.core.gunicorn_conf`).

After a worker has loaded Django, the app's modules, templates and URL patterns are hundreds of
thousands of objects that live as long as the worker. `gc.freeze()` moves them out of the collector's
generations, so the full collections that a busy worker runs now and then no longer walk them: fewer
long pauses in the middle of a request (tail latency), and pages of memory shared with nothing are not
touched by the collector. `WEB_GC_FREEZE=false` turns it off.
"""

from __future__ import annotations

import gc
import os
from typing import Any


def post_worker_init(worker: Any) -> None:
    """Runs in each worker once the app is loaded (gunicorn server hook)."""
    if os.environ.get("WEB_GC_FREEZE", "true").strip().lower() in {"0", "false", "no", "off"}:
        return
    gc.collect()
    gc.freeze()
