"""Real .xlsx XLSForms for the tests, written with openpyxl, and the forms the tests share.

A sheet is given either as rows (the first one the header, as in a spreadsheet) or as a list of dicts
(one per row, column → value; the header is every column used, in order of first use). A row's number
in an error is then the one a spreadsheet program shows: the header is row 1.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from typing import Any

from openpyxl import Workbook

Sheet = Sequence[Sequence[Any]] | Sequence[Mapping[str, Any]]


def rows_of(sheet: Sheet) -> list[list[Any]]:
    """A sheet as spreadsheet rows, header first."""
    if not sheet or not isinstance(sheet[0], Mapping):
        return [list(row) for row in sheet]
    header: list[str] = []
    for row in sheet:
        assert isinstance(row, Mapping)
        header.extend(column for column in row if column not in header)
    return [header] + [[row.get(column, "") for column in header] for row in sheet]


def xlsx(
    survey: Sheet | None,
    choices: Sheet | None = None,
    settings: Sheet | None = None,
    **extra_sheets: Sheet,
) -> bytes:
    """An .xlsx workbook with the given sheets (`survey=None` leaves the survey sheet out)."""
    book = Workbook()
    first = book.active
    assert first is not None
    book.remove(first)
    sheets: dict[str, Sheet | None] = {"survey": survey, "choices": choices, "settings": settings}
    sheets.update(extra_sheets)
    for name, rows in sheets.items():
        if rows is None:
            continue
        worksheet = book.create_sheet(name)
        for row in rows_of(rows):
            worksheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return _without_timestamps(buffer.getvalue())


_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def _without_timestamps(content: bytes) -> bytes:
    """The same sheets give the same bytes: openpyxl stamps the save time in the file and its zip."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = _STAMP.sub(rb"\g<1>2026-01-01T00:00:00Z\g<2>", data)
            target.writestr(
                zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED
            )
    return out.getvalue()


def settings_sheet(form_id: str, version: str = "1", title: str = "", default_language: str = "") -> Sheet:
    row = {"form_id": form_id, "version": version, "form_title": title or form_id}
    if default_language:
        row["default_language"] = default_language
    return [row]


EN, ES, AR = "English (en)", "Spanish (es)", "Arabic (ar)"


def tr(column: str, en: str, es: str = "", ar: str = "") -> dict[str, str]:
    """`label::English (en)`, `label::Spanish (es)`, `label::Arabic (ar)` columns of one row."""
    texts = {EN: en, ES: es, AR: ar}
    return {f"{column}::{lang}": text for lang, text in texts.items() if text}


def q(kind: str, name: str, en: str = "", es: str = "", ar: str = "", **columns: str) -> dict[str, str]:
    """One survey row: type, name, labels in three languages, then any other column."""
    row = {"type": kind, "name": name, **tr("label", en, es, ar)}
    row.update(columns)
    return row


# ------------------------------------------------------------------------------------ the shared forms

