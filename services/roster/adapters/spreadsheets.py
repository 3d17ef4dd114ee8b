"""The roster as spreadsheets: CSV and XLSX, one row per resident (`layout.roster_rows`).

Every cell is written with write_string / write_number (never `write()`), so ID numbers and phones
stay text and a name such as "=1+2" stays a name. CSV values that a spreadsheet would read as a
formula get a leading apostrophe. Both keep the real characters, those the font lacks included."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from services.roster.adapters.layout import (CLEAR_LABEL, MASKED_LABEL, ROW_COLUMNS, TOTAL_LABELS, as_of_text, roster_rows,
                                             sheets_of, stamp, title_of, totals_text)
from services.roster.domain.sheet import PHASE_LABELS, REPORT_LABELS, CompoundSheets, Sheet

# ---- CSV ----------------------------------------------------------------------------------------

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _defused(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def roster_csv(doc: Sheet | CompoundSheets) -> bytes:
    """UTF-8 with BOM (Excel opens it as Chinese), one header line, one line per resident with the
    building first; values that a spreadsheet would take for a formula get a leading apostrophe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["楼号"] + [header for _, header, _ in ROW_COLUMNS])
    keys = [key for key, _, _ in ROW_COLUMNS]
    for sheet in sheets_of(doc):
        building = _defused(sheet.building)
        for row in roster_rows(sheet):
            writer.writerow([building] + [_defused(str(row[k])) for k in keys])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# ---- XLSX ---------------------------------------------------------------------------------------

_XLSX_OPTIONS = {"in_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
                 "strings_to_urls": False}
_NUMERIC = frozenset({"floor", "age", "open_deliveries"})
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")


def _sheet_name(wanted: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub("_", wanted).strip("'")[:31] or "楼"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f"({n})"
        name, n = base[:31 - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def roster_xlsx(doc: Sheet | CompoundSheets) -> bytes:
    """One worksheet per building ("12号楼"), after a "汇总" summary for a whole compound: a title row,
    a totals row, the header row (frozen, with a filter), then one row per resident."""
    import xlsxwriter

    sheets = sheets_of(doc)
    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, _XLSX_OPTIONS)
    fmt = {
        "title": wb.add_format({"bold": True, "font_size": 13}),
        "totals": wb.add_format({"bold": True}),
        "header": wb.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1}),
        "fever": wb.add_format({"bold": True, "bg_color": "#D9D9D9"}),
        "unreported": wb.add_format({"bg_color": "#EDEDED"}),
        "note": wb.add_format({"italic": True}),
        "asof": wb.add_format({"bold": True, "font_color": "#C00000"}),
    }
    taken: set[str] = set()
    if isinstance(doc, CompoundSheets):
        _xlsx_summary(wb, wb.add_worksheet(_sheet_name("汇总", taken)), doc, fmt)
    for sheet in sheets:
        _xlsx_building(wb, wb.add_worksheet(_sheet_name(f"{sheet.building}号楼", taken)), sheet, fmt)
    wb.close()
    return buffer.getvalue()


def _xlsx_head(ws, title: str, generated_at: datetime, masked: bool, as_of: datetime | None, fmt) -> None:
    text = f"{title}　生成时间 {stamp(generated_at)}　{MASKED_LABEL if masked else CLEAR_LABEL}"
    ws.write_string(0, 0, text, fmt["title"])
    if as_of is not None:
        ws.write_string(0, 12, as_of_text(as_of), fmt["asof"])


def _xlsx_building(wb, ws, sheet: Sheet, fmt) -> None:
    head = (f"{title_of(sheet)} 楼组表　包干干部 {sheet.cadre_name}　{PHASE_LABELS.get(sheet.phase, sheet.phase)}"
            f"　核酸轮次 {sheet.round_id or '无'}")
    _xlsx_head(ws, head, sheet.generated_at, sheet.masked, sheet.as_of, fmt)
    ws.write_string(1, 0, totals_text(sheet.totals), fmt["totals"])
    keys = [key for key, _, _ in ROW_COLUMNS]
    for col, (_, header, width) in enumerate(ROW_COLUMNS):
        ws.write_string(2, col, header, fmt["header"])
        ws.set_column(col, col, width)
    morning, afternoon = keys.index("morning"), keys.index("afternoon")
    unreported = REPORT_LABELS[""]
    row = 3
    write_string, write_number = ws.write_string, ws.write_number
    for values in roster_rows(sheet):
        fever = values["morning"] == REPORT_LABELS["fever"] or values["afternoon"] == REPORT_LABELS["fever"]
        row_fmt = fmt["fever"] if fever else None
        for col, key in enumerate(keys):
            value = values[key]
            cell_fmt = row_fmt
            if cell_fmt is None and value == unreported and col in (morning, afternoon):
                cell_fmt = fmt["unreported"]
            if key in _NUMERIC and value != "":
                write_number(row, col, value, cell_fmt)
            elif value != "" or cell_fmt is not None:
                write_string(row, col, str(value), cell_fmt)
        row += 1
    ws.freeze_panes(3, 0)
    if row > 3:
        ws.autofilter(2, 0, row - 1, len(keys) - 1)
    ws.repeat_rows(2)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)


_SUMMARY_COLUMNS = (("building", "楼号", 8), ("cadre", "包干干部", 10), ("phase", "阶段", 11),
                    ("round", "核酸轮次", 12)) + tuple((f, label, max(6, len(label) * 2 + 2)) for f, label in TOTAL_LABELS)


def _xlsx_summary(wb, ws, doc: CompoundSheets, fmt) -> None:
    masked = all(s.masked for s in doc.sheets)
    as_of = next((s.as_of for s in doc.sheets if s.as_of is not None), None)
    _xlsx_head(ws, f"{doc.compound_name} 楼组表汇总", doc.generated_at, masked, as_of, fmt)
    ws.write_string(1, 0, totals_text(doc.totals), fmt["totals"])
    for col, (_, header, width) in enumerate(_SUMMARY_COLUMNS):
        ws.write_string(2, col, header, fmt["header"])
        ws.set_column(col, col, width)
    row = 3
    for sheet in doc.sheets:
        ws.write_string(row, 0, f"{sheet.building}号楼")
        ws.write_string(row, 1, sheet.cadre_name)
        ws.write_string(row, 2, PHASE_LABELS.get(sheet.phase, sheet.phase))
        ws.write_string(row, 3, sheet.round_id)
        for col, (field, _) in enumerate(TOTAL_LABELS, start=4):
            ws.write_number(row, col, getattr(sheet.totals, field))
        row += 1
    ws.write_string(row, 0, "合计", fmt["header"])
    for col, (field, _) in enumerate(TOTAL_LABELS, start=4):
        ws.write_number(row, col, getattr(doc.totals, field), fmt["header"])
    ws.freeze_panes(3, 1)
