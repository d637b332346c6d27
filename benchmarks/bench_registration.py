"""Saving a registration among 1,000,000 people (issue 4, "Speed").

Budget: with 1,000,000 people stored, `services.register()` — validate, screen, check duplicates, encrypt,
store, in one transaction — p95 ≤ 300 ms; the duplicate candidate search alone (`candidate_ids`) p95 ≤
100 ms. Measured in-process (no HTTP): the service is what every channel (web form, OpenRosa, API) calls.

The people are generated here (see `synthetic_people.py` for the name distributions that give blocks
their realistic sizes): rows of `registration_person` with the app's own ciphertexts (one per distinct
plaintext: identical names share a ciphertext, which changes nothing for lookups or decryption cost),
the match keys `matching.match_keys()` files each person under (as `services._file_match_keys` does),
and a phone blind index for about a third. On PostgreSQL rows go in by COPY with the secondary indexes
and constraints dropped and rebuilt afterwards, then ANALYZE; rows are built in worker processes.

With BENCH_KEEP_DB=1 on PostgreSQL the generated database is kept as a template
(`<db>_bench_registration_<N>_<signature>`, secrets inside), and later runs copy it instead of generating
again (the signature changes when the generator or matching.py changes; older templates are dropped).

Measured: a few hundred registrations whose people collide with existing blocks — new people with
common names, earlier people again in the same script, Arabic names again in the other script, and rare
names — each timed whole and broken down (form engine, match keys, screening, duplicate search and its
candidate query, encryption, decryption, audit, SQL by statement kind), then `candidate_ids()` and
`find_duplicates()` alone for the same people, whether each earlier person was found (recall), and on
PostgreSQL the plan of the slowest candidate query. Floor, same run: one row inserted and read back by
primary key in a transaction, plus the floors of `floors.py` (SQL lookups, inserts per transaction).
"""

from __future__ import annotations

import contextlib
import datetime
import functools
import hashlib
import multiprocessing
import os
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import floors
import harness
import synthetic_people

ON_POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres", "pgsql"))
PERSONS = int(harness.env_number("BENCH_PERSONS", 1_000_000 if ON_POSTGRES else 100_000))
PROBES = int(harness.env_number("BENCH_REGISTRATIONS", 300))
KEEP_DB = bool(os.environ.get("BENCH_KEEP_DB"))
WORKERS = max(1, min(2, os.cpu_count() or 1))
CHUNK = 25_000
SEED = 20261126
GENERATOR_VERSION = "1"
REGISTER_P95_MAX_MS = 300.0
CANDIDATES_P95_MAX_MS = 100.0
TODAY = datetime.date(2026, 11, 26)
SECRETS = ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")
META_TABLE = "bench_registration_meta"
PERSON_COLUMNS = [
    "id",
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
    "erased_at",
    "merged_into_id",
    "organisation_id",
    "site_id",
]