# Every type and column, in three languages. Pages: "about" (a group), "place" (a group: a three-level
# cascade), "member" (a repeat holding a nested repeat and a cascade), then loose questions.
FEATURES_SURVEY: list[dict[str, str]] = [
    q("begin group", "about", "About you", "Sobre usted", "عنك"),
    q("note", "intro", "Welcome", "Bienvenida", "مرحبا"),
    {
        **q("text", "name", "Your name", "Su nombre", "اسمك", required="yes"),
        **tr("hint", "As you like to be called", "Como le gusta que le llamen", "كما تحب أن تُنادى"),
        **tr(
            "required_message",
            "Please tell us your name",
            "Díganos su nombre, por favor",
            "من فضلك أخبرنا باسمك",
        ),
    },
    {
        **q("integer", "age", "Age", "Edad", "العمر", required="yes", constraint=". >= 0 and . <= 120"),
        **tr("constraint_message", "Age between 0 and 120", "Edad entre 0 y 120", "العمر بين 0 و 120"),
    },
    q("calculate", "is_adult", calculation="if(${age} >= 18, 'yes', 'no')"),
    q(
        "select_one yes_no",
        "has_job",
        "Do you work?",
        "¿Trabaja?",
        "هل تعمل؟",
        relevant="${is_adult} = 'yes'",
    ),
    q("text", "job", "What work?", "¿Qué trabajo?", "ما العمل؟", relevant="${has_job} = 'yes'"),
    q("decimal", "weight", "Weight (kg)", "Peso (kg)", "الوزن (كغ)"),
    {
        **q("date", "arrived", "Arrival date", "Fecha de llegada", "تاريخ الوصول", constraint=". <= today()"),
        **tr("constraint_message", "Not in the future", "No en el futuro", "ليس في المستقبل"),
    },
    q("select_multiple needs", "needs", "Needs", "Necesidades", "الاحتياجات"),
    {
        **q(
            "text",
            "medical_detail",
            "Medical need",
            "Necesidad médica",
            "الحاجة الطبية",
            relevant="selected(${needs}, 'medical')",
            required="yes",
        ),
        **tr(
            "required_message",
            "Describe the medical need",
            "Describa la necesidad médica",
            "صف الحاجة الطبية",
        ),
    },
    q("select_one transport or_other", "transport", "Transport", "Transporte", "وسيلة النقل"),
    q("text", "centre", "Centre", "Centro", "المركز", default="Casa Alfa", read_only="yes"),
    q("calculate", "need_label", calculation="jr:choice-name(selected-at(${needs}, 0), '${needs}')"),
    q("end group", ""),
    q("begin group", "place", "Where", "Dónde", "أين"),
    q("select_one country", "country", "Country", "País", "البلد"),
    q("select_one state", "state", "State", "Estado", "الولاية", choice_filter="country = ${country}"),
    q("select_one city", "city", "City", "Ciudad", "المدينة", choice_filter="state = ${state}"),
    q("geopoint", "location", "Location", "Ubicación", "الموقع"),
    q("end group", ""),
    q("begin repeat", "member", "Household member", "Miembro del hogar", "فرد من الأسرة"),
    q("text", "member_name", "Member's name", "Nombre del miembro", "اسم الفرد", required="yes"),
    q("calculate", "member_number", calculation="position(..)"),
    q("select_one country", "member_country", "Member's country", "País del miembro", "بلد الفرد"),
    q(
        "select_one state",
        "member_state",
        "Member's state",
        "Estado del miembro",
        "ولاية الفرد",
        choice_filter="country = ${member_country}",
    ),
    q("begin repeat", "visit", "Visit", "Visita", "زيارة", relevant="${member_name} != 'nobody'"),
    q("text", "visit_place", "Place visited", "Lugar visitado", "المكان"),
    q(
        "calculate",
        "visit_label",
        calculation="concat(../../member_name, '-', position(../..), '.', position(..))",
    ),
    q("end repeat", ""),
    q("end repeat", ""),
    q("calculate", "total", calculation="${double} + 1"),  # reads a calculation further down
    q("calculate", "double", calculation="count(${member}) * 2"),
    q("acknowledge", "confirm", "I confirm", "Confirmo", "أؤكد", required="yes"),
]


def c(list_name: str, name: str, en: str, es: str = "", ar: str = "", **columns: str) -> dict[str, str]:
    return {"list_name": list_name, "name": name, **tr("label", en, es or en, ar or en), **columns}


