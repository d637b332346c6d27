"""XLSForm (.xlsx) in, a checked form out — or every problem, each named by sheet, row and column.

pyxform does the conversion (it is the reference implementation ODK and Kobo use). Two things are ours:
pinning its messages to a cell, because an officer fixes a spreadsheet by looking at a cell; and
compiling every expression with the same XPath engine that will later run it, so a form that imports is
a form whose rules the server can evaluate.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import load_workbook
from pyxform import xls2xform
from pyxform.errors import PyXFormError

from ventanilla.questionnaires import xpath
from ventanilla.questionnaires.schema import FormSchema, Node, SchemaError, parse_xform

MAX_XLSFORM_BYTES = 5 * 1024 * 1024

# Which spreadsheet column each bind attribute comes from (XLSForm accepts aliases).
EXPRESSION_COLUMNS: dict[str, tuple[str, ...]] = {
    "relevant": ("relevant", "relevance", "bind::relevant"),
    "constraint": ("constraint", "bind::constraint"),
    "calculate": ("calculation", "calculate", "bind::calculate"),
    "required": ("required", "bind::required"),
    "readonly": ("read_only", "readonly", "bind::readonly"),
    "itemset": ("choice_filter",),
}


@dataclass(frozen=True)
class CellError:
    """One problem in the spreadsheet. Row numbers are the ones a spreadsheet program shows."""

    message: str
    sheet: str = ""
    row: int | None = None
    column: str = ""

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (
                _("sheet “%(sheet)s”") % {"sheet": self.sheet} if self.sheet else "",
                _("row %(row)s") % {"row": self.row} if self.row else "",
                _("column “%(column)s”") % {"column": self.column} if self.column else "",
            )
            if part
        )
        return f"{where}: {self.message}" if where else self.message

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}


class XLSFormError(ValueError):
    """The form cannot be used; `errors` lists every problem found."""

    def __init__(self, errors: list[CellError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass
class ConvertedForm:
    schema: FormSchema
    xform: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Sheet:
    name: str
    headers: list[str]
    rows: list[list[str]]  # rows[0] is spreadsheet row 2

    def column_index(self, aliases: tuple[str, ...]) -> int | None:
        lowered = [h.strip().lower() for h in self.headers]
        for alias in aliases:
            if alias in lowered:
                return lowered.index(alias)
        return None


def convert(content: bytes, filename: str = "form.xlsx") -> ConvertedForm:
    """Convert and check an XLSForm; raise `XLSFormError` naming every bad cell."""
    return _convert_cached(content, filename.lower().endswith((".xlsx", ".xlsm")))


@lru_cache(maxsize=16)
def _convert_cached(content: bytes, is_workbook: bool) -> ConvertedForm:
    """pyxform takes a good part of a second: the same file (tests, the shipped form) converts once."""
    filename = "form.xlsx" if is_workbook else "form"
    if len(content) > MAX_XLSFORM_BYTES:
        raise XLSFormError([CellError(_("The file is larger than 5 MB."))])
    if not filename.lower().endswith((".xlsx", ".xlsm")):
        raise XLSFormError([CellError(_("Upload the form as an Excel workbook (.xlsx)."))])
    sheets = _read_workbook(content)
    warnings: list[str] = []
    try:
        result = xls2xform.convert(content, warnings=warnings, file_type=".xlsx")
    except PyXFormError as error:
        raise XLSFormError([_locate(str(error), sheets)]) from error
    except (ValueError, KeyError, TypeError) as error:  # pyxform lets some malformed sheets through raw
        raise XLSFormError([_locate(str(error), sheets)]) from error
    try:
        schema = parse_xform(result.xform)
    except SchemaError as error:
        raise XLSFormError([CellError(str(error))]) from error
    errors = check_names(schema, sheets) + check_expressions(schema, sheets)
    if errors:
        raise XLSFormError(errors)
    return ConvertedForm(schema=schema, xform=result.xform, warnings=list(warnings))


def _read_workbook(content: bytes) -> dict[str, _Sheet]:
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many types for a file that is not a workbook
        raise XLSFormError([CellError(_("The file is not a readable Excel workbook."))]) from error
    sheets: dict[str, _Sheet] = {}
    try:
        for worksheet in book.worksheets:
            values = [
                ["" if v is None else str(v) for v in row] for row in worksheet.iter_rows(values_only=True)
            ]
            headers = values[0] if values else []
            sheets[worksheet.title.strip().lower()] = _Sheet(worksheet.title, headers, values[1:])
    finally:
        book.close()
    if "survey" not in sheets:
        raise XLSFormError([CellError(_("The workbook has no “survey” sheet."), sheet="survey")])
    return sheets


_ROW = re.compile(r"\[row\s*:\s*(\d+)\]")
_SHEET = re.compile(r"'(survey|choices|settings|entities)' sheet", re.IGNORECASE)
_COLUMN = re.compile(r"the '([^']+)' (?:value|column)", re.IGNORECASE)
_QUOTED = re.compile(r"'([^']{1,200})'")
# pyxform messages about a row's type that name no column: the list of a select, an unknown or
# unmatched type, a row without a name.
_TYPE_PROBLEM = re.compile(
    r"List name not in choices sheet|Unknown question type|Unmatched 'begin_|No matching"
)
_NAME_PROBLEM = re.compile(r"with no name", re.IGNORECASE)
_NO_CHOICES_SHEET = re.compile(r"There should be a choices sheet", re.IGNORECASE)
_SELECT_TYPE = re.compile(r"^\s*select_(one|multiple)\s+\S", re.IGNORECASE)


def _locate(message: str, sheets: dict[str, _Sheet]) -> CellError:
    """Pin a pyxform message to a cell: from its own [row : n] when it gives one, else by the quoted value."""
    clean = _ROW.sub("", message).strip()
    row_match = _ROW.search(message)
    sheet_match = _SHEET.search(message)
    column_match = _COLUMN.search(message)
    sheet_name = sheet_match.group(1).lower() if sheet_match else ""
    if row_match:
        sheet = sheets.get(sheet_name or "survey")
        column = column_match.group(1) if column_match else ""
        if not column and _TYPE_PROBLEM.search(message):
            column = "type"
        elif not column and _NAME_PROBLEM.search(message):
            column = "name"
        return CellError(
            clean,
            sheet=sheet.name if sheet else sheet_name or "survey",
            row=int(row_match.group(1)),
            column=column,
        )
    if _NO_CHOICES_SHEET.search(message):
        survey = sheets["survey"]
        type_column = survey.column_index(("type",))
        for offset, row in enumerate(survey.rows):
            if type_column is not None and type_column < len(row) and _SELECT_TYPE.match(row[type_column]):
                return CellError(clean, sheet=survey.name, row=offset + 2, column=survey.headers[type_column])
    for token in _QUOTED.findall(message):
        for sheet in sheets.values():
            for offset, row in enumerate(sheet.rows):
                for index, value in enumerate(row):
                    if value.strip() == token.strip() or value.strip().endswith(" " + token.strip()):
                        header = sheet.headers[index] if index < len(sheet.headers) else ""
                        return CellError(clean, sheet=sheet.name, row=offset + 2, column=header)
    return CellError(clean, sheet=sheets[sheet_name].name if sheet_name in sheets else "")


def check_names(schema: FormSchema, sheets: dict[str, _Sheet]) -> list[CellError]:
    """Refuse a name used twice where answers are keyed by name.

    ODK lets two groups hold questions of the same name; our answers flatten groups (a repeat entry
    is its own dictionary), so the second question would silently overwrite the first one's answer.
    """
    survey = sheets["survey"]
    name_column = survey.column_index(("name",))
    rows_of: dict[str, list[int]] = {}
    if name_column is not None:
        for offset, row in enumerate(survey.rows):
            if name_column < len(row) and row[name_column].strip():
                rows_of.setdefault(row[name_column].strip(), []).append(offset + 2)
    errors: list[CellError] = []
    seen_anywhere: dict[str, int] = {}

    def visit(scope: Node) -> None:
        names: set[str] = set()

        def walk(node: Node) -> None:
            for child in node.children:
                occurrence = seen_anywhere.get(child.name, 0)
                seen_anywhere[child.name] = occurrence + 1
                if child.name in names:
                    rows = rows_of.get(child.name, [])
                    errors.append(
                        CellError(
                            _(
                                "The name “%(name)s” is used twice: answers are kept by name, "
                                "so each question, group and repeat needs its own."
                            )
                            % {"name": child.name},
                            sheet=survey.name,
                            row=rows[occurrence] if occurrence < len(rows) else None,
                            column=survey.headers[name_column] if name_column is not None else "name",
                        )
                    )
                names.add(child.name)
                if child.kind == "repeat":
                    visit(child)
                elif child.kind == "group":
                    walk(child)

        walk(scope)

    visit(schema.root)
    return errors


def check_expressions(schema: FormSchema, sheets: dict[str, _Sheet]) -> list[CellError]:
    """Compile every rule of the form with the server's XPath engine; report each failure at its cell."""
    survey = sheets["survey"]
    name_column = survey.column_index(("name",))
    rows_by_name: dict[str, int] = {}
    if name_column is not None:
        for offset, row in enumerate(survey.rows):
            if name_column < len(row) and row[name_column].strip():
                rows_by_name.setdefault(row[name_column].strip(), offset + 2)
    errors: list[CellError] = []
    for node in schema.nodes:
        for attribute, aliases in EXPRESSION_COLUMNS.items():
            expression = getattr(node, attribute)
            if not expression:
                continue
            try:
                xpath.compile_expression(expression)
            except xpath.ExpressionError as error:
                errors.append(_expression_error(node, attribute, aliases, error, survey, rows_by_name))
    return errors


def _expression_error(
    node: Node,
    attribute: str,
    aliases: tuple[str, ...],
    error: Exception,
    survey: _Sheet,
    rows_by_name: dict[str, int],
) -> CellError:
    index = survey.column_index(aliases)
    column = survey.headers[index] if index is not None else aliases[0]
    message = _("The expression cannot be evaluated: %(error)s") % {"error": error}
    return CellError(message, sheet=survey.name, row=rows_by_name.get(node.name), column=column)
