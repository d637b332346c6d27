"""Writing small COD-AB tables for the tests, as CSV (csv module) or XLSX (openpyxl)."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import Workbook

HEADER = ["ADM0_PCODE", "ADM0_EN", "ADM1_PCODE", "ADM1_EN", "ADM1_ES", "ADM2_PCODE", "ADM2_EN", "ADM2_ES"]

# Two countries, a department and a state without municipalities, three municipalities.
ROWS = [
    ["GT", "Guatemala", "GT12", "San Marcos", "San Marcos", "GT1215", "Malacatan", "Malacatán"],
    ["GT", "Guatemala", "GT12", "San Marcos", "San Marcos", "GT1217", "Ayutla", "Ayutla"],
    ["GT", "Guatemala", "GT17", "Peten", "Petén", "", "", ""],
    ["MX", "Mexico", "MX07", "Chiapas", "Chiapas", "MX07089", "Tapachula", "Tapachula"],
]

CORRIDOR = Path(__file__).resolve().parent.parent / "data" / "corridor_gt_mx.csv"


def write_csv(
    path: Path,
    rows: list[list[str]],
    *,
    header: list[str] = HEADER,
    delimiter: str = ",",
    encoding: str = "utf-8",
) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[list[str | int | float]], *, header: list[str] = HEADER) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append([cell or None for cell in row])  # blank cells, as a spreadsheet leaves them
    workbook.save(path)
    return path
