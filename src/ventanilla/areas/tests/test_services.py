import pytest

from ventanilla.areas.models import AdministrativeArea
from ventanilla.areas.services import AreaImportError, ImportResult, import_areas
from ventanilla.areas.tests.files import CORRIDOR, HEADER, ROWS, write_csv, write_xlsx
from ventanilla.core.import_problems import Problem
from ventanilla.testing.factories import AreaFactory

pytestmark = pytest.mark.django_db


def snapshot():
    return list(
        AdministrativeArea.objects.order_by("pcode").values_list(
            "pcode", "level", "name", "names", "parent__pcode", "country_pcode"
        )
    )


EXPECTED = [
    ("GT", 0, "Guatemala", {}, None, "GT"),
    ("GT12", 1, "San Marcos", {"es": "San Marcos"}, "GT", "GT"),
    ("GT1215", 2, "Malacatan", {"es": "Malacatán"}, "GT12", "GT"),
    ("GT1217", 2, "Ayutla", {"es": "Ayutla"}, "GT12", "GT"),
    ("GT17", 1, "Peten", {"es": "Petén"}, "GT", "GT"),
    ("MX", 0, "Mexico", {}, None, "MX"),
    ("MX07", 1, "Chiapas", {"es": "Chiapas"}, "MX", "MX"),
    ("MX07089", 2, "Tapachula", {"es": "Tapachula"}, "MX07", "MX"),
]


def test_csv_import_creates_every_level_with_parents_and_names(tmp_path):
    # given a COD-AB table whose rows stop at level 1 or 2
    path = write_csv(tmp_path / "areas.csv", ROWS)
    # when importing it
    result = import_areas(path)
    # then every area named by a row exists once, under its parent, with its Spanish name
    assert result == ImportResult(created=8, updated=0, unchanged=0)
    assert snapshot() == EXPECTED


def test_xlsx_import_creates_the_same_areas(tmp_path):
    # given the same table as an Excel workbook with empty cells
    path = write_xlsx(tmp_path / "areas.xlsx", ROWS)
    # when importing it
    result = import_areas(str(path))
    # then
    assert result == ImportResult(created=8, updated=0, unchanged=0)
    assert snapshot() == EXPECTED


def test_reimport_changes_nothing(tmp_path):
    # given a table already imported
    path = write_csv(tmp_path / "areas.csv", ROWS)
    import_areas(path)
    # when importing it again
    result = import_areas(path)
    # then every area is unchanged
    assert result == ImportResult(created=0, updated=0, unchanged=8)
    assert snapshot() == EXPECTED


def test_changed_name_updates_the_area(tmp_path):
    # given an imported table
    import_areas(write_csv(tmp_path / "first.csv", ROWS))
    # when a later edition spells a municipality differently
    rows = [list(row) for row in ROWS]
    rows[0][6] = "Malacatán"
    result = import_areas(write_csv(tmp_path / "second.csv", rows))
    # then only that area is updated, in place
    assert result == ImportResult(created=0, updated=1, unchanged=7)
    area = AdministrativeArea.objects.get(pcode="GT1215")
    assert (area.name, area.names, area.parent.pcode) == ("Malacatán", {"es": "Malacatán"}, "GT12")
    assert AdministrativeArea.objects.count() == 8


def test_existing_areas_are_updated_by_pcode_and_new_ones_created(tmp_path):
    # given an area created before, with another name
    AreaFactory(pcode="GT", level=0, name="Guatemala (old)", country_pcode="GT")
    # when importing
    result = import_areas(write_csv(tmp_path / "areas.csv", ROWS))
    # then it is updated, not duplicated
    assert result == ImportResult(created=7, updated=1, unchanged=0)
    assert snapshot() == EXPECTED


