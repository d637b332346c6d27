"""Benchmark settings: the production settings, plus benchmark-only URLs (the bare views the floors use).

Nothing else changes, so the app's paths are measured as they are deployed.
"""

from ventanilla.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"
