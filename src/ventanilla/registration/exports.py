"""Exporting registrations: personal data (for case work, with a reason) and a de-identified table.

Two exports, two rules:

- **Personal data** needs `export_personal_data` and a reason. It holds one row per person the user may
  export (merged duplicates are reached through their survivor, erased people are left out): who they
  are, their flags and active consents, then the answers of their latest registration, flattened. A
  repeat becomes numbered columns (`leg_1_leg_country`, `leg_2_leg_country` ...) so the file stays one
  sheet with one row per person; an answer that repeats a fixed column (given_name, sex ...) is left
  out, the fixed column being the corrected value.
- **De-identified** needs `view_aggregates` or `view_personal_data`, and holds only registrations whose
  statistics consent is active: no names, phone, documents or exact dates; the age band, month of
  registration, countries, site, flag codes and the statistical answers. Rows are numbered per file, so
  a row cannot be traced back to a database record; the journey legs are a second sheet (a second CSV
  in a zip), joined by that number. Small cells can still single a person out (one 70-year-old woman
  from one country at one site in one month): check counts before publishing, see data-protection.md.

Both come as CSV or XLSX with an HXL hashtag row under the header, every text cell guarded against
formula injection (`core.tabular`). Every export is audited (`AuditAction.EXPORT`): kind, format, row
count and the filters as codes, never values; the reason is kept, encrypted, on the `ExportJob`.
"""

from __future__ import annotations

import datetime
import io
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from ventanilla.core import audit, tabular
from ventanilla.core.crypto import cipher
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.registration import mapping
from ventanilla.registration.models import (
    Consent,
    ConsentPurpose,
    ExportJob,
    ExportKind,
    ExportStatus,
    Flag,
    Person,
    Registration,
)

FORMATS = tabular.FORMATS
KEEP_FILES_FOR = datetime.timedelta(hours=24)
PROGRESS_EVERY = 100  # rows between two progress writes
Progress = Callable[[int, int], None]  # (rows done, rows in all)


class ExportRefused(PermissionError):
    """The user may not take this kind of export."""


