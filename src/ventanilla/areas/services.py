"""Importing administrative areas from a COD-AB table (the tabular layout of OCHA's common operational
datasets).

One row names an area and all its ancestors::

    ADM0_PCODE, ADM0_EN, ADM1_PCODE, ADM1_EN, ADM2_PCODE, ADM2_EN [, ADM1_ES, ADM2_FR, ...]

A row may stop at level 0 or 1 (the lower columns blank). Name columns in other languages (``ADM1_ES``,
``ADM2_AR`` ...) go to ``names`` as ``{"es": ...}``. A second row of HXL hashtags (``#adm1+code`` ...) is
skipped. Every row is checked before anything is written; one problem anywhere and nothing is written.
"""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
from collections.abc import Callable, Generator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from ventanilla.areas.models import AdministrativeArea
from ventanilla.core.import_problems import Problem

LEVELS = (0, 1, 2)
REQUIRED_COLUMNS = tuple(f"ADM{level}_{part}" for level in LEVELS for part in ("PCODE", "EN"))
PCODE_PATTERN = re.compile(r"[A-Z0-9]+")
LANGUAGE_COLUMN = re.compile(r"ADM([0-2])_([A-Z]{2})")
CSV_DELIMITERS = (",", ";", "\t")
FILE = "file"  # the column named by errors about the file as a whole (reported as row 0)
BATCH_SIZE = 500

_PCODE_LENGTH = AdministrativeArea._meta.get_field("pcode").max_length or 20
_NAME_LENGTH = AdministrativeArea._meta.get_field("name").max_length or 200

ProgressCallback = Callable[[int], object]


class AreaImportError(Exception):
    """The file has problems; nothing was written. ``errors`` lists every one of them."""

    def __init__(self, errors: list[Problem]) -> None:
        self.errors = errors
        super().__init__(f"{len(errors)} problem(s) in the file; nothing was imported.")


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged


@dataclass
class _Area:
    """An area as the file describes it, with the row that first named it."""

    pcode: str
    level: int
    name: str
    parent_pcode: str | None
    country_pcode: str
    row: int
    names: dict[str, str] = field(default_factory=dict)


@dataclass
class _Header:
    columns: dict[str, int]  # upper-cased column name -> position
    languages: dict[int, list[tuple[str, str]]]  # level -> [(column, language code)]


class _UnreadableFileError(Exception):
    pass


# --- Reading ---------------------------------------------------------------------------------------------


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _read_csv(path: Path) -> Generator[list[str], None, None]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        message = "The file is not UTF-8 text; save it as 'CSV UTF-8' and try again."
        raise _UnreadableFileError(message) from error
    except OSError as error:
        raise _UnreadableFileError(f"The file could not be read ({error.strerror or error}).") from error
    first_line = text.split("\n", 1)[0]
    # COD tables exported by a spreadsheet in a Spanish or French locale use ';' between columns.
    delimiter = max(CSV_DELIMITERS, key=first_line.count)
    for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [cell.strip() for cell in record]


def _read_xlsx(path: Path) -> Generator[list[str], None, None]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise _UnreadableFileError(f"The file could not be read as an Excel workbook ({error}).") from error
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell_text(value) for value in values]
    finally:
        workbook.close()


def _records(path: Path) -> Generator[list[str], None, None]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path)
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path)
    raise _UnreadableFileError(f"Files of type '{suffix or path.name}' are not supported: use .csv or .xlsx.")


def _parse_header(record: list[str]) -> tuple[_Header, list[Problem]]:
    errors: list[Problem] = []
    columns: dict[str, int] = {}
    languages: dict[int, list[tuple[str, str]]] = {level: [] for level in LEVELS}
    for position, raw in enumerate(record):
        name = raw.lstrip("\ufeff").strip().upper()
        if not name:
            continue
        if name in columns:
            errors.append(Problem(1, name, "This column appears more than once."))
            continue
        columns[name] = position
        match = LANGUAGE_COLUMN.fullmatch(name)
        if match and match.group(2) != "EN":
            languages[int(match.group(1))].append((name, match.group(2).lower()))
    for column in REQUIRED_COLUMNS:
        if column not in columns:
            errors.append(Problem(1, column, "This required column is missing."))
    return _Header(columns=columns, languages=languages), errors


