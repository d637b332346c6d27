"""Small XLSForms for tests: a form an organisation keeps, without the shipped form's hundred questions."""

from __future__ import annotations

import io

from openpyxl import Workbook

from ventanilla.accounts.models import Organisation
from ventanilla.questionnaires import services
from ventanilla.questionnaires.models import FormVersion, Purpose


def tiny_xlsform(*, form_id: str = "tiny_form", version: str = "1", title: str = "Tiny form") -> bytes:
    """An XLSForm with two questions on one page: a required name and an age with a constraint."""
    workbook = Workbook()
    survey = workbook.active
    assert survey is not None
    survey.title = "survey"
    survey.append(["type", "name", "label", "required", "constraint"])
    survey.append(["text", "visitor_name", "Name", "yes", ""])
    survey.append(["integer", "visitor_age", "Age", "", ". >= 0 and . < 120"])
    settings = workbook.create_sheet("settings")
    settings.append(["form_id", "version", "form_title"])
    settings.append([form_id, version, title])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def kept_form(organisation: Organisation, *, versions: tuple[str, ...] = ("1",)) -> list[FormVersion]:
    """Organisation's "tiny_form", uploaded by the system in these versions (the last one in use)."""
    return [
        services.upload_form(
            content=tiny_xlsform(version=version),
            filename="tiny_form.xlsx",
            owner=organisation,
            by=None,
            purpose=Purpose.SURVEY,
        )
        for version in versions
    ]