class InvalidExport(ValueError):
    """A request that cannot be run; `errors` names each bad field."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


@dataclass(frozen=True)
class Filters:
    """What to export: one site, a registration date range, one flag code (all optional)."""

    site: int | None = None
    registered_from: datetime.date | None = None
    registered_to: datetime.date | None = None
    flag: str = ""

    def as_codes(self) -> dict[str, Any]:
        """Ids, ISO dates and codes only: safe for the audit log."""
        codes: dict[str, Any] = {}
        if self.site is not None:
            codes["site"] = self.site
        if self.registered_from is not None:
            codes["from"] = self.registered_from.isoformat()
        if self.registered_to is not None:
            codes["to"] = self.registered_to.isoformat()
        if self.flag:
            codes["flag"] = self.flag[:50]
        return codes

    @classmethod
    def from_codes(cls, codes: dict[str, Any]) -> Filters:
        day = datetime.date.fromisoformat
        return cls(
            site=codes.get("site"),
            registered_from=day(codes["from"]) if codes.get("from") else None,
            registered_to=day(codes["to"]) if codes.get("to") else None,
            flag=codes.get("flag", ""),
        )

    def _day_range(self, field: str) -> Q:
        condition = Q()
        zone = timezone.get_current_timezone()
        if self.registered_from is not None:
            start = datetime.datetime.combine(self.registered_from, datetime.time.min, tzinfo=zone)
            condition &= Q(**{f"{field}__gte": start})
        if self.registered_to is not None:
            end = datetime.datetime.combine(
                self.registered_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=zone
            )
            condition &= Q(**{f"{field}__lt": end})
        return condition


# --- Who may export what ---------------------------------------------------------------------------


def can_export(user: Any, kind: str) -> bool:
    scope = scope_for(user)
    if kind == ExportKind.PERSONAL:
        return scope.has(Permission.EXPORT_PERSONAL_DATA)
    return scope.has(Permission.VIEW_AGGREGATES) or scope.has(Permission.VIEW_PERSONAL_DATA)


def kinds_for(user: Any) -> list[str]:
    return [kind for kind in ExportKind.values if can_export(user, kind)]


def people_for_export(user: Any, filters: Filters) -> QuerySet[Person]:
    """People the user may see *and* export: visible_to, narrowed to the grants holding the export right."""
    scope = scope_for(user)
    people = (
        Person.objects.visible_to(user)
        .filter(scope.site_q(Permission.EXPORT_PERSONAL_DATA, organisation="organisation", site="site"))
        .filter(merged_into__isnull=True, erased_at__isnull=True)
    )
    if filters.site is not None:
        people = people.filter(site_id=filters.site)
    people = people.filter(filters._day_range("registered_at"))
    if filters.flag:
        people = people.filter(
            Exists(Flag.objects.filter(person=OuterRef("pk"), code=filters.flag, dismissed_at__isnull=True))
        )
    return people


def registrations_for_statistics(user: Any, filters: Filters) -> QuerySet[Registration]:
    """Registrations for the de-identified export: scoped by the aggregate right as well as the personal one.

    `Registration.objects.visible_to` keeps the personal-data rule; counting needs its own, written here
    once: the organisations (or, for site-scoped roles, the sites) where the user holds view_aggregates or
    view_personal_data. Only registrations whose statistics consent is given and not withdrawn.
    """
    scope = scope_for(user)
    if scope.is_anonymous:
        return Registration.objects.none()
    allowed = scope.site_q(
        Permission.VIEW_AGGREGATES, organisation="organisation", site="site"
    ) | scope.site_q(Permission.VIEW_PERSONAL_DATA, organisation="organisation", site="site")
    consented = Consent.objects.filter(
        registration=OuterRef("pk"), purpose=ConsentPurpose.STATISTICS, given=True, withdrawn_at__isnull=True
    )
    registrations = Registration.objects.filter(allowed).filter(Exists(consented))
    if filters.site is not None:
        registrations = registrations.filter(site_id=filters.site)
    registrations = registrations.filter(filters._day_range("registered_at"))
    if filters.flag:
        registrations = registrations.filter(
            Exists(
                Flag.objects.filter(registration=OuterRef("pk"), code=filters.flag, dismissed_at__isnull=True)
            )
        )
    return registrations


# --- Personal-data export --------------------------------------------------------------------------

PERSONAL_COLUMNS: tuple[str, ...] = (
    "reference",
    "given_name",
    "family_name",
    "other_names",
    "date_of_birth",
    "age",
    "sex",
    "nationality",
    "phone",
    "site",
    "registered_at",
    "flags",
    "consents",
)
PERSONAL_HXL: dict[str, str] = {
    "reference": "#beneficiary+code",
    "given_name": "#beneficiary+name+given",
    "family_name": "#beneficiary+name+family",
    "other_names": "#beneficiary+name+other",
    "date_of_birth": "#date+birth",
    "age": "#beneficiary+age",
    "sex": "#beneficiary+sex",
    "nationality": "#country+code+nationality",
    "phone": "#contact+phone",
    "site": "#loc+name",
    "registered_at": "#date+registered",
    "flags": "#beneficiary+flags+list",
    "consents": "#beneficiary+consents+list",
}
_SKIPPED_ANSWERS = {*PERSONAL_COLUMNS, "instanceID"}


def flatten(answers: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Answers as one flat row: a repeat's items become `<repeat>_<n>_<question>` (nested repeats too)."""
    flat: dict[str, Any] = {}
    for name, value in answers.items():
        if isinstance(value, list):
            for number, item in enumerate(value, start=1):
                if isinstance(item, dict):
                    flat.update(flatten(item, f"{prefix}{name}_{number}_"))
        elif not prefix and name in _SKIPPED_ANSWERS:
            continue
        else:
            flat[prefix + name] = value
    return flat


def _people_rows_queryset(people: QuerySet[Person]) -> QuerySet[Person]:
    return (
        people.select_related("site")
        .prefetch_related(
            Prefetch(
                "flags",
                queryset=Flag.objects.filter(dismissed_at__isnull=True).only("pk", "person_id", "code"),
            ),
            Prefetch(
                "consents",
                queryset=Consent.objects.only("pk", "person_id", "purpose", "given", "withdrawn_at"),
            ),
            Prefetch(
                "registrations",
                queryset=Registration.objects.filter(submission__isnull=False)
                .select_related("submission")
                .order_by("-registered_at", "-pk"),
            ),
        )
        .order_by("registered_at", "pk")
    )


