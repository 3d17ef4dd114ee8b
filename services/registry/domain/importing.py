"""Validate the rows of a cadre's resident list into clean residents and bilingual row errors.

Every error names the Excel row and column and what to do, in Chinese and English. Messages
never quote an ID number or phone: error reports get forwarded in chat groups and logged.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from services.registry.adapters.spreadsheet import COLUMN_LABELS, REQUIRED_COLUMNS, Sheet, SheetRow
from services.registry.domain.identity import (
    id_number_problem, normalize_id_number, normalize_phone, normalize_text, parse_flags,
    phone_problem, sex_from_id,
)

# code → (zh, en) tails; _error puts "第 N 行「列」" / "Row N, column f (列): " in front.
_MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("为空，请填写", "the cell is empty; fill it in"),
    "id_length": ("应为 18 位，请核对证件", "must have 18 characters; check the ID card"),
    "id_format": ("应为 17 位数字加 1 位数字或 X，请核对证件",
                  "must be 17 digits then a digit or X; check the ID card"),
    "id_birthdate": ("中的出生日期无效，请核对证件", "the birth date in it is not valid; check the ID card"),
    "id_checksum": ("校验位不正确，请核对证件", "the check digit is wrong; check the ID card"),
    "id_stored_as_number": ("被 Excel 存成了数字，末几位已丢失，请将该列设为文本后重新录入",
                            "Excel stored it as a number and lost the last digits; "
                            "format the column as Text and retype it"),
    "phone_format": ("格式不正确，应为 11 位手机号或带区号的固定电话",
                     "not an 11-digit mobile or a landline with area code; correct it"),
    "sex_format": ("无法识别，请填写“男”或“女”", "not recognised; write 男/女 or M/F"),
    "sex_mismatch": ("与身份证号中的性别不一致，请核对", "does not match the ID number; check both"),
    "duplicate_in_file": ("与第 {other} 行重复，请删除重复行", "same ID number as row {other}; remove the duplicate"),
    "duplicate_in_registry": ("的居民已登记，请勿重复导入", "this resident is already registered; remove the row"),
}
_MISSING_COLUMN = ("第 {row} 行（表头）缺少必填列「{col}」，请添加该列",
                   "Row {row} (header): required column {field} ({col}) is missing; add it")
_SEXES = {"男": "M", "男性": "M", "m": "M", "male": "M", "女": "F", "女性": "F", "f": "F", "female": "F"}
_FIELD_ORDER = {key: index for index, key in enumerate(COLUMN_LABELS)}


@dataclass(frozen=True)
class RowError:
    row: int
    field: str
    code: str
    message_zh: str
    message_en: str

    @property
    def column_zh(self) -> str:
        return COLUMN_LABELS.get(self.field, (self.field, self.field))[0]

    @property
    def column_en(self) -> str:
        return COLUMN_LABELS.get(self.field, (self.field, self.field))[1]


@dataclass(frozen=True)
class ResidentRow:
    row: int
    building: str
    entrance: str
    room: str
    name: str
    sex: str
    id_number: str
    phone: str
    relation: str
    notes: str
    flags: tuple[str, ...]


@dataclass(frozen=True)
class ImportReport:
    valid: list[ResidentRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    header_errors: list[RowError] = field(default_factory=list)
    rows_total: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.header_errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({error.row for error in self.errors})


def _error(row: int, field_name: str, code: str, other: int | None = None) -> RowError:
    col = COLUMN_LABELS.get(field_name, (field_name, field_name))[0]
    if code == "missing_column":
        zh, en = _MISSING_COLUMN
    else:
        zh, en = ("第 {row} 行「{col}」" + _MESSAGES[code][0],
                  "Row {row}, column {field} ({col}): " + _MESSAGES[code][1])
    fill = {"row": row, "col": col, "field": field_name, "other": other}
    return RowError(row, field_name, code, zh.format(**fill), en.format(**fill))


def _strip_suffix(text: str, suffixes: tuple[str, ...]) -> str:
    # "38号" and "38" are the same building; a bare "号" is left alone so it still reads as given.
    for suffix in suffixes:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)].rstrip()
    return text


def clean_values(values: dict[str, str]) -> dict[str, str]:
    """A row's cells as the registry keeps them: half-width, trimmed, without 号/单元/室 suffixes."""
    text = {key: normalize_text(values.get(key)) for key in COLUMN_LABELS}
    text["building"] = _strip_suffix(text["building"], ("号", "號", "栋", "棟", "幢"))
    text["entrance"] = _strip_suffix(text["entrance"], ("单元", "單元"))
    text["room"] = _strip_suffix(text["room"], ("室",))
    text["id_number"] = normalize_id_number(values.get("id_number"))
    text["phone"] = normalize_phone(values.get("phone"))
    return text


