"""Validating imported rows into residents and bilingual, value-free row errors."""
from __future__ import annotations

from services.registry.adapters.spreadsheet import Sheet, SheetRow, read_sheet
from services.registry.domain.importing import report_lines, validate

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(first17: str) -> str:
    """A valid ID number: append the GB 11643 check character to 17 digits."""
    return first17 + "10X98765432"[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def person(seq: int) -> str:
    """A distinct valid ID per sequence number; odd sequence numbers are men."""
    return make_id(f"31010119800101{seq:03d}")


MAN, WOMAN = person(123), person(124)
PHONE = "13812345678"


def row(number: int, **values: str) -> SheetRow:
    base = {"building": "38", "entrance": "1", "room": "301", "name": "张三", "sex": "",
            "id_number": MAN, "phone": PHONE, "relation": "户主", "notes": ""}
    return SheetRow(row_number=number, values=base | values)


def test_a_clean_row_becomes_a_resident_with_normalised_fields():
    report = validate(Sheet(rows=[row(2, building="３８号", entrance="1单元", room=" 301室 ",
                                      phone="+86 138-1234-5678", notes="獨居老人，慢性病")]))
    assert report.ok and report.rows_total == 1
    resident = report.valid[0]
    assert (resident.building, resident.entrance, resident.room) == ("38", "1", "301")
    assert resident.phone == PHONE and resident.sex == "M" and resident.row == 2
    assert resident.flags == ("chronic_illness", "elderly_alone")


def test_sex_is_read_from_the_column_or_derived_from_the_id():
    report = validate(Sheet(rows=[row(2, id_number=person(2), sex="女"), row(3, id_number=person(3), sex="male"),
                                  row(4, id_number=person(4))]))
    assert [r.sex for r in report.valid] == ["F", "M", "F"]


def test_a_sex_that_contradicts_the_id_is_an_error():
    report = validate(Sheet(rows=[row(2, id_number=WOMAN, sex="男"), row(3, sex="unknown")]))
    assert [(e.row, e.field, e.code) for e in report.errors] == [(2, "sex", "sex_mismatch"), (3, "sex", "sex_format")]


def test_a_wrong_check_digit_is_reported_with_row_and_column_in_both_languages():
    wrong = MAN[:17] + ("0" if MAN[17] != "0" else "1")
    report = validate(Sheet(rows=[row(5, id_number=wrong)]))
    (error,) = report.errors
    assert error.code == "id_checksum" and error.column_zh == "身份证号"
    assert error.message_zh == "第 5 行「身份证号」校验位不正确，请核对证件"
    assert error.message_en == "Row 5, column id_number (身份证号): the check digit is wrong; check the ID card"
    assert not report.valid and report.bad_rows == [5]


def test_a_row_collects_one_error_per_field():
    report = validate(Sheet(rows=[row(7, name=" ", room="", id_number="123", phone="999")]))
    assert [(e.field, e.code) for e in report.errors] == [
        ("room", "required"), ("name", "required"), ("id_number", "id_length"), ("phone", "phone_format")]


def test_an_empty_phone_is_allowed():
    assert validate(Sheet(rows=[row(2, phone="")])).ok


def test_a_missing_required_column_is_a_header_error_on_row_one():
    values = {"building": "38", "name": "张三", "id_number": MAN}
    report = validate(Sheet(rows=[SheetRow(2, values)], missing_columns=["room"]))
    assert [(e.row, e.field, e.code) for e in report.header_errors] == [(1, "room", "missing_column")]
    assert report.errors == [] and report.valid == [] and not report.ok


def test_a_duplicate_id_in_the_file_names_the_first_row():
    report = validate(Sheet(rows=[row(2), row(3, id_number=WOMAN), row(6, id_number=MAN.lower())]))
    (error,) = report.errors
    assert (error.row, error.code) == (6, "duplicate_in_file")
    assert "第 2 行" in error.message_zh and "row 2" in error.message_en
    assert [r.row for r in report.valid] == [2, 3]


def test_an_id_already_in_the_registry_is_rejected():
    report = validate(Sheet(rows=[row(2), row(3, id_number=WOMAN)]), known_id=lambda n: n == WOMAN)
    assert [(e.row, e.code) for e in report.errors] == [(3, "duplicate_in_registry")]


def test_no_error_message_contains_an_id_number_or_phone_digits():
    wrong = MAN[:17] + ("0" if MAN[17] != "0" else "1")
    rows = [row(2, id_number=wrong), row(3, phone="138123456789"), row(4, id_number=WOMAN, sex="男"),
            row(5), row(6), row(7, id_number=WOMAN), row(8, id_number=MAN[:16]), row(9, id_number=person(9))]
    report = validate(Sheet(rows=rows, missing_columns=[]), known_id=lambda n: n == WOMAN)
    assert len(report.errors) >= 6
    text = "\n".join(report_lines(report) + [e.message_zh + e.message_en for e in report.errors])
    for secret in (MAN, WOMAN, wrong, MAN[:16], "138123456789", PHONE, MAN[6:14], MAN[-4:]):
        assert secret not in text


def test_report_lines_are_bilingual_and_sorted_by_row():
    report = validate(Sheet(rows=[row(9, name="", id_number=person(9)), row(4, room="", id_number=person(4))]))
    lines = report_lines(report)
    assert lines[0].startswith("第 4 行「室号」") and "Row 4, column room" in lines[0]
    assert lines[1].startswith("第 9 行「姓名」")


def test_an_id_excel_stored_as_a_number_is_reported_as_such(tmp_path):
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["楼号", "室号", "姓名", "身份证号"])
    digits_only = next(person(n) for n in range(1, 99) if person(n).isdigit())
    workbook.active.append(["38", "301", "张三", int(digits_only)])
    workbook.save(tmp_path / "n.xlsx")
    report = validate(read_sheet(tmp_path / "n.xlsx"))
    assert [(e.row, e.code) for e in report.errors] == [(2, "id_stored_as_number")]


def test_a_real_workbook_imports_end_to_end(tmp_path):
    import xlsxwriter

    path = tmp_path / "list.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet()
    sheet.write_row(0, 0, ["樓號", "室號", "姓名", "身份證號碼", "手機", "備註"])
    sheet.write_row(1, 0, ["38號", "301", "陳大文", MAN, "8613812345678", "孕婦"])
    sheet.write_row(3, 0, ["38", "302", "李四", MAN, "", ""])  # row 3 left empty on purpose
    workbook.close()
    report = validate(read_sheet(path))
    assert [r.row for r in report.valid] == [2] and report.valid[0].flags == ("pregnant",)
    assert [(e.row, e.code) for e in report.errors] == [(4, "duplicate_in_file")]
