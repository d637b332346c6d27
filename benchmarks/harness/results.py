"""Writing results/<name>.json: machine info, numbers, floors, budget and whether it held."""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .config import CLIENTS, REPO, RESULTS_DIR, ROUNDS, SECONDS

_STARTED = time.monotonic()


def _database_info() -> dict[str, Any]:
    from django.db import connection

    info: dict[str, Any] = {"vendor": connection.vendor}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for setting in ("server_version", "fsync", "synchronous_commit", "shared_buffers"):
                cursor.execute(f"SHOW {setting}")
                info[setting] = cursor.fetchone()[0]
        elif connection.vendor == "sqlite":
            import sqlite3

            info["server_version"] = sqlite3.sqlite_version
            for pragma in ("journal_mode", "synchronous"):
                cursor.execute(f"PRAGMA {pragma}")
                info[pragma] = cursor.fetchone()[0]
    return info


def _git_commit() -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None


def machine_info() -> dict[str, Any]:
    import django

    return {
        "cpu_count": os.cpu_count(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
        "platform": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "database": _database_info(),
        "git_commit": _git_commit(),
        "run_id": os.environ.get("BENCH_RUN_ID"),
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    }


def lookup(data: Mapping[str, Any], dotted: str) -> Any:
    """`lookup(measured, "dashboard.latency.p95_ms")`."""
    value: Any = data
    for part in dotted.split("."):
        value = value[part]
    return value


def evaluate_budget(
    budget: Sequence[Mapping[str, Any]] | None, measured: Mapping[str, Any]
) -> tuple[list[dict[str, Any]] | None, bool | None]:
    """A budget is a list of checks `{"metric": "<dotted path in measured>", "max": n}` (or "min").
    Returns the checks with their actual values, and whether all held (None when there is no budget)."""
    if budget is None:
        return None, None
    checks = []
    for check in budget:
        actual = lookup(measured, check["metric"])
        ok = actual is not None
        if ok and "max" in check:
            ok = actual <= check["max"]
        if ok and "min" in check:
            ok = actual >= check["min"]
        checks.append({**check, "actual": actual, "ok": ok})
    return checks, all(check["ok"] for check in checks)


def write_result(
    name: str,
    *,
    measured: Mapping[str, Any],
    floors: Mapping[str, Any],
    budget: Sequence[Mapping[str, Any]] | None = None,
    headline: Mapping[str, Any] | None = None,
    notes: str = "",
) -> dict[str, Any]:
    """Write benchmarks/results/<name>.json. `headline` holds the few numbers run.py prints."""
    checks, passed = evaluate_budget(budget, measured)
    payload = {
        "name": name,
        "script": Path(sys.argv[0]).name,
        "machine": machine_info(),
        "settings": {"clients": CLIENTS, "seconds_per_target": SECONDS, "rounds": ROUNDS},
        "measured": measured,
        "floors": floors,
        "budget": checks,
        "passed": passed,
        "headline": dict(headline or {}),
        "notes": notes,
        "duration_s": round(time.monotonic() - _STARTED, 1),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    partial = path.with_name(f".{name}.partial.json")  # matched by .gitignore's results/*.json too
    partial.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    partial.replace(path)
    return payload
