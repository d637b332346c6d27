"""Find Help search over 10,000 service points with 20 concurrent clients (issue 3, "Speed and size").

Budget, for each path: p95 ≤ 100 ms AND p95 within 3× the p95 of the bare view through the full
middleware stack (`bare_view_with_middleware`), both measured in this run on the same server.

Paths (anonymous, as a migrant's phone asks them; `Accept-Encoding: gzip` as every browser sends):

- `results_text_category`: /en/services/?q=clinic&category=medical (words and a service type)
- `results_open_now`: /en/services/?open=1 (open now, each point judged in its own time zone)
- `results_area`: /en/services/?area=MX07 (an area and everything inside it)
- `api_near`: /api/v1/service-points/?category=medical&near=14.9,-92.26 (nearest first, with distances)

Anonymous answers are kept in the cache for the minute they are for (`directory.answer_cache`), so
these repeated searches mostly measure a kept answer. Each path is also measured as `<name>_uncached`,
every request with a query string never seen before, so every answer is computed: reported without a
budget (the issue's budget is for the search as phones ask it, many alike).

The directory is generated here with bulk inserts through the models: 10,000 points (about 92% of them
published) of 400 providers, spread over the Guatemala–Mexico corridor (latitude 14–19, longitude -96 to
-89; most clustered around 24 towns, the rest scattered), 1–3 categories each, the languages spoken,
weekly hours in three time zones (some split, some round the clock, some unknown), exceptional days, and
texts in English and Spanish (some also French and Arabic).

Besides the load test, each path is also run in-process through Django's test client (no HTTP, no
queueing): queries per request, time per request, the time spent in SQL and the slowest queries, and a
profile of where the rest goes (cProfile, the app's and the template engine's functions), so a failing
budget says what to fix.

The API server runs `benchmarks.settings_unthrottled`: the anonymous throttle still runs on every
request, but its limit (600 per minute per address) is raised, because every request here comes from
127.0.0.1.
"""

from __future__ import annotations

import contextlib
import cProfile
import datetime
import pstats
import random
import statistics
import time
from collections.abc import Iterator
from typing import Any

import floors
import harness

POINTS = int(harness.env_number("BENCH_POINTS", 10_000))
PROVIDERS = 400
SEED = 20261126
P95_MAX_MS = 100.0
P95_MAX_RATIO = 3.0
IN_PROCESS_REQUESTS = 10
PROFILED_REQUESTS = 5

PATHS = {
    "results_text_category": "/en/services/?q=clinic&category=medical",
    "results_open_now": "/en/services/?open=1",
    "results_area": "/en/services/?area=MX07",
    "api_near": "/api/v1/service-points/?category=medical&near=14.9,-92.26",
}
# The same searches, each request with a query string never seen before (`&nocache=<n>`, a name the
# app ignores), so no kept answer can serve it: the cost of computing an answer. Reported, no budget.
UNCACHED_PARAMETER = "nocache"
UNCACHED = {f"{name}_uncached": path for name, path in PATHS.items()}
HEADERS = {"Accept-Encoding": "gzip, deflate, br", "Accept-Language": "en"}
API_HEADERS = {**HEADERS, "Accept": "application/json"}

