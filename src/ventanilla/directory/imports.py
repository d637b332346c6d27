"""Importing service points from a CSV or XLSX file (the columns of `exports.COLUMNS`).

Every row is checked before anything is written, and every problem is reported with its spreadsheet row
(the header is row 1) and column. Nothing is written unless every row is valid, or the caller asks to
skip the invalid rows. A provider the organisation does not keep yet is created as a draft. Probable
duplicates (the same name within about 200 m of an existing point or of another row) are warnings: they
are reported, not refused. The write is one transaction and one audit entry with the counts.

A row with an `id` (the column an export writes) updates that point, which must be kept by the importing
organisation; a row without one creates a point. So export → edit → import round-trips.

The command line imports synchronously with a progress bar; the staff page runs the import as a background
task (`tasks.run_import`) and follows an `ImportJob`.
"""

from __future__ import annotations

import csv
import datetime
import difflib
import functools
import io
import math
import re
import unicodedata
import zipfile
import zoneinfo
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from ventanilla.accounts.models import Organisation, User
from ventanilla.areas.models import AdministrativeArea
from ventanilla.core import audit
from ventanilla.core.import_problems import Problem
from ventanilla.core.models import AuditAction
from ventanilla.core.roles import Permission
from ventanilla.core.scoping import scope_for
from ventanilla.directory import freshness, services
from ventanilla.directory.exports import COLUMNS, TEXT_LANGUAGES, WEEKDAY_CODES
from ventanilla.directory.geo import Position, distance_km
from ventanilla.directory.models import (
    Access,
    Category,
    Cost,
    OpeningHours,
    PublicationStatus,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
    Sexes,
)

REQUIRED_COLUMNS = ("provider", "name", "categories")
DUPLICATE_METRES = 200
SIMILAR_NAMES = 0.9  # 0..1: names at least this similar (after normalising) count as the same name
BATCH_SIZE = 500
FILE = "file"  # the "column" of problems with the file as a whole

ProgressCallback = Callable[[int], object]

