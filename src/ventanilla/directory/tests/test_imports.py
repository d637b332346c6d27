"""Importing service points from CSV and XLSX: every bad row reported, all or nothing, duplicates."""

from __future__ import annotations

import csv
import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.directory import imports
from ventanilla.directory.exports import export_points
from ventanilla.directory.imports import DirectoryImportError, check_file, import_directory, parse_hours
from ventanilla.directory.models import (
    OpeningHours,
    PublicationStatus,
    ServicePoint,
    ServicePointText,
    ServiceProvider,
)
from ventanilla.directory.services import DirectoryPermissionError, WeeklyPeriod
from ventanilla.directory.tests.factories import PointFactory, ProviderFactory, at_position
from ventanilla.testing.factories import AreaFactory

HEADER = [
    "provider",
    "name",
    "categories",
    "area_pcode",
    "latitude",
    "longitude",
    "time_zone",
    "phone",
    "languages",
    "hours",
    "description_en",
    "description_es",
    "status",
]


def row(**values: str) -> dict[str, str]:
    """A valid row; keyword arguments replace its cells."""
    base = {
        "provider": "Casa del Migrante",
        "name": "Albergue Belén",
        "categories": "shelter;food",
        "area_pcode": "",
        "latitude": "14.90593",
        "longitude": "-92.26331",
        "time_zone": "America/Mexico_City",
        "phone": "+52 962 626 4000",
        "languages": "es, en",
        "hours": "mon-fri 09:00-17:00; sat 09:00-13:00",
        "description_en": "Beds for three nights.",
        "description_es": "Camas por tres noches.",
        "status": "published",
    }
    base.update(values)
    return base


def write_csv(
    path: Path, rows: list[dict[str, str]], *, header: list[str] = HEADER, delimiter: str = ","
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]], *, header: list[str] = HEADER) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for values in rows:
        sheet.append([values.get(column) or None for column in header])
    workbook.save(path)
    return path


def state() -> dict[str, Any]:
    return {
        "providers": ServiceProvider.objects.count(),
        "points": ServicePoint.objects.count(),
        "texts": ServicePointText.objects.count(),
        "hours": OpeningHours.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def problems(report: imports.ImportReport) -> list[tuple[int, str]]:
    return [(problem.row, problem.column) for problem in report.errors]


def t(value: str) -> datetime.time:
    return datetime.time.fromisoformat(value)


# --- Reading opening hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("mon 09:00-17:00; tue 09:00-17:00", [(0, "09:00", "17:00"), (1, "09:00", "17:00")]),
        (
            "Mon-Wed 8:00-12:00, 14:00-16:30",
            [(d, o, c) for d in (0, 1, 2) for o, c in (("08:00", "12:00"), ("14:00", "16:30"))],
        ),
        ("sat-mon 10:00-24:00", [(0, "10:00", "23:59"), (5, "10:00", "23:59"), (6, "10:00", "23:59")]),
        ("sunday 10:00-12:00; fri closed", [(6, "10:00", "12:00")]),
    ],
)
def test_parse_hours_reads_days_ranges_and_periods(text, expected):
    assert parse_hours(text) == [WeeklyPeriod(day, t(opens), t(closes)) for day, opens, closes in expected]


@pytest.mark.parametrize(
    "text", ["every day 9-5", "mon 9am-5pm", "mon 25:00-26:00", "lun 09:00-17:00", "mon"]
)
def test_parse_hours_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError, match=r"opening hours|Impossible time"):
        parse_hours(text)


# --- Checking every row ---------------------------------------------------------------------------


