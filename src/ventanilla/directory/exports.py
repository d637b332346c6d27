"""Exporting service points to CSV or XLSX, with an HXL hashtag row under the header.

The columns are those the import reads, so an exported file can be edited and imported elsewhere.
Directory rows hold no personal data; exports are audited all the same (who took what, how many rows).
Cells are guarded against formula injection and the HXL row is written by `core.tabular`.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db.models import QuerySet

from ventanilla.core import audit, tabular
from ventanilla.core.models import AuditAction
from ventanilla.core.tabular import CONTENT_TYPES, FORMATS, guard
from ventanilla.directory.models import ServicePoint

WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TEXT_LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)

COLUMNS: tuple[str, ...] = (
    # The point's id: importing the file again updates these points instead of creating new ones.
    "id",
    "provider",
    "name",
    "categories",
    "address",
    "area_pcode",
    "latitude",
    "longitude",
    "time_zone",
    "phone",
    "whatsapp",
    "languages",
    "age_min",
    "age_max",
    "sexes",
    "cost",
    "access",
    "wheelchair_accessible",
    "female_staff",
    "hours",
    *(f"description_{code}" for code in TEXT_LANGUAGES),
    "status",
)

# HXL hashtags (https://hxlstandard.org): the area column's tag depends on the level of the areas exported.
HXL_TAGS: dict[str, str] = {
    "id": "#loc+id",
    "provider": "#org+name",
    "name": "#loc+name",
    "categories": "#sector+list",
    "address": "#loc+address",
    "area_pcode": "#adm2+code",
    "latitude": "#geo+lat",
    "longitude": "#geo+lon",
    "time_zone": "#meta+timezone",
    "phone": "#contact+phone",
    "whatsapp": "#contact+whatsapp",
    "languages": "#meta+languages+list",
    "age_min": "#meta+age+min",
    "age_max": "#meta+age+max",
    "sexes": "#meta+sexes",
    "cost": "#meta+cost",
    "access": "#meta+access",
    "wheelchair_accessible": "#meta+wheelchair",
    "female_staff": "#meta+female_staff",
    "hours": "#meta+hours",
    **{f"description_{code}": f"#description+i_{code}" for code in TEXT_LANGUAGES},
    "status": "#status",
}
AREA_TAGS = {0: "#country+code", 1: "#adm1+code", 2: "#adm2+code"}

__all__ = ["COLUMNS", "CONTENT_TYPES", "FORMATS", "export_points", "guard"]


def format_hours(periods: list[tuple[int, Any, Any]]) -> str:
    """'mon 09:00-17:00; tue 09:00-13:00' (weekday, opens, closes), in week order."""
    return "; ".join(
        f"{WEEKDAY_CODES[weekday]} {opens:%H:%M}-{closes:%H:%M}" for weekday, opens, closes in sorted(periods)
    )


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def points_for_export(points: QuerySet[ServicePoint]) -> QuerySet[ServicePoint]:
    """The queryset with what every row needs, in a fixed number of queries."""
    return (
        points.select_related("provider", "area")
        .prefetch_related("categories", "hours", "texts")
        .order_by("provider__name", "name", "pk")
    )


def area_tag(points: QuerySet[ServicePoint]) -> str:
    """#adm1+code, #adm2+code ... when every exported area is of one level; #loc+code when mixed."""
    levels = set(points.exclude(area=None).order_by().values_list("area__level", flat=True).distinct())
    if len(levels) > 1:
        return "#loc+code"
    return AREA_TAGS.get(levels.pop() if levels else 2, "#loc+code")


def hxl_row(points: QuerySet[ServicePoint]) -> list[str]:
    tags = dict(HXL_TAGS, area_pcode=area_tag(points))
    return [tags[column] for column in COLUMNS]


def rows(points: QuerySet[ServicePoint]) -> Iterator[list[Any]]:
    """One list of cell values per point, in COLUMNS order (numbers as numbers, not yet guarded)."""
    for point in points_for_export(points).iterator(chunk_size=500):
        texts = {text.language: text.description for text in point.texts.all()}
        values: dict[str, Any] = {
            "id": point.pk,
            "provider": point.provider.name,
            "name": point.name,
            "categories": ";".join(category.code for category in point.categories.all()),
            "address": point.address,
            "area_pcode": point.area.pcode if point.area else "",
            "latitude": point.latitude,
            "longitude": point.longitude,
            "time_zone": point.time_zone,
            "phone": point.phone,
            "whatsapp": point.whatsapp,
            "languages": ", ".join(point.language_codes),
            "age_min": point.age_min,
            "age_max": point.age_max,
            "sexes": point.sexes,
            "cost": point.cost,
            "access": point.access,
            "wheelchair_accessible": _yes_no(point.wheelchair_accessible),
            "female_staff": _yes_no(point.female_staff),
            "hours": format_hours([(h.weekday, h.opens, h.closes) for h in point.hours.all()]),
            **{f"description_{code}": texts.get(code, "") for code in TEXT_LANGUAGES},
            "status": point.status,
        }
        yield [values[column] for column in COLUMNS]


def write_csv(points: QuerySet[ServicePoint], stream: IO[str]) -> int:
    return tabular.write_csv(COLUMNS, hxl_row(points), rows(points), stream)


def write_xlsx(points: QuerySet[ServicePoint], stream: IO[bytes]) -> int:
    sheet = tabular.Sheet("service_points", COLUMNS, hxl_row(points), rows(points))
    return tabular.write_xlsx([sheet], stream)[0]


@dataclass(frozen=True)
class Export:
    content: bytes
    rows: int


def export_points(
    points: QuerySet[ServicePoint], *, file_format: str, by: Any, organisation_id: int | None = None
) -> Export:
    """The file's bytes and its number of points; audited (format and row count, never values)."""
    if file_format not in FORMATS:
        raise ValueError(f"Unknown export format {file_format!r}; use csv or xlsx.")
    if file_format == "csv":
        text = io.StringIO()
        count = write_csv(points, text)
        content = tabular.csv_bytes(text.getvalue())
    else:
        binary = io.BytesIO()
        count = write_xlsx(points, binary)
        content = binary.getvalue()
    audit.record(
        AuditAction.EXPORT,
        by=by,
        object_type=ServicePoint._meta.label_lower,
        organisation_id=organisation_id,
        detail={"format": file_format, "rows": count},
    )
    return Export(content=content, rows=count)
