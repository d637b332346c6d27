"""Shared tools for Ventanilla's benchmarks: timing, percentiles, a load generator, a real server, results.

A benchmark script (see README.md for a template):

1. opens an `Environment`: a temporary data dir, fresh secrets from `ventanilla init-env`, its own
   database (a SQLite file by default, a dedicated PostgreSQL database when DATABASE_URL names a
   PostgreSQL server), settings `benchmarks.settings` (the production settings plus benchmark-only URLs);
2. measures its floors (`floors.py`) and the app's own paths in the same run, interleaved where it can
   (pages in a real browser: `harness.browser`, Chromium through Playwright, sizes read from CDP);
3. calls `write_result()`, which writes `benchmarks/results/<name>.json`.

Everything here runs against 127.0.0.1 only.
"""

from . import browser
from .config import (
    BENCH_DIR,
    BIN,
    CLIENTS,
    HOST,
    REPO,
    RESULTS_DIR,
    ROUNDS,
    SECONDS,
    SETTINGS,
    SETTINGS_BARE,
    WARMUP_SECONDS,
    env_number,
)
from .environment import Environment, free_port, session_cookie
from .load import LoadResult, Server, Target, check_target, measure_http, run_load, send
from .results import evaluate_budget, lookup, machine_info, write_result
from .timing import per_second, percentile, ratio, summarise, time_calls

__all__ = [
    "BENCH_DIR",
    "BIN",
    "CLIENTS",
    "HOST",
    "REPO",
    "RESULTS_DIR",
    "ROUNDS",
    "SECONDS",
    "SETTINGS",
    "SETTINGS_BARE",
    "WARMUP_SECONDS",
    "Environment",
    "LoadResult",
    "Server",
    "Target",
    "browser",
    "check_target",
    "env_number",
    "evaluate_budget",
    "free_port",
    "lookup",
    "machine_info",
    "measure_http",
    "per_second",
    "percentile",
    "ratio",
    "run_load",
    "send",
    "session_cookie",
    "summarise",
    "time_calls",
    "write_result",
]