def test_every_kind_of_bad_row_is_reported_together_and_nothing_is_written(world, tmp_path):
    # given a file with one good row and one bad row of each kind
    AreaFactory(pcode="MX07089", level=2)
    rows = [
        row(area_pcode="MX07089"),
        row(name="Unknown category", categories="shelter;spa"),
        row(name="Impossible coordinates", latitude="95.5", longitude="-200"),
        row(name="Unreadable hours", hours="weekdays 9 to 5"),
        row(name="Unknown area", area_pcode="XX999"),
        row(name="Unknown language", languages="es, elvish"),
        row(name="Invalid phone", phone="962 626 4000"),
        row(name="", provider="", categories="", time_zone="Moon/Base", status="gone"),
    ]
    path = write_csv(tmp_path / "points.csv", rows)
    before = state()
    # when the import runs
    with pytest.raises(DirectoryImportError) as caught:
        import_directory(path, organisation=world.a.organisation, by=world.user("a", "information_officer"))
    # then every bad row is named with its row and column, and nothing is written
    assert problems(caught.value.report) == [
        (3, "categories"),
        (4, "latitude"),
        (4, "longitude"),
        (5, "hours"),
        (6, "area_pcode"),
        (7, "languages"),
        (8, "phone"),
        (9, "provider"),
        (9, "name"),
        (9, "categories"),
        (9, "time_zone"),
        (9, "status"),
    ]
    messages = [str(problem) for problem in caught.value.report.errors]
    assert messages[:7] == [
        "Row 3, column categories: Unknown categories: spa (use codes such as medical;shelter;legal).",
        "Row 4, column latitude: 95.5 is impossible: it must be between -90 and 90.",
        "Row 4, column longitude: -200 is impossible: it must be between -180 and 180.",
        "Row 5, column hours: Unreadable opening hours 'weekdays 9 to 5': write them like "
        "'mon-fri 09:00-17:00; sat 09:00-13:00'.",
        "Row 6, column area_pcode: No administrative area has the P-code XX999.",
        "Row 7, column languages: Unknown language codes: elvish (use ISO 639 codes such as es, ar, mam).",
        "Row 8, column phone: Enter the number in international format, for example +52 962 123 4567.",
    ]
    assert state() == before


def test_other_value_problems_are_named(world, tmp_path):
    # given rows with the remaining kinds of bad values
    header = [*HEADER, "age_min", "age_max", "sexes", "cost", "access", "wheelchair_accessible", "whatsapp"]
    rows = [
        row(latitude="14.9", longitude=""),
        row(latitude="north", longitude="-92.2"),
        row(age_min="18", age_max="12"),
        row(age_min="adult", sexes="women", cost="cheap", access="door", wheelchair_accessible="maybe"),
        row(whatsapp="+1"),
        row(hours="mon 17:00-09:00"),
        row(hours="mon 09:00-17:00", time_zone=""),
        row(name="x" * 201),
    ]
    path = write_csv(tmp_path / "points.csv", rows, header=header)
    # when the file is checked
    report = check_file(path, organisation=world.a.organisation)
    # then each problem is named
    assert [str(problem) for problem in report.errors] == [
        "Row 2, column longitude: Give both latitude and longitude, or neither.",
        "Row 3, column latitude: 'north' is not a number in decimal degrees.",
        "Row 4, column age_max: The maximum age is below the minimum age.",
        "Row 5, column age_min: Write an age in years (0 to 150), not 'adult'.",
        "Row 5, column sexes: Unknown value 'women'; use one of: any, female, male.",
        "Row 5, column cost: Unknown value 'cheap'; use one of: free, low, paid.",
        "Row 5, column access: Unknown value 'door'; use one of: walk_in, referral, appointment.",
        "Row 5, column wheelchair_accessible: Write yes or no, not 'maybe'.",
        "Row 6, column whatsapp: Enter the number in international format, for example +52 962 123 4567.",
        "Row 7, column hours: Closing time 09:00 is not after opening time 17:00; split hours past midnight.",
        "Row 8, column time_zone: Give the time zone in which the opening hours are kept, such as "
        "America/Guatemala.",
        "Row 9, column name: Longer than 200 characters.",
    ]
    assert report.valid == []