def test_every_bad_row_is_reported_with_row_and_column_and_nothing_is_written(tmp_path):
    # given an area already in the database, and a table with one problem of each kind
    AreaFactory(pcode="GT", level=0, name="Guatemala (old)", country_pcode="GT")
    before = snapshot()
    rows = [
        [
            "GT",
            "Guatemala",
            "GT12",
            "San Marcos",
            "San Marcos",
            "GT1215",
            "Malacatan",
            "Malacatán",
        ],  # 2: fine
        ["GT", "Guatemala", "", "Quetzaltenango", "", "", "", ""],  # 3: name without P-code
        ["GT", "Guatemala", "GT12", "San Marcos", "San Marcos", "MX07089", "Tapachula", "Tapachula"],  # 4
        ["GT", "Guatemala", "GT12", "San Marcos Dept", "San Marcos", "GT1217", "Ayutla", "Ayutla"],  # 5
        ["GT", "Guatemala", "GT1", "Uno", "", "GT1215", "Malacatan", "Malacatán"],  # 6: another parent
        ["GT", "Guatemala", "gt-13", "Huehuetenango", "", "", "", ""],  # 7: bad characters
        ["GT", "Guatemala", "", "", "", "GT1301", "Huehuetenango", "Huehuetenango"],  # 8: no level 1
        ["GT", "Guatemala", "GT12", "San Marcos", "San Marcos (departamento)", "", "", ""],  # 9
        ["MX", "", "MX07", "Chiapas", "Chiapas", "", "", ""],  # 10: blank name
        ["", "", "", "", "", "", "", ""],  # 11: blank line, ignored
    ]
    path = write_csv(tmp_path / "bad.csv", rows)
    # when importing it
    with pytest.raises(AreaImportError) as raised:
        import_areas(path)
    # then every problem is reported together, and the database is as it was
    assert raised.value.errors == [
        Problem(3, "ADM1_PCODE", "The P-code is blank but the name 'Quetzaltenango' is given."),
        Problem(4, "ADM2_PCODE", "The P-code 'MX07089' does not start with its parent's P-code 'GT12'."),
        Problem(5, "ADM1_EN", "GT12 is named 'San Marcos' in row 2 but 'San Marcos Dept' here."),
        Problem(6, "ADM2_PCODE", "GT1215 is part of GT12 in row 2 but part of GT1 here."),
        Problem(7, "ADM1_PCODE", "The P-code 'gt-13' may contain only the letters A-Z and digits 0-9."),
        Problem(8, "ADM1_PCODE", "Level 1 is blank but level 2 is given."),
        Problem(9, "ADM1_ES", "GT12 is named 'San Marcos' in row 2 but 'San Marcos (departamento)' here."),
        Problem(10, "ADM0_EN", "The name of MX is blank."),
    ]
    assert str(raised.value) == "8 problem(s) in the file; nothing was imported."
    assert str(raised.value.errors[0]) == (
        "Row 3, column ADM1_PCODE: The P-code is blank but the name 'Quetzaltenango' is given."
    )
    assert snapshot() == before


def test_same_pcode_at_two_levels_is_reported(tmp_path):
    # given a P-code used as a department in one row and as a country's child elsewhere
    rows = [
        ["GT", "Guatemala", "GT12", "San Marcos", "", "", "", ""],
        ["G", "G", "GT", "Guatemala", "", "", "", ""],
    ]
    # when importing
    with pytest.raises(AreaImportError) as raised:
        import_areas(write_csv(tmp_path / "levels.csv", rows))
    # then
    assert raised.value.errors == [Problem(3, "ADM1_PCODE", "GT is at level 0 in row 2 but at level 1 here.")]
    assert AdministrativeArea.objects.count() == 0


def test_too_long_pcode_and_name_are_reported(tmp_path):
    rows = [
        ["GT", "Guatemala", "GT" + "1" * 19, "San Marcos", "", "", "", ""],
        ["GT", "Guatemala", "GT12", "S" * 201, "", "", "", ""],
    ]
    with pytest.raises(AreaImportError) as raised:
        import_areas(write_csv(tmp_path / "long.csv", rows))
    assert raised.value.errors == [
        Problem(2, "ADM1_PCODE", "The P-code is longer than 20 characters."),
        Problem(3, "ADM1_EN", "The name is longer than 200 characters."),
    ]


def test_translation_left_blank_in_one_row_is_taken_from_another(tmp_path):
    # given a department whose Spanish name is given only on its second row
    rows = [
        ["GT", "Guatemala", "GT12", "San Marcos", "", "GT1215", "Malacatan", ""],
        ["GT", "Guatemala", "GT12", "San Marcos", "San Marcos", "GT1217", "Ayutla", ""],
    ]
    # when importing
    import_areas(write_csv(tmp_path / "partial.csv", rows))
    # then the blank is not a conflict, and the name given is kept
    assert AdministrativeArea.objects.get(pcode="GT12").names == {"es": "San Marcos"}
    assert AdministrativeArea.objects.get(pcode="GT1215").names == {}