# --- Checking ----------------------------------------------------------------------------------------------


class _Checker:
    """Collects the areas of every row and every problem, in row order."""

    def __init__(self, header: _Header) -> None:
        self.header = header
        self.areas: dict[str, _Area] = {}
        self.errors: list[Problem] = []

    def add(self, row: int, column: str, message: str) -> None:
        self.errors.append(Problem(row, column, message))

    def cell(self, record: list[str], column: str) -> str:
        position = self.header.columns.get(column)
        if position is None or position >= len(record):
            return ""
        return record[position]

    def check_row(self, row: int, record: list[str]) -> None:
        given = {
            level: (self.cell(record, f"ADM{level}_PCODE"), self.cell(record, f"ADM{level}_EN"))
            for level in LEVELS
        }
        deepest = max((level for level in LEVELS if any(given[level])), default=-1)
        if deepest < 0:
            return
        parent: str | None = None
        country = given[0][0]
        for level in range(deepest + 1):
            pcode, name = given[level]
            pcode_column, name_column = f"ADM{level}_PCODE", f"ADM{level}_EN"
            if not pcode and not name:
                self.add(row, pcode_column, f"Level {level} is blank but level {deepest} is given.")
                return
            if not pcode:
                self.add(row, pcode_column, f"The P-code is blank but the name '{name}' is given.")
                return
            if not self._pcode_is_valid(row, pcode_column, pcode, parent):
                return
            # A valid P-code lets the lower levels of the row be checked even when this level has a problem.
            if not name:
                self.add(row, name_column, f"The name of {pcode} is blank.")
            elif len(name) > _NAME_LENGTH:
                self.add(row, name_column, f"The name is longer than {_NAME_LENGTH} characters.")
            else:
                names = {
                    language: value
                    for column, language in self.header.languages[level]
                    if (value := self.cell(record, column))
                }
                self._compare_with_earlier_rows(_Area(pcode, level, name, parent, country, row, names))
            parent = pcode

    def _pcode_is_valid(self, row: int, column: str, pcode: str, parent: str | None) -> bool:
        if not PCODE_PATTERN.fullmatch(pcode):
            self.add(row, column, f"The P-code '{pcode}' may contain only the letters A-Z and digits 0-9.")
            return False
        if len(pcode) > _PCODE_LENGTH:
            self.add(row, column, f"The P-code is longer than {_PCODE_LENGTH} characters.")
            return False
        if parent is not None and (not pcode.startswith(parent) or len(pcode) == len(parent)):
            self.add(row, column, f"The P-code '{pcode}' does not start with its parent's P-code '{parent}'.")
            return False
        return True

    def _compare_with_earlier_rows(self, area: _Area) -> None:
        earlier = self.areas.get(area.pcode)
        if earlier is None:
            self.areas[area.pcode] = area
            return
        pcode_column, name_column = f"ADM{area.level}_PCODE", f"ADM{area.level}_EN"
        problems: list[Problem] = []
        if earlier.level != area.level:
            problems.append(
                Problem(
                    area.row,
                    pcode_column,
                    f"{area.pcode} is at level {earlier.level} in row {earlier.row} "
                    f"but at level {area.level} here.",
                )
            )
        elif earlier.parent_pcode != area.parent_pcode:
            problems.append(
                Problem(
                    area.row,
                    pcode_column,
                    f"{area.pcode} is part of {earlier.parent_pcode} in row {earlier.row} "
                    f"but part of {area.parent_pcode} here.",
                )
            )
        if earlier.name != area.name:
            problems.append(
                Problem(
                    area.row,
                    name_column,
                    f"{area.pcode} is named '{earlier.name}' in row {earlier.row} but '{area.name}' here.",
                )
            )
        for language, value in area.names.items():
            known = earlier.names.get(language)
            if known is None:
                earlier.names[language] = value  # a blank in an earlier row only means "not given"
            elif known != value:
                problems.append(
                    Problem(
                        area.row,
                        f"ADM{area.level}_{language.upper()}",
                        f"{area.pcode} is named '{known}' in row {earlier.row} but '{value}' here.",
                    )
                )
        self.errors.extend(problems)


