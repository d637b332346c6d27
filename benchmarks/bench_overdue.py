"""The daily overdue list with 100,000 open referrals (issue 5, "Speed").

Budget: `cases.overdue.overdue_list(user)` — the referrals at the user's sites without an answer past
the partner's committed time and the follow-up tasks past due, a page of each and their counts —
p95 ≤ 200 ms with 100,000 open referrals stored, for a site manager and for a caseworker. Measured
in-process (no HTTP): the function is what the page and the daily reminders call.

The data is generated here and bulk-inserted (COPY on PostgreSQL, executemany on SQLite) with the
app's own ciphertexts (one per distinct plaintext, which changes nothing for the query or for
decryption cost): 20 organisations × 3 sites, the first organisation holding a quarter of everything
(the measured users work at its first site, the busiest); 100,000 open referrals (`BENCH_REFERRALS`):
42% sent — a fifth of them past their answer time —, 25% accepted, 25% in progress, 5% drafts, 3%
expired and escalated, so about 11% wait past their time; 50,000 finished referrals as history
(`BENCH_FINISHED_REFERRALS`: closed, delivered, declined, withdrawn, not delivered); a person per two
referrals; a case for half of the people; 50,000 follow-up tasks (`BENCH_TASKS`), 60% done, a quarter of
the open ones past due. On PostgreSQL followed by VACUUM (ANALYZE), on SQLite by ANALYZE, as autovacuum
or a nightly job would.

Measured, each call with a fresh scope (as a new request computes it): `overdue_list(user)` for the
site manager and the caseworker of the busiest site, the caseworker's own list (`mine=True`, what
the daily reminder counts), and a site manager of all three sites; the queries each call runs, with
their plans (EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL). Floor, same run:
the same four statements (a page of each list with the same joins, and both counts) as bare SQL
through Django's connection, with nothing decrypted and no model built.
"""

from __future__ import annotations

import datetime
import json
import os
import random
import time
from collections.abc import Iterable, Sequence
from typing import Any

import floors
import harness

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
OPEN_REFERRALS = int(harness.env_number("BENCH_REFERRALS", 100_000))
FINISHED_REFERRALS = int(harness.env_number("BENCH_FINISHED_REFERRALS", 50_000))
TASKS = int(harness.env_number("BENCH_TASKS", 50_000))
CALLS = int(harness.env_number("BENCH_OVERDUE_CALLS", 200))
# Set to compare: the list's partial indexes are dropped before the data is loaded.
WITHOUT_LIST_INDEXES = bool(os.environ.get("BENCH_OVERDUE_WITHOUT_LIST_INDEXES"))
LIST_INDEXES = ("referral_site_waiting_idx", "task_site_open_due_idx")
ORGANISATIONS = 20
SITES_PER_ORGANISATION = 3
FIRST_ORGANISATION_SHARE = 0.25
CASEWORKERS_PER_SITE = 4
PATHWAYS_PER_ORGANISATION = 5
SEED = 20261202
P95_MAX_MS = 200.0
CHUNK = 10_000
ROUNDS = 5

OPEN_MIX = [("sent", 42), ("accepted", 25), ("in_progress", 25), ("draft", 5), ("expired", 3)]
FINISHED_MIX = [("closed", 50), ("delivered", 20), ("declined", 10), ("withdrawn", 10), ("not_delivered", 10)]
SENT_PAST_DUE = 0.2
TASK_DONE = 0.6
TASK_PAST_DUE = 0.25
CATEGORIES = ["medical", "child_protection", "counter_trafficking", "shelter", "legal", "mhpss"]
_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"

