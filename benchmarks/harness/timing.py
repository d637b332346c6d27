"""Timing of callables and percentiles."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) of already sorted values, interpolating linearly between ranks."""
    if not sorted_values:
        raise ValueError("No values to take a percentile of.")
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


_UNITS = {"ms": 1_000_000, "us": 1_000}


def summarise(durations_ns: Sequence[int], unit: str = "ms") -> dict[str, float | int]:
    """Count, mean, p50, p95, p99 and max of durations in nanoseconds, expressed in `unit` (ms or us)."""
    scale = _UNITS[unit]
    values = sorted(durations_ns)
    digits = 3 if unit == "ms" else 1

    def fmt(ns: float) -> float:
        return round(ns / scale, digits)

    return {
        "n": len(values),
        f"mean_{unit}": fmt(sum(values) / len(values)),
        f"p50_{unit}": fmt(percentile(values, 50)),
        f"p95_{unit}": fmt(percentile(values, 95)),
        f"p99_{unit}": fmt(percentile(values, 99)),
        f"max_{unit}": fmt(values[-1]),
    }


def time_calls(fn: Callable[[], object], *, n: int, warmup: int = 0) -> list[int]:
    """Call `fn` `warmup` times unmeasured, then `n` times; the duration of each call in nanoseconds."""
    for _ in range(warmup):
        fn()
    clock = time.perf_counter_ns
    durations = []
    for _ in range(n):
        start = clock()
        fn()
        durations.append(clock() - start)
    return durations


def per_second(count: int, duration_ns: int) -> float:
    return round(count * 1e9 / duration_ns, 1) if duration_ns else 0.0


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 2) if denominator else None
