"""Matrix rows for two-way communication: inbox, alerts, channels, the feedback form, insights, API.

Each area keeps its rows in its own module, added at the bottom of this one.
"""

from __future__ import annotations

from ventanilla.api.tests.matrix import Row, everyone

READS: list[Row] = []
WRITES: list[Row] = []

READS += [
    # Gateways post to their webhook; a GET answers only Meta's verification (with its token), else 404.
    Row(
        "messaging_hook",
        "GET",
        lambda w: "/hooks/00000000-0000-0000-0000-000000000000/",
        everyone(404, anonymous=404),
    ),
]

# Message insights keep their rows in a module of their own.
from ventanilla.api.tests import matrix_insights  # noqa: E402 - added after the rows above

READS += matrix_insights.READS
WRITES += matrix_insights.WRITES