def test_file_problems_are_reported_without_rows(world, tmp_path):
    # given files that cannot be read as a directory
    missing = write_csv(tmp_path / "missing.csv", [row()], header=["name", "latitude", "name "])
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    header_only = write_csv(tmp_path / "header.csv", [])
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("provider,name,categories\nCasa,Clínica,medical\n".encode("latin-1"))
    not_a_workbook = tmp_path / "fake.xlsx"
    not_a_workbook.write_bytes(b"not a zip")
    text = tmp_path / "points.txt"
    text.write_text("provider,name\n")
    organisation = world.a.organisation
    # when each is checked, then
    assert [str(p) for p in check_file(missing, organisation=organisation).errors] == [
        "Row 1, column name: This column appears more than once.",
        "Row 1, column provider: This required column is missing.",
        "Row 1, column categories: This required column is missing.",
    ]
    assert [str(p) for p in check_file(empty, organisation=organisation).errors] == ["The file is empty."]
    assert [str(p) for p in check_file(header_only, organisation=organisation).errors] == [
        "The file has no service points (only a header)."
    ]
    assert [str(p) for p in check_file(latin1, organisation=organisation).errors] == [
        "The file is not UTF-8 text; save it as 'CSV UTF-8' and try again."
    ]
    assert [str(p) for p in check_file(not_a_workbook, organisation=organisation).errors] == [
        "The file could not be read as an Excel workbook."
    ]
    assert [str(p) for p in check_file(text, organisation=organisation).errors] == [
        "Use a .csv or .xlsx file."
    ]


def test_unknown_columns_are_warnings(world, tmp_path):
    # given a file with a column the import does not know
    path = write_csv(tmp_path / "points.csv", [row()], header=[*HEADER, "notes"])
    # when checked
    report = check_file(path, organisation=world.a.organisation)
    # then it is a warning, and the row is valid
    assert ([str(w) for w in report.warnings], len(report.valid)) == (
        ["Row 1, column notes: Unknown column; it is ignored."],
        1,
    )


# --- Writing --------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["csv", "xlsx"])
def test_a_valid_file_creates_its_points_in_one_audited_write(world, tmp_path, suffix):
    # given an existing provider of A (other case), and a file with two rows, one for a new provider
    existing = ProviderFactory(owner=world.a.organisation, name="CASA DEL MIGRANTE")
    area = AreaFactory(pcode="MX07089", level=2)
    rows = [
        row(area_pcode="mx07089"),
        row(
            provider="Clínica Móvil",
            name="Clínica móvil Tecún Umán",
            categories="medical",
            latitude="",
            longitude="",
            hours="",
            time_zone="",
            phone="",
            languages="",
            description_en="",
            description_es="",
            status="",
        ),
    ]
    writer = write_csv if suffix == "csv" else write_xlsx
    path = writer(tmp_path / f"points.{suffix}", rows)
    officer = world.user("a", "information_officer")
    before = AuditEntry.objects.count()
    # when the import runs
    result = import_directory(path, organisation=world.a.organisation, by=officer)
    # then both points exist, the unknown provider was created as a draft of A, and one entry audits it
    assert (result.rows, result.points_created, result.providers_created, result.rows_skipped) == (2, 2, 1, 0)
    shelter = ServicePoint.objects.get(name="Albergue Belén")
    assert (shelter.owner, shelter.provider, shelter.area, shelter.status) == (
        world.a.organisation,
        existing,
        area,
        PublicationStatus.PUBLISHED,
    )
    assert (shelter.latitude, shelter.longitude, shelter.phone, shelter.languages, shelter.time_zone) == (
        Decimal("14.90593"),
        Decimal("-92.26331"),
        "+529626264000",
        ",es,en,",
        "America/Mexico_City",
    )
    assert sorted(shelter.categories.values_list("code", flat=True)) == ["food", "shelter"]
    assert [str(h) for h in shelter.hours.all()] == [
        "0 09:00-17:00",
        "1 09:00-17:00",
        "2 09:00-17:00",
        "3 09:00-17:00",
        "4 09:00-17:00",
        "5 09:00-13:00",
    ]
    assert dict(shelter.texts.values_list("language", "description")) == {
        "en": "Beds for three nights.",
        "es": "Camas por tres noches.",
    }
    clinic = ServicePoint.objects.get(name="Clínica móvil Tecún Umán")
    assert (clinic.provider.name, clinic.provider.status, clinic.provider.owner) == (
        "Clínica Móvil",
        PublicationStatus.DRAFT,
        world.a.organisation,
    )
    assert (clinic.status, clinic.time_zone, clinic.latitude, list(clinic.texts.all())) == (
        "draft",
        "UTC",
        None,
        [],
    )
    [entry] = AuditEntry.objects.order_by("pk")[before:]
    assert (entry.action, entry.actor_id, entry.organisation_id, entry.object_type, entry.detail) == (
        AuditAction.CREATE,
        officer.pk,
        world.a.organisation.pk,
        "directory.import",
        {
            "format": suffix,
            "rows": 2,
            "points_created": 2,
            "points_updated": 0,
            "providers_created": 1,
            "rows_skipped": 0,
            "warnings": 0,
        },
    )


