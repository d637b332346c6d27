"""The inbox list with 1,000,000 messages (issue 6, "Speed").

Budget: `messaging.inbox_queries.inbox_page(user, filters)` — a page of 50 conversations, newest activity
first, each with its last inbound message's text (decrypted) — p95 ≤ 150 ms for the first page and for
filtered pages (status new; a category; urgent; the three together), for a message handler
(information officer) of the busiest organisation, with 1,000,000 messages stored. Measured in-process
(no HTTP): the function is what the inbox page and its API list call.

The data is generated here and bulk-inserted (COPY on PostgreSQL, executemany on SQLite) with the app's
own ciphertexts (a few distinct plaintexts, each encrypted once: that changes nothing for the query or
for the cost of decrypting): 10 organisations, the first holding 30% of everything; 200,000
conversations (`BENCH_INBOX_CONVERSATIONS`), a contact each, 1,000,000 messages
(`BENCH_INBOX_MESSAGES`, 1 to 9 per conversation, 60% inbound) over the last year. Conversations: 20%
new, 15% in progress, 35% answered, 30% closed; categories as a triaged inbox has them (15% not yet
triaged, 2% sensitive complaints); 3% urgent. Then VACUUM (ANALYZE) on PostgreSQL, ANALYZE on SQLite.

Measured, each call loading the user again so the scope is built as in a request: the first page and
the filtered pages for the information officer, a page twenty pages deep (by cursor), and the first page
for a designated complaint focal point (who also sees sensitive complaints: the scope's OR). For each:
the statements, their plans (EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL), this process's CPU per call.
Floor, interleaved: the same SQL statement through Django's connection, rows fetched as tuples, nothing
decrypted and no model built.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import time
from collections.abc import Iterable
from typing import Any

import floors
import harness
from bench_overdue import Loader, explain, interleaved, statements

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
CONVERSATIONS = int(harness.env_number("BENCH_INBOX_CONVERSATIONS", 200_000))
MESSAGES = int(harness.env_number("BENCH_INBOX_MESSAGES", 1_000_000))
CALLS = int(harness.env_number("BENCH_INBOX_CALLS", 200))
INSIGHTS_CALLS = int(harness.env_number("BENCH_INSIGHTS_CALLS", 60))
ORGANISATIONS = 10
FIRST_SHARE = 0.3
SEED = 20261206
P95_MAX_MS = 150.0
INSIGHTS_P95_MAX_MS = 300.0
INBOUND_SHARE = 0.6

STATUS_MIX = [("new", 20), ("in_progress", 15), ("answered", 35), ("closed", 30)]
CATEGORY_MIX = [
    ("", 15),
    ("question", 30),
    ("help", 15),
    ("complaint", 8),
    ("sensitive", 2),
    ("rumour", 10),
    ("service_feedback", 10),
    ("thanks", 5),
    ("other", 5),
]
URGENT_SHARE = 0.03
MEDIUM_MIX = [("sms", 55), ("whatsapp", 35), ("web", 5), ("hotline", 5)]
TOPICS = ["shelter", "documents", "health", "work", "transport", "food", "asylum", "family"]
LANGUAGES = [("es", 70), ("fr", 10), ("ar", 10), ("en", 10)]

CONTACT_COLUMNS = [
    "id",
    "organisation_id",
    "phone",
    "phone_index",
    "handle",
    "handle_index",
    "language",
    "area_id",
    "medium",
    "subscriptions",
    "opted_out_at",
    "created_at",
    "menu_categories",
    "menu_shown_at",
]
CONVERSATION_COLUMNS = [
    "id",
    "organisation_id",
    "site_id",
    "gateway_id",
    "contact_id",
    "medium",
    "category",
    "topics",
    "language",
    "area_id",
    "urgency",
    "urgent_reason",
    "status",
    "assigned_to_id",
    "notes",
    "opened_at",
    "last_message_at",
    "respond_by",
    "answered_at",
    "closed_at",
]
MESSAGE_COLUMNS = [
    "conversation_id",
    "direction",
    "body",
    "provider_id",
    "status",
    "sent_by_id",
    "at",
    "status_at",
    "error",
    "call_minutes",
    "call_outcome",
]


def weighted(chooser: random.Random, mix: list[tuple[str, int]]) -> str:
    return chooser.choices([name for name, _ in mix], weights=[weight for _, weight in mix])[0]


def set_up() -> dict[str, Any]:
    """Organisations, a site and a gateway each, officers to assign; the measured users in the first."""
    from ventanilla.accounts import services as accounts
    from ventanilla.accounts.models import Membership, Site
    from ventanilla.messaging.models_inbox import Gateway

    organisations = []
    for number in range(1, ORGANISATIONS + 1):
        organisation = accounts.create_organisation(
            name=f"Línea Frontera {number}", kind="ngo", short_name=f"LF{number}"
        )
        site = Site.objects.create(organisation=organisation, name=f"Línea Frontera {number} — sede")
        gateway = Gateway.objects.create(
            organisation=organisation, site=site, name="SMS", kind="generic_json", credentials="{}"
        )
        officers = []
        for n in range(1, 4):
            user = accounts.create_user(username=f"io-{number}-{n}", password=None)
            accounts.grant_membership(
                user=user, organisation=organisation, role="information_officer", sites=[site], by=None
            )
            officers.append(user.pk)
        organisations.append(
            {"organisation": organisation.pk, "site": site.pk, "gateway": gateway.pk, "officers": officers}
        )
    first = organisations[0]
    from ventanilla.accounts.models import Organisation

    organisation = Organisation.objects.get(pk=first["organisation"])
    site = Site.objects.get(pk=first["site"])
    users = {}
    for username in ("bench-officer", "bench-focal-point"):
        user = accounts.create_user(username=username, password=None)
        accounts.grant_membership(
            user=user, organisation=organisation, role="information_officer", sites=[site], by=None
        )
        users[username] = user.pk
    Membership.objects.filter(user_id=users["bench-focal-point"]).update(handles_sensitive_complaints=True)
    return {"organisations": organisations, "users": users}


def generate(plan: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:

    from ventanilla.core import crypto

    began = time.monotonic()
    chooser = random.Random(SEED)
    loader = Loader()
    steps: dict[str, float] = {}
    phone = crypto.encrypt("+50255501234")
    inbound = [
        crypto.encrypt(text)
        for text in (
            "Hola, ¿dónde hay un albergue cerca de Tapachula? Vamos con dos niños.",
            "Me quitaron el pasaporte en el trabajo y no me dejan salir",
            "Bonjour, où puis-je demander l'asile ?",
            "مرحبا، أين يمكنني الحصول على مساعدة طبية؟",
            "Gracias por la ayuda de ayer",
        )
    ]
    outbound = crypto.encrypt("Gracias por escribir. El albergue más cercano abre a las 8:00; le esperamos.")
    shares = [FIRST_SHARE] + [(1 - FIRST_SHARE) / (ORGANISATIONS - 1)] * (ORGANISATIONS - 1)
    per_org = [int(CONVERSATIONS * share) for share in shares]
    per_org[0] += CONVERSATIONS - sum(per_org)
    # Messages per conversation, 1 to 9, scaled so that they add up to MESSAGES.
    counts = [chooser.randint(1, 9) for _ in range(CONVERSATIONS)]
    scale = MESSAGES / sum(counts)
    counts = [max(1, round(count * scale)) for count in counts]
    counts[-1] = max(1, counts[-1] + MESSAGES - sum(counts))

    owners: list[int] = []
    for index in range(len(plan["organisations"])):
        owners += [index] * per_org[index]

    def contacts() -> Iterable[tuple[Any, ...]]:
        for pk, index in enumerate(owners, start=1):
            entry = plan["organisations"][index]
            yield (
                pk, entry["organisation"], phone, f"bench{pk:012d}", "", "",
                weighted(chooser, LANGUAGES), None, "sms", "[]", None, now - datetime.timedelta(days=400),
                "[]", None,
            )  # fmt: skip

    start = time.monotonic()
    loader.insert("messaging_contact", CONTACT_COLUMNS, contacts())
    steps["contacts_s"] = round(time.monotonic() - start, 1)

    # Conversations first (their last message's time decides the order), messages after.
    times: list[tuple[datetime.datetime, datetime.datetime]] = []
    states = {"status": {}, "category": {}, "urgent": 0}  # type: dict[str, Any]

    def conversations() -> Iterable[tuple[Any, ...]]:
        for pk, index in enumerate(owners, start=1):
            entry = plan["organisations"][index]
            last = now - datetime.timedelta(seconds=chooser.randrange(60, 365 * 24 * 3600))
            opened = last - datetime.timedelta(minutes=chooser.randrange(0, 14 * 24 * 60))
            times.append((opened, last))
            status = weighted(chooser, STATUS_MIX)
            category = "" if status == "new" and chooser.random() < 0.5 else weighted(chooser, CATEGORY_MIX)
            urgent = chooser.random() < URGENT_SHARE
            states["status"][status] = states["status"].get(status, 0) + 1
            states["category"][category] = states["category"].get(category, 0) + 1
            states["urgent"] += urgent
            topics = json.dumps(chooser.sample(TOPICS, chooser.randint(0, 2)))
            yield (
                pk, entry["organisation"], entry["site"], entry["gateway"], pk,
                weighted(chooser, MEDIUM_MIX), category, topics, weighted(chooser, LANGUAGES), None,
                "urgent" if urgent else "normal", "keyword: pasaporte" if urgent else "", status,
                chooser.choice(entry["officers"]) if status != "new" else None, "",
                opened, last, last + datetime.timedelta(hours=1 if urgent else 24),
                last if status in {"answered", "closed"} else None,
                last if status == "closed" else None,
            )  # fmt: skip

    start = time.monotonic()
    loader.insert("messaging_conversation", CONVERSATION_COLUMNS, conversations())
    steps["conversations_s"] = round(time.monotonic() - start, 1)

    def messages() -> Iterable[tuple[Any, ...]]:
        for pk, count in enumerate(counts, start=1):
            opened, last = times[pk - 1]
            span = max(1, int((last - opened).total_seconds()))
            moments = sorted(
                [opened + datetime.timedelta(seconds=chooser.randrange(span)) for _ in range(count - 1)]
            )
            moments.append(last)
            for number, moment in enumerate(moments):
                incoming = number == 0 or chooser.random() < INBOUND_SHARE
                yield (
                    pk, "in" if incoming else "out", chooser.choice(inbound) if incoming else outbound,
                    f"p{pk}-{number}", "received" if incoming else "delivered", None, moment,
                    None, "", None, "",
                )  # fmt: skip

    start = time.monotonic()
    message_count = loader.insert("messaging_message", MESSAGE_COLUMNS, messages())
    steps["messages_s"] = round(time.monotonic() - start, 1)

    start = time.monotonic()
    loader.finish(["messaging_contact", "messaging_conversation"])
    steps["analyze_s"] = round(time.monotonic() - start, 1)
    return {
        "organisations": ORGANISATIONS,
        "conversations": CONVERSATIONS,
        "conversations_in_measured_organisation": per_org[0],
        "messages": message_count,
        "states": states,
        "seconds_to_generate": round(time.monotonic() - began, 1),
        "steps_s": steps,
    }


def page_call(user_id: int, filters: dict[str, Any], before: str = "") -> Any:
    from ventanilla.accounts.models import User
    from ventanilla.messaging.inbox_queries import InboxFilters, inbox_page

    def once() -> Any:
        user = User.objects.get(pk=user_id)  # the session middleware's query, then the scope's
        return inbox_page(user, InboxFilters(**filters, before=before))

    return once


def floor_call(user_id: int, filters: dict[str, Any], before: str = "") -> Any:
    """The same statement as bare SQL: executed and fetched as tuples, nothing decrypted, no model."""
    from django.db import connection

    from ventanilla.accounts.models import User
    from ventanilla.messaging.inbox_queries import PAGE_SIZE, InboxFilters, inbox_queryset

    queryset = inbox_queryset(User.objects.get(pk=user_id), InboxFilters(**filters, before=before))
    sql, params = queryset[: PAGE_SIZE + 1].query.sql_with_params()

    def once() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()

    return once


def page_view_calls(user_id: int, query: str = "") -> dict[str, Any]:
    """No budget, to show what a person waits for: the inbox page itself, in-process through every
    middleware (session, authentication, CSRF, locale), the query above, the audit entry and the template,
    beside a bare Django view answering "ok" to the same client in the same run."""
    from django.test import Client

    from ventanilla.accounts.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(pk=user_id))

    def page() -> None:
        response = client.get(f"/en/staff/inbox/{query}")
        assert response.status_code == 200, response.status_code

    def bare() -> None:
        assert client.get("/bench/bare").status_code == 200

    return {"page": page, "bare_view": bare}


def deep_cursor(user_id: int, pages: int) -> str:
    from ventanilla.accounts.models import User
    from ventanilla.messaging.inbox_queries import InboxFilters, inbox_page

    user = User.objects.get(pk=user_id)
    cursor = ""
    for _ in range(pages):
        cursor = inbox_page(user, InboxFilters(before=cursor)).next_cursor
    return cursor


def insights_timing(user_id: int, calls: int) -> dict[str, Any]:
    """The message counts page's service over the default period (13 weeks), for the same officer.

    Floors, interleaved with it: the same statements as bare SQL (what the database alone costs), and one
    COUNT(*) of the inbound messages it counts (the least an exact count of them has to read).
    """
    from django.db import connection
    from django.utils import timezone

    from ventanilla.accounts.models import User
    from ventanilla.messaging.insights import default_period, message_insights

    def once() -> Any:
        return message_insights(User.objects.get(pk=user_id))

    queries, found = statements(once)
    counting = [q["sql"] for q in queries if "messaging_" in q["sql"] or "areas_" in q["sql"]]

    def same_statements() -> None:
        with connection.cursor() as cursor:
            for sql in counting:
                cursor.execute(sql)
                cursor.fetchall()

    date_from, date_to = default_period()
    zone = timezone.get_current_timezone()
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=zone)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone)
    organisation = User.objects.get(pk=user_id).memberships.get().organisation_id
    inbound = (
        "SELECT COUNT(*) FROM messaging_message m JOIN messaging_conversation c ON c.id = m.conversation_id "
        "WHERE m.direction = 'in' AND m.at >= %s AND m.at < %s AND c.organisation_id = %s"
    )

    def count_inbound() -> None:
        with connection.cursor() as cursor:
            cursor.execute(inbound, [start, end, organisation])
            cursor.fetchall()

    timings = interleaved(
        {"insights": once, "floor_same_statements": same_statements, "floor_count_inbound": count_inbound},
        calls=calls,
    )
    p95 = timings["insights"]["latency"]["p95_ms"]
    return {
        **timings["insights"],
        "queries": len(queries),
        "conversations_counted": found.tables["category"].total.conversations,
        "messages_counted": found.tables["category"].total.messages,
        "floor_same_statements": timings["floor_same_statements"],
        "floor_count_inbound": timings["floor_count_inbound"],
        "vs_same_statements_p95_ratio": harness.ratio(
            p95, timings["floor_same_statements"]["latency"]["p95_ms"]
        ),
        "vs_count_inbound_p95_ratio": harness.ratio(p95, timings["floor_count_inbound"]["latency"]["p95_ms"]),
        "statements": counting,
        "plans": [explain(sql) for sql in counting if "GROUP BY" in sql],
    }


def main() -> None:
    with harness.Environment("inbox") as env:
        env.setup_django()
        env.migrate()
        env.collectstatic()  # the page view renders the base template's static files
        from django.utils import timezone

        now = timezone.now()
        plan = set_up()
        generated = generate(plan, now)
        officer, focal = plan["users"]["bench-officer"], plan["users"]["bench-focal-point"]
        deep = deep_cursor(officer, 20)
        cases: list[tuple[str, int, dict[str, Any], str]] = [
            ("first_page", officer, {}, ""),
            ("status_new", officer, {"status": "new"}, ""),
            ("category_help", officer, {"category": "help"}, ""),
            ("urgent", officer, {"urgency": "urgent"}, ""),
            ("new_help_urgent", officer, {"status": "new", "category": "help", "urgency": "urgent"}, ""),
            ("page_21", officer, {}, deep),
            ("focal_point_first_page", focal, {}, ""),
        ]
        targets: dict[str, Any] = {}
        for name, user_id, filters, before in cases:
            targets[name] = page_call(user_id, filters, before)
            targets[f"floor_{name}"] = floor_call(user_id, filters, before)
        timings = interleaved(targets, calls=CALLS)
        measured: dict[str, Any] = {"data": generated}
        views = page_view_calls(officer)
        view_timings = interleaved(views, calls=max(20, CALLS // 4))
        measured["inbox_page_view"] = {
            **view_timings["page"],
            "floor_bare_view": view_timings["bare_view"],
            "vs_bare_view_p95_ms": round(
                view_timings["page"]["latency"]["p95_ms"] - view_timings["bare_view"]["latency"]["p95_ms"], 1
            ),
        }
        for name, _user_id, _filters, _before in cases:
            queries, found = statements(targets[name])
            floor = timings[f"floor_{name}"]
            page_sql = next(q for q in queries if "messaging_conversation" in q["sql"])
            measured[name] = {
                **timings[name],
                "rows": len(found.conversations),
                "queries": len(queries),
                # The user's row and the scope (memberships, their sites) are read as in any request.
                "queries_after_scope": sum(1 for q in queries if "messaging_" in q["sql"]),
                "floor_bare_sql": floor,
                "vs_floor_p95_ratio": harness.ratio(
                    timings[name]["latency"]["p95_ms"], floor["latency"]["p95_ms"]
                ),
                "statement": page_sql["sql"],
                "plan": explain(page_sql["sql"]),
            }
        measured["insights_91_days"] = insights_timing(officer, INSIGHTS_CALLS)
        budgeted = ["first_page", "status_new", "category_help", "urgent", "new_help_urgent"]
        harness.write_result(
            "inbox",
            measured=measured,
            floors={"sql": floors.sql_floors(n=500, warmup=50)},
            budget=[
                *({"metric": f"{name}.latency.p95_ms", "max": P95_MAX_MS} for name in budgeted),
                # The counts' goal is PostgreSQL's; SQLite records the same numbers (about 3x slower).
                *(
                    [{"metric": "insights_91_days.latency.p95_ms", "max": INSIGHTS_P95_MAX_MS}]
                    if ON_POSTGRES
                    else []
                ),
            ],
            headline={
                "messages": generated["messages"],
                "generation s": generated["seconds_to_generate"],
                **{
                    f"{name} p50 / p95 ms": (
                        f"{measured[name]['latency']['p50_ms']} / {measured[name]['latency']['p95_ms']}"
                    )
                    for name, *_ in cases
                },
                "first page bare SQL p95 ms": measured["first_page"]["floor_bare_sql"]["latency"]["p95_ms"],
                "inbox page view (no budget) p95 ms": measured["inbox_page_view"]["latency"]["p95_ms"],
                "bare Django view p95 ms": measured["inbox_page_view"]["floor_bare_view"]["latency"][
                    "p95_ms"
                ],
                "insights (13 weeks) p95 ms": measured["insights_91_days"]["latency"]["p95_ms"],
                "insights, same statements bare p95 ms": (
                    measured["insights_91_days"]["floor_same_statements"]["latency"]["p95_ms"]
                ),
            },
            notes=(
                "Issue 6: inbox_page(user, filters) p95 ≤ 150 ms with 1,000,000 messages, in-process, each "
                "call loading the user and building the scope as a request does. Floor: the same statement "
                "as bare SQL (tuples, nothing decrypted), same run, interleaved."
            ),
        )


if __name__ == "__main__":
    main()