def _latest_answers(person: Person) -> dict[str, Any]:
    latest = next(iter(person.registrations.all()), None)
    if latest is None or latest.submission is None:
        return {}
    return flatten(latest.submission.answers)


def _age(person: Person, today: datetime.date) -> int | None:
    born = person.date_of_birth
    if born:
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return person.age_estimate


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def personal_table(people: QuerySet[Person], *, progress: Progress | None = None) -> tabular.Sheet:
    """The personal sheet. The answer columns are known only after reading every person's answers:
    a first pass collects them (in order of first appearance, which follows the form)."""
    ordered = _people_rows_queryset(people)
    answer_columns: dict[str, None] = {}
    total = 0
    for person in ordered.iterator(chunk_size=500):
        answer_columns.update(dict.fromkeys(_latest_answers(person)))
        total += 1
    answers = list(answer_columns)
    today = timezone.localdate()

    def rows() -> Iterator[list[Any]]:
        for done, person in enumerate(ordered.iterator(chunk_size=500), start=1):
            flat = _latest_answers(person)
            yield [
                person.reference,
                person.given_name,
                person.family_name,
                person.other_names,
                person.date_of_birth.isoformat() if person.date_of_birth else "",
                _age(person, today),
                person.sex,
                person.nationality,
                person.phone,
                person.site.name if person.site else "",
                _local(person.registered_at),
                ";".join(sorted({flag.code for flag in person.flags.all()})),
                ";".join(sorted({c.purpose for c in person.consents.all() if c.active})),
                *(flat.get(name, "") for name in answers),
            ]
            if progress is not None and (done % PROGRESS_EVERY == 0 or done == total):
                progress(done, total)

    if progress is not None:
        progress(0, total)
    return tabular.Sheet(
        name="people",
        columns=[*PERSONAL_COLUMNS, *answers],
        hxl=[
            *(PERSONAL_HXL[c] for c in PERSONAL_COLUMNS),
            *(f"#meta+q_{tabular.hxl_attribute(a)}" for a in answers),
        ],
        rows=rows(),
    )


# --- De-identified export --------------------------------------------------------------------------

STATISTICS_COLUMNS: tuple[str, ...] = (*mapping.STATISTICAL_FIELDS, "month_left")
DEIDENTIFIED_COLUMNS: tuple[str, ...] = (
    "row",
    "month",
    "organisation",
    "site",
    "age_band",
    "sex",
    "nationality",
    "country_of_origin",
    "destination_country",
    "flags",
    *STATISTICS_COLUMNS,
)
DEIDENTIFIED_HXL: dict[str, str] = {
    "row": "#meta+id",
    "month": "#date+registered+month",
    "organisation": "#org+name",
    "site": "#loc+name",
    "age_band": "#beneficiary+age_band",
    "sex": "#beneficiary+sex",
    "nationality": "#country+code+nationality",
    "country_of_origin": "#country+code+origin",
    "destination_country": "#country+code+destination",
    "flags": "#beneficiary+flags+list",
    **{name: f"#meta+{tabular.hxl_attribute(name)}" for name in STATISTICS_COLUMNS},
}
LEG_COLUMNS: tuple[str, ...] = (
    "row",
    "order",
    "country",
    "place",
    "month_arrived",
    "month_left",
    "transport",
    "organised_by",
)
LEG_HXL: tuple[str, ...] = (
    "#meta+id",
    "#meta+order",
    "#country+code",
    "#loc+name",
    "#date+arrived+month",
    "#date+left+month",
    "#meta+transport",
    "#meta+organised_by",
)


def _month(day: datetime.date | None) -> str:
    return day.strftime("%Y-%m") if day else ""