def test_skip_invalid_imports_only_the_valid_rows(world, tmp_path):
    # given a file with two valid rows and two invalid ones
    rows = [
        row(name="One"),
        row(name="Bad", categories="nope"),
        row(name="Two", latitude="14.99"),
        row(name="Worse", phone="0"),
    ]
    path = write_csv(tmp_path / "points.csv", rows)
    # when imported with skip_invalid
    result = import_directory(
        path, organisation=world.a.organisation, by=world.user("a", "administrator"), skip_invalid=True
    )
    # then the valid rows are written, the invalid skipped and counted
    assert sorted(ServicePoint.objects.values_list("name", flat=True)) == ["One", "Two"]
    assert (result.points_created, result.rows_skipped) == (2, 2)
    assert AuditEntry.objects.order_by("-pk").first().detail["rows_skipped"] == 2


def test_skip_invalid_cannot_skip_a_broken_file_or_import_nothing(world, tmp_path):
    # given a file missing a required column, and one whose every row is bad
    broken = write_csv(tmp_path / "broken.csv", [row()], header=["provider", "name"])
    all_bad = write_csv(tmp_path / "bad.csv", [row(categories="nope")])
    before = state()
    # when each is imported skipping invalid rows, then nothing is written
    for path in (broken, all_bad):
        with pytest.raises(DirectoryImportError):
            import_directory(path, organisation=world.a.organisation, by=None, skip_invalid=True)
    assert state() == before


def test_a_user_who_does_not_manage_the_organisation_is_refused(world, tmp_path):
    # given
    path = write_csv(tmp_path / "points.csv", [row()])
    before = state()
    # when B's administrator and A's caseworker import for A
    for user in (world.user("b", "administrator"), world.user("a", "caseworker")):
        with pytest.raises(DirectoryPermissionError):
            import_directory(path, organisation=world.a.organisation, by=user)
    # then nothing is written
    assert state() == before


# --- Duplicates -----------------------------------------------------------------------------------


def test_probable_duplicates_are_warned_not_refused(world, tmp_path):
    # given an existing point, and rows with its name nearby, far away, and a repeated new name
    existing = PointFactory(
        provider=ProviderFactory(owner=world.a.organisation),
        name="Albergue Belén",
        **at_position(14.90593, -92.26331),
    )
    rows = [
        row(name="ALBERGUE  BELEN", latitude="14.90650", longitude="-92.26331"),  # about 63 m north
        row(name="Albergue Belén", latitude="15.5", longitude="-92.26331"),  # 66 km away
        row(name="Comedor San José", latitude="14.91", longitude="-92.27"),
        row(name="Comedor San Jose.", latitude="14.9101", longitude="-92.27"),  # 11 m from the row above
        row(name="Clínica Santa Rita", latitude="14.9102", longitude="-92.27"),  # near, another name
    ]
    path = write_csv(tmp_path / "points.csv", rows)
    # when checked
    report = check_file(path, organisation=world.a.organisation, user=world.user("a", "administrator"))
    # then the two probable duplicates are warnings, and every row stays valid
    assert [str(w) for w in report.warnings] == [
        "Row 2, column name: Probably a duplicate of the existing point 'Albergue Belén' "
        f"(#{existing.pk}), 63 m away.",
        "Row 5, column name: Probably a duplicate of row 4, 11 m away.",
    ]
    assert (report.errors, len(report.valid)) == ([], 5)