FEATURES_CHOICES: list[dict[str, str]] = [
    c("yes_no", "yes", "Yes", "Sí", "نعم"),
    c("yes_no", "no", "No", "No", "لا"),
    c("needs", "food", "Food", "Comida", "طعام"),
    c("needs", "medical", "Medical care", "Atención médica", "رعاية طبية"),
    c("needs", "legal", "Legal advice", "Asesoría legal", "استشارة قانونية"),
    c("transport", "bus", "Bus", "Autobús", "حافلة"),
    c("transport", "foot", "On foot", "A pie", "سيرا على الأقدام"),
    c("country", "mx", "Mexico", "México", "المكسيك"),
    c("country", "gt", "Guatemala", "Guatemala", "غواتيمالا"),
    c("state", "chiapas", "Chiapas", ar="تشياباس", country="mx"),
    c("state", "oaxaca", "Oaxaca", ar="أواكساكا", country="mx"),
    c("state", "peten", "Petén", ar="بيتين", country="gt"),
    c("city", "tapachula", "Tapachula", ar="تاباتشولا", country="mx", state="chiapas"),
    c("city", "tuxtla", "Tuxtla", ar="توكستلا", country="mx", state="chiapas"),
    c("city", "juchitan", "Juchitán", ar="خوتشيتان", country="mx", state="oaxaca"),
    c("city", "flores", "Flores", ar="فلوريس", country="gt", state="peten"),
]


def features_form(version: str = "1", form_id: str = "features") -> bytes:
    return xlsx(
        FEATURES_SURVEY,
        FEATURES_CHOICES,
        settings_sheet(form_id, version, "Every feature", default_language=EN),
    )


# A small form for walking pages: a skip on page 1, a cascade and a constraint on page 2, a repeat on
# page 3; English and Arabic.
WALK_SURVEY: list[dict[str, str]] = [
    q("begin group", "first", "First page", ar="الصفحة الأولى"),
    {
        **q("select_one yes_no", "has_pet", "Do you have a pet?", ar="هل لديك حيوان أليف؟", required="yes"),
        **tr("required_message", "Say whether you have a pet", ar="قل إن كان لديك حيوان أليف"),
    },
    {
        **q(
            "text", "pet_name", "Pet's name", ar="اسم الحيوان", relevant="${has_pet} = 'yes'", required="yes"
        ),
        **tr("required_message", "Name the pet", ar="سمِّ الحيوان"),
    },
    q("end group", ""),
    q("begin group", "second", "Second page", ar="الصفحة الثانية"),
    q("select_one country", "country", "Country", ar="البلد", required="yes"),
    q(
        "select_one state",
        "state",
        "State",
        ar="الولاية",
        required="yes",
        choice_filter="country = ${country}",
    ),
    {
        **q("integer", "age", "Age", ar="العمر", constraint=". < 150"),
        **tr("constraint_message", "Too old", ar="العمر كبير جدا"),
    },
    q("end group", ""),
    q("begin repeat", "child", "Child", ar="طفل"),
    q("text", "child_name", "Child's name", ar="اسم الطفل", required="yes"),
    q("end repeat", ""),
]

WALK_CHOICES: list[dict[str, str]] = [
    {"list_name": "yes_no", "name": "yes", **tr("label", "Yes", ar="نعم")},
    {"list_name": "yes_no", "name": "no", **tr("label", "No", ar="لا")},
    {"list_name": "country", "name": "mx", **tr("label", "Mexico", ar="المكسيك")},
    {"list_name": "country", "name": "gt", **tr("label", "Guatemala", ar="غواتيمالا")},
    {"list_name": "state", "name": "chiapas", **tr("label", "Chiapas", ar="تشياباس"), "country": "mx"},
    {"list_name": "state", "name": "oaxaca", **tr("label", "Oaxaca", ar="أواكساكا"), "country": "mx"},
    {"list_name": "state", "name": "peten", **tr("label", "Petén", ar="بيتين"), "country": "gt"},
]


def walk_form(version: str = "1", form_id: str = "walk") -> bytes:
    return xlsx(
        WALK_SURVEY, WALK_CHOICES, settings_sheet(form_id, version, "Walk through", default_language=EN)
    )


def tiny_form(version: str = "1", form_id: str = "tiny", label: str = "Name") -> bytes:
    """The smallest useful form: one text question."""
    return xlsx([["type", "name", "label"], ["text", "name", label]], None, settings_sheet(form_id, version))
