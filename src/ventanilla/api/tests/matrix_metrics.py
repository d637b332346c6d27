"""Matrix rows for the referral metrics endpoint: view_aggregates holders read, everyone else is refused.

Added to the referrals rows at the bottom of `matrix_referrals` (and so to the main matrix).
"""

from __future__ import annotations

from ventanilla.api.tests.matrix import Row, expect

AGGREGATES_API = expect(
    anonymous=401,
    a=403,
    administrator=200,
    site_manager=200,
    me_officer=200,
    data_analyst=200,
    other_organisation=200,
    outsider=403,
)

READS = [
    Row(
        "referral-metrics-list",
        "GET",
        lambda w: "/api/v1/referral-metrics/?group_by=partner&from=2026-11-01&to=2026-11-30",
        AGGREGATES_API,
    ),
]

WRITES: list[Row] = []