def test_duplicates_of_another_organisations_drafts_are_not_revealed(world, tmp_path):
    # given B's draft point, unseen by A
    PointFactory(
        provider=ProviderFactory(owner=world.b.organisation),
        name="Albergue Belén",
        status=PublicationStatus.DRAFT,
        **at_position(14.90593, -92.26331),
    )
    path = write_csv(tmp_path / "points.csv", [row()])
    # when A's administrator checks the file
    report = check_file(path, organisation=world.a.organisation, user=world.user("a", "administrator"))
    # then no warning names B's draft
    assert report.warnings == []


def test_names_are_compared_without_accents_case_or_punctuation():
    assert imports.normalise_name("  Clínica  San-José ") == "clinica san jose"
    assert imports.similarity("comedor san jose", "comedor san jos") > 0.9
    assert imports.similarity("comedor", "clinica") < 0.5


# --- Files from the export and from spreadsheets --------------------------------------------------


def test_an_export_imports_again_skipping_its_hxl_row(world, tmp_path):
    # given a published point with a name that looks like a formula, exported to CSV and XLSX
    provider = ProviderFactory(owner=world.b.organisation, name="Casa B")
    PointFactory(
        provider=provider,
        name="=Clinic",
        phone="+529621234567",
        categories=["medical"],
        **at_position(14.9, -92.26),
    )
    for file_format in ("csv", "xlsx"):
        path = tmp_path / f"export.{file_format}"
        path.write_bytes(export_points(ServicePoint.objects.all(), file_format=file_format, by=None).content)
        # when B (who keeps it) checks it
        report = check_file(path, organisation=world.b.organisation)
        # then the HXL row is skipped, and the row reads back as it was written
        assert (report.rows, report.errors) == (1, [])
        [parsed] = report.valid
        assert (parsed.row, parsed.name, parsed.values["phone"], parsed.values["longitude"]) == (
            3,
            "=Clinic",
            "+529621234567",
            Decimal("-92.26000"),
        )


def test_semicolon_separated_csv_and_comma_decimals_are_read(world, tmp_path):
    # given a CSV saved by a spreadsheet in Spanish: ';' between columns, ',' in decimals
    path = write_csv(
        tmp_path / "points.csv", [row(latitude="14,90593", longitude="-92,26331")], delimiter=";"
    )
    # when checked
    report = check_file(path, organisation=world.a.organisation)
    # then
    assert report.errors == []
    assert (report.valid[0].values["latitude"], report.valid[0].values["longitude"]) == (
        Decimal("14.90593"),
        Decimal("-92.26331"),
    )


def test_xlsx_numbers_and_booleans_are_read(world, tmp_path):
    # given a workbook where the spreadsheet stored numbers and booleans as such
    header = [*HEADER, "age_min", "female_staff"]
    values = dict(row(), latitude=14.905931, longitude=-92.26, age_min=18, female_staff=True)
    path = write_xlsx(tmp_path / "points.xlsx", [values], header=header)
    # when checked
    report = check_file(path, organisation=world.a.organisation)
    # then (coordinates are rounded to five decimals, about a metre)
    [parsed] = report.valid
    assert (parsed.values["latitude"], parsed.values["age_min"], parsed.values["female_staff"]) == (
        Decimal("14.90593"),
        18,
        True,
    )


# --- The command ----------------------------------------------------------------------------------


