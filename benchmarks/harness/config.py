"""Where things are and the knobs every benchmark shares (BENCH_* variables, see README.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO = BENCH_DIR.parent
RESULTS_DIR = Path(os.environ.get("BENCH_RESULTS_DIR") or BENCH_DIR / "results")
BIN = Path(sys.executable).parent  # the virtualenv's bin: `ventanilla` and `gunicorn` live beside python
HOST = "127.0.0.1"
SETTINGS = "benchmarks.settings"
SETTINGS_BARE = "benchmarks.settings_bare"

if str(REPO) not in sys.path:  # `benchmarks.settings` must be importable here and in the servers
    sys.path.insert(0, str(REPO))


def env_number(name: str, default: float) -> float:
    """A tunable from the environment (BENCH_CLIENTS, BENCH_SECONDS ...), for quick or long runs."""
    raw = os.environ.get(name, "")
    return float(raw) if raw.strip() else default


CLIENTS = int(env_number("BENCH_CLIENTS", 20))
SECONDS = env_number("BENCH_SECONDS", 6.0)  # measured seconds per HTTP target, split over ROUNDS
ROUNDS = int(env_number("BENCH_ROUNDS", 3))
WARMUP_SECONDS = env_number("BENCH_WARMUP_SECONDS", 1.0)
