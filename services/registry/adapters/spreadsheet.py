"""Read cadres' resident lists (.xlsx / .csv) into raw rows, and write exports safely.

Reading never evaluates anything: formulas come back as their literal text. Writing never
produces something a spreadsheet would evaluate: xlsx cells are plain strings, and CSV values
that look like formulas get a leading apostrophe.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator, TextIO

import openpyxl
import xlsxwriter

from services.registry.domain.identity import normalize_text

_ALIASES: dict[str, tuple[str, ...]] = {
    "building": ("楼号", "樓號", "楼栋", "樓棟", "building"),
    "entrance": ("单元", "單元", "entrance"),
    "room": ("室号", "室號", "房号", "房號", "room"),
    "name": ("姓名", "name"),
    "sex": ("性别", "性別", "sex"),
    "id_number": ("身份证号", "身份證號", "身份证号码", "身份證號碼", "id_number"),
    "phone": ("手机号", "手機號", "手机", "手機", "联系电话", "聯繫電話", "phone"),
    "relation": ("与户主关系", "與戶主關係", "relation"),
    "notes": ("备注", "備註", "notes"),
}
REQUIRED_COLUMNS = ("building", "room", "name", "id_number")
_ENGLISH = {"id_number": "ID number", "relation": "relation to householder"}
# Labels for error reports: the simplified alias first, then an English label.
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    key: (aliases[0], _ENGLISH.get(key, key)) for key, aliases in _ALIASES.items()
}

# Characters that make Excel/WPS treat a CSV cell as a formula (OWASP CSV injection).
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False}


def _header_key(text: str) -> str:
    # Cadres write "ID Number", "身份证号 *", "id_number", "姓　名": compare on a bare form.
    bare = normalize_text(text).lower()
    return "".join(ch for ch in bare if ch not in " _-*:：")


_HEADER_INDEX = {_header_key(alias): key for key, aliases in _ALIASES.items() for alias in aliases}


@dataclass(frozen=True)
class SheetRow:
    """One data row; row_number is what Excel shows in its left margin."""

    row_number: int
    values: dict[str, str]


@dataclass(frozen=True)
class Sheet:
    rows: list[SheetRow] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    header_row: int = 1
    # (row_number, field) of cells Excel stored as numbers too long to keep every digit.
    imprecise_cells: set[tuple[int, str]] = field(default_factory=set)


def cell_text(value: Any) -> str:
    """A cell value as the string the cadre sees; integral numbers lose Excel's '.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        # IDs and phones typed without a leading apostrophe arrive as numbers.
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _lost_digits(value: Any) -> bool:
    # Excel keeps numbers as doubles with 15 significant digits: an 18-digit ID typed without
    # a leading apostrophe has already lost its last digits and must be retyped as text.
    return isinstance(value, float) and value.is_integer() and abs(value) >= 1e15


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some exporters write a wrong <dimension>; read everything
        # read-only mode yields blank tuples for skipped rows, so enumerate matches Excel.
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        workbook.close()


def _decode(raw: bytes) -> str:
    # Excel on Chinese Windows saves "CSV" as GB18030/GBK; newer tools use UTF-8 (with BOM).
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    text = _decode(path.read_bytes())
    yield from enumerate(csv.reader(io.StringIO(text, newline="")), start=1)


def _source_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix == ".csv":
        return _csv_rows(path)
    raise ValueError(f"unsupported file type {suffix!r}: save the list as .xlsx or .csv")


def _map_header(cells: list[str]) -> tuple[dict[int, str], list[str]]:
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    for index, text in enumerate(cells):
        key = _HEADER_INDEX.get(_header_key(text))
        if key is not None and key not in mapping.values():
            mapping[index] = key
        elif normalize_text(text):
            unknown.append(normalize_text(text))  # unrecognised or repeated: ignored, but said
    return mapping, unknown


def read_sheet(path: Path) -> Sheet:
    """Read the first worksheet (or the CSV); the first non-empty row is the header."""
    mapping: dict[int, str] | None = None
    sheet = Sheet()
    for number, raw in _source_rows(Path(path)):
        cells = [cell_text(value) for value in raw]
        if not any(cell.strip() for cell in cells):
            continue
        if mapping is None:
            mapping, unknown = _map_header(cells)
            missing = [key for key in REQUIRED_COLUMNS if key not in mapping.values()]
            sheet = Sheet(missing_columns=missing, unknown_columns=unknown, header_row=number)
            continue
        values = {key: "" for key in mapping.values()}
        values.update({key: cells[i] for i, key in mapping.items() if i < len(cells)})
        sheet.rows.append(SheetRow(row_number=number, values=values))
        sheet.imprecise_cells.update((number, key) for i, key in mapping.items()
                                     if i < len(raw) and _lost_digits(raw[i]))
    if mapping is None:
        return Sheet(missing_columns=list(REQUIRED_COLUMNS))
    return sheet


def _neutralise(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def write_csv(path: Path | TextIO, columns: list[tuple[str, str]], rows: Iterable[dict]) -> None:
    """A file in UTF-8 with BOM so Excel shows Chinese (a text stream is written as it is);
    formula-looking values are defused with '."""
    if not isinstance(path, (str, Path)):
        return _write_csv_rows(path, columns, rows)
    with Path(path).open("w", encoding="utf-8-sig", newline="") as handle:
        _write_csv_rows(handle, columns, rows)


def _write_csv_rows(handle: TextIO, columns: list[tuple[str, str]], rows: Iterable[dict]) -> None:
    writer = csv.writer(handle)
    writer.writerow([_neutralise(header) for _, header in columns])
    for row in rows:
        writer.writerow([_neutralise(cell_text(row.get(key))) for key, _ in columns])


def _display_width(text: str) -> int:
    # CJK characters take about two Latin character widths in Excel's default fonts.
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def write_xlsx(path: Path | BinaryIO, columns: list[tuple[str, str]], rows: Iterable[dict],
               sheet_name: str = "名单") -> None:
    """Every cell a string (IDs and phones stay text), bold frozen header, fitted widths; to a file or
    a binary stream."""
    workbook = xlsxwriter.Workbook(str(path) if isinstance(path, (str, Path)) else path, _XLSX_OPTIONS)
    try:
        sheet = workbook.add_worksheet(sheet_name)
        bold = workbook.add_format({"bold": True})
        widths = [_display_width(header) for _, header in columns]
        for col, (_, header) in enumerate(columns):
            sheet.write_string(0, col, header, bold)
        for row_index, row in enumerate(rows, start=1):
            for col, (key, _) in enumerate(columns):
                text = cell_text(row.get(key))
                sheet.write_string(row_index, col, text)
                widths[col] = max(widths[col], _display_width(text))
        for col, width in enumerate(widths):
            sheet.set_column(col, col, min(max(width + 2, 8), 60))
        sheet.freeze_panes(1, 0)
    finally:
        workbook.close()