MX, GT = "America/Mexico_City", "America/Guatemala"
MERIDA = "America/Merida"
# Towns of the corridor: name, latitude, longitude, time zone, region P-code, weight (share of points).
TOWNS = [
    ("Tapachula", 14.9059, -92.2633, MX, "MX07", 12),
    ("Ciudad Hidalgo", 14.679, -92.15, MX, "MX07", 4),
    ("Tecún Umán", 14.676, -92.139, GT, "GT12", 4),
    ("Malacatán", 14.91, -92.058, GT, "GT12", 2),
    ("Coatepeque", 14.704, -91.864, GT, "GT09", 2),
    ("Quetzaltenango", 14.835, -91.518, GT, "GT09", 4),
    ("Huehuetenango", 15.319, -91.471, GT, "GT13", 3),
    ("La Mesilla", 15.627, -91.986, GT, "GT13", 2),
    ("Ciudad Cuauhtémoc", 15.665, -91.991, MX, "MX07", 2),
    ("Comitán", 16.251, -92.134, MX, "MX07", 3),
    ("San Cristóbal de las Casas", 16.737, -92.638, MX, "MX07", 3),
    ("Tuxtla Gutiérrez", 16.753, -93.116, MX, "MX07", 5),
    ("Huixtla", 15.139, -92.466, MX, "MX07", 2),
    ("Arriaga", 16.236, -93.9, MX, "MX07", 2),
    ("Juchitán", 16.43, -95.02, MX, "MX20", 2),
    ("Salina Cruz", 16.17, -95.2, MX, "MX20", 1),
    ("Villahermosa", 17.99, -92.93, MX, "MX27", 4),
    ("Tenosique", 17.47, -91.42, MX, "MX27", 2),
    ("Palenque", 17.51, -91.98, MX, "MX07", 2),
    ("Coatzacoalcos", 18.14, -94.44, MX, "MX30", 3),
    ("Acayucan", 17.95, -94.91, MX, "MX30", 2),
    ("Escárcega", 18.61, -90.74, MERIDA, "", 1),
    ("Flores", 16.93, -89.89, GT, "GT17", 2),
    ("Guatemala City", 14.634, -90.506, GT, "GT01", 5),
]
CLUSTERED_SHARE = 0.7
CATEGORY_WEIGHTS = {
    "medical": 15, "information": 12, "shelter": 10, "food": 10, "legal": 8, "mhpss": 5, "nfi": 5,
    "wash": 4, "documentation": 4, "family_tracing": 2, "consular": 2, "child_protection": 4, "gbv": 3,
    "counter_trafficking": 2, "avr": 2, "employment": 4, "education": 3, "cash": 3, "transport": 2,
}  # fmt: skip
NAME_WORDS = {
    "medical": ["Clínica Comunitaria", "Centro de Salud", "Community Clinic", "Dispensario Médico"],
    "shelter": ["Albergue", "Casa del Migrante", "Shelter", "Refugio"],
    "food": ["Comedor", "Comedor Comunitario", "Banco de Alimentos"],
    "legal": ["Asesoría Jurídica", "Clínica Jurídica", "Legal Aid Office"],
    "information": ["Módulo de Información", "Ventanilla", "Information Desk"],
}
DEFAULT_WORDS = ["Centro de Atención", "Punto de Servicio", "Oficina"]
DESCRIPTIONS = {
    "medical": (
        "Free clinic: general medicine, vaccines, first aid and medicines. A doctor sees walk-in patients "
        "every morning; pregnant women and children first.",
        "Clínica gratuita: medicina general, vacunas, primeros auxilios y medicinas. Un médico atiende "
        "sin cita cada mañana; primero mujeres embarazadas y niños.",
    ),
    "shelter": (
        "Shelter for people on the move: a bed for up to three nights, showers, meals and a safe place to "
        "store your things.",
        "Albergue para personas en movilidad: cama hasta por tres noches, regaderas, comida y un lugar "
        "seguro para guardar tus cosas.",
    ),
    "legal": (
        "Free legal advice on asylum, humanitarian visas and regularisation; we go with you to the "
        "migration office if you need it.",
        "Asesoría legal gratuita sobre asilo, visas humanitarias y regularización; te acompañamos a la "
        "oficina de migración si lo necesitas.",
    ),
}
DEFAULT_DESCRIPTION = (
    "We help people on the move whatever their papers. Ask at the desk; the service is free and "
    "confidential.",
    "Ayudamos a personas en movilidad, tengan o no papeles. Pregunta en la ventanilla; el servicio es "
    "gratuito y confidencial.",
)
FRENCH = "Nous aidons les personnes en déplacement, avec ou sans papiers. Le service est gratuit."
ARABIC = "نساعد الأشخاص المتنقلين بأوراق أو بدونها. الخدمة مجانية وسرية."


