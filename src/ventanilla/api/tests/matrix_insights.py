"""Matrix rows for message insights (counts by category, topic, channel, language, area and week): holders
of view_aggregates or handle_messages read their organisations' counts, everyone else is refused.

Added to the messaging rows at the bottom of `matrix_messaging` (and so to the main matrix).
"""

from __future__ import annotations

from ventanilla.api.tests.matrix import LOGIN, Redirect, Row, expect

COUNTERS = {
    "administrator": 200,
    "site_manager": 200,
    "information_officer": 200,
    "me_officer": 200,
    "data_analyst": 200,
}
PAGES = expect(anonymous=LOGIN, a=403, other_organisation=200, outsider=403, **COUNTERS)
# With a query string, the login redirect's `next` carries it too.
FILES = expect(
    anonymous=Redirect(r"/en/accounts/login/\?next=/en/staff/insights/messages/export/%3F.*"),
    a=403,
    other_organisation=200,
    outsider=403,
    **COUNTERS,
)
API = expect(anonymous=401, a=403, other_organisation=200, outsider=403, **COUNTERS)

READS = [
    Row("message_insights:overview", "GET", lambda w: "/en/staff/insights/messages/", PAGES),
    Row(
        "message_insights:export",
        "GET",
        lambda w: "/en/staff/insights/messages/export/?format=csv&table=week",
        FILES,
        id="GET message_insights:export csv",
    ),
    Row(
        "message_insights:export",
        "GET",
        lambda w: "/en/staff/insights/messages/export/?format=xlsx&date_from=2026-01-01&date_to=2026-03-31",
        FILES,
        id="GET message_insights:export xlsx",
    ),
    Row(
        "message-insights-list",
        "GET",
        lambda w: "/api/v1/message-insights/?group_by=admin2&from=2026-11-01&to=2026-11-30",
        API,
    ),
]

WRITES: list[Row] = []