def deidentified_tables(
    registrations: QuerySet[Registration], *, progress: Progress | None = None
) -> list[tabular.Sheet]:
    """The registrations sheet and the journey-legs sheet, joined by a row number given in this file only.

    Both sheets are written from one pass: the legs of each registration are kept until the first sheet
    is written (a few short rows per registration), so the database is read once.
    """
    ordered = (
        registrations.select_related("site", "organisation")
        .prefetch_related(
            Prefetch(
                "flags",
                queryset=Flag.objects.filter(dismissed_at__isnull=True).only("pk", "registration_id", "code"),
            ),
            "legs",
        )
        .order_by("registered_at", "pk")
    )
    total = ordered.count()
    legs: list[list[Any]] = []

    def rows() -> Iterator[list[Any]]:
        for number, registration in enumerate(ordered.iterator(chunk_size=500), start=1):
            stats = registration.statistics or {}
            yield [
                number,
                _month(timezone.localtime(registration.registered_at).date()),
                registration.organisation.short_name or registration.organisation.name,
                registration.site.name if registration.site else "",
                registration.age_band,
                registration.sex,
                registration.nationality,
                registration.country_of_origin,
                registration.destination_country,
                ";".join(sorted({flag.code for flag in registration.flags.all()})),
                *(_statistic(stats.get(name)) for name in STATISTICS_COLUMNS),
            ]
            legs.extend(
                [
                    number,
                    leg.order,
                    leg.country,
                    leg.place,
                    _month(leg.arrived),
                    _month(leg.left),
                    leg.transport,
                    leg.organised_by,
                ]
                for leg in registration.legs.all()
            )
            if progress is not None and (number % PROGRESS_EVERY == 0 or number == total):
                progress(number, total)

    if progress is not None:
        progress(0, total)
    return [
        tabular.Sheet(
            "registrations", DEIDENTIFIED_COLUMNS, [DEIDENTIFIED_HXL[c] for c in DEIDENTIFIED_COLUMNS], rows()
        ),
        tabular.Sheet("journey_legs", LEG_COLUMNS, LEG_HXL, legs),
    ]


def _statistic(value: Any) -> Any:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    return "" if value is None else value


# --- Writing, storing, downloading ----------------------------------------------------------------


@dataclass(frozen=True)
class Written:
    content: bytes
    rows: int
    extension: str

    @property
    def content_type(self) -> str:
        return tabular.CONTENT_TYPES[self.extension]


def write(job: ExportJob, *, progress: Progress | None = None) -> Written:
    """The file for a job, as its requester may see the data *now* (a role removed since gives no rows)."""
    user = job.requested_by
    filters = Filters.from_codes(job.filters)
    if job.kind == ExportKind.PERSONAL:
        sheets = [personal_table(people_for_export(user, filters), progress=progress)]
    else:
        sheets = deidentified_tables(registrations_for_statistics(user, filters), progress=progress)
    binary = io.BytesIO()
    if job.file_format == "xlsx":
        counts = tabular.write_xlsx(sheets, binary)
        return Written(binary.getvalue(), counts[0], "xlsx")
    if len(sheets) == 1:
        text = io.StringIO()
        count = tabular.write_csv(sheets[0].columns, sheets[0].hxl, sheets[0].rows, text)
        return Written(tabular.csv_bytes(text.getvalue()), count, "csv")
    counts = tabular.write_csv_zip(sheets, binary)
    return Written(binary.getvalue(), counts[0], "zip")


@transaction.atomic
def request_export(*, by: Any, kind: str, file_format: str, reason: str, filters: Filters) -> ExportJob:
    """Record the request (reason encrypted); the caller runs it now (command) or in the background."""
    errors: dict[str, str] = {}
    if kind not in ExportKind.values:
        errors["kind"] = _("Choose personal or de-identified.")
    if file_format not in FORMATS:
        errors["file_format"] = _("Choose CSV or XLSX.")
    if kind == ExportKind.PERSONAL and not reason.strip():
        errors["reason"] = _("Say why you export personal data: the reason is kept with the export.")
    if errors:
        raise InvalidExport(errors)
    if not can_export(by, kind):
        raise ExportRefused(_("You may not take this export."))
    return ExportJob.objects.create(
        requested_by=by,
        kind=kind,
        file_format=file_format,
        reason=reason.strip()[:1000],
        filters=filters.as_codes(),
    )