PERSON_COLUMNS = [
    "id",
    "organisation_id",
    "site_id",
    "reference",
    "given_name",
    "family_name",
    "other_names",
    "date_of_birth",
    "age_estimate",
    "birth_year",
    "sex",
    "nationality",
    "phone",
    "phone_index",
    "documents",
    "registered_at",
    "updated_at",
    "merged_into_id",
    "erased_at",
]
REFERRAL_COLUMNS = [
    "reference",
    "organisation_id",
    "site_id",
    "person_id",
    "case_id",
    "flag_id",
    "pathway_id",
    "category",
    "service_point_id",
    "partner_organisation_id",
    "urgency",
    "status",
    "need",
    "shared",
    "shared_fields",
    "language",
    "appointment",
    "outcome_note",
    "reason",
    "tell_person",
    "created_by_id",
    "created_at",
    "sent_at",
    "respond_by",
    "accepted_at",
    "answered_at",
    "delivered_at",
    "closed_at",
    "escalated_at",
    "status_changed_at",
]
CASE_COLUMNS = [
    "id",
    "organisation_id",
    "site_id",
    "reference",
    "person_id",
    "owner_id",
    "status",
    "needs",
    "plan",
    "close_reason",
    "opened_at",
    "closed_at",
    "updated_at",
]
TASK_COLUMNS = [
    "organisation_id",
    "site_id",
    "case_id",
    "title",
    "due_on",
    "assigned_to_id",
    "created_by_id",
    "created_at",
    "done_at",
]


def code(prefix: str, number: int) -> str:
    """A unique reference in the app's shape (XX-XXXX-XXXX) for row `number`."""
    body = []
    for _ in range(8):
        number, digit = divmod(number, len(_ALPHABET))
        body.append(_ALPHABET[digit])
    text = "".join(reversed(body))
    return f"{prefix}-{text[:4]}-{text[4:]}"


def weighted(chooser: random.Random, mix: Sequence[tuple[str, int]]) -> str:
    return chooser.choices([name for name, _ in mix], weights=[weight for _, weight in mix])[0]


# --- The organisations, sites, users and pathways: through the services, as the app makes them ------


def set_up() -> dict[str, Any]:
    from ventanilla.accounts import services as accounts
    from ventanilla.accounts.models import Site
    from ventanilla.directory import services as directory
    from ventanilla.directory.models import PublicationStatus, ServiceCategory, ServiceProvider
    from ventanilla.referrals.models import Pathway

    directory.ensure_categories()
    categories = {c.code: c for c in ServiceCategory.objects.filter(code__in=CATEGORIES)}
    organisations: list[dict[str, Any]] = []
    for number in range(1, ORGANISATIONS + 1):
        organisation = accounts.create_organisation(
            name=f"Centro Frontera {number}", kind="ngo", short_name=f"CF{number}"
        )
        sites = [
            Site.objects.create(organisation=organisation, name=f"Centro Frontera {number} — sede {n}")
            for n in range(1, SITES_PER_ORGANISATION + 1)
        ]
        caseworkers: dict[int, list[int]] = {}
        for site in sites:
            caseworkers[site.pk] = []
            for n in range(1, CASEWORKERS_PER_SITE + 1):
                user = accounts.create_user(username=f"cw-{number}-{site.pk}-{n}", password=None)
                accounts.grant_membership(
                    user=user, organisation=organisation, role="caseworker", sites=[site], by=None
                )
                caseworkers[site.pk].append(user.pk)
        organisations.append({"organisation": organisation, "sites": sites, "caseworkers": caseworkers})
    pathways: dict[int, list[tuple[int, str, int | None, int]]] = {}
    for index, entry in enumerate(organisations):
        organisation = entry["organisation"]
        pathways[organisation.pk] = []
        for n in range(PATHWAYS_PER_ORGANISATION):
            # Every other partner has accounts: another organisation of the network.
            partner = organisations[(index + n + 1) % ORGANISATIONS]["organisation"] if n % 2 == 0 else None
            provider = ServiceProvider.objects.create(
                owner=organisation,
                name=f"Socio {organisation.pk}-{n}",
                organisation=partner,
                status=PublicationStatus.PUBLISHED,
            )
            category = CATEGORIES[(index + n) % len(CATEGORIES)]
            hours = (24, 48, 72)[n % 3]
            pathway = Pathway.objects.create(
                organisation=organisation,
                provider=provider,
                name=f"Ruta {organisation.pk}-{n}",
                response_hours=hours,
                valid_from=datetime.date(2026, 1, 1),
            )
            pathway.categories.set([categories[category]])
            pathways[organisation.pk].append((pathway.pk, category, partner.pk if partner else None, hours))

    busiest = organisations[0]
    site = busiest["sites"][0]
    organisation = busiest["organisation"]
    users = {}
    for role, username, sites in (
        ("site_manager", "bench-site-manager", [site]),
        ("caseworker", "bench-caseworker", [site]),
        ("site_manager", "bench-site-manager-all-sites", busiest["sites"]),
    ):
        user = accounts.create_user(username=username, password=None)
        accounts.grant_membership(user=user, organisation=organisation, role=role, sites=sites, by=None)
        users[username] = user.pk
    # The measured caseworker creates and is assigned a share of the busiest site's work.
    busiest["caseworkers"][site.pk].append(users["bench-caseworker"])
    return {"organisations": organisations, "pathways": pathways, "users": users}