def test_missing_required_columns_are_named(tmp_path):
    # given a table without the level-1 P-code and level-2 name columns
    header = ["ADM0_PCODE", "ADM0_EN", "ADM1_EN", "ADM2_PCODE"]
    path = write_csv(tmp_path / "columns.csv", [["GT", "Guatemala", "San Marcos", "GT1215"]], header=header)
    # when importing it
    with pytest.raises(AreaImportError) as raised:
        import_areas(path)
    # then each missing column is named, on the header row
    assert raised.value.errors == [
        Problem(1, "ADM1_PCODE", "This required column is missing."),
        Problem(1, "ADM2_EN", "This required column is missing."),
    ]
    assert AdministrativeArea.objects.count() == 0


def test_duplicate_column_is_reported(tmp_path):
    path = write_csv(tmp_path / "dup.csv", [], header=[*HEADER, "adm1_en"])
    with pytest.raises(AreaImportError) as raised:
        import_areas(path)
    assert raised.value.errors == [Problem(1, "ADM1_EN", "This column appears more than once.")]


def test_unsupported_extension_is_refused(tmp_path):
    # given a text file
    path = tmp_path / "areas.txt"
    path.write_text("ADM0_PCODE\n", encoding="utf-8")
    # when importing it
    with pytest.raises(AreaImportError) as raised:
        import_areas(path)
    # then the file as a whole is refused
    assert raised.value.errors == [
        Problem(0, "file", "Files of type '.txt' are not supported: use .csv or .xlsx.")
    ]
    assert str(raised.value.errors[0]) == "Files of type '.txt' are not supported: use .csv or .xlsx."


def test_missing_file_is_reported(tmp_path):
    with pytest.raises(AreaImportError) as raised:
        import_areas(tmp_path / "missing.csv")
    assert raised.value.errors == [
        Problem(0, "file", "The file could not be read (No such file or directory).")
    ]


def test_corrupt_workbook_is_reported(tmp_path):
    # given a file named .xlsx that is not a workbook
    path = tmp_path / "areas.xlsx"
    path.write_bytes(b"ADM0_PCODE,ADM0_EN\nGT,Guatemala\n")
    # when importing it
    with pytest.raises(AreaImportError) as raised:
        import_areas(path)
    # then
    [error] = raised.value.errors
    assert (error.row, error.column) == (0, "file")
    assert error.message.startswith("The file could not be read as an Excel workbook (")
    assert AdministrativeArea.objects.count() == 0