def signature() -> str:
    """Changes when the people would be generated differently: a kept template is then not reused."""
    # Read as files, not imported: importing the app here would evaluate the settings before a kept
    # template's secrets are put in the environment.
    digest = hashlib.sha256()
    for part in (GENERATOR_VERSION, str(PERSONS), str(SEED)):
        digest.update(part.encode())
    for path in (harness.REPO / "src/ventanilla/registration/matching.py", Path(synthetic_people.__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


# --- Generation: rows built in worker processes --------------------------------------------------------


@functools.cache
def _cached_matching() -> None:
    """Skeletons and hashes repeat across a million people: compute each once per worker process."""
    from ventanilla.registration import matching

    matching.skeleton = functools.lru_cache(maxsize=None)(matching.skeleton)  # type: ignore[assignment]
    matching._hash = functools.lru_cache(maxsize=None)(matching._hash)  # type: ignore[assignment]


@functools.cache
def _encrypted(text: str) -> str:
    from ventanilla.core import crypto

    return crypto.encrypt(text)


def build_chunk(task: tuple[int, int, int, list[tuple[int, list[int]]], bool]) -> tuple[Any, Any, int]:
    """People `first`…`first + count - 1`: (person rows, match-key rows, number of keys). For PostgreSQL
    the rows come as COPY text, ready to send; for SQLite as tuples for executemany."""
    from ventanilla.registration import matching
    from ventanilla.registration.models import Person

    first, count, seed, organisations, as_copy_text = task
    _cached_matching()
    chooser = random.Random(seed)
    phone_field = Person._meta.get_field("phone_index")
    org_pick = synthetic_people.Weighted(
        [
            (org, share)
            for org, share in zip(organisations, synthetic_people.ORGANISATION_SHARES, strict=False)
        ]
    )
    start = datetime.datetime(2023, 11, 26)
    people: list[tuple[Any, ...]] = []
    keys: list[tuple[int, str]] = []
    for pk in range(first, first + count):
        made = synthetic_people.person(chooser)
        organisation_id, site_ids = org_pick.pick(chooser)  # type: ignore[misc]
        identity = matching.Identity(
            given_name=made.given_name,
            family_name=made.family_name,
            birth_year=made.birth_year,
            date_of_birth=made.date_of_birth,
            estimated=made.date_of_birth is None,
        )
        filed = matching.match_keys(identity) | matching.match_keys(identity, years=[], search_names=True)
        keys.extend((pk, key) for key in sorted(filed))
        registered = (start + datetime.timedelta(seconds=chooser.randrange(3 * 365 * 86400))).isoformat(" ")
        people.append(
            (
                pk,
                synthetic_people.reference(pk),
                _encrypted(made.given_name),
                _encrypted(made.family_name),
                "",
                _encrypted(made.date_of_birth.isoformat()) if made.date_of_birth else None,
                None if made.date_of_birth else made.age,
                made.birth_year,
                made.sex,
                made.nationality,
                _encrypted(made.phone) if made.phone else "",
                phone_field.compute(made.phone),
                "",
                registered,
                registered,
                None,
                None,
                organisation_id,
                chooser.choice(site_ids),
            )
        )
    if not as_copy_text:
        return people, keys, len(keys)

    def line(row: tuple[Any, ...]) -> str:
        return "\t".join("\\N" if value is None else str(value) for value in row)

    return (
        ("\n".join(map(line, people)) + "\n").encode(),
        ("\n".join(f"{pk}\t{key}" for pk, key in keys) + "\n").encode(),
        len(keys),
    )


@contextlib.contextmanager
def secondary_indexes_dropped(tables: list[str]) -> Iterator[None]:
    """PostgreSQL: drop the tables' unique/foreign-key constraints and secondary indexes, rebuild them
    afterwards (as a restore would): loading millions of rows into built indexes is several times slower."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(%s::regclass[]) AND contype IN ('u', 'f')",
            [tables],
        )
        constraints = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indrelid = ANY(%s::regclass[]) AND NOT indisprimary",
            [tables],
        )
        indexes = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("RESET maintenance_work_mem")


def set_up_organisations() -> dict[str, Any]:
    """Five organisations of unequal size (the first holds 55% of the people), three sites each, and a
    caseworker of the largest with all its sites."""
    from ventanilla.accounts import services as accounts
    from ventanilla.accounts.models import Organisation, Site

    organisations = []
    for number, _share in enumerate(synthetic_people.ORGANISATION_SHARES, start=1):
        organisation = accounts.create_organisation(
            name=f"Casa del Migrante {number}", kind="ngo", short_name=f"CM{number}"
        )
        sites = [
            Site.objects.create(
                organisation=organisation,
                name=f"Casa del Migrante {number} — sede {n}",
                kind="resource_centre",
            )
            for n in range(1, synthetic_people.SITES_PER_ORGANISATION + 1)
        ]
        organisations.append((organisation.pk, [site.pk for site in sites]))
    user = accounts.create_user(username="bench-caseworker", password=None)
    first = organisations[0]
    accounts.grant_membership(
        user=user,
        organisation=Organisation.objects.get(pk=first[0]),
        role="caseworker",
        sites=Site.objects.filter(pk__in=first[1]),
        by=None,
    )
    return {"organisations": organisations}


def generate(count: int) -> dict[str, Any]:
    """`count` people and their match keys; returns what was made and how long each step took."""
    from django.db import connection, connections, transaction

    began = time.monotonic()
    plan = set_up_organisations()
    tasks = [
        (first, min(CHUNK, count - first + 1), SEED + first, plan["organisations"], ON_POSTGRES)
        for first in range(1, count + 1, CHUNK)
    ]
    keys = 0
    timings: dict[str, float] = {}
    loading = time.monotonic()
    drop = secondary_indexes_dropped(["registration_person", "registration_matchkey"])
    with drop if ON_POSTGRES else contextlib.nullcontext():
        connections.close_all()  # the workers are forked: they must not share this process's connection
        with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
            for people, matchkeys, made in pool.imap(build_chunk, tasks):
                keys += made
                if ON_POSTGRES:
                    with connection.cursor() as cursor:
                        columns = ", ".join(PERSON_COLUMNS)
                        with cursor.copy(f"COPY registration_person ({columns}) FROM STDIN") as copy:
                            copy.write(people)
                        with cursor.copy("COPY registration_matchkey (person_id, key) FROM STDIN") as copy:
                            copy.write(matchkeys)
                else:
                    marks = ", ".join(["%s"] * len(PERSON_COLUMNS))
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.executemany(
                            f"INSERT INTO registration_person ({', '.join(PERSON_COLUMNS)}) VALUES ({marks})",  # noqa: S608
                            people,
                        )
                        cursor.executemany(
                            "INSERT INTO registration_matchkey (person_id, key) VALUES (%s, %s)", matchkeys
                        )
        timings["rows_s"] = round(time.monotonic() - loading, 1)
        indexing = time.monotonic()
    timings["indexes_s"] = round(time.monotonic() - indexing, 1)
    with connection.cursor() as cursor:
        if ON_POSTGRES:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence('registration_person', 'id'), "
                "(SELECT max(id) FROM registration_person))"
            )
        analysing = time.monotonic()
        # Autovacuum would do this within minutes of a load: statistics for the planner, and the
        # visibility map that lets index-only scans skip the table.
        cursor.execute("VACUUM (ANALYZE)" if ON_POSTGRES else "ANALYZE")
        timings["analyze_s"] = round(time.monotonic() - analysing, 1)
    return {
        "persons": count,
        "match_keys": keys,
        "workers": WORKERS,
        "seconds_to_generate": round(time.monotonic() - began, 1),
        "steps_s": timings,
        **plan,
    }


def block_sizes() -> dict[str, Any]:
    """How many people share each match key: the sizes the duplicate search meets."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n FROM (SELECT count(*) AS n FROM registration_matchkey GROUP BY key) AS b ORDER BY n"
        )
        sizes = [row[0] for row in cursor.fetchall()]
    return {
        "keys": len(sizes),
        "p50": harness.percentile(sizes, 50),
        "p90": harness.percentile(sizes, 90),
        "p99": harness.percentile(sizes, 99),
        "p999": harness.percentile(sizes, 99.9),
        "largest": sizes[-10:][::-1],
    }


# --- Kept databases (PostgreSQL, BENCH_KEEP_DB=1) ----------------------------------------------------


def restore_or_generate(env: harness.Environment) -> dict[str, Any]:
    """Copy a kept template when there is one for this signature; otherwise generate (and keep)."""
    import psycopg

    template = env.pg_template_name(f"registration_kept_{PERSONS}_{signature()}") if env.on_postgresql else ""
    if KEEP_DB and template and template in env.pg_databases(template):
        with psycopg.connect(env.pg_database_url(template)) as connection:
            meta = dict(connection.execute(f"SELECT key, value FROM {META_TABLE}").fetchall())  # noqa: S608
        copying = time.monotonic()
        env.pg_restore(template)
        for name in SECRETS:  # the template's data was encrypted and hashed with its own keys
            os.environ[name] = env.values[name] = meta[name]
        env.setup_django()
        env.migrate()  # a migration added since the template was made runs on the copy
        from django.db import connection

        with connection.cursor() as cursor:  # as autovacuum would after the migration's rebuilds
            cursor.execute("VACUUM (ANALYZE) registration_matchkey, registration_person")
        generated = __import__("json").loads(meta["generated"])
        generated["reused_template"] = template
        generated["seconds_to_copy_template"] = round(time.monotonic() - copying, 1)
        return generated
    env.setup_django()
    env.migrate()
    generated = generate(PERSONS)
    generated["blocks"] = block_sizes()
    if KEEP_DB and template:
        import json

        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE {META_TABLE} (key text PRIMARY KEY, value text NOT NULL)")
            rows = [(name, os.environ[name]) for name in SECRETS] + [("generated", json.dumps(generated))]
            cursor.executemany(f"INSERT INTO {META_TABLE} VALUES (%s, %s)", rows)  # noqa: S608
        prefix = env.pg_template_name("registration_kept_")
        for old in env.pg_databases(prefix):
            env.pg_drop(old)
        env.pg_keep_as(template)
        generated["kept_as_template"] = template
    return generated


# --- What the registrations are ----------------------------------------------------------------------


BASE_ANSWERS: dict[str, Any] = {
    "consent_registration": "yes",
    "consent_referral": "yes",
    "consent_followup": "no",
    "consent_method": "verbal",
    "documents": "none",
    "travelling_with": "group",
    "country_of_residence": "HN",
    "leg": [
        {
            "leg_country": "GT",
            "leg_place": "Tecún Umán",
            "leg_arrived": "2026-10-01",
            "leg_transport": "bus",
            "leg_organised_by": "self",
        },
        {
            "leg_country": "MX",
            "leg_place": "Tapachula",
            "leg_arrived": "2026-10-05",
            "leg_transport": "on_foot",
            "leg_organised_by": "smuggler_broker",
        },
    ],
    "reasons_leaving": "violence_insecurity",
    "intention_on_arrival": "work",
    "urgent_medical_need": "no",
}
LANGUAGE = {"latin": "es", "haitian": "fr", "arabic_script": "ar", "arabic_latin": "en"}


def answers_for(
    given: str, family: str, sex: str, dob: datetime.date | None, age: int, nationality: str, phone: str
) -> dict[str, Any]:
    answers = dict(BASE_ANSWERS, given_name=given, family_name=family, sex=sex or "undisclosed")
    answers["nationality"] = nationality
    answers["country_of_origin"] = nationality
    if dob:
        answers.update(dob_known="yes", dob=dob.isoformat())
    else:
        answers.update(dob_known="no", age_estimate=str(age))
    if age < 18:
        answers["child_care"] = "parent_or_guardian"
    if phone:
        answers["phone"] = phone
    return answers


def probes(count: int, organisation_id: int, seed: int) -> list[dict[str, Any]]:
    """The registrations to time: 40% new people with common names, 30% an earlier person again
    (same script, an estimated age a year off), 20% an earlier Arabic-named person written in the other
    script, 10% rare names. Each: kind, answers, language, and the earlier person's id when there is one."""
    from ventanilla.registration.models import Person

    chooser = random.Random(seed)
    plan = ["new_common"] * 40 + ["same_person"] * 30 + ["other_script"] * 20 + ["rare_name"] * 10
    kinds = [plan[i * len(plan) // count] for i in range(count)]
    chooser.shuffle(kinds)
    earlier = list(
        Person.objects.filter(
            organisation_id=organisation_id, pk__in=chooser.sample(range(1, PERSONS + 1), 4 * count)
        )
    )
    arabic = list(
        Person.objects.filter(
            organisation_id=organisation_id,
            nationality__in=[code for code, _ in synthetic_people.ARABIC_NATIONALITIES],
            pk__in=chooser.sample(range(1, PERSONS + 1), min(PERSONS, 40 * count)),
        )[: 2 * count]
    )
    made: list[dict[str, Any]] = []
    for kind in kinds:
        source: Any = None
        if kind == "same_person":
            source = earlier.pop()
            given, family = source.given_name, source.family_name
            language = "es"
        elif kind == "other_script":
            while arabic:
                source = arabic.pop()
                given = synthetic_people.other_script(source.given_name, chooser) or ""
                family = synthetic_people.other_script(source.family_name, chooser) or ""
                if given and family:
                    break
            language = "en" if any(ord(c) > 0x600 for c in source.given_name) else "ar"
        if source is not None:
            dob = source.date_of_birth
            age = TODAY.year - (source.birth_year or 1990) + (chooser.choice([0, 1]) if dob is None else 0)
            phone = source.phone if chooser.random() < 0.5 else ""
            answers = answers_for(given, family, source.sex, dob, age, source.nationality, phone)
            made.append({"kind": kind, "answers": answers, "language": language, "earlier": source.pk})
            continue
        new = synthetic_people.person(chooser)
        if kind == "rare_name":
            new.given_name = chooser.choice(["Xóchitl", "Itzel", "Yamileth", "Tecun", "Nahuel", "Anacaona"])
            rare_surname = synthetic_people.LATIN_SURNAMES[-chooser.randint(1, 20)]
            new.family_name = f"{chooser.choice(['Ixquiac', 'Tzoc', 'Saquic', 'Boj'])} {rare_surname}"
        answers = answers_for(
            new.given_name, new.family_name, new.sex, new.date_of_birth, new.age, new.nationality, new.phone
        )
        made.append({"kind": kind, "answers": answers, "language": LANGUAGE[new.group], "earlier": None})
    return made


# --- Where the time goes ------------------------------------------------------------------------------


class Breakdown:
    """Time per registration in the steps of `register()` (patched in place for the measurement)."""

    def __init__(self) -> None:
        self.current: dict[str, float] = defaultdict(float)
        self.calls: list[dict[str, float]] = []
        self._depth: dict[str, int] = defaultdict(int)
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, attribute: str, bucket: str) -> None:
        original = getattr(owner, attribute)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._depth[bucket] += 1
            start = time.perf_counter_ns()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth[bucket] -= 1
                if not self._depth[bucket]:  # nested calls (record_change → record) count once
                    self.current[bucket] += (time.perf_counter_ns() - start) / 1e6

        setattr(owner, attribute, timed)
        self._undo.append(lambda: setattr(owner, attribute, original))

    def sql(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        start = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            spent = (time.perf_counter_ns() - start) / 1e6
            verb = sql.lstrip().split(" ", 1)[0].lower()
            self.current["sql"] += spent
            self.current[f"sql_{verb if verb in {'select', 'insert', 'update', 'delete'} else 'other'}"] += (
                spent
            )

    def restore(self) -> None:
        for undo in reversed(self._undo):
            undo()

    def finish(self, total_ms: float) -> None:
        self.current["total"] = total_ms
        self.calls.append(dict(self.current))
        self.current = defaultdict(float)

    def summary(self) -> dict[str, Any]:
        names = sorted({name for call in self.calls for name in call})
        mean_total = statistics.fmean(call["total"] for call in self.calls)
        out = {}
        for name in names:
            values = sorted(call.get(name, 0.0) for call in self.calls)
            out[name] = {
                "mean_ms": round(statistics.fmean(values), 3),
                "p50_ms": round(harness.percentile(values, 50), 3),
                "p95_ms": round(harness.percentile(values, 95), 3),
                "share_of_mean": round(statistics.fmean(values) / mean_total, 3),
            }
        return out


def instrumented() -> Breakdown:
    from ventanilla.core import audit, crypto
    from ventanilla.questionnaires import engine
    from ventanilla.registration import screening, services

    breakdown = Breakdown()
    breakdown.wrap(engine, "evaluate", "form_engine")
    breakdown.wrap(services, "_file_match_keys", "file_match_keys")
    breakdown.wrap(services, "_raise_flags", "screening_and_flags")
    breakdown.wrap(screening, "screen", "screening_rules")
    breakdown.wrap(services, "find_duplicates", "duplicates")
    breakdown.wrap(services, "candidate_ids", "duplicates_candidate_query")
    breakdown.wrap(crypto, "encrypt", "encrypt")
    breakdown.wrap(crypto, "decrypt", "decrypt")
    breakdown.wrap(audit, "record", "audit")
    breakdown.wrap(audit, "record_change", "audit")
    return breakdown


def register_all(
    made: list[dict[str, Any]], context: dict[str, Any]
) -> tuple[list[int], list[Any], Breakdown]:
    from django.db import connection

    from ventanilla.registration import services

    breakdown = instrumented()
    durations, outcomes = [], []
    try:
        with connection.execute_wrapper(breakdown.sql):
            for probe in made:
                start = time.perf_counter_ns()
                outcome = services.register(
                    context["form"],
                    {**probe["answers"], "receipt_language": probe["language"]},
                    organisation=context["organisation"],
                    site=context["site"],
                    by=context["user"],
                    language=probe["language"],
                    today=TODAY,
                )
                elapsed = time.perf_counter_ns() - start
                durations.append(elapsed)
                breakdown.finish(elapsed / 1e6)
                outcomes.append(outcome)
    finally:
        breakdown.restore()
    return durations, outcomes, breakdown


def candidate_search(made: list[dict[str, Any]], outcomes: list[Any]) -> dict[str, Any]:
    """`candidate_ids()` and `find_duplicates()` alone for the people just registered, and recall."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from ventanilla.registration import matching, services

    people = [outcome.person for outcome in outcomes]
    durations, counts, slowest = [], [], (0, "", None)
    for person in people:
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter_ns()
            ids = services.candidate_ids(person)
            elapsed = time.perf_counter_ns() - start
        durations.append(elapsed)
        counts.append(len(ids))
        if elapsed > slowest[0]:
            slowest = (elapsed, captured.captured_queries[-1]["sql"], person)
    find: list[int] = []
    for person in people:
        start = time.perf_counter_ns()
        services.find_duplicates(person)
        find.append(time.perf_counter_ns() - start)
    found, recorded, by_kind = 0, 0, defaultdict(lambda: [0, 0, 0])
    for probe, outcome in zip(made, outcomes, strict=True):
        if probe["earlier"] is None:
            continue
        tally = by_kind[probe["kind"]]
        tally[0] += 1
        if probe["earlier"] in services.candidate_ids(outcome.person):
            tally[1] += 1
            found += 1
        if any(candidate.candidate_id == probe["earlier"] for candidate in outcome.duplicates):
            tally[2] += 1
            recorded += 1
    sorted_counts = sorted(counts)
    result: dict[str, Any] = {
        "latency": harness.summarise(durations, "ms"),
        "find_duplicates_latency": harness.summarise(find, "ms"),
        "candidates_per_search": {
            "p50": harness.percentile(sorted_counts, 50),
            "p95": harness.percentile(sorted_counts, 95),
            "max": sorted_counts[-1],
            "at_the_limit": sum(1 for n in counts if n >= matching.MAX_CANDIDATES),
            "limit": matching.MAX_CANDIDATES,
        },
        "recall": {
            kind: {"earlier_people": n, "among_candidates": c, "recorded_as_duplicate": r}
            for kind, (n, c, r) in sorted(by_kind.items())
        },
        "slowest_query": slowest[1][:2000],
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest[1])
            result["slowest_query_plan"] = [row[0] for row in cursor.fetchall()]
    return result


def floor_insert_and_select(n: int = 300) -> dict[str, Any]:
    """One row inserted and read back by primary key, in its own transaction: the least a save costs."""
    from django.db import transaction
    from django.utils import timezone

    model = floors.ensure_floor_table(min_rows=10_000)
    now = timezone.now()

    def once() -> None:
        with transaction.atomic():
            row = model.objects.create(at=now, label="registration floor", value=1)
            model.objects.get(pk=row.pk)

    return {"latency": harness.summarise(harness.time_calls(once, n=n, warmup=30), "ms")}


def main() -> None:
    with harness.Environment("registration") as env:
        generated = restore_or_generate(env)
        from ventanilla.accounts.models import Organisation, Site, User
        from ventanilla.registration import services

        organisation_id, site_ids = generated["organisations"][0]
        context = {
            "form": services.shipped_form(),
            "organisation": Organisation.objects.get(pk=organisation_id),
            "site": Site.objects.get(pk=site_ids[0]),
            "user": User.objects.get(username="bench-caseworker"),
        }
        made = probes(PROBES, organisation_id, seed=SEED + 1)
        warm = probes(
            10, organisation_id, seed=SEED + 2
        )  # unmeasured: first calls load the form, rules and caches
        register_all(warm, context)
        durations, outcomes, breakdown = register_all(made, context)
        search = candidate_search(made, outcomes)
        floor = floor_insert_and_select()
        sql = floors.sql_floors(n=1000, warmup=100)
        inserts = floors.insert_floors(rows=2000, repeats=1, single=300)

        latency = harness.summarise(durations, "ms")
        measured = {
            "register": {
                "registrations": len(durations),
                "latency": latency,
                "breakdown": breakdown.summary(),
                "kinds": {
                    kind: sum(1 for p in made if p["kind"] == kind)
                    for kind in sorted({p["kind"] for p in made})
                },
                "flags_raised": sum(len(o.flags) for o in outcomes),
                "duplicates_recorded": sum(len(o.duplicates) for o in outcomes),
                "vs_floor_p95_ratio": harness.ratio(latency["p95_ms"], floor["latency"]["p95_ms"]),
            },
            "candidate_search": search,
            "people": generated,
        }
        harness.write_result(
            "registration",
            measured=measured,
            floors={"insert_and_select": floor, "sql": sql, "insert": inserts},
            budget=[
                {"metric": "register.latency.p95_ms", "max": REGISTER_P95_MAX_MS},
                {"metric": "candidate_search.latency.p95_ms", "max": CANDIDATES_P95_MAX_MS},
            ],
            headline={
                "people": PERSONS,
                "generation s": generated.get("seconds_to_generate"),
                "register p50 / p95 ms": f"{latency['p50_ms']} / {latency['p95_ms']}",
                "candidate search p50 / p95 ms": (
                    f"{search['latency']['p50_ms']} / {search['latency']['p95_ms']}"
                ),
                "floor insert+select p95 ms": floor["latency"]["p95_ms"],
                "earlier person found": ", ".join(
                    f"{kind.replace('_', ' ')} {v['among_candidates']}/{v['earlier_people']}"
                    for kind, v in search["recall"].items()
                ),
            },
            notes=(
                "Issue 4: with the people generated here (realistic name distributions, see "
                "synthetic_people.py), register() p95 ≤ 300 ms and the candidate search p95 ≤ 100 ms, "
                "in-process. `breakdown` overlaps on purpose: SQL, encryption and decryption happen "
                "inside the steps. Floor: one row inserted and read back by primary key in a transaction."
            ),
        )


if __name__ == "__main__":
    main()
