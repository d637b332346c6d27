"""Writing tables to CSV and XLSX with an HXL hashtag row under the header, safely.

Shared by every export (the directory, registrations). Text cells that a spreadsheet would run as a
formula (starting with = + - @, a tab or a carriage return) get a leading apostrophe, so a name typed as
"=HYPERLINK(...)" opens as inert text; plain numbers such as -92.26 or +5215512345678 are left as they
are. The HXL row (https://hxlstandard.org) is written here by hand: libhxl pulls a GPL dependency, so it
is only used in tests to check that what we write parses.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

FORMATS = ("csv", "xlsx")
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")
_HXL_ATTRIBUTE = re.compile(r"[^a-z0-9_]+")


def guard(value: Any) -> Any:
    """A text cell a spreadsheet would evaluate gets a leading apostrophe; other values pass."""
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def hxl_attribute(name: str) -> str:
    """A column or question name as an HXL attribute ([a-z][a-z0-9_]*): 'Leg-1.Country' → 'leg_1_country'."""
    cleaned = _HXL_ATTRIBUTE.sub("_", name.lower()).strip("_")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "x_" + cleaned
    return cleaned


def csv_cell(value: Any) -> str:
    return "" if value is None else str(guard(str(value)))


def xlsx_cell(value: Any) -> Any:
    # Text that starts with "=" would be stored as a formula by openpyxl: the guard keeps it text.
    return float(value) if isinstance(value, Decimal) else guard(value)


def write_csv(
    columns: Sequence[str], hxl: Sequence[str], rows: Iterable[Sequence[Any]], stream: IO[str]
) -> int:
    """Header, HXL row, then the rows (every cell guarded); returns the number of rows written."""
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerow(hxl)
    count = 0
    for values in rows:
        writer.writerow([csv_cell(value) for value in values])
        count += 1
    return count


def csv_bytes(text: str) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel opens the file with accents and Arabic intact."""
    return ("\ufeff" + text).encode("utf-8")


@dataclass
class Sheet:
    """One table: a name (the XLSX sheet or the file inside a zip), its columns, HXL tags and rows."""

    name: str
    columns: Sequence[str]
    hxl: Sequence[str]
    rows: Iterable[Sequence[Any]]


def write_xlsx(sheets: Sequence[Sheet], stream: IO[bytes]) -> list[int]:
    """Each sheet with its header and HXL row; returns the number of rows written per sheet."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    counts = []
    for table in sheets:
        sheet = workbook.create_sheet(table.name[:31])
        sheet.append(list(table.columns))
        sheet.append(list(table.hxl))
        count = 0
        for values in table.rows:
            sheet.append([xlsx_cell(value) for value in values])
            count += 1
        counts.append(count)
    workbook.save(stream)
    return counts


def write_csv_zip(sheets: Sequence[Sheet], stream: IO[bytes]) -> list[int]:
    """Several tables as CSV files (`<name>.csv`) in one zip: CSV has no sheets."""
    import zipfile

    counts = []
    with zipfile.ZipFile(stream, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for table in sheets:
            text = io.StringIO()
            counts.append(write_csv(table.columns, table.hxl, table.rows, text))
            archive.writestr(f"{table.name}.csv", csv_bytes(text.getvalue()))
    return counts