def _id_error(row: int, number: str, imprecise: bool) -> RowError | None:
    if imprecise:
        return _error(row, "id_number", "id_stored_as_number")
    problem = id_number_problem(number) if number else None
    return _error(row, "id_number", problem) if problem else None


def _field_errors(row: int, cleaned: dict[str, str], missing: set[str], imprecise: bool) -> list[RowError]:
    errors = [_error(row, key, "required") for key in REQUIRED_COLUMNS
              if key not in missing and not cleaned[key]]
    errors.append(_id_error(row, cleaned["id_number"], imprecise))
    if cleaned["phone"] and (problem := phone_problem(cleaned["phone"])):
        errors.append(_error(row, "phone", problem))
    return [error for error in errors if error is not None]


def _sex(row: int, cleaned: dict[str, str]) -> tuple[str, RowError | None]:
    written = cleaned["sex"]
    stated = _SEXES.get(written.lower())
    encoded = sex_from_id(cleaned["id_number"]) if not id_number_problem(cleaned["id_number"]) else ""
    if written and stated is None:
        return encoded, _error(row, "sex", "sex_format")
    if stated and encoded and stated != encoded:
        return stated, _error(row, "sex", "sex_mismatch")
    return stated or encoded, None


def _duplicate(row: int, number: str, seen: dict[str, int],
               known_id: Callable[[str], bool]) -> RowError | None:
    # Only the later occurrence is flagged, so a row typed twice still imports once.
    if number in seen:
        return _error(row, "id_number", "duplicate_in_file", other=seen[number])
    seen[number] = row
    return _error(row, "id_number", "duplicate_in_registry") if known_id(number) else None


def _resident(row: int, cleaned: dict[str, str], sex: str) -> ResidentRow:
    fields = {key: cleaned[key] for key in COLUMN_LABELS if key != "sex"}
    return ResidentRow(row=row, sex=sex, flags=parse_flags(cleaned["notes"]), **fields)


def _check_row(sheet_row: SheetRow, sheet: Sheet, seen: dict[str, int],
               known_id: Callable[[str], bool]) -> tuple[ResidentRow | None, list[RowError]]:
    row, cleaned, missing = sheet_row.row_number, clean_values(sheet_row.values), set(sheet.missing_columns)
    imprecise = (row, "id_number") in sheet.imprecise_cells
    errors = _field_errors(row, cleaned, missing, imprecise)
    if imprecise:
        cleaned["id_number"] = ""  # garbled trailing digits: never derive sex or match duplicates
    sex, sex_error = _sex(row, cleaned)
    if not id_number_problem(cleaned["id_number"]):
        errors.append(_duplicate(row, cleaned["id_number"], seen, known_id))
    errors = [error for error in [*errors, sex_error] if error is not None]
    errors.sort(key=lambda error: _FIELD_ORDER.get(error.field, 99))
    return (None if errors or missing else _resident(row, cleaned, sex)), errors


def validate(sheet: Sheet, *, known_id: Callable[[str], bool] = lambda _: False) -> ImportReport:
    """Check every row; a row is valid only when it has no error and the header is complete."""
    header_errors = [_error(sheet.header_row, key, "missing_column") for key in sheet.missing_columns]
    report = ImportReport(header_errors=header_errors, rows_total=len(sheet.rows))
    seen: dict[str, int] = {}
    for sheet_row in sheet.rows:
        resident, errors = _check_row(sheet_row, sheet, seen, known_id)
        report.errors.extend(errors)
        if resident is not None:
            report.valid.append(resident)
    return report


def report_lines(report: ImportReport) -> list[str]:
    """One bilingual line per error, header first, then by row and column order."""
    ordered = sorted(report.errors, key=lambda e: (e.row, _FIELD_ORDER.get(e.field, 99)))
    return [f"{error.message_zh} / {error.message_en}" for error in [*report.header_errors, *ordered]]
