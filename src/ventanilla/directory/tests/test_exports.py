"""Exporting service points: the columns, an HXL row that HXL tools read, no formulas, audited."""

from __future__ import annotations

import csv
import datetime
import io
from pathlib import Path

import hxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from ventanilla.core.models import AuditAction, AuditEntry
from ventanilla.directory.exports import COLUMNS, export_points, format_hours, guard
from ventanilla.directory.models import PublicationStatus, ServicePoint
from ventanilla.directory.tests.factories import (
    PointFactory,
    ProviderFactory,
    add_hours,
    add_text,
    at_position,
)
from ventanilla.testing.factories import AreaFactory

EXPECTED_TAGS = [
    "#loc+id",
    "#org+name",
    "#loc+name",
    "#sector+list",
    "#loc+address",
    "#adm2+code",
    "#geo+lat",
    "#geo+lon",
    "#meta+timezone",
    "#contact+phone",
    "#contact+whatsapp",
    "#meta+languages+list",
    "#meta+age+min",
    "#meta+age+max",
    "#meta+sexes",
    "#meta+cost",
    "#meta+access",
    "#meta+wheelchair",
    "#meta+female_staff",
    "#meta+hours",
    "#description+i_en",
    "#description+i_es",
    "#description+i_fr",
    "#description+i_ar",
    "#status",
]


@pytest.fixture
def clinic(db):
    area = AreaFactory(pcode="MX07089", level=2, name="Tapachula")
    provider = ProviderFactory(name="Médicos del Camino")
    point = PointFactory(
        provider=provider,
        name="Clínica La Esperanza",
        categories=["medical", "mhpss"],
        address="4a Avenida Norte 12",
        area=area,
        time_zone="America/Mexico_City",
        phone="+529621234567",
        whatsapp="+50255551234",
        languages=",es,mam,",
        age_min=0,
        age_max=17,
        sexes="female",
        cost="low",
        access="referral",
        wheelchair_accessible=True,
        **at_position(14.90593, -92.26331),
    )
    add_hours(point, 1, "09:00", "13:00")
    add_hours(point, 0, "09:00", "17:00")
    add_text(point, "en", description="Check-ups for girls.")
    add_text(point, "ar", description="فحوصات للفتيات")
    return point


def exported(tmp_path: Path, file_format: str, points=None) -> Path:
    path = tmp_path / f"points.{file_format}"
    points = points if points is not None else ServicePoint.objects.all()
    path.write_bytes(export_points(points, file_format=file_format, by=None).content)
    return path


def read_hxl(path: Path) -> hxl.model.Dataset:
    return hxl.data(str(path), hxl.InputOptions(allow_local=True))


def test_csv_export_has_every_column_and_the_values_of_each_point(clinic, tmp_path):
    # when the directory is exported as CSV
    path = exported(tmp_path, "csv")
    # then the header, the HXL row and one row per point are there, in the import's columns
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    assert rows[1] == EXPECTED_TAGS
    assert dict(zip(COLUMNS, rows[2], strict=True)) == {
        "id": str(clinic.pk),
        "provider": "Médicos del Camino",
        "name": "Clínica La Esperanza",
        "categories": "medical;mhpss",
        "address": "4a Avenida Norte 12",
        "area_pcode": "MX07089",
        "latitude": "14.90593",
        "longitude": "-92.26331",
        "time_zone": "America/Mexico_City",
        "phone": "+529621234567",
        "whatsapp": "+50255551234",
        "languages": "es, mam",
        "age_min": "0",
        "age_max": "17",
        "sexes": "female",
        "cost": "low",
        "access": "referral",
        "wheelchair_accessible": "yes",
        "female_staff": "no",
        "hours": "mon 09:00-17:00; tue 09:00-13:00",
        "description_en": "Check-ups for girls.",
        "description_es": "",
        "description_fr": "",
        "description_ar": "فحوصات للفتيات",
        "status": "published",
    }
    assert len(rows) == 3


# libhxl imports an old name of defusedxml to read workbooks.
@pytest.mark.filterwarnings("ignore:defusedxml.cElementTree is deprecated:DeprecationWarning")
@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_the_hxl_row_is_read_by_libhxl(clinic, tmp_path, file_format):
    # given an export
    path = exported(tmp_path, file_format)
    # when libhxl reads it
    dataset = read_hxl(path)
    # then it finds the hashtags and the values under them
    assert [column.display_tag for column in dataset.columns] == EXPECTED_TAGS
    [point] = list(dataset)
    assert (point.get("#org+name"), point.get("#adm2+code"), point.get("#contact+phone")) == (
        "Médicos del Camino",
        "MX07089",
        "+529621234567",
    )
    assert float(point.get("#geo+lat")) == 14.90593


def test_the_area_hashtag_follows_the_level_of_the_areas(db, tmp_path):
    # given points in a first-level area only
    region = AreaFactory(pcode="GT12", level=1)
    point = PointFactory(area=region)
    # when exported, then the area column is #adm1+code
    assert [c.display_tag for c in read_hxl(exported(tmp_path, "csv")).columns][5] == "#adm1+code"
    # given a second point in a district: mixed levels are tagged as locations
    PointFactory(provider=point.provider, area=AreaFactory(pcode="GT1215", level=2, parent=region))
    assert [c.display_tag for c in read_hxl(exported(tmp_path, "csv")).columns][5] == "#loc+code"


