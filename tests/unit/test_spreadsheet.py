"""Reading cadres' spreadsheets and writing exports without formulas."""
from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest

from services.registry.adapters.spreadsheet import COLUMN_LABELS, cell_text, read_sheet, write_csv, write_xlsx

ID = "310101199003071237"  # digits only; the reader does not validate


def save_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for index, row in enumerate(rows, start=1):
        for col, value in enumerate(row, start=1):
            if value is not None:
                sheet.cell(row=index, column=col, value=value)
    workbook.save(path)
    return path


def test_simplified_chinese_headers_map_to_canonical_fields(tmp_path):
    path = save_xlsx(tmp_path / "a.xlsx", [
        ["楼号", "单元", "室号", "姓名", "性别", "身份证号码", "手机号", "与户主关系", "备注"],
        ["38", "1", "301", "张三", "男", ID, "13812345678", "户主", "独居老人"],
    ])
    sheet = read_sheet(path)
    assert sheet.missing_columns == [] and sheet.unknown_columns == []
    assert sheet.rows[0].values["id_number"] == ID
    assert set(sheet.rows[0].values) == set(COLUMN_LABELS)


def test_traditional_and_english_headers_ignore_case_spaces_and_full_width(tmp_path):
    path = save_xlsx(tmp_path / "b.xlsx", [
        ["樓棟", "單元", "房號", "姓　名", "性別", "身份證號", "聯繫電話", "與戶主關係", "備註", "微信"],
        ["38", "1", "301", "陳大文", "M", ID, "13812345678", "本人", "", "x"],
    ])
    sheet = read_sheet(path)
    assert sheet.missing_columns == []
    assert sheet.unknown_columns == ["微信"]
    english = save_xlsx(tmp_path / "c.xlsx", [["BUILDING", " Room ", "Name", "ＩＤ_Number", "Phone"], ["1", "2", "A", ID, ""]])
    assert read_sheet(english).missing_columns == []


def test_row_numbers_are_those_excel_shows_and_empty_rows_are_skipped(tmp_path):
    path = save_xlsx(tmp_path / "d.xlsx", [
        ["楼号", "室号", "姓名", "身份证号"],
        ["38", "301", "张三", ID],
        [None, None, None, None],
        ["38", "302", "李四", ID],
    ])
    sheet = read_sheet(path)
    assert [row.row_number for row in sheet.rows] == [2, 4]


def test_an_id_stored_as_a_number_comes_back_as_integer_digits_and_is_marked_imprecise(tmp_path):
    path = save_xlsx(tmp_path / "e.xlsx", [["楼号", "室号", "姓名", "身份证号", "手机号"],
                                           [38, 301.0, "张三", int(ID), 13812345678]])
    sheet = read_sheet(path)
    values = sheet.rows[0].values
    # Excel and openpyxl store it as a double: 18 digits, no ".0", no exponent, last digits lost.
    assert values["id_number"].isdigit() and len(values["id_number"]) == 18
    assert values["id_number"][:15] == ID[:15]
    assert sheet.imprecise_cells == {(2, "id_number")}
    assert values["phone"] == "13812345678"
    assert values["building"] == "38" and values["room"] == "301"


def test_numbers_become_text_without_a_trailing_point_zero():
    assert cell_text(int(ID)) == ID
    assert cell_text(13812345678.0) == "13812345678"
    assert cell_text(2.5) == "2.5"
    assert cell_text(None) == ""


def test_a_formula_cell_is_read_as_its_literal_text(tmp_path):
    path = save_xlsx(tmp_path / "f.xlsx", [["楼号", "室号", "姓名", "身份证号", "备注"],
                                           ["38", "301", '=HYPERLINK("http://evil","x")', ID, "+1"]])
    values = read_sheet(path).rows[0].values
    assert values["name"] == '=HYPERLINK("http://evil","x")'
    assert values["notes"] == "+1"


def test_a_missing_required_column_is_listed(tmp_path):
    path = save_xlsx(tmp_path / "g.xlsx", [["楼号", "姓名", "身份证号"], ["38", "张三", ID]])
    assert read_sheet(path).missing_columns == ["room"]


def test_a_csv_saved_in_gb18030_is_read(tmp_path):
    path = tmp_path / "h.csv"
    path.write_bytes("楼号,室号,姓名,身份证号\r\n\r\n38,301,張三,{}\r\n".format(ID).encode("gb18030"))
    sheet = read_sheet(path)
    assert sheet.missing_columns == []
    assert sheet.rows[0].row_number == 3
    assert sheet.rows[0].values["name"] == "張三"


def test_a_csv_saved_in_utf8_with_bom_is_read(tmp_path):
    path = tmp_path / "i.csv"
    path.write_text(f"楼号,室号,姓名,身份证号\n38,301,张三,{ID}\n", encoding="utf-8-sig")
    assert read_sheet(path).rows[0].values["building"] == "38"


def test_an_unsupported_file_type_is_refused(tmp_path):
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ValueError):
        read_sheet(path)


COLUMNS = [("name", "姓名"), ("id_number", "身份证号"), ("phone", "手机号"), ("notes", "备注")]
ROWS = [{"name": "张三", "id_number": ID, "phone": "13812345678", "notes": "=1+1"},
        {"name": "@SUM(A1)", "id_number": "", "phone": None, "notes": "-2"}]


def test_write_xlsx_writes_every_cell_as_a_string_and_no_formula(tmp_path):
    path = tmp_path / "out.xlsx"
    write_xlsx(path, COLUMNS, ROWS)
    sheet = openpyxl.load_workbook(path).active
    assert sheet["D2"].value == "=1+1" and sheet["D2"].data_type == "s"
    assert sheet["B2"].value == ID and sheet["B2"].data_type == "s"
    assert sheet["C2"].data_type == "s"
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"


def test_write_csv_neutralises_formulas_and_opens_in_excel(tmp_path):
    path = tmp_path / "out.csv"
    write_csv(path, COLUMNS, ROWS)
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["姓名", "身份证号", "手机号", "备注"]
    assert rows[1] == ["张三", ID, "13812345678", "'=1+1"]
    assert rows[2] == ["'@SUM(A1)", "", "", "'-2"]


def test_an_exported_csv_reads_back_through_the_importer(tmp_path):
    path = tmp_path / "round.csv"
    write_csv(path, [("building", "楼号"), ("room", "室号"), ("name", "姓名"), ("id_number", "身份证号")],
              [{"building": "38", "room": "301", "name": "张三", "id_number": ID}])
    assert read_sheet(path).rows[0].values["id_number"] == ID
