"""Floors: what the framework, the server and the database cost before the app does anything.

Benchmarks compare the app's paths against these numbers measured in the same run on the same machine,
so a result holds on a noisy 2-core machine where absolute numbers drift. Each floor is a function
returning numbers; run this file on its own to write results/floors.json.

- HTTP: a bare view (a tiny HttpResponse, no database, no template) served by gunicorn like the app,
  once without middleware and once through the app's full middleware stack.
- SQL: `SELECT 1` and a primary-key lookup through Django's connection, per call.
- Inserts: 10,000 rows into a simple table by bulk_create and by executemany, and one row per
  transaction (the fair floor for anything that commits one row per call, such as audit.record()).
"""

from __future__ import annotations

import contextlib
import functools
import random
import statistics
import time
from collections.abc import Iterator
from typing import Any

import harness

FLOOR_TABLE = "bench_floor_row"


# --- HTTP ----------------------------------------------------------------------------------------------


@contextlib.contextmanager
def http_floor_targets(
    env: harness.Environment, app_server: harness.Server
) -> Iterator[dict[str, harness.Target]]:
    """The two bare-view targets: `bare_view` on a server of its own with no middleware, and
    `bare_view_with_middleware` on `app_server` (the server that also serves the app's paths)."""
    with env.server(settings_module=harness.SETTINGS_BARE) as bare_server:
        yield {
            "bare_view": harness.Target(bare_server, "/bench/bare"),
            "bare_view_with_middleware": harness.Target(app_server, "/bench/bare"),
        }


def http_floors(env: harness.Environment, **load: Any) -> dict[str, dict[str, Any]]:
    """Requests/s and latency of the bare view, with and without the middleware stack."""
    with env.server() as app_server, http_floor_targets(env, app_server) as targets:
        return harness.measure_http(targets, **load)


# --- SQL -----------------------------------------------------------------------------------------------


@functools.cache
def floor_model() -> Any:
    """A simple table (id, a datetime, a short text, an integer) that only benchmarks use."""
    from django.db import models

    class FloorRow(models.Model):
        at = models.DateTimeField()
        label = models.CharField(max_length=64)
        value = models.IntegerField()

        class Meta:
            app_label = "benchmarks"
            db_table = FLOOR_TABLE

        def __str__(self) -> str:
            return self.label

    return FloorRow


def ensure_floor_table(min_rows: int = 0) -> Any:
    """Create the floor table when missing, with at least `min_rows` rows."""
    from django.db import connection
    from django.utils import timezone

    model = floor_model()
    if FLOOR_TABLE not in connection.introspection.table_names():
        with connection.schema_editor() as editor:
            editor.create_model(model)
    missing = min_rows - model.objects.count()
    if missing > 0:
        now = timezone.now()
        model.objects.bulk_create(
            (model(at=now, label=f"row {i}", value=i) for i in range(missing)), batch_size=1000
        )
    return model


def sql_floors(*, n: int = 2000, warmup: int = 200) -> dict[str, dict[str, Any]]:
    """Per-call latency (µs) of `SELECT 1`, a primary-key lookup in SQL, and the same through the ORM."""
    from django.db import connection

    model = ensure_floor_table(min_rows=10_000)
    ids = list(model.objects.values_list("pk", flat=True))
    chooser = random.Random(7)

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    def pk_lookup() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, at, label, value FROM {FLOOR_TABLE} WHERE id = %s",  # noqa: S608 - constant name
                [chooser.choice(ids)],
            )
            cursor.fetchone()

    def pk_lookup_orm() -> None:
        model.objects.get(pk=chooser.choice(ids))

    return {
        "select_1": harness.summarise(harness.time_calls(select_one, n=n, warmup=warmup), "us"),
        "pk_lookup": harness.summarise(harness.time_calls(pk_lookup, n=n, warmup=warmup), "us"),
        "pk_lookup_orm": harness.summarise(harness.time_calls(pk_lookup_orm, n=n, warmup=warmup), "us"),
    }


# --- Inserts -------------------------------------------------------------------------------------------


def _rate(rows: int, durations_ns: list[int]) -> dict[str, Any]:
    """Rows/s of the median repetition, with every repetition for the record."""
    rates = [harness.per_second(rows, duration) for duration in durations_ns]
    return {"rows": rows, "rows_per_s": statistics.median(rates), "repetitions_rows_per_s": rates}


def insert_floors(
    *, rows: int = 10_000, batch_size: int = 1000, repeats: int = 3, single: int = 500
) -> dict[str, Any]:
    """Rows/s of `rows` rows by bulk_create (batches of `batch_size`, one transaction) and by one
    executemany; then `single` rows each created and committed in its own transaction."""
    from django.db import connection, transaction
    from django.utils import timezone

    model = ensure_floor_table()
    now = timezone.now()
    clock = time.perf_counter_ns
    insert_sql = f"INSERT INTO {FLOOR_TABLE} (at, label, value) VALUES (%s, %s, %s)"  # noqa: S608 - constant
    stamp = connection.ops.adapt_datetimefield_value(now)

    bulk, many = [], []
    for _ in range(repeats):
        objects = [model(at=now, label=f"bulk {i}", value=i) for i in range(rows)]
        start = clock()
        with transaction.atomic():
            model.objects.bulk_create(objects, batch_size=batch_size)
        bulk.append(clock() - start)

        params = [(stamp, f"many {i}", i) for i in range(rows)]
        start = clock()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(insert_sql, params)
        many.append(clock() - start)

    def create_one() -> None:
        with transaction.atomic():
            model.objects.create(at=now, label="single", value=0)

    durations = harness.time_calls(create_one, n=single, warmup=20)
    return {
        "bulk_create": {**_rate(rows, bulk), "batch_size": batch_size},
        "executemany": _rate(rows, many),
        "insert_per_transaction": {
            "rows": single,
            "rows_per_s": harness.per_second(single, sum(durations)),
            "latency": harness.summarise(durations, "us"),
        },
    }


# --- On its own ----------------------------------------------------------------------------------------


def main() -> None:
    with harness.Environment("floors") as env:
        env.setup_django()
        http = http_floors(env)
        sql = sql_floors()
        inserts = insert_floors()
        measured = {"http": http, "sql": sql, "insert": inserts}
        headline = {
            "bare view req/s": http["bare_view"]["requests_per_s"],
            "bare view p95 ms": http["bare_view"]["latency"]["p95_ms"],
            "+middleware req/s": http["bare_view_with_middleware"]["requests_per_s"],
            "+middleware p95 ms": http["bare_view_with_middleware"]["latency"]["p95_ms"],
            "bare view server CPU ms/req": http["bare_view"]["server_cpu_ms_per_request"],
            "+middleware server CPU ms/req": http["bare_view_with_middleware"]["server_cpu_ms_per_request"],
            "SELECT 1 p50 µs": sql["select_1"]["p50_us"],
            "pk lookup p50 µs": sql["pk_lookup"]["p50_us"],
            "bulk_create rows/s": inserts["bulk_create"]["rows_per_s"],
            "executemany rows/s": inserts["executemany"]["rows_per_s"],
            "1 row/commit rows/s": inserts["insert_per_transaction"]["rows_per_s"],
        }
        harness.write_result(
            "floors",
            measured=measured,
            floors={},
            headline=headline,
            notes="The floors themselves; no budget. Other benchmarks measure the floors they need again, "
            "in their own run, beside their own numbers.",
        )


if __name__ == "__main__":
    main()