def test_import_command_imports_and_reports(world, tmp_path, capsys):
    # given
    path = write_csv(tmp_path / "points.csv", [row(), row(name="Bad", categories="nope")])
    # when run with --skip-invalid
    call_command(
        "import_directory", str(path), organisation=world.a.organisation.pk, skip_invalid=True, verbosity=0
    )
    # then it says what it did
    assert capsys.readouterr().out.strip() == (
        f"Imported 1 new service points and updated 0 from {path} for Casa Alfa: 1 new providers (drafts), "
        "1 invalid rows skipped, 0 warnings."
    )
    audit = AuditEntry.objects.order_by("-pk").first()
    assert (audit.actor_id, audit.detail["points_created"]) == (None, 1)


def test_import_command_lists_every_problem_and_writes_nothing(world, tmp_path, capsys):
    # given
    path = write_csv(tmp_path / "points.csv", [row(), row(name="Bad", categories="nope", latitude="100")])
    before = state()
    # when run without --skip-invalid
    with pytest.raises(CommandError, match="2 problem"):
        call_command("import_directory", str(path), organisation=world.a.organisation.pk, verbosity=0)
    # then
    assert capsys.readouterr().err.splitlines() == [
        "Row 3, column categories: Unknown categories: nope (use codes such as medical;shelter;legal).",
        "Row 3, column latitude: 100 is impossible: it must be between -90 and 90.",
    ]
    assert state() == before


def test_import_command_refuses_an_unknown_organisation(db, tmp_path):
    path = write_csv(tmp_path / "points.csv", [row()])
    with pytest.raises(CommandError, match="No active organisation has the id 999999"):
        call_command("import_directory", str(path), organisation=999999, verbosity=0)


# --- Updating points through their id --------------------------------------------------------------


def _export(path: Path, points: Any, file_format: str) -> Path:
    path.write_bytes(export_points(points, file_format=file_format, by=None).content)
    return path