# --- The rows: generated here, inserted in bulk ---------------------------------------------------------


def share_of(organisation_index: int) -> float:
    if organisation_index == 0:
        return FIRST_ORGANISATION_SHARE
    return (1 - FIRST_ORGANISATION_SHARE) / (ORGANISATIONS - 1)


def _sites(plan: dict[str, Any]) -> list[tuple[int, int, float, list[int]]]:
    """(organisation id, site id, share of all rows, caseworker ids) for every site."""
    rows = []
    for index, entry in enumerate(plan["organisations"]):
        for site in entry["sites"]:
            share = share_of(index) / SITES_PER_ORGANISATION
            rows.append((entry["organisation"].pk, site.pk, share, entry["caseworkers"][site.pk]))
    return rows


def _spread(total: int, sites: list[tuple[int, int, float, list[int]]]) -> list[int]:
    counts = [int(total * share) for _, _, share, _ in sites]
    counts[0] += total - sum(counts)
    return counts


class Loader:
    """Rows into a table: COPY on PostgreSQL, executemany in one transaction on SQLite."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.rows = 0

    def _sqlite_value(self, value: Any) -> Any:
        ops = self.connection.ops
        if isinstance(value, datetime.datetime):
            return ops.adapt_datetimefield_value(value)
        if isinstance(value, datetime.date):
            return ops.adapt_datefield_value(value)
        return value

    def finish(self, tables_with_ids: Sequence[str]) -> None:
        """After a load with explicit ids: move the tables' id sequences past them (PostgreSQL), and
        gather planner statistics, as autovacuum or a nightly ANALYZE would soon after a load."""
        with self.connection.cursor() as cursor:
            if ON_POSTGRES:
                for table in tables_with_ids:
                    sequence = f"pg_get_serial_sequence('{table}', 'id')"
                    cursor.execute(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))")  # noqa: S608
            cursor.execute("VACUUM (ANALYZE)" if ON_POSTGRES else "ANALYZE")

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        from django.db import transaction

        count = 0
        batch: list[tuple[Any, ...]] = []
        names = ", ".join(columns)

        def flush() -> None:
            if not batch:
                return
            with transaction.atomic(), self.connection.cursor() as cursor:
                if ON_POSTGRES:
                    with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                        for row in batch:
                            copy.write_row(row)
                else:
                    marks = ", ".join(["%s"] * len(columns))
                    cursor.executemany(
                        f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608 - constant names
                        [tuple(self._sqlite_value(v) for v in row) for row in batch],
                    )
            batch.clear()

        for row in rows:
            batch.append(row)
            count += 1
            if len(batch) >= CHUNK:
                flush()
        flush()
        self.rows += count
        return count


def generate(plan: dict[str, Any], now: datetime.datetime) -> dict[str, Any]:
    """People, cases, open and finished referrals and tasks; returns what was made and how long it took."""

    from ventanilla.core import crypto

    began = time.monotonic()
    chooser = random.Random(SEED)
    sites = _sites(plan)
    cipher = {
        "given_name": crypto.encrypt("María José"),
        "family_name": crypto.encrypt("Hernández López"),
        "need": crypto.encrypt("Atención médica por una herida en el pie; habla español."),
        "shared": crypto.encrypt(json.dumps([{"field": "age", "label": "Edad", "value": "34"}])),
        "needs": crypto.encrypt("Alojamiento, atención médica y asesoría legal."),
        "plan": crypto.encrypt("Referir a la clínica; seguimiento en una semana."),
        "title": crypto.encrypt("Llamar para confirmar que llegó a la cita"),
    }
    loader = Loader()
    steps: dict[str, float] = {}

    # People: one per two referrals, at the same sites in the same shares.
    people_total = (OPEN_REFERRALS + FINISHED_REFERRALS) // 2
    people_per_site = _spread(people_total, sites)
    people_at: dict[int, range] = {}
    next_id = 1
    for (_org, site_id, _share, _workers), count in zip(sites, people_per_site, strict=True):
        people_at[site_id] = range(next_id, next_id + count)
        next_id += count

    def people() -> Iterable[tuple[Any, ...]]:
        for organisation_id, site_id, _share, _workers in sites:
            for pk in people_at[site_id]:
                registered = now - datetime.timedelta(days=chooser.randrange(1, 400))
                yield (
                    pk,
                    organisation_id,
                    site_id,
                    code("VT", pk),
                    cipher["given_name"],
                    cipher["family_name"],
                    "",
                    None,
                    chooser.randrange(1, 70),
                    None,
                    chooser.choice(["female", "male"]),
                    "HN",
                    "",
                    "",
                    "",
                    registered,
                    registered,
                    None,
                    None,
                )

    start = time.monotonic()
    loader.insert("registration_person", PERSON_COLUMNS, people())
    steps["people_s"] = round(time.monotonic() - start, 1)

    # Cases: one for every other person (the one-open-case-per-person rule holds).
    cases_at: dict[int, list[int]] = {}

    def cases() -> Iterable[tuple[Any, ...]]:
        case_id = 0
        for organisation_id, site_id, _share, workers in sites:
            cases_at[site_id] = []
            for person_id in people_at[site_id][::2]:
                case_id += 1
                status = weighted(chooser, [("open", 30), ("active", 50), ("on_hold", 10), ("closed", 10)])
                opened = now - datetime.timedelta(days=chooser.randrange(1, 200))
                closed = status == "closed"
                if not closed:
                    cases_at[site_id].append(case_id)
                yield (
                    case_id,
                    organisation_id,
                    site_id,
                    code("CS", case_id),
                    person_id,
                    chooser.choice(workers),
                    status,
                    cipher["needs"],
                    cipher["plan"],
                    "needs_met" if closed else "",
                    opened,
                    opened + datetime.timedelta(days=20) if closed else None,
                    opened,
                )

    start = time.monotonic()
    case_count = loader.insert("cases_case", CASE_COLUMNS, cases())
    steps["cases_s"] = round(time.monotonic() - start, 1)

    statuses: dict[str, int] = {}

    def referrals(total: int, mix: Sequence[tuple[str, int]], first: int) -> Iterable[tuple[Any, ...]]:
        number = first
        for (organisation_id, site_id, _share, workers), count in zip(
            sites, _spread(total, sites), strict=True
        ):
            routes = plan["pathways"][organisation_id]
            persons = people_at[site_id]
            for _ in range(count):
                number += 1
                status = weighted(chooser, mix)
                statuses[status] = statuses.get(status, 0) + 1
                pathway_id, category, partner_id, hours = chooser.choice(routes)
                yield referral_row(
                    chooser,
                    now,
                    number=number,
                    status=status,
                    organisation_id=organisation_id,
                    site_id=site_id,
                    person_id=chooser.choice(persons),
                    pathway=(pathway_id, category, partner_id, hours),
                    created_by=chooser.choice(workers),
                    cipher=cipher,
                )

    start = time.monotonic()
    loader.insert("referrals_referral", REFERRAL_COLUMNS, referrals(OPEN_REFERRALS, OPEN_MIX, 0))
    loader.insert(
        "referrals_referral", REFERRAL_COLUMNS, referrals(FINISHED_REFERRALS, FINISHED_MIX, OPEN_REFERRALS)
    )
    steps["referrals_s"] = round(time.monotonic() - start, 1)

    today = now.date()
    task_states: dict[str, int] = {"done": 0, "open_past_due": 0, "open_not_due": 0}

    def tasks() -> Iterable[tuple[Any, ...]]:
        for (organisation_id, site_id, _share, workers), count in zip(
            sites, _spread(TASKS, sites), strict=True
        ):
            open_cases = cases_at[site_id]
            for _ in range(count):
                created = now - datetime.timedelta(days=chooser.randrange(1, 60))
                done = chooser.random() < TASK_DONE
                if done:
                    due = today + datetime.timedelta(days=chooser.randrange(-40, 10))
                    task_states["done"] += 1
                elif chooser.random() < TASK_PAST_DUE:
                    due = today - datetime.timedelta(days=chooser.randrange(1, 30))
                    task_states["open_past_due"] += 1
                else:
                    due = today + datetime.timedelta(days=chooser.randrange(0, 30))
                    task_states["open_not_due"] += 1
                worker = chooser.choice(workers)
                yield (
                    organisation_id,
                    site_id,
                    chooser.choice(open_cases),
                    cipher["title"],
                    due,
                    worker,
                    worker,
                    created,
                    created + datetime.timedelta(days=2) if done else None,
                )

    start = time.monotonic()
    loader.insert("cases_casetask", TASK_COLUMNS, tasks())
    steps["tasks_s"] = round(time.monotonic() - start, 1)

    start = time.monotonic()
    loader.finish(["registration_person", "cases_case"])
    steps["analyze_s"] = round(time.monotonic() - start, 1)
    return {
        "organisations": ORGANISATIONS,
        "sites": len(sites),
        "people": people_total,
        "cases": case_count,
        "open_referrals": OPEN_REFERRALS,
        "finished_referrals": FINISHED_REFERRALS,
        "referral_statuses": dict(sorted(statuses.items())),
        "tasks": TASKS,
        "task_states": task_states,
        "seconds_to_generate": round(time.monotonic() - began, 1),
        "steps_s": steps,
    }


def referral_row(
    chooser: random.Random,
    now: datetime.datetime,
    *,
    number: int,
    status: str,
    organisation_id: int,
    site_id: int,
    person_id: int,
    pathway: tuple[int, str, int | None, int],
    created_by: int,
    cipher: dict[str, str],
) -> tuple[Any, ...]:
    """One referral whose timestamps agree with its status, as `services.transition` would leave them."""
    pathway_id, category, partner_id, hours = pathway
    answer = datetime.timedelta(hours=hours)
    sent = accepted = answered = delivered = closed = escalated = respond_by = None
    reason = ""
    if status == "draft":
        created = now - datetime.timedelta(minutes=chooser.randrange(5, 600))
    else:
        if status == "sent":
            if chooser.random() < SENT_PAST_DUE:
                sent = now - answer - datetime.timedelta(minutes=chooser.randrange(10, 10 * 24 * 60))
            else:
                sent = now - datetime.timedelta(minutes=chooser.randrange(1, hours * 60 - 10))
        elif status == "expired":
            sent = now - answer - datetime.timedelta(hours=chooser.randrange(1, 14 * 24))
        elif status in {"accepted", "in_progress"}:
            sent = now - datetime.timedelta(hours=chooser.randrange(2, 30 * 24))
        else:
            sent = now - datetime.timedelta(days=chooser.randrange(30, 365))
        created = sent
        respond_by = sent + answer
        if status == "expired":
            escalated = respond_by
        if status in {"accepted", "in_progress", "delivered", "not_delivered", "closed"}:
            accepted = answered = sent + datetime.timedelta(minutes=chooser.randrange(10, hours * 60))
        if status == "declined":
            answered = sent + datetime.timedelta(minutes=chooser.randrange(10, hours * 60))
            reason = "no_capacity"
        if status in {"delivered", "closed"}:
            delivered = (accepted or sent) + datetime.timedelta(hours=chooser.randrange(2, 200))
        if status == "not_delivered":
            reason = "did_not_arrive"
        if status in {"closed", "withdrawn"}:
            closed = (delivered or answered or sent) + datetime.timedelta(hours=chooser.randrange(1, 100))
            reason = "person_moved_on" if status == "withdrawn" else reason
    changed = max(filter(None, [created, sent, accepted, answered, delivered, closed, escalated]))
    return (
        code("RF", number),
        organisation_id,
        site_id,
        person_id,
        None,
        None,
        pathway_id,
        category,
        None,
        partner_id,
        "urgent" if chooser.random() < 0.1 else "normal",
        status,
        cipher["need"],
        cipher["shared"],
        '["age", "sex", "languages", "health"]',
        "es",
        "",
        "",
        reason,
        True,
        created_by,
        created,
        sent,
        respond_by,
        accepted,
        answered,
        delivered,
        closed,
        escalated,
        changed,
    )


# --- Measuring -----------------------------------------------------------------------------------------


def overdue_call(user_id: int, *, mine: bool = False) -> Any:
    """One `overdue_list()` call as a request makes it: the user loaded again, so the scope is built anew."""
    from ventanilla.accounts.models import User
    from ventanilla.cases.overdue import overdue_list

    def once() -> Any:
        user = User.objects.get(pk=user_id)  # the session middleware's query, then the scope's
        return overdue_list(user, mine=mine)

    return once


def interleaved(targets: dict[str, Any], *, calls: int, rounds: int = ROUNDS) -> dict[str, dict[str, Any]]:
    """Each target `calls` times, in `rounds` slices taken in turn (alternating order), so a floor and the
    paths compared with it see the same machine; wall-clock latency and this process's CPU per call."""
    for fn in targets.values():  # unmeasured: caches, prepared plans, the first connection
        for _ in range(max(5, calls // 10)):
            fn()
    wall: dict[str, list[int]] = {name: [] for name in targets}
    cpu: dict[str, int] = dict.fromkeys(targets, 0)
    names = list(targets)
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            fn = targets[name]
            for _ in range(calls // rounds):
                cpu_start, start = time.process_time_ns(), time.perf_counter_ns()
                fn()
                wall[name].append(time.perf_counter_ns() - start)
                cpu[name] += time.process_time_ns() - cpu_start
    return {
        name: {
            "latency": harness.summarise(wall[name], "ms"),
            "process_cpu_mean_ms": round(cpu[name] / len(wall[name]) / 1e6, 3),
        }
        for name in targets
    }


def statements(fn: Any) -> tuple[list[dict[str, Any]], Any]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        found = fn()
    return [
        {"sql": q["sql"], "ms": round(float(q["time"]) * 1000, 3)} for q in captured.captured_queries
    ], found


def decryption(user_id: int, *, mine: bool = False, calls: int = 50) -> dict[str, Any]:
    """How many values one call decrypts and the time that takes (crypto.decrypt wrapped, mean per call)."""
    from ventanilla.accounts.models import User
    from ventanilla.cases.overdue import overdue_list
    from ventanilla.core import crypto

    original = crypto.decrypt
    spent = [0, 0]

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter_ns()
        try:
            return original(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter_ns() - start
            spent[1] += 1

    crypto.decrypt = timed  # type: ignore[assignment]
    try:
        for _ in range(calls):
            overdue_list(User.objects.get(pk=user_id), mine=mine)
    finally:
        crypto.decrypt = original  # type: ignore[assignment]
    return {"values_per_call": spent[1] // calls, "mean_ms_per_call": round(spent[0] / calls / 1e6, 3)}


def explain(sql: str) -> list[str]:
    from django.db import connection

    with connection.cursor() as cursor:
        if ON_POSTGRES:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return [row[0] for row in cursor.fetchall()]
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        return [" | ".join(str(part) for part in row) for row in cursor.fetchall()]


def floor_overdue(site_id: int, now: datetime.datetime) -> Any:
    """The same four statements as bare SQL: a page of each list with its joins, and the two counts."""
    from django.db import connection

    stamp = now if ON_POSTGRES else connection.ops.adapt_datetimefield_value(now)
    today = now.date() if ON_POSTGRES else connection.ops.adapt_datefield_value(now.date())
    referral_page = (
        "SELECT r.id, r.reference, r.status, r.category, r.urgency, r.respond_by, r.sent_at, r.escalated_at, "
        "s.name, p.name, sp.name, pe.reference FROM referrals_referral r "
        "JOIN referrals_pathway p ON p.id = r.pathway_id "
        "JOIN directory_serviceprovider sp ON sp.id = p.provider_id "
        "LEFT JOIN accounts_site s ON s.id = r.site_id "
        "JOIN registration_person pe ON pe.id = r.person_id "
        "WHERE r.site_id IN (%s) AND r.status IN ('sent', 'expired') AND r.respond_by < %s "
        "ORDER BY r.respond_by, r.id LIMIT 100"
    )
    referral_count = (
        "SELECT count(*) FROM referrals_referral r "
        "WHERE r.site_id IN (%s) AND r.status IN ('sent', 'expired') AND r.respond_by < %s"
    )
    task_page = (
        "SELECT t.id, t.title, t.due_on, t.case_id, c.reference, c.status, c.needs, c.plan, u.username "
        "FROM cases_casetask t JOIN cases_case c ON c.id = t.case_id "
        "LEFT JOIN accounts_user u ON u.id = t.assigned_to_id "
        "WHERE t.site_id IN (%s) AND t.done_at IS NULL AND t.due_on < %s ORDER BY t.due_on, t.id LIMIT 100"
    )
    task_count = (
        "SELECT count(*) FROM cases_casetask t "
        "WHERE t.site_id IN (%s) AND t.done_at IS NULL AND t.due_on < %s"
    )

    def once() -> None:
        with connection.cursor() as cursor:
            for sql, moment in (
                (referral_page, stamp),
                (referral_count, stamp),
                (task_page, today),
                (task_count, today),
            ):
                cursor.execute(sql, [site_id, moment])
                cursor.fetchall()

    return once


def main() -> None:
    with harness.Environment("overdue") as env:
        env.setup_django()
        env.migrate()
        from django.utils import timezone

        now = timezone.now()
        if WITHOUT_LIST_INDEXES:
            from django.db import connection

            with connection.cursor() as cursor:
                for index in LIST_INDEXES:
                    cursor.execute(f"DROP INDEX {index}")
        plan = set_up()
        generated = generate(plan, now)
        site = plan["organisations"][0]["sites"][0]
        users = plan["users"]
        measured: dict[str, Any] = {
            "data": generated,
            "list_indexes": [] if WITHOUT_LIST_INDEXES else list(LIST_INDEXES),
        }
        cases = [
            ("site_manager", users["bench-site-manager"], False),
            ("caseworker", users["bench-caseworker"], False),
            ("caseworker_mine", users["bench-caseworker"], True),
            ("site_manager_three_sites", users["bench-site-manager-all-sites"], False),
        ]
        targets = {"floor": floor_overdue(site.pk, timezone.now())}
        targets.update({name: overdue_call(user_id, mine=mine) for name, user_id, mine in cases})
        timings = interleaved(targets, calls=CALLS)
        floor = {**timings["floor"], "statements": 4}
        for name, user_id, mine in cases:
            queries, found = statements(targets[name])
            slowest = max(queries, key=lambda q: q["ms"])
            latency = timings[name]["latency"]
            measured[name] = {
                **timings[name],
                "queries": len(queries),
                "referrals_overdue": found.referral_count,
                "referrals_on_page": len(found.referrals),
                "tasks_overdue": found.task_count,
                "tasks_on_page": len(found.tasks),
                "vs_floor_p95_ratio": harness.ratio(latency["p95_ms"], floor["latency"]["p95_ms"]),
                "vs_floor_cpu_ratio": harness.ratio(
                    timings[name]["process_cpu_mean_ms"], floor["process_cpu_mean_ms"]
                ),
                "statements": queries,
                "plans": {
                    f"{index}": explain(q["sql"])
                    for index, q in enumerate(queries)
                    if q["sql"].lstrip().upper().startswith("SELECT")
                    and ("referrals_referral" in q["sql"] or "cases_casetask" in q["sql"])
                },
                "slowest_statement_ms": slowest["ms"],
                "decryption": decryption(user_id, mine=mine),
            }
        sql = floors.sql_floors(n=500, warmup=50)
        harness.write_result(
            "overdue",
            measured=measured,
            floors={"overdue_bare_sql": floor, "sql": sql},
            budget=[
                {"metric": "site_manager.latency.p95_ms", "max": P95_MAX_MS},
                {"metric": "caseworker.latency.p95_ms", "max": P95_MAX_MS},
            ],
            headline={
                "open referrals": OPEN_REFERRALS,
                "generation s": generated["seconds_to_generate"],
                **{
                    f"{name} p50 / p95 ms": (
                        f"{measured[name]['latency']['p50_ms']} / {measured[name]['latency']['p95_ms']}"
                    )
                    for name, _user, _mine in cases
                },
                "overdue at the site (referrals / tasks)": "{referrals_overdue} / {tasks_overdue}".format(
                    **measured["site_manager"]
                ),
                "floor bare SQL p50 / p95 ms": f"{floor['latency']['p50_ms']} / {floor['latency']['p95_ms']}",
            },
            notes=(
                "Issue 5: overdue_list(user) p95 ≤ 200 ms with 100,000 open referrals, in-process, each "
                "call loading the user and building the scope as a request does. Floor: the same four "
                "statements (both pages with their joins, both counts) as bare SQL, same run."
            ),
        )


if __name__ == "__main__":
    main()