def start_export(*, by: Any, kind: str, file_format: str, reason: str, filters: Filters) -> ExportJob:
    """Request an export and write it in the background (in this process after the commit, embedded)."""
    from ventanilla.core.tasks import enqueue
    from ventanilla.registration import tasks

    with transaction.atomic():
        job = request_export(by=by, kind=kind, file_format=file_format, reason=reason, filters=filters)
        enqueue(tasks.run_export, job.pk)
    return job


def exports_dir() -> Path:
    return Path(settings.DATA_DIR) / "exports"


def run_export(job: ExportJob, *, progress: Progress | None = None, store: bool = True) -> Written | None:
    """Write the file, keep it encrypted for a day (`store`), audit the export. Safe to run twice."""
    claimed = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.PENDING).update(
        status=ExportStatus.RUNNING
    )
    if not claimed:
        return None  # already running or finished: a second delivery of the task

    def report(done: int, total: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(done=done, total=total)
        if progress is not None:
            progress(done, total)

    try:
        written = write(job, progress=report)
        file_name = ""
        if store:
            directory = exports_dir()
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            file_name = f"{job.pk}-{secrets.token_hex(12)}.bin"
            (directory / file_name).write_bytes(cipher().encrypt(written.content))
    except Exception:
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.FAILED, finished_at=timezone.now())
        raise
    now = timezone.now()
    with transaction.atomic():
        job.status = ExportStatus.DONE
        job.rows = written.rows
        job.file_name = file_name
        job.finished_at = now
        job.expires_at = now + KEEP_FILES_FOR if store else None
        job.save(update_fields=["status", "rows", "file_name", "finished_at", "expires_at"])
        audit.record(
            AuditAction.EXPORT,
            by=job.requested_by,
            obj=job,
            organisation_id=_single_organisation(job),
            detail={
                "step": "written",
                "kind": job.kind,
                "format": job.file_format,
                "rows": written.rows,
                "filters": job.filters,
                "reason_given": bool(job.reason),
            },
        )
    return written


def _single_organisation(job: ExportJob) -> int | None:
    """The organisation the audit entry belongs to, when the requester works for exactly one."""
    organisations = scope_for(job.requested_by).organisations()
    return next(iter(organisations)) if len(organisations) == 1 else None


def download_name(job: ExportJob) -> str:
    extension = (
        job.file_format if not (job.kind == ExportKind.DEIDENTIFIED and job.file_format == "csv") else "zip"
    )
    return f"registrations-{job.kind}-{timezone.localtime(job.created_at):%Y%m%d}-{job.pk}.{extension}"


def open_download(job: ExportJob, *, by: Any) -> bytes:
    """The decrypted file, for its requester only; each download is audited."""
    if job.requested_by_id != getattr(by, "pk", None) or job.status != ExportStatus.DONE or not job.file_name:
        raise FileNotFoundError
    content = cipher().decrypt((exports_dir() / job.file_name).read_bytes())
    audit.record(
        AuditAction.EXPORT,
        by=by,
        obj=job,
        organisation_id=_single_organisation(job),
        detail={"step": "downloaded", "kind": job.kind, "format": job.file_format, "rows": job.rows},
    )
    return content


def purge_expired_exports(*, now: datetime.datetime | None = None) -> int:
    """Delete the files of exports older than a day; the job rows stay as the record. Returns files deleted.

    A job still waiting or running a day after it was asked for died with its worker: it is marked failed.
    """
    now = now or timezone.now()
    ExportJob.objects.filter(
        status__in=[ExportStatus.PENDING, ExportStatus.RUNNING], created_at__lte=now - KEEP_FILES_FOR
    ).update(status=ExportStatus.FAILED, finished_at=now)
    purged = 0
    for job in ExportJob.objects.filter(expires_at__lte=now, status=ExportStatus.DONE).only(
        "pk", "file_name"
    ):
        if job.file_name:
            (exports_dir() / job.file_name).unlink(missing_ok=True)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.EXPIRED, file_name="")
        purged += 1
    return purged
