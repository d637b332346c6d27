"""The forms API: who sees which forms, uploading (a broken workbook is named cell by cell), versions,
downloads and the outline."""

from __future__ import annotations

import io

from django.test import Client
from openpyxl import Workbook

from ventanilla.core.models import AuditEntry
from ventanilla.questionnaires.models import FormVersion, Questionnaire
from ventanilla.registration import services as registration_services

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsform(survey: list[list[str]], *, form_id: str = "intake", version: str = "1") -> bytes:
    """A workbook with a survey sheet (first row: headers), a choices sheet and a settings sheet."""
    book = Workbook()
    sheet = book.active
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    choices = book.create_sheet("choices")
    choices.append(["list_name", "name", "label"])
    choices.append(["yes_no", "yes", "Yes"])
    choices.append(["yes_no", "no", "No"])
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version", "form_title"])
    settings.append([form_id, version, "Intake"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = [
    ["type", "name", "label", "constraint"],
    ["text", "name", "Name", ""],
    ["integer", "age", "Age", ". >= 0 and . < 130"],
    ["select_one yes_no", "pregnant", "Pregnant?", ""],
]


def upload(client: Client, content: bytes, owner: int, name: str = "intake.xlsx") -> object:
    file = io.BytesIO(content)
    file.name = name
    return client.post("/api/v1/forms/", {"file": file, "owner": owner, "purpose": "survey"})


def test_upload_creates_a_form_its_organisation_sees_and_another_does_not(world, client_for):
    # given A's M&E officer (manage_forms in A)
    officer = client_for(world.user("a", "me_officer"))
    # when they upload a good XLSForm for A
    response = upload(officer, xlsform(GOOD), world.a.organisation.pk)
    # then it is created, in use, with its languages, and the upload is audited
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["form_id"], body["title"], body["owner"], body["purpose"]) == (
        "intake",
        "Intake",
        world.a.organisation.pk,
        "survey",
    )
    assert body["current_version"]["version"] == "1"
    assert AuditEntry.objects.filter(object_type="questionnaires.questionnaire", action="create").count() == 1
    # ... A's caseworker lists it, B's administrator neither lists nor opens it
    listed = client_for(world.user("a", "caseworker")).get("/api/v1/forms/").json()["results"]
    assert "intake" in [form["form_id"] for form in listed]
    other = client_for(world.user("b", "administrator"))
    assert "intake" not in [form["form_id"] for form in other.get("/api/v1/forms/").json()["results"]]
    assert other.get(f"/api/v1/forms/{body['id']}/").status_code == 404
    assert other.get(f"/api/v1/forms/{body['id']}/versions/").status_code == 404


def test_broken_xlsform_is_refused_naming_sheet_row_and_column(world, client_for):
    # given a workbook whose age constraint cannot be evaluated (row 3 of the survey sheet)
    broken = [row[:] for row in GOOD]
    broken[2][3] = ". >= 0 and and . < 130"
    # when A's administrator uploads it, asking in Spanish
    client = client_for(world.user("a", "administrator"))
    file = io.BytesIO(xlsform(broken))
    file.name = "intake.xlsx"
    response = client.post(
        "/api/v1/forms/", {"file": file, "owner": world.a.organisation.pk}, HTTP_ACCEPT_LANGUAGE="es"
    )
    # then it is a 400 in the one error format, the problem pinned to its cell, and nothing is stored
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"code", "message", "fields"}
    assert error["code"] == "invalid_xlsform"
    assert "XLSForm" in error["message"]
    [cell] = error["fields"]["file"]
    assert (cell["sheet"], cell["row"], cell["column"]) == ("survey", 3, "constraint")
    assert cell["message"]
    assert not Questionnaire.objects.filter(form_id="intake").exists()


def test_pyxform_errors_are_located_too(world, client_for):
    # given an unknown question type on row 4
    broken = [row[:] for row in GOOD]
    broken[3][0] = "select_one no_such_list"
    response = upload(client_for(world.user("a", "administrator")), xlsform(broken), world.a.organisation.pk)
    assert response.status_code == 400
    [cell] = response.json()["error"]["fields"]["file"]
    assert (cell["sheet"], cell["row"]) == ("survey", 4)


def test_uploading_needs_manage_forms_in_the_owner_organisation(world, client_for):
    content = xlsform(GOOD)
    # a caseworker manages no forms: refused before the file is read
    refused = upload(client_for(world.user("a", "caseworker")), content, world.a.organisation.pk)
    assert refused.status_code == 403
    # B's administrator manages B's forms, not A's: a field error on the owner
    wrong_owner = upload(client_for(world.user("b", "administrator")), content, world.a.organisation.pk)
    assert wrong_owner.status_code == 400
    assert list(wrong_owner.json()["error"]["fields"]) == ["owner"]
    # a JSON body without a file names the file
    no_file = client_for(world.user("a", "administrator")).post(
        "/api/v1/forms/", {"owner": world.a.organisation.pk}, content_type="application/json"
    )
    assert no_file.status_code == 400
    assert "file" in no_file.json()["error"]["fields"]
    assert not Questionnaire.objects.filter(form_id="intake").exists()


def test_shipped_form_versions_downloads_and_outline(world, client_for):
    # given the shipped registration form
    version = registration_services.shipped_form()
    form = version.questionnaire
    client = client_for(world.user("b", "caseworker"))
    # when anyone on the staff reads it
    detail = client.get(f"/api/v1/forms/{form.pk}/").json()
    assert (detail["owner"], detail["purpose"]) == (None, "registration")
    assert {"en", "es", "ar"} <= set(detail["languages"])
    versions = client.get(f"/api/v1/forms/{form.pk}/versions/").json()
    assert [(v["id"], v["is_current"]) for v in versions] == [(version.pk, True)]
    # then the workbook and the XForm download as they were uploaded ...
    base = f"/api/v1/forms/{form.pk}/versions/{version.pk}"
    xlsx = client.get(f"{base}/xlsx/", HTTP_ACCEPT=XLSX_TYPE)
    assert (xlsx.status_code, xlsx["Content-Type"]) == (200, XLSX_TYPE)
    assert xlsx.content == bytes(FormVersion.objects.get(pk=version.pk).xlsx)
    xform = client.get(f"{base}/xform/", HTTP_ACCEPT="text/xml")
    assert xform.status_code == 200
    assert xform["Content-Type"].startswith("text/xml")
    assert xform.content == FormVersion.objects.get(pk=version.pk).xform.encode()
    # ... and the outline names its questions
    outline = client.get(f"{base}/schema/").json()
    names = {q["name"] for q in outline["questions"]}
    assert outline["form_id"] == form.form_id
    assert "consent_registration" in str(outline)
    assert names
    # a version of another form is not found under this one
    assert client.get(f"/api/v1/forms/{form.pk}/versions/{version.pk + 999}/xlsx/").status_code == 404


def test_forms_are_not_for_anonymous_callers(db):
    assert Client().get("/api/v1/forms/").status_code == 401