# --- The directory ------------------------------------------------------------------------------------


def _time(text: str) -> datetime.time:
    return datetime.time.fromisoformat(text)


WEEKDAYS, MON_SAT, EVERY_DAY = range(5), range(6), range(7)
HOURS_PATTERNS = [  # (weight, [(days, opens, closes)]); an empty list: no hours published
    (45, [(WEEKDAYS, "08:00", "17:00")]),
    (15, [(WEEKDAYS, "09:00", "14:00"), (WEEKDAYS, "16:00", "19:00")]),
    (15, [(MON_SAT, "08:00", "20:00")]),
    (8, [(EVERY_DAY, "00:00", "23:59")]),
    (7, [((0, 2, 4), "10:00", "13:00")]),
    (10, []),
]


def generate_directory(count: int, *, seed: int = SEED) -> dict[str, Any]:
    """`count` service points and their rows, by bulk inserts in one transaction; returns what was made."""
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from ventanilla.accounts import services as accounts
    from ventanilla.areas.models import AdministrativeArea
    from ventanilla.areas.services import import_areas
    from ventanilla.directory.models import (
        OpeningException,
        OpeningHours,
        PublicationStatus,
        ServiceCategory,
        ServicePoint,
        ServicePointText,
        ServiceProvider,
    )

    chooser = random.Random(seed)
    import_areas(settings.PACKAGE_DIR / "areas" / "data" / "corridor_gt_mx.csv")
    owners = [accounts.create_organisation(name=f"Benchmark keeper {n}", kind="ngo") for n in range(5)]
    categories = {category.code: category for category in ServiceCategory.objects.all()}
    missing = sorted(set(CATEGORY_WEIGHTS) - set(categories))
    if missing:
        raise RuntimeError(f"Category rows missing after migrate: {', '.join(missing)}")
    districts: dict[str, list[int]] = {}
    for area_id, parent_pcode in AdministrativeArea.objects.filter(level=2).values_list(
        "pk", "parent__pcode"
    ):
        districts.setdefault(parent_pcode, []).append(area_id)
    regions = dict(AdministrativeArea.objects.filter(level=1).values_list("pcode", "pk"))
    every_district = [area_id for ids in districts.values() for area_id in ids]
    town_area = {
        town[0]: chooser.choice(districts.get(town[4]) or [regions.get(town[4])]) if town[4] else None
        for town in TOWNS
    }
    now = timezone.now()
    status_of = (
        [PublicationStatus.PUBLISHED] * 92 + [PublicationStatus.DRAFT] * 5 + [PublicationStatus.ARCHIVED] * 3
    )
    category_codes, category_weights = list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values())
    languages = [("en", 0.4), ("fr", 0.1), ("ht", 0.05), ("ar", 0.03), ("mam", 0.1), ("pt", 0.05)]

    with transaction.atomic():
        providers = ServiceProvider.objects.bulk_create(
            [
                ServiceProvider(
                    owner=owners[n % len(owners)],
                    name=f"{chooser.choice(['Fundación', 'Asociación', 'Misión', 'Red'])} Benchmark {n}",
                    kind=chooser.choice(["ngo", "ngo", "faith_based", "government", "un_agency"]),
                    phone=f"+52962555{n:04d}",
                    status=PublicationStatus.PUBLISHED if n % 40 else PublicationStatus.DRAFT,
                )
                for n in range(PROVIDERS)
            ],
            batch_size=500,
        )
        points, point_categories = [], []
        for n in range(count):
            town = chooser.choices(TOWNS, weights=[t[5] for t in TOWNS])[0]
            if chooser.random() < CLUSTERED_SHARE:
                latitude = min(19.0, max(14.0, chooser.gauss(town[1], 0.05)))
                longitude = min(-89.0, max(-96.0, chooser.gauss(town[2], 0.05)))
                area_id, zone, place = town_area[town[0]], town[3], town[0]
            else:
                latitude, longitude = chooser.uniform(14.0, 19.0), chooser.uniform(-96.0, -89.0)
                area_id = chooser.choice(every_district)
                zone = GT if longitude > -92.2 and latitude < 17.8 else MX
                place = f"Ejido {n % 300}"
            if chooser.random() < 0.05:
                area_id = None
            codes = list(
                dict.fromkeys(chooser.choices(category_codes, category_weights, k=chooser.randint(1, 3)))
            )
            words = chooser.choice(NAME_WORDS.get(codes[0], DEFAULT_WORDS))
            spoken = ["es"] * (chooser.random() < 0.95) + [
                c for c, share in languages if chooser.random() < share
            ]
            provider = providers[chooser.randrange(PROVIDERS)]
            points.append(
                ServicePoint(
                    owner_id=provider.owner_id,
                    provider=provider,
                    name=f"{words} {place} {n}",
                    address=f"Calle {chooser.randint(1, 40)} #{chooser.randint(1, 999)}, {place}",
                    area_id=area_id,
                    latitude=round(latitude, 5),
                    longitude=round(longitude, 5),
                    time_zone=zone,
                    phone=f"+5296{n:08d}"[:13],
                    whatsapp=f"+5296{n:08d}"[:13] if chooser.random() < 0.5 else "",
                    languages="," + ",".join(spoken) + "," if spoken else "",
                    age_min=18 if chooser.random() < 0.1 else None,
                    cost=chooser.choice(["free"] * 8 + ["low", "paid"]),
                    access=chooser.choice(["walk_in"] * 6 + ["referral", "appointment"]),
                    wheelchair_accessible=chooser.random() < 0.4,
                    female_staff=chooser.random() < 0.6,
                    status=chooser.choice(status_of),
                    last_verified_at=now - datetime.timedelta(days=chooser.randint(0, 200)),
                )
            )
            point_categories.append(codes)
        ServicePoint.objects.bulk_create(points, batch_size=1000)
        through = ServicePoint.categories.through
        through.objects.bulk_create(
            [
                through(servicepoint_id=point.pk, servicecategory_id=code)
                for point, codes in zip(points, point_categories, strict=True)
                for code in codes
            ],
            batch_size=2000,
        )
        hours, exceptions, texts = [], [], []
        today = now.date()
        for point, codes in zip(points, point_categories, strict=True):
            pattern = chooser.choices(HOURS_PATTERNS, weights=[p[0] for p in HOURS_PATTERNS])[0][1]
            for days, opens, closes in pattern:
                hours.extend(
                    OpeningHours(point=point, weekday=day, opens=_time(opens), closes=_time(closes))
                    for day in days
                )
            if chooser.random() < 0.12:
                for offset in sorted(chooser.sample(range(-3, 31), chooser.randint(1, 2))):
                    special = chooser.random() < 0.3
                    exceptions.append(
                        OpeningException(
                            point=point,
                            date=today + datetime.timedelta(days=offset),
                            is_closed=not special,
                            opens=_time("10:00") if special else None,
                            closes=_time("14:00") if special else None,
                            note="Día festivo" if not special else "Jornada especial",
                        )
                    )
            english, spanish = DESCRIPTIONS.get(codes[0], DEFAULT_DESCRIPTION)
            directions = f"Near the main square of {point.address.rsplit(', ', 1)[-1]}."
            texts.append(
                ServicePointText(point=point, language="en", description=english, directions=directions)
            )
            texts.append(
                ServicePointText(point=point, language="es", description=spanish, directions=directions)
            )
            if chooser.random() < 0.3:
                texts.append(
                    ServicePointText(point=point, language="fr", description=FRENCH, is_outdated=True)
                )
            if chooser.random() < 0.2:
                texts.append(ServicePointText(point=point, language="ar", description=ARABIC))
        OpeningHours.objects.bulk_create(hours, batch_size=2000)
        OpeningException.objects.bulk_create(exceptions, batch_size=2000)
        ServicePointText.objects.bulk_create(texts, batch_size=1000)
    if connection.vendor == "postgresql":
        # Autovacuum would analyse the tables within a minute of a bulk load; without statistics the
        # planner guesses, and the first minute after a load is not what readers meet.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    published = ServicePoint.objects.filter(
        status=PublicationStatus.PUBLISHED, provider__status=PublicationStatus.PUBLISHED
    ).count()
    return {
        "points": count,
        "published_points": published,
        "providers": PROVIDERS,
        "category_links": sum(len(codes) for codes in point_categories),
        "opening_hours": len(hours),
        "opening_exceptions": len(exceptions),
        "texts": len(texts),
        "areas": AdministrativeArea.objects.count(),
        "time_zones": [MX, GT, MERIDA],
    }


