"""Run the benchmarks: floors.py, then every bench_*.py, each in its own process so settings stay isolated.

    .venv/bin/python benchmarks/run.py                 # all of them (what `make bench` runs)
    .venv/bin/python benchmarks/run.py foundation      # only bench_foundation.py (names without bench_)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ventanilla .venv/bin/python benchmarks/run.py

Prints a summary table and exits non-zero when a script crashed or a result with a budget failed.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import harness
from rich.console import Console
from rich.table import Table


def discover() -> dict[str, Path]:
    scripts = [harness.BENCH_DIR / "floors.py", *sorted(harness.BENCH_DIR.glob("bench_*.py"))]
    return {script.stem.removeprefix("bench_"): script for script in scripts}


def results_of(script: Path, run_id: str) -> list[dict[str, Any]]:
    """The results this script wrote in this run (older files are ignored)."""
    found = []
    for path in sorted(harness.RESULTS_DIR.glob("*.json")):
        try:
            payload = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if payload.get("machine", {}).get("run_id") == run_id and payload.get("script") == script.name:
            found.append(payload)
    return found


def describe_budget(result: dict[str, Any]) -> str:
    if result["budget"] is None:
        return "none: a baseline"
    return "\n".join(
        f"{'✓' if check['ok'] else '✗'} {check['metric']} = {check['actual']}"
        + "".join(f" {sign} {check[key]}" for key, sign in (("max", "≤"), ("min", "≥")) if key in check)
        for check in result["budget"]
    )


def main() -> int:
    available = discover()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("names", nargs="*", help=f"benchmarks to run (default: all): {', '.join(available)}")
    names = parser.parse_args().names or list(available)
    unknown = [name for name in names if name not in available]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; known: {', '.join(available)}")

    console = Console()
    run_id = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ") + f"-{os.getpid()}"
    database = (
        "PostgreSQL" if os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql")) else "SQLite"
    )
    console.print(f"[bold]Benchmarks[/] on {database}, run {run_id}, results in {harness.RESULTS_DIR}")
    began = time.monotonic()

    table = Table(title=f"Benchmark results ({database})")
    for column in ("benchmark", "number", "value"):
        table.add_column(column)
    failed = False
    for name in names:
        script = available[name]
        console.rule(f"{script.name}")
        start = time.monotonic()
        process = subprocess.run(
            [sys.executable, str(script)],
            env={**os.environ, "BENCH_RUN_ID": run_id},
            cwd=harness.REPO,
            check=False,
        )
        seconds = f"{time.monotonic() - start:.0f} s"
        results = results_of(script, run_id)
        if process.returncode != 0 or not results:
            failed = True
            table.add_row(
                name, "result", f"[red]crashed (exit {process.returncode}, no result)[/]", end_section=True
            )
            continue
        for result in results:
            for index, (key, value) in enumerate(result["headline"].items()):
                table.add_row(result["name"] if index == 0 else "", key, str(value))
            if result["passed"] is False:
                failed = True
                verdict = "[red]FAILED[/]"
            else:
                verdict = "[green]passed[/]" if result["passed"] else "[dim]recorded (no budget)[/]"
            table.add_row("", "budget", describe_budget(result))
            table.add_row("", "result", f"{verdict} in {seconds}", end_section=True)
    console.print(table)
    console.print(f"Total {time.monotonic() - began:.0f} s. JSON in {harness.RESULTS_DIR}.")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