def test_empty_file_is_reported(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(AreaImportError) as raised:
        import_areas(path)
    assert raised.value.errors == [Problem(0, "file", "The file is empty.")]


def test_csv_that_is_not_utf8_is_reported(tmp_path):
    # given a CSV saved in Windows-1252
    path = write_csv(tmp_path / "latin.csv", ROWS, encoding="cp1252")
    # when importing it
    with pytest.raises(AreaImportError) as raised:
        import_areas(path)
    # then
    assert raised.value.errors == [
        Problem(0, "file", "The file is not UTF-8 text; save it as 'CSV UTF-8' and try again.")
    ]


def test_csv_with_bom_and_semicolons_is_read(tmp_path):
    # given a CSV as a spreadsheet in a Spanish locale saves it: UTF-8 with a BOM, ';' between columns
    path = write_csv(tmp_path / "excel.csv", ROWS, delimiter=";", encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfADM0_PCODE;")
    # when importing it
    result = import_areas(path)
    # then the columns are recognised
    assert result == ImportResult(created=8, updated=0, unchanged=0)
    assert snapshot() == EXPECTED


def test_tab_separated_csv_is_read(tmp_path):
    path = write_csv(tmp_path / "tabs.csv", ROWS, delimiter="\t")
    assert import_areas(path) == ImportResult(created=8, updated=0, unchanged=0)


def test_short_rows_and_unnamed_columns_are_read(tmp_path):
    # given a hand-written CSV: an unnamed last column, rows that stop early, a blank line
    path = tmp_path / "hand.csv"
    path.write_text(
        "ADM0_PCODE,ADM0_EN,ADM1_PCODE,ADM1_EN,ADM2_PCODE,ADM2_EN,\nGT,Guatemala\n\nGT,Guatemala,GT17,Peten\n",
        encoding="utf-8",
    )
    # when importing it
    result = import_areas(path)
    # then
    assert result == ImportResult(created=2, updated=0, unchanged=0)
    assert AdministrativeArea.objects.get(pcode="GT17").parent == AdministrativeArea.objects.get(pcode="GT")


def test_numbers_in_a_workbook_are_read_as_text(tmp_path):
    # given a workbook where a spreadsheet turned a name into a number
    path = write_xlsx(
        tmp_path / "numbers.xlsx", [["GT", "Guatemala", "GT12", "San Marcos", "", "GT1215", 1215, ""]]
    )
    # when importing it
    import_areas(path)
    # then the number is read as the text it shows
    assert AdministrativeArea.objects.get(pcode="GT1215").name == "1215"


def test_hxl_hashtag_row_is_skipped_and_rows_keep_spreadsheet_numbers(tmp_path):
    # given a table with the HXL hashtag row under the header, and a bad row after it
    hashtags = ["#country+code", "#country+name", "#adm1+code", "#adm1+name", "#adm1+name+i_es", "#adm2+code"]
    rows = [[*hashtags, "#adm2+name", "#adm2+name+i_es"], *ROWS]
    assert import_areas(write_csv(tmp_path / "hxl.csv", rows)) == ImportResult(
        created=8, updated=0, unchanged=0
    )
    # when a later row is wrong
    bad = [rows[0], ["GT", "Guatemala", "GT 12", "San Marcos", "", "", "", ""]]
    with pytest.raises(AreaImportError) as raised:
        import_areas(write_csv(tmp_path / "hxl_bad.csv", bad))
    # then it is reported with its spreadsheet row number (header 1, hashtags 2)
    assert raised.value.errors == [
        Problem(3, "ADM1_PCODE", "The P-code 'GT 12' may contain only the letters A-Z and digits 0-9.")
    ]


def test_other_language_columns_go_to_names(tmp_path):
    # given French and Arabic name columns
    header = ["ADM0_PCODE", "ADM0_EN", "ADM0_FR", "ADM0_AR", "ADM1_PCODE", "ADM1_EN", "ADM2_PCODE", "ADM2_EN"]
    path = write_csv(
        tmp_path / "names.csv", [["MX", "Mexico", "Mexique", "المكسيك", "", "", "", ""]], header=header
    )
    # when importing
    import_areas(path)
    # then
    assert AdministrativeArea.objects.get(pcode="MX").names == {"fr": "Mexique", "ar": "المكسيك"}


def test_progress_is_called_for_each_row(tmp_path):
    # given
    calls: list[int] = []
    path = write_csv(tmp_path / "areas.csv", ROWS)
    # when
    import_areas(path, progress=calls.append)
    # then one call per data row
    assert calls == [1, 1, 1, 1]


def test_shipped_corridor_file_imports_cleanly(django_assert_max_num_queries):
    # given the demo file of the Guatemala–Mexico corridor
    # when importing it, in a bounded number of queries (bulk writes, not one query per area)
    with django_assert_max_num_queries(12):
        result = import_areas(CORRIDOR)
    # then every area is created, with the known P-codes in place
    assert result == ImportResult(created=174, updated=0, unchanged=0)
    levels = AdministrativeArea.objects.order_by("level").values_list("level", flat=True)
    assert [list(levels).count(level) for level in (0, 1, 2)] == [2, 27, 145]
    tapachula = AdministrativeArea.objects.select_related("parent__parent").get(pcode="MX07089")
    assert (tapachula.name, tapachula.level, tapachula.country_pcode) == ("Tapachula", 2, "MX")
    assert (tapachula.parent.pcode, tapachula.parent.name, tapachula.parent.parent.pcode) == (
        "MX07",
        "Chiapas",
        "MX",
    )
    assert AdministrativeArea.objects.get(pcode="MX").names == {"es": "México"}
    assert AdministrativeArea.objects.get(pcode="GT1215").names == {"es": "Malacatán"}
    assert AdministrativeArea.objects.filter(parent__pcode="GT").count() == 22
    assert AdministrativeArea.objects.filter(parent__pcode="GT13").count() == 33
    assert AdministrativeArea.objects.get(pcode="MX20327").name == "San Pedro Tapanatepec"
    # and importing it again changes nothing
    assert import_areas(CORRIDOR) == ImportResult(created=0, updated=0, unchanged=174)