def matches() -> dict[str, int]:
    """How many published points each path's query finds (the pages show the first 50)."""
    from ventanilla.directory.geo import Position
    from ventanilla.directory.services import SearchQuery, search_points

    queries = {
        "results_text_category": SearchQuery(text="clinic", category="medical"),
        "results_open_now": SearchQuery(open_now=True),
        "results_area": SearchQuery(area="MX07"),
        "api_near": SearchQuery(category="medical", near=Position(14.9, -92.26)),
    }
    return {name: search_points(query).total for name, query in queries.items()}


# --- In-process: queries, time, SQL, profile ----------------------------------------------------------


def _short(sql: str, limit: int = 300) -> str:
    return sql if len(sql) <= limit else f"{sql[:limit]}… ({len(sql)} characters)"


@contextlib.contextmanager
def rendering_clock() -> Iterator[list[int]]:
    """Nanoseconds spent rendering templates (HTML pages) or JSON (the API), call by call."""
    from django.template.backends.django import Template
    from rest_framework.renderers import JSONRenderer

    spent: list[int] = []
    originals = {Template: Template.render, JSONRenderer: JSONRenderer.render}

    def timed(original: Any) -> Any:
        def render(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter_ns()
            try:
                return original(*args, **kwargs)
            finally:
                spent.append(time.perf_counter_ns() - start)

        return render

    for owner, original in originals.items():
        owner.render = timed(original)  # type: ignore[method-assign]
    try:
        yield spent
    finally:
        for owner, original in originals.items():
            owner.render = original  # type: ignore[method-assign]


def in_process(
    path: str,
    *,
    requests: int = IN_PROCESS_REQUESTS,
    profiled: int = PROFILED_REQUESTS,
    uncached: bool = False,
) -> dict[str, Any]:
    """The path through Django's test client (no HTTP, no queueing): what one request costs. With
    `uncached`, every request's query string is new (as for the `*_uncached` HTTP targets)."""
    import itertools

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    headers = API_HEADERS if path.startswith("/api/") else HEADERS
    browser = Client(HTTP_HOST=harness.HOST, headers=headers)
    numbers = itertools.count()

    class _Client:
        @staticmethod
        def get(wanted: str) -> Any:
            if uncached:
                wanted = f"{wanted}&{UNCACHED_PARAMETER}={next(numbers)}"
            return browser.get(wanted)

    client = _Client()
    first = client.get(path)
    if first.status_code != 200:
        raise RuntimeError(f"{path} answered {first.status_code} in-process: {first.content[:300]!r}")
    durations, sql_ms, counts, render_ms = [], [], [], []
    slowest: dict[str, float] = {}
    for _ in range(requests):
        with CaptureQueriesContext(connection) as captured, rendering_clock() as rendering:
            start = time.perf_counter_ns()
            client.get(path)
            durations.append(time.perf_counter_ns() - start)
        render_ms.append(sum(rendering) / 1e6)
        counts.append(len(captured))
        times = [float(query["time"]) * 1000 for query in captured.captured_queries]
        sql_ms.append(sum(times))
        for query, ms in zip(captured.captured_queries, times, strict=True):
            slowest[query["sql"]] = max(ms, slowest.get(query["sql"], 0.0))
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(profiled):
        client.get(path)
    profile.disable()
    timing = harness.summarise(durations, "ms")
    return {
        "requests": requests,
        "queries_per_request": max(counts),
        "ms_per_request": {
            "p50_ms": timing["p50_ms"],
            "p95_ms": timing["p95_ms"],
            "mean_ms": timing["mean_ms"],
        },
        "sql_ms_per_request_p50": round(statistics.median(sql_ms), 3),
        "share_in_sql": harness.ratio(statistics.median(sql_ms), timing["p50_ms"]),
        "rendering_ms_per_request_p50": round(statistics.median(render_ms), 3),
        "share_in_rendering": harness.ratio(statistics.median(render_ms), timing["p50_ms"]),
        "response_bytes": len(first.content),
        "content_encoding": first.get("Content-Encoding", ""),
        "slowest_queries": [
            {"ms": round(ms, 3), "sql": _short(sql)}
            for sql, ms in sorted(slowest.items(), key=lambda item: -item[1])[:4]
        ],
        "profile": _profile_summary(profile, profiled),
    }


_INTERESTING = (
    "/ventanilla/",
    "/django/template/",
    "/django/db/models/",
    "/rest_framework/",
    "/django/utils/",
)


def _profile_summary(profile: cProfile.Profile, requests: int, top: int = 14) -> list[str]:
    """The app's (and the template engine's, ORM's, DRF's) functions by time spent in them and below,
    per request: where a slow path spends its time."""
    stats = pstats.Stats(profile)
    rows = []
    for (filename, line, function), (_calls, _primitive, _own, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if any(part in filename for part in _INTERESTING):
            short = filename.split("/site-packages/")[-1].split("/src/")[-1]
            rows.append((cumulative, f"{short}:{line}({function})"))
    rows.sort(reverse=True)
    return [f"{cumulative * 1000 / requests:8.2f} ms/request  {name}" for cumulative, name in rows[:top]]


def in_process_floor(requests: int = 200) -> dict[str, Any]:
    """The bare view through the middleware stack, in-process: the test client's own cost."""
    from django.test import Client

    client = Client(HTTP_HOST=harness.HOST, headers=HEADERS)
    durations = harness.time_calls(lambda: client.get("/bench/bare"), n=requests, warmup=20)
    timing = harness.summarise(durations, "ms")
    return {"requests": requests, "ms_per_request": {k: timing[k] for k in ("p50_ms", "p95_ms", "mean_ms")}}


# --- Over HTTP ------------------------------------------------------------------------------------------


def http_paths(env: harness.Environment) -> tuple[dict[str, Any], dict[str, Any]]:
    with (
        env.server(settings_module="benchmarks.settings_unthrottled") as app,
        floors.http_floor_targets(env, app) as floor_targets,
    ):
        targets = {
            name: harness.Target(server=target.server, path=target.path, headers=HEADERS)
            for name, target in floor_targets.items()
        }
        paths = {
            name: harness.Target(app, path, headers=API_HEADERS if path.startswith("/api/") else HEADERS)
            for name, path in PATHS.items()
        }
        paths.update(
            {
                name: harness.Target(
                    app,
                    path,
                    headers=API_HEADERS if path.startswith("/api/") else HEADERS,
                    unique_query=UNCACHED_PARAMETER,
                )
                for name, path in UNCACHED.items()
            }
        )
        for target in paths.values():
            harness.check_target(target)
        results = harness.measure_http({**targets, **paths})
    floor_results = {name: results.pop(name) for name in targets}
    for summary in results.values():
        for floor_name, floor in floor_results.items():
            summary[f"vs_{floor_name}"] = {
                "p95_ratio": harness.ratio(summary["latency"]["p95_ms"], floor["latency"]["p95_ms"]),
                "p50_ratio": harness.ratio(summary["latency"]["p50_ms"], floor["latency"]["p50_ms"]),
                "throughput_ratio": harness.ratio(floor["requests_per_s"], summary["requests_per_s"]),
                "server_cpu_ratio": harness.ratio(
                    summary["server_cpu_ms_per_request"], floor["server_cpu_ms_per_request"]
                ),
            }
    return results, floor_results


def main() -> None:
    with harness.Environment("find_help_search") as env:
        env.setup_django()
        env.migrate()
        env.collectstatic()
        began = time.monotonic()
        directory = generate_directory(POINTS)
        directory["seconds_to_generate"] = round(time.monotonic() - began, 1)
        found = matches()
        profiles = {name: in_process(path) for name, path in PATHS.items()}
        profiles.update({name: in_process(path, uncached=True) for name, path in UNCACHED.items()})
        floor_in_process = in_process_floor()
        paths, http_floor = http_paths(env)

        for name, summary in paths.items():
            base = name.removesuffix("_uncached")
            summary["path"] = PATHS[base] + (f"&{UNCACHED_PARAMETER}=<n>" if name in UNCACHED else "")
            summary["matches"] = found[base]
            summary["queries_per_request"] = profiles[name]["queries_per_request"]
            summary["in_process"] = profiles[name]
        budget = []
        for name in PATHS:
            budget.append({"metric": f"{name}.latency.p95_ms", "max": P95_MAX_MS})
            budget.append({"metric": f"{name}.vs_bare_view_with_middleware.p95_ratio", "max": P95_MAX_RATIO})
        headline: dict[str, Any] = {}
        for name, summary in paths.items():
            if name in UNCACHED:
                continue
            headline[f"{name} p95 ms"] = summary["latency"]["p95_ms"]
            headline[f"{name} p95 ÷ bare+mw"] = summary["vs_bare_view_with_middleware"]["p95_ratio"]
            headline[f"{name} req/s"] = summary["requests_per_s"]
            headline[f"{name} CPU ms/req"] = summary["server_cpu_ms_per_request"]
            profile = profiles[name]
            headline[f"{name} in-process ms: all / SQL / rendering"] = (
                f"{profile['ms_per_request']['p50_ms']} / {profile['sql_ms_per_request_p50']}"
                f" / {profile['rendering_ms_per_request_p50']}"
            )
        mw = http_floor["bare_view_with_middleware"]
        headline["bare+mw p95 ms"] = mw["latency"]["p95_ms"]
        headline["bare+mw CPU ms/req"] = mw["server_cpu_ms_per_request"]
        uncached_p95 = {name: paths[name]["latency"]["p95_ms"] for name in UNCACHED}
        headline["uncached p95 ms (no budget)"] = ", ".join(
            f"{name.removesuffix('_uncached')} {value}" for name, value in uncached_p95.items()
        )
        harness.write_result(
            "find_help_search",
            measured={
                **paths,
                "directory": directory,
                "in_process_bare_view_with_middleware": floor_in_process,
                "measured_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            },
            floors={"http": http_floor},
            budget=budget,
            headline=headline,
            notes=(
                "Issue 3: search over 10,000 service points with 20 concurrent clients, p95 ≤ 100 ms and "
                "within 3× the bare view's p95 (with the middleware stack), measured in the same run on the "
                "same server. A closed loop of 20 clients on 2 gunicorn workers: latency is mostly queueing, "
                "so p95 grows with the server CPU per request. `in_process` is one request through Django's "
                "test client with no HTTP and no queue (its SQL time, slowest queries and a profile say "
                "where the time goes). The open-now result depends on the hour it ran (`measured_at`). "
                "Anonymous answers are kept in the cache for the minute (keyed by the directory's version): "
                "the budgeted paths are repeated searches, as many phones ask them; the `*_uncached` paths "
                "make every query string new, so each answer is computed (no budget, reported for honesty)."
            ),
        )


if __name__ == "__main__":
    main()
