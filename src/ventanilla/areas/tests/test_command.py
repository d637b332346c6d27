import sys
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from ventanilla import cli
from ventanilla.areas.models import AdministrativeArea
from ventanilla.areas.tests.files import ROWS, write_csv

pytestmark = pytest.mark.django_db


def test_command_imports_and_prints_counts(tmp_path):
    # given a valid table
    path = write_csv(tmp_path / "areas.csv", ROWS)
    out = StringIO()
    # when running the command
    call_command("import_areas", str(path), stdout=out)
    # then the areas exist and the counts are printed
    assert out.getvalue() == f"Imported 8 areas from {path}: 8 created, 0 updated, 0 unchanged.\n"
    assert AdministrativeArea.objects.count() == 8


def test_command_reports_unchanged_areas_on_second_run(tmp_path):
    path = write_csv(tmp_path / "areas.csv", ROWS)
    call_command("import_areas", str(path), stdout=StringIO(), verbosity=0)
    out = StringIO()
    call_command("import_areas", str(path), stdout=out, verbosity=0)
    assert out.getvalue() == f"Imported 8 areas from {path}: 0 created, 0 updated, 8 unchanged.\n"


def test_command_prints_every_row_error_fails_and_writes_nothing(tmp_path):
    # given a table with two bad rows
    rows = [
        ROWS[0],
        ["GT", "Guatemala", "GT12", "San Marcos", "San Marcos", "MX07089", "Tapachula", "Tapachula"],
        ["GT", "Guatemala", "", "", "", "GT1301", "Huehuetenango", "Huehuetenango"],
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    out, err = StringIO(), StringIO()
    # when running the command
    with pytest.raises(CommandError) as raised:
        call_command("import_areas", str(path), stdout=out, stderr=err)
    # then it fails, names every problem and writes nothing
    assert str(raised.value) == f"2 problem(s) in {path}; nothing was imported."
    assert err.getvalue() == (
        "Row 3, column ADM2_PCODE: The P-code 'MX07089' does not start with its parent's P-code 'GT12'.\n"
        "Row 4, column ADM1_PCODE: Level 1 is blank but level 2 is given.\n"
    )
    assert out.getvalue() == ""
    assert AdministrativeArea.objects.count() == 0


def test_command_refuses_an_unsupported_file(tmp_path):
    path = tmp_path / "areas.json"
    path.write_text("{}", encoding="utf-8")
    err = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_areas", str(path), stderr=err)
    assert str(raised.value) == f"1 problem(s) in {path}; nothing was imported."
    assert err.getvalue() == "Files of type '.json' are not supported: use .csv or .xlsx.\n"


# Django's command runner closes the database connection when it ends, so this test may not run inside the
# transaction of an ordinary test.
@pytest.mark.django_db(transaction=True)
def test_ventanilla_import_areas_with_a_hyphen_runs_the_command(tmp_path, monkeypatch, capsys):
    # given the command line as an operator types it
    path = write_csv(tmp_path / "areas.csv", ROWS)
    monkeypatch.setattr(sys, "argv", ["ventanilla", "import-areas", str(path), "--verbosity", "0"])
    # when running it
    cli.main()
    # then
    assert capsys.readouterr().out == f"Imported 8 areas from {path}: 8 created, 0 updated, 0 unchanged.\n"
    assert AdministrativeArea.objects.count() == 8