def test_cells_that_look_like_formulas_are_guarded(db, tmp_path):
    # given text that a spreadsheet would run as a formula, and numbers that only look like one
    provider = ProviderFactory(name="@SUM(1+1)")
    PointFactory(
        provider=provider,
        name='=HYPERLINK("http://evil.example","Click")',
        address="-2+3",
        phone="+529621234567",
        **at_position(-14.5, -92.26),
    )
    # when exported to CSV and XLSX
    csv_row = list(csv.reader(io.StringIO(exported(tmp_path, "csv").read_text(encoding="utf-8-sig"))))[2]
    sheet = load_workbook(exported(tmp_path, "xlsx")).active
    xlsx_row = list(next(sheet.iter_rows(min_row=3)))
    # then the text cells start with an apostrophe; numbers and phone numbers are untouched
    # (the first column is the point's id, a number)
    csv_row, xlsx_row = csv_row[1:], xlsx_row[1:]
    assert csv_row[:6] == [
        "'@SUM(1+1)",
        '\'=HYPERLINK("http://evil.example","Click")',
        "",
        "'-2+3",
        "",
        "-14.50000",
    ]
    assert csv_row[8] == "+529621234567"
    assert [cell.value for cell in xlsx_row[:4]] == [
        "'@SUM(1+1)",
        '\'=HYPERLINK("http://evil.example","Click")',
        None,
        "'-2+3",
    ]
    assert not any(cell.data_type == "f" for cell in xlsx_row)
    assert (xlsx_row[5].value, xlsx_row[8].value) == (-14.5, "+529621234567")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+cmd", "'+cmd"),
        ("-cmd", "'-cmd"),
        ("@cmd", "'@cmd"),
        ("\tcmd", "'\tcmd"),
        ("\r=cmd", "'\r=cmd"),
        ("-92.26", "-92.26"),
        ("+529621234567", "+529621234567"),
        ("Clínica", "Clínica"),
        (3, 3),
        (None, None),
    ],
)
def test_guard(value, expected):
    assert guard(value) == expected


def test_format_hours_lists_periods_in_week_order():
    periods = [(1, datetime.time(9), datetime.time(13)), (0, datetime.time(9), datetime.time(17, 30))]
    assert format_hours(periods) == "mon 09:00-17:30; tue 09:00-13:00"


def test_exports_are_audited_without_values(clinic, world):
    # given
    admin = world.user("a", "administrator")
    before = AuditEntry.objects.count()
    # when exported
    export_points(
        ServicePoint.objects.all(), file_format="xlsx", by=admin, organisation_id=world.a.organisation.pk
    )
    # then one export entry with the format and the count
    [entry] = AuditEntry.objects.order_by("pk")[before:]
    assert (entry.action, entry.actor_id, entry.organisation_id, entry.object_type, entry.detail) == (
        AuditAction.EXPORT,
        admin.pk,
        world.a.organisation.pk,
        "directory.servicepoint",
        {"format": "xlsx", "rows": 1},
    )


def test_an_unknown_format_is_refused(db):
    with pytest.raises(ValueError, match="Unknown export format 'pdf'"):
        export_points(ServicePoint.objects.all(), file_format="pdf", by=None)


def test_export_takes_the_same_number_of_queries_for_many_points(db):
    # given the queries of an export of two points with categories, hours, texts and areas
    provider = ProviderFactory()

    def add_points(count: int, start: int) -> None:
        for n in range(start, start + count):
            point = PointFactory(
                provider=provider, categories=["food"], area=AreaFactory(pcode=f"GT{n:02d}", level=1)
            )
            add_hours(point, 0, "09:00", "10:00")
            add_text(point, "en", description="x")

    add_points(2, 0)
    with CaptureQueriesContext(connection) as few:
        export_points(ServicePoint.objects.all(), file_format="csv", by=None)
    # when there are thirty more
    add_points(30, 2)
    with CaptureQueriesContext(connection) as many:
        content = export_points(ServicePoint.objects.all(), file_format="csv", by=None).content
    # then the export costs the same number of queries
    assert content.count(b"\r\n") == 34
    assert len(many) == len(few)


# --- The command ----------------------------------------------------------------------------------


def test_export_command_writes_published_points_by_default(clinic, tmp_path, capsys):
    # given a draft besides the published clinic
    PointFactory(provider=clinic.provider, name="Draft", status=PublicationStatus.DRAFT)
    path = tmp_path / "directory.xlsx"
    # when the command runs
    call_command("export_directory", str(path))
    # then the workbook holds the published point, and the export is audited
    sheet = load_workbook(path).active
    assert [row[2] for row in sheet.iter_rows(min_row=3, values_only=True)] == ["Clínica La Esperanza"]
    assert capsys.readouterr().out.strip() == f"Wrote 1 service points to {path} (xlsx)."
    entry = AuditEntry.objects.order_by("-pk").first()
    assert (entry.action, entry.actor_id, entry.detail) == (
        AuditAction.EXPORT,
        None,
        {"format": "xlsx", "rows": 1},
    )


def test_export_command_filters_by_organisation_and_status(clinic, world, tmp_path):
    # given a draft of A besides the clinic (kept by another organisation)
    PointFactory(provider=ProviderFactory(owner=world.a.organisation), name="A draft", status="draft")
    path = tmp_path / "out.data"
    # when A's points in every status are exported as CSV
    call_command(
        "export_directory", str(path), format="csv", organisation=world.a.organisation.pk, status="all"
    )
    # then
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert [row[2] for row in rows[2:]] == ["A draft"]


def test_export_command_refuses_what_it_cannot_do(db, tmp_path):
    with pytest.raises(CommandError, match=r"Cannot tell the format from out\.pdf"):
        call_command("export_directory", str(tmp_path / "out.pdf"))
    with pytest.raises(CommandError, match="No organisation has the id 999999"):
        call_command("export_directory", str(tmp_path / "out.csv"), organisation=999999)
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_directory", str(tmp_path / "missing" / "out.csv"))
