"""Matrix rows for two-way communication: inbox, alerts, channels, the feedback form, insights, API.

Each area keeps its rows in its own module, added at the bottom of this one.
"""

from __future__ import annotations

from typing import Any

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

# Urgent alerts and the duty rota keep their rows in their own module.
from ventanilla.api.tests import matrix_alerts  # noqa: E402

READS += matrix_alerts.READS
WRITES += matrix_alerts.WRITES

# The inbox (conversations, their changes, reply templates) keeps its rows in its own module.
from ventanilla.api.tests import matrix_inbox  # noqa: E402 - added after the rows above

READS += matrix_inbox.READS
WRITES += matrix_inbox.WRITES

# Channels (pages and API), the feedback form, calls and social media, conversations and contacts API.
from ventanilla.api.tests import matrix_channels  # noqa: E402

READS += matrix_channels.READS
WRITES += matrix_channels.WRITES


def state() -> dict[str, Any]:
    """The messaging tables, for the write matrix's check that a refused write changed nothing."""
    return {
        "inbox": matrix_inbox.state(),
        "channels": matrix_channels.state(),
        "alerts": matrix_alerts.state(),
    }


# Message insights keep their rows in a module of their own.
from ventanilla.api.tests import matrix_insights  # noqa: E402 - added after the rows above

READS += matrix_insights.READS
WRITES += matrix_insights.WRITES