def _edit_csv(path: Path, change: Any) -> Path:
    """Change the data rows of an exported CSV (the header and HXL rows stay as they are)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.reader(handle))
    header = records[0]
    for record in records[2:]:
        change(dict(zip(header, record, strict=True)), record, header)
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(records)
    return path


def _set(record: list[str], header: list[str], column: str, value: str) -> None:
    record[header.index(column)] = value


@pytest.mark.django_db
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_export_edit_import_updates_the_same_points(world, tmp_path, file_format):
    # given two of A's points exported
    provider = ProviderFactory(owner=world.a.organisation, name="Casa A")
    clinic = PointFactory(
        provider=provider, name="Clínica", categories=["medical"], **at_position(14.9, -92.2)
    )
    shelter = PointFactory(
        provider=provider, name="Albergue", categories=["shelter"], **at_position(15.0, -92.1)
    )
    ServicePointText.objects.create(point=clinic, language="en", description="Old words.")
    ServicePointText.objects.create(point=clinic, language="es", description="Palabras.")
    path = _export(tmp_path / f"points.{file_format}", ServicePoint.objects.order_by("pk"), file_format)
    # when the clinic is renamed, given new hours and a new English text, and the file imported again
    if file_format == "csv":

        def change(cells: dict[str, str], record: list[str], header: list[str]) -> None:
            if cells["id"] == str(clinic.pk):
                _set(record, header, "name", "Clínica renovada")
                _set(record, header, "categories", "medical;mhpss")
                _set(record, header, "hours", "mon 08:00-12:00")
                _set(record, header, "description_en", "New words.")

        _edit_csv(path, change)
    else:
        from openpyxl import load_workbook

        workbook = load_workbook(path)
        sheet = workbook.active
        header = [cell.value for cell in sheet[1]]
        for cells in sheet.iter_rows(min_row=3):
            if cells[header.index("id")].value == clinic.pk:
                cells[header.index("name")].value = "Clínica renovada"
                cells[header.index("categories")].value = "medical;mhpss"
                cells[header.index("hours")].value = "mon 08:00-12:00"
                cells[header.index("description_en")].value = "New words."
        workbook.save(path)
    before = ServicePoint.objects.count()
    result = import_directory(path, organisation=world.a.organisation, by=world.user("a", "administrator"))
    # then no point was created, both were updated, and the clinic carries the edits
    assert (result.points_created, result.points_updated, ServicePoint.objects.count()) == (0, 2, before)
    clinic.refresh_from_db()
    assert clinic.name == "Clínica renovada"
    assert sorted(clinic.categories.values_list("code", flat=True)) == ["medical", "mhpss"]
    assert [str(period) for period in clinic.hours.all()] == ["0 08:00-12:00"]
    texts = {t.language: (t.description, t.is_outdated) for t in clinic.texts.all()}
    assert texts == {"en": ("New words.", False), "es": ("Palabras.", True)}
    shelter.refresh_from_db()
    assert (shelter.name, list(shelter.categories.values_list("code", flat=True))) == (
        "Albergue",
        ["shelter"],
    )
    # and the audit entry counts the update
    entry = AuditEntry.objects.filter(object_type="directory.import").latest("pk")
    assert (entry.detail["points_created"], entry.detail["points_updated"]) == (0, 2)


@pytest.mark.django_db
def test_ids_of_other_organisations_unknown_or_repeated_are_row_errors_and_nothing_is_written(
    world, tmp_path
):
    # given a point of A, a point of B, and a file for A that names both, a missing id, a bad id, a repeat
    mine = PointFactory(provider=ProviderFactory(owner=world.a.organisation), name="Mine")
    theirs = PointFactory(provider=ProviderFactory(owner=world.b.organisation), name="Theirs")
    header = ["id", *HEADER]
    path = write_csv(
        tmp_path / "ids.csv",
        [
            row(id=str(mine.pk), name="Mine renamed"),
            row(id=str(theirs.pk), name="Taken over"),
            row(id="999999", name="Ghost"),
            row(id="abc", name="Typo"),
            row(id=str(mine.pk), name="Mine again"),
            row(id="", name="Brand new", latitude="", longitude=""),
        ],
        header=header,
    )
    before = state()
    # when A's administrator imports it
    with pytest.raises(DirectoryImportError) as raised:
        import_directory(path, organisation=world.a.organisation, by=world.user("a", "administrator"))
    # then each bad id is an error naming its row and the id column, and nothing was written
    assert problems(raised.value.report) == [(3, "id"), (4, "id"), (5, "id"), (6, "id")]
    messages = [str(problem) for problem in raised.value.report.errors]
    # B's point and a missing point are refused with the same words: nothing says B's exists
    assert messages[0].split(": ", 1)[1].replace(str(theirs.pk), "N") == messages[1].split(": ", 1)[
        1
    ].replace("999999", "N")
    assert "row 2" in messages[3]
    assert state() == before
    assert ServicePoint.objects.get(pk=theirs.pk).name == "Theirs"
    # when the bad rows are skipped on purpose
    result = import_directory(
        path, organisation=world.a.organisation, by=world.user("a", "administrator"), skip_invalid=True
    )
    # then the valid rows are written: one update and one new point; B's point is untouched
    assert (result.points_created, result.points_updated, result.rows_skipped) == (1, 1, 4)
    assert ServicePoint.objects.get(pk=mine.pk).name == "Mine renamed"
    assert ServicePoint.objects.get(pk=theirs.pk).name == "Theirs"


@pytest.mark.django_db
def test_an_updated_point_is_not_reported_as_a_duplicate_of_itself(world, tmp_path):
    point = PointFactory(
        provider=ProviderFactory(owner=world.a.organisation),
        name="Albergue Belén",
        **at_position(14.90593, -92.26331),
    )
    path = write_csv(tmp_path / "same.csv", [row(id=str(point.pk))], header=["id", *HEADER])
    report = check_file(path, organisation=world.a.organisation, user=world.user("a", "administrator"))
    assert (report.errors, report.warnings) == ([], [])