def _check(path: Path, progress: ProgressCallback | None) -> dict[str, _Area]:
    try:
        with closing(_records(path)) as records:
            header_record = next(records, None)
            if header_record is None:
                raise AreaImportError([Problem(0, FILE, "The file is empty.")])
            header, header_errors = _parse_header(header_record)
            if header_errors:
                raise AreaImportError(header_errors)
            checker = _Checker(header)
            for row, record in enumerate(records, start=2):
                if row == 2 and next((cell for cell in record if cell), "").startswith("#"):
                    continue  # the HXL hashtag row
                checker.check_row(row, record)
                if progress is not None:
                    progress(1)
    except _UnreadableFileError as error:
        raise AreaImportError([Problem(0, FILE, str(error))]) from error
    if checker.errors:
        raise AreaImportError(sorted(checker.errors, key=lambda error: error.row))
    return checker.areas


# --- Writing -----------------------------------------------------------------------------------------------


def _save(areas: dict[str, _Area]) -> ImportResult:
    created = updated = unchanged = 0
    fields = ["level", "name", "names", "parent", "country_pcode"]
    pk_by_pcode: dict[str, int] = {}
    existing = {
        area.pcode: area
        for area in AdministrativeArea.objects.select_for_update().filter(pcode__in=list(areas))
    }
    for level in LEVELS:
        new: list[AdministrativeArea] = []
        changed: list[AdministrativeArea] = []
        for parsed in (area for area in areas.values() if area.level == level):
            values = {
                "level": parsed.level,
                "name": parsed.name,
                "names": parsed.names,
                "parent_id": pk_by_pcode[parsed.parent_pcode] if parsed.parent_pcode else None,
                "country_pcode": parsed.country_pcode,
            }
            current = existing.get(parsed.pcode)
            if current is None:
                new.append(AdministrativeArea(pcode=parsed.pcode, **values))
            elif any(getattr(current, attribute) != value for attribute, value in values.items()):
                for attribute, value in values.items():
                    setattr(current, attribute, value)
                changed.append(current)
            else:
                unchanged += 1
        # An upsert, so that a concurrent import of the same file cannot fail on the unique P-code.
        AdministrativeArea.objects.bulk_create(
            new, batch_size=BATCH_SIZE, update_conflicts=True, unique_fields=["pcode"], update_fields=fields
        )
        AdministrativeArea.objects.bulk_update(changed, fields, batch_size=BATCH_SIZE)
        created += len(new)
        updated += len(changed)
        level_pcodes = [area.pcode for area in areas.values() if area.level == level]
        pk_by_pcode.update(
            AdministrativeArea.objects.filter(pcode__in=level_pcodes).values_list("pcode", "pk").iterator()
        )
    return ImportResult(created=created, updated=updated, unchanged=unchanged)


def import_areas(source: str | os.PathLike[str], *, progress: ProgressCallback | None = None) -> ImportResult:
    """Create or update (by P-code) the areas of a COD-AB table in a .csv or .xlsx file.

    Every row is checked first; on any problem, raise ``AreaImportError`` with all of them and write
    nothing. Otherwise write parents before children in one transaction. An area's names in other
    languages are replaced by those of the file. ``progress(n)`` is called as rows are checked.
    """
    areas = _check(Path(source), progress)
    with transaction.atomic():
        return _save(areas)