_YES = {"yes", "y", "true", "1", "si", "sí", "oui", "x"}
_NO = {"no", "n", "false", "0", "non", ""}
_DAY_NAMES = {
    **{code: day for day, code in enumerate(WEEKDAY_CODES)},
    **{
        name: day
        for day, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
}
_PERIOD = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")
_GUARDED = ("'=", "'+", "'-", "'@", "'\t", "'\r")
_COORDINATE_STEP = Decimal("0.00001")


def file_gone_message() -> str:
    return _("The uploaded file is gone (it was already imported or expired). Upload it again.")


class DirectoryImportError(Exception):
    """The file cannot be imported as asked; `report` says why, row by row. Nothing was written."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(
            _("%(count)s problem(s) in the file; nothing was imported.") % {"count": len(report.errors)}
        )


@dataclass
class ParsedRow:
    """A valid row, ready to be written."""

    row: int
    provider: str
    values: dict[str, Any]  # ServicePoint field values (without owner, provider, area)
    point_id: int | None  # the point this row updates; None: a new point
    area_pcode: str
    categories: list[str]
    hours: list[services.WeeklyPeriod]
    descriptions: dict[str, str]  # language -> description

    @property
    def name(self) -> str:
        return str(self.values["name"])


@dataclass
class ImportReport:
    """What checking the file found; nothing has been written yet."""

    rows: int = 0  # data rows read (blank rows are not counted)
    valid: list[ParsedRow] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    new_providers: list[str] = field(default_factory=list)

    @property
    def invalid_rows(self) -> list[int]:
        return sorted({problem.row for problem in self.errors if problem.row > 1})

    @property
    def file_errors(self) -> list[Problem]:
        """Problems with the file itself (unreadable, missing columns): skipping rows cannot help."""
        return [problem for problem in self.errors if problem.row <= 1]

    def can_import(self, *, skip_invalid: bool) -> bool:
        if self.file_errors or not self.valid:
            return False
        return not self.errors or skip_invalid


@dataclass(frozen=True)
class ImportResult:
    rows: int
    points_created: int
    points_updated: int
    providers_created: int
    rows_skipped: int
    warnings: int


class _UnreadableFileError(Exception):
    pass


# --- Reading -------------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.time):
        return f"{value:%H:%M}"
    text = str(value).strip()
    # Undo the export's guard against formulas: "'=x" was written for the text "=x".
    return text[1:] if text.startswith(_GUARDED) else text


def _read_csv(path: Path) -> Iterator[list[str]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _UnreadableFileError(
            _("The file is not UTF-8 text; save it as 'CSV UTF-8' and try again.")
        ) from error
    except OSError as error:
        raise _UnreadableFileError(_("The file could not be read.")) from error
    first_line = text.split("\n", 1)[0]
    # Spreadsheets in Spanish or French put ';' between columns.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [_cell_text(cell) for cell in record]


def _read_xlsx(path: Path) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise _UnreadableFileError(_("The file could not be read as an Excel workbook.")) from error
    try:
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


def read_records(path: Path) -> Iterator[list[str]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise _UnreadableFileError(_("Use a .csv or .xlsx file."))


# --- Values ---------------------------------------------------------------------------------------------


def count_rows(path: Path) -> int:
    """About how many data rows a file has (blank and HXL rows included), for a progress bar; 0 when it
    cannot be read (the import then reports why)."""
    try:
        return max(0, sum(1 for _record in read_records(path)) - 1)
    except (_UnreadableFileError, OSError):
        return 0


def parse_hours(text: str) -> list[services.WeeklyPeriod]:
    """'mon-fri 09:00-17:00; sat 09:00-13:00, 15:00-18:00' → weekly periods in week order ('24:00' is
    read as 23:59).

    Raises ValueError with a message that says how to write them."""
    periods: list[services.WeeklyPeriod] = []
    example = "mon-fri 09:00-17:00; sat 09:00-13:00"
    for entry in filter(None, (part.strip().lower() for part in text.split(";"))):
        days_part, _space, times_part = entry.partition(" ")
        first, _dash, last = days_part.partition("-")
        if first not in _DAY_NAMES or (last and last not in _DAY_NAMES) or not times_part.strip():
            raise ValueError(
                _("Unreadable opening hours '%(entry)s': write them like '%(example)s'.")
                % {"entry": entry, "example": example}
            )
        start = _DAY_NAMES[first]
        end = _DAY_NAMES[last] if last else start
        days = list(range(start, end + 1)) if end >= start else [*range(start, 7), *range(end + 1)]
        if times_part.strip() == "closed":
            continue
        for chunk in times_part.split(","):
            match = _PERIOD.fullmatch(chunk.strip())
            if match is None:
                raise ValueError(
                    _("Unreadable opening hours '%(entry)s': write them like '%(example)s'.")
                    % {"entry": entry, "example": example}
                )
            try:
                opens = _time(int(match.group(1)), int(match.group(2)))
                closes = _time(int(match.group(3)), int(match.group(4)))
            except ValueError:
                raise ValueError(
                    _("Impossible time in '%(entry)s': hours go from 00:00 to 24:00.") % {"entry": entry}
                ) from None
            periods.extend(services.WeeklyPeriod(day, opens, closes) for day in days)
    return sorted(periods)


def _time(hour: int, minute: int) -> datetime.time:
    if (hour, minute) == (24, 0):
        return datetime.time(23, 59)
    return datetime.time(hour, minute)


def normalise_name(name: str) -> str:
    """Lower case, no accents, punctuation or repeated spaces: 'Clínica  San-José' → 'clinica san jose'."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(re.sub(r"[^\w]+", " ", letters).split())


def similarity(a: str, b: str) -> float:
    """0..1 similarity of two normalised names (rapidfuzz when installed, else difflib)."""
    if a == b:
        return 1.0
    try:
        from rapidfuzz import fuzz
    except ImportError:
        return difflib.SequenceMatcher(None, a, b).ratio()
    return float(fuzz.ratio(a, b)) / 100


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


# --- Checking -------------------------------------------------------------------------------------------


class _RowChecker:
    """Checks one row's cells, collecting every problem rather than stopping at the first."""

    def __init__(self, row: int, cells: dict[str, str]) -> None:
        self.row = row
        self.cells = cells
        self.problems: list[Problem] = []

    def add(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.row, column, message))

    def text(self, column: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.cells.get(column, "")
        if required and not value:
            self.add(column, _("This column must not be blank."))
        elif max_length is not None and len(value) > max_length:
            self.add(column, _("Longer than %(limit)s characters.") % {"limit": max_length})
        return value

    def choice(self, column: str, choices: Any, default: str) -> str:
        value = self.cells.get(column, "").lower()
        if not value:
            return default
        if value not in choices.values:
            self.add(
                column,
                _("Unknown value '%(value)s'; use one of: %(allowed)s.")
                % {"value": value, "allowed": ", ".join(choices.values)},
            )
        return value

    def boolean(self, column: str) -> bool:
        value = self.cells.get(column, "").lower()
        if value not in _YES | _NO:
            self.add(column, _("Write yes or no, not '%(value)s'.") % {"value": value})
        return value in _YES

    def age(self, column: str) -> int | None:
        value = self.cells.get(column, "")
        if not value:
            return None
        if not value.isdecimal() or int(value) > 150:
            self.add(column, _("Write an age in years (0 to 150), not '%(value)s'.") % {"value": value})
            return None
        return int(value)

    def coordinate(self, column: str, limit: int) -> Decimal | None:
        value = self.cells.get(column, "")
        if not value:
            return None
        try:
            number = Decimal(value.replace(",", ".") if "." not in value else value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite():
            self.add(column, _("'%(value)s' is not a number in decimal degrees.") % {"value": value})
            return None
        if not -limit <= number <= limit:
            self.add(
                column,
                _("%(value)s is impossible: it must be between -%(limit)s and %(limit)s.")
                % {"value": value, "limit": limit},
            )
            return None
        return number.quantize(_COORDINATE_STEP, rounding=ROUND_HALF_UP)

    def service_value(self, column: str, parse: Callable[[str], str]) -> str:
        try:
            return parse(self.cells.get(column, ""))
        except ValidationError as error:
            for message in error.messages:
                self.add(column, message)
            return ""


def _check_row(row: int, cells: dict[str, str]) -> tuple[ParsedRow | None, list[Problem]]:
    check = _RowChecker(row, cells)
    point_id: int | None = None
    raw_id = cells.get("id", "").strip()
    if raw_id:
        # A spreadsheet may turn 12 into 12.0: accept a whole number written either way.
        whole = raw_id[:-2] if raw_id.endswith(".0") else raw_id
        if whole.isdigit() and int(whole) > 0:
            point_id = int(whole)
        else:
            check.add(
                "id", _("'%(value)s' is not a point id; leave it empty for a new point.") % {"value": raw_id}
            )
    provider = check.text("provider", required=True, max_length=200)
    name = check.text("name", required=True, max_length=200)
    codes = [code.strip().lower() for code in re.split(r"[;,]", cells.get("categories", "")) if code.strip()]
    unknown = [code for code in codes if code not in Category.values]
    if unknown:
        check.add(
            "categories",
            _("Unknown categories: %(codes)s (use codes such as medical;shelter;legal).")
            % {"codes": ", ".join(unknown)},
        )
    elif not codes:
        check.add("categories", _("Give at least one category code, such as medical or shelter."))
    address = check.text("address", max_length=300)
    latitude = check.coordinate("latitude", 90)
    longitude = check.coordinate("longitude", 180)
    if (cells.get("latitude", "") == "") != (cells.get("longitude", "") == ""):
        check.add(
            "longitude" if cells.get("latitude") else "latitude",
            _("Give both latitude and longitude, or neither."),
        )
    hours: list[services.WeeklyPeriod] = []
    try:
        hours = services.check_hours(parse_hours(cells.get("hours", "")))
    except ValueError as error:
        check.add("hours", str(error))
    except ValidationError as error:
        for message in error.messages:
            check.add("hours", message)
    time_zone = cells.get("time_zone", "")
    if time_zone and time_zone not in _time_zones():
        check.add(
            "time_zone",
            _("Unknown time zone '%(value)s'; use a name such as America/Guatemala.") % {"value": time_zone},
        )
    elif not time_zone and hours:
        check.add(
            "time_zone",
            _("Give the time zone in which the opening hours are kept, such as America/Guatemala."),
        )
    age_min, age_max = check.age("age_min"), check.age("age_max")
    if age_min is not None and age_max is not None and age_min > age_max:
        check.add("age_max", _("The maximum age is below the minimum age."))
    values = {
        "name": name,
        "address": address,
        "latitude": latitude,
        "longitude": longitude,
        "time_zone": time_zone or "UTC",
        "phone": check.service_value("phone", lambda value: services.parse_phone(value)),
        "whatsapp": check.service_value(
            "whatsapp", lambda value: services.parse_phone(value, field_name="whatsapp")
        ),
        "languages": check.service_value("languages", services.parse_languages),
        "age_min": age_min,
        "age_max": age_max,
        "sexes": check.choice("sexes", Sexes, Sexes.ANY),
        "cost": check.choice("cost", Cost, Cost.FREE),
        "access": check.choice("access", Access, Access.WALK_IN),
        "wheelchair_accessible": check.boolean("wheelchair_accessible"),
        "female_staff": check.boolean("female_staff"),
        "status": check.choice("status", PublicationStatus, PublicationStatus.DRAFT),
    }
    descriptions = {code: text for code in TEXT_LANGUAGES if (text := cells.get(f"description_{code}", ""))}
    if check.problems:
        return None, check.problems
    parsed = ParsedRow(
        row=row,
        provider=provider,
        values=values,
        point_id=point_id,
        area_pcode=cells.get("area_pcode", "").upper(),
        categories=list(dict.fromkeys(codes)),
        hours=hours,
        descriptions=descriptions,
    )
    return parsed, []


def _header(record: list[str]) -> tuple[dict[str, int], list[Problem], list[Problem]]:
    columns: dict[str, int] = {}
    errors: list[Problem] = []
    warnings: list[Problem] = []
    for position, raw in enumerate(record):
        name = raw.lstrip("\ufeff").strip().lower()
        if not name:
            continue
        if name in columns:
            errors.append(Problem(1, name, _("This column appears more than once.")))
        elif name not in COLUMNS:
            warnings.append(Problem(1, name, _("Unknown column; it is ignored.")))
        else:
            columns[name] = position
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            errors.append(Problem(1, name, _("This required column is missing.")))
    return columns, errors, warnings


@dataclass
class _Near:
    """Names with coordinates on a grid of about 1 km, to find neighbours without comparing every pair."""

    cells: dict[tuple[int, int], list[tuple[str, Position, str]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @staticmethod
    def key(position: Position) -> tuple[int, int]:
        return math.floor(position.latitude * 100), math.floor(position.longitude * 100)

    def add(self, name: str, position: Position, label: str) -> None:
        self.cells[self.key(position)].append((name, position, label))

    def matches(self, name: str, position: Position) -> Iterator[tuple[str, float]]:
        latitude, longitude = self.key(position)
        for dlat in (-1, 0, 1):
            for dlon in (-1, 0, 1):
                for other, where, label in self.cells.get((latitude + dlat, longitude + dlon), []):
                    metres = distance_km(position, where) * 1000
                    if metres <= DUPLICATE_METRES and similarity(name, other) >= SIMILAR_NAMES:
                        yield label, metres


def _position(parsed: ParsedRow) -> Position | None:
    latitude, longitude = parsed.values["latitude"], parsed.values["longitude"]
    if latitude is None or longitude is None:
        return None
    return Position(float(latitude), float(longitude))


def _duplicates(valid: list[ParsedRow], user: User | None) -> list[Problem]:
    """Warnings for rows whose name is (nearly) that of an existing point or an earlier row nearby."""
    located = [(parsed, position) for parsed in valid if (position := _position(parsed)) is not None]
    if not located:
        return []
    existing = (
        ServicePoint.objects.exclude(status=PublicationStatus.ARCHIVED)
        .exclude(latitude=None)
        # A row updating a point is not a duplicate of the point it updates.
        .exclude(pk__in=[parsed.point_id for parsed in valid if parsed.point_id is not None])
    )
    if user is not None:
        existing = existing.visible_to(user)
    margin = 0.01
    existing = existing.filter(
        latitude__gte=min(p.latitude for _row, p in located) - margin,
        latitude__lte=max(p.latitude for _row, p in located) + margin,
        longitude__gte=min(p.longitude for _row, p in located) - margin,
        longitude__lte=max(p.longitude for _row, p in located) + margin,
    )
    grid = _Near()
    for pk, name, latitude, longitude in existing.values_list(
        "pk", "name", "latitude", "longitude"
    ).iterator():
        label = _("the existing point '%(name)s' (#%(id)s)") % {"name": name, "id": pk}
        grid.add(normalise_name(name), Position(float(latitude), float(longitude)), label)
    warnings: list[Problem] = []
    for parsed, position in located:
        name = normalise_name(parsed.name)
        for label, metres in grid.matches(name, position):
            warnings.append(
                Problem(
                    parsed.row,
                    "name",
                    _("Probably a duplicate of %(other)s, %(metres)s m away.")
                    % {"other": label, "metres": round(metres)},
                )
            )
        grid.add(name, position, _("row %(row)s") % {"row": parsed.row})
    return warnings


def _resolve_ids(report: ImportReport, organisation: Organisation) -> None:
    """Rows with an id must name a point kept by the importing organisation (which the importer manages),
    once. Any other id is refused with the same words whether or not the point exists elsewhere, so the
    import cannot be used to probe other organisations' ids."""
    wanted = {parsed.point_id for parsed in report.valid if parsed.point_id is not None}
    editable = set(
        ServicePoint.objects.filter(owner=organisation, pk__in=wanted).values_list("pk", flat=True)
    )
    seen: dict[int, int] = {}
    refused: set[int] = set()
    for parsed in report.valid:
        if parsed.point_id is None:
            continue
        if parsed.point_id not in editable:
            message = _("No service point with the id %(id)s that you may edit here.") % {
                "id": parsed.point_id
            }
        elif parsed.point_id in seen:
            message = _("The id %(id)s is already used in row %(row)s.") % {
                "id": parsed.point_id,
                "row": seen[parsed.point_id],
            }
        else:
            seen[parsed.point_id] = parsed.row
            continue
        report.errors.append(Problem(parsed.row, "id", message))
        refused.add(parsed.row)
    report.valid = [parsed for parsed in report.valid if parsed.row not in refused]


def _resolve(report: ImportReport, organisation: Organisation, pcodes: dict[int, str]) -> None:
    """Check what needs the database (the area P-codes of every row) and list the providers to create."""
    known = set(
        AdministrativeArea.objects.filter(pcode__in=set(pcodes.values())).values_list("pcode", flat=True)
    )
    unknown_rows = {row for row, pcode in pcodes.items() if pcode not in known}
    for row in sorted(unknown_rows):
        report.errors.append(
            Problem(
                row,
                "area_pcode",
                _("No administrative area has the P-code %(pcode)s.") % {"pcode": pcodes[row]},
            )
        )
    report.valid = [parsed for parsed in report.valid if parsed.row not in unknown_rows]
    kept = {
        name.casefold()
        for name in ServiceProvider.objects.filter(owner=organisation).values_list("name", flat=True)
    }
    new: dict[str, str] = {}
    for parsed in report.valid:
        key = parsed.provider.casefold()
        if key not in kept:
            new.setdefault(key, parsed.provider)
    report.new_providers = sorted(new.values())


def _require_manager(user: User | None, organisation: Organisation) -> None:
    if user is not None and organisation.pk not in scope_for(user).organisations(Permission.MANAGE_CONTENT):
        raise services.DirectoryPermissionError(_("You do not manage the directory for this organisation."))


def check_file(
    source: str | Path,
    *,
    organisation: Organisation,
    user: User | None = None,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    """Read and check every row; write nothing. `user` (when given) limits the duplicate search to the
    points they may see."""
    _require_manager(user, organisation)
    report = ImportReport()
    pcodes: dict[int, str] = {}  # row -> area P-code, checked against the database in one query
    try:
        records = read_records(Path(source))
        header_record = next(records, None)
        if header_record is None:
            report.errors.append(Problem(0, FILE, _("The file is empty.")))
            return report
        columns, header_errors, header_warnings = _header(header_record)
        report.warnings.extend(header_warnings)
        if header_errors:
            report.errors.extend(header_errors)
            return report
        for row, record in enumerate(records, start=2):
            cells = {
                name: record[position] if position < len(record) else "" for name, position in columns.items()
            }
            if not any(cells.values()):
                continue
            if row == 2 and next((cell for cell in record if cell), "").startswith("#"):
                continue  # the HXL hashtag row
            report.rows += 1
            if cells.get("area_pcode"):
                pcodes[row] = cells["area_pcode"].upper()
            parsed, problems = _check_row(row, cells)
            if parsed is not None:
                report.valid.append(parsed)
            report.errors.extend(problems)
            if progress is not None:
                progress(1)
    except _UnreadableFileError as error:
        report.errors.append(Problem(0, FILE, str(error)))
        return report
    if report.rows == 0:
        report.errors.append(Problem(0, FILE, _("The file has no service points (only a header).")))
        return report
    _resolve_ids(report, organisation)
    _resolve(report, organisation, pcodes)
    report.errors.sort(key=lambda problem: problem.row)
    report.warnings.extend(_duplicates(report.valid, user))
    report.warnings.sort(key=lambda problem: problem.row)
    return report


# --- Writing --------------------------------------------------------------------------------------------


def _write(
    valid: list[ParsedRow], organisation: Organisation, progress: ProgressCallback | None
) -> tuple[int, int, int]:
    """Create the new points in batches and update the existing ones; (created, updated, providers)."""
    providers = {
        provider.name.casefold(): provider
        for provider in ServiceProvider.objects.select_for_update().filter(owner=organisation)
    }
    providers_created = 0
    for parsed in valid:
        key = parsed.provider.casefold()
        if key not in providers:
            providers[key] = ServiceProvider.objects.create(
                owner=organisation, name=parsed.provider, status=PublicationStatus.DRAFT
            )
            providers_created += 1
    areas = dict(
        AdministrativeArea.objects.filter(
            pcode__in={p.area_pcode for p in valid if p.area_pcode}
        ).values_list("pcode", "pk")
    )
    new = [parsed for parsed in valid if parsed.point_id is None]
    created = 0
    for start in range(0, len(new), BATCH_SIZE):
        batch = new[start : start + BATCH_SIZE]
        points = [
            ServicePoint(
                owner=organisation,
                provider=providers[parsed.provider.casefold()],
                area_id=areas.get(parsed.area_pcode),
                **parsed.values,
            )
            for parsed in batch
        ]
        ServicePoint.objects.bulk_create(points)
        through = ServicePoint.categories.through
        through.objects.bulk_create(
            through(servicepoint_id=point.pk, servicecategory_id=code)
            for point, parsed in zip(points, batch, strict=True)
            for code in parsed.categories
        )
        OpeningHours.objects.bulk_create(
            OpeningHours(point=point, **period._asdict())
            for point, parsed in zip(points, batch, strict=True)
            for period in parsed.hours
        )
        ServicePointText.objects.bulk_create(
            ServicePointText(point=point, language=language, description=description)
            for point, parsed in zip(points, batch, strict=True)
            for language, description in parsed.descriptions.items()
        )
        created += len(points)
        if progress is not None:
            progress(len(points))
    updated = _update(
        [parsed for parsed in valid if parsed.point_id is not None], organisation, providers, areas, progress
    )
    return created, updated, providers_created


def _update(
    rows: list[ParsedRow],
    organisation: Organisation,
    providers: dict[str, ServiceProvider],
    areas: dict[str, int],
    progress: ProgressCallback | None,
) -> int:
    """Overwrite each point with its row: fields, categories and hours as given; descriptions given are
    saved through the directory service (a changed English text marks the others outdated), empty ones
    are left alone. Locked and re-read by owner, so a point moved away since the check is not touched."""
    points = ServicePoint.objects.select_for_update().in_bulk(
        [parsed.point_id for parsed in rows if parsed.point_id is not None]
    )
    updated = 0
    for parsed in rows:
        point = points.get(parsed.point_id or 0)
        if point is None or point.owner_id != organisation.pk:
            raise DirectoryImportError(
                ImportReport(
                    errors=[
                        Problem(
                            parsed.row,
                            "id",
                            _("No service point with the id %(id)s that you may edit here.")
                            % {"id": parsed.point_id},
                        )
                    ]
                )
            )
        for name, value in parsed.values.items():
            setattr(point, name, value)
        point.provider = providers[parsed.provider.casefold()]
        point.area_id = areas.get(parsed.area_pcode)
        point.save()
        point.categories.set(parsed.categories)
        OpeningHours.objects.filter(point=point).delete()
        OpeningHours.objects.bulk_create(
            OpeningHours(point=point, **period._asdict()) for period in parsed.hours
        )
        if parsed.descriptions:
            services.save_texts(
                point, {language: {"description": text} for language, text in parsed.descriptions.items()}
            )
        updated += 1
        if progress is not None:
            progress(1)
    return updated


def import_directory(
    source: str | Path,
    *,
    organisation: Organisation,
    by: User | None,
    skip_invalid: bool = False,
    file_format: str = "",
    progress: ProgressCallback | None = None,
    write_progress: ProgressCallback | None = None,
) -> ImportResult:
    """Check the file, then create (or, for rows with an id, update) its points, kept by `organisation`,
    in one transaction, audited once.

    Raises DirectoryImportError (nothing written) when a row is invalid and `skip_invalid` is false,
    when the file itself is unreadable, or when no row is valid. `by` is None for the command line."""
    report = check_file(source, organisation=organisation, user=by, progress=progress)
    if not report.can_import(skip_invalid=skip_invalid):
        if not report.errors:
            report.errors.append(Problem(0, FILE, _("No row can be imported.")))
        raise DirectoryImportError(report)
    with transaction.atomic():
        created, updated, providers_created = _write(report.valid, organisation, write_progress)
        freshness.mark_changed()
        result = ImportResult(
            rows=report.rows,
            points_created=created,
            points_updated=updated,
            providers_created=providers_created,
            rows_skipped=len(report.invalid_rows),
            warnings=len(report.warnings),
        )
        audit.record(
            AuditAction.CREATE,
            by=by,
            object_type="directory.import",
            organisation_id=organisation.pk,
            detail={
                "format": file_format or Path(source).suffix.lstrip(".").lower(),
                "rows": result.rows,
                "points_created": result.points_created,
                "points_updated": result.points_updated,
                "providers_created": result.providers_created,
                "rows_skipped": result.rows_skipped,
                "warnings": result.warnings,
            },
        )
    return result
