"""Printing the building roster (楼组表) and the gate-post duty rota: PDF, XLSX and CSV.

Pure functions, data in and bytes out: `roster_pdf`, `roster_xlsx` and `roster_csv` take a `Sheet`
(one building) or a `CompoundSheets` (every building, one file); `rota_pdf` takes a `RotaSheet`.
Nothing is read from disk but the Noto Sans CJK fonts (found through fontconfig), and the PDF
renderer fetches nothing at all.

The roster PDF is planned page by page and laid out by WeasyPrint, in parallel printer processes
when they run: `roster_pdf.py` says how and why.

Characters the font does not have (a rare given-name character such as U+2B81D, a private-use
character) would print as a box or in some other font: `unprintable()` finds them; the PDF prints
them as "[U+2B81D]" and lists them under the building heading so that a cadre can write them in
by hand. XLSX and CSV keep the real characters.

Spreadsheets: every cell is written with write_string / write_number (never `write()`), so ID
numbers and phones stay text and a name such as "=1+2" stays a name. CSV values that a spreadsheet
would read as a formula get a leading apostrophe.
"""
from __future__ import annotations

import csv
import functools
import html
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterable

from services.roster.adapters import weasy
from shared.localtime import SHANGHAI
from services.roster.domain.sheet import (FLAG_LABELS, PHASE_LABELS, REPORT_LABELS, SAMPLING_LABELS, CompoundSheets,
                                          HouseholdLine, ResidentLine, RotaCell, RotaSheet, Sheet, Totals)

FONT_FAMILY = "Noto Sans CJK SC"
_DEFAULT_FONT_FILES = {False: "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
                       True: "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"}

MASKED_LABEL, CLEAR_LABEL = "已脱敏", "明文 (已登记)"
QR_CAPTION = "扫码上报体温/求助"
SEX_LABELS = {"M": "男", "F": "女"}
IN_GROUP_MARKS = {True: "✓", False: "×"}        # PDF (✗ is not in Noto Sans CJK; × is)
IN_GROUP_WORDS = {True: "是", False: "否"}       # XLSX / CSV: filterable words
WEEKDAYS = "一二三四五六日"

# The totals as printed, in order: (Totals field, label).
TOTAL_LABELS: tuple[tuple[str, str], ...] = (
    ("households", "户数"), ("residents", "人数"), ("sampled", "已采"), ("absent", "缺席"),
    ("not_sampled", "未采"), ("unreported", "未报"), ("fever", "发热"), ("households_not_in_group", "未入群户"),
    ("open_deliveries", "待送"), ("out_now", "外出"), ("transferred", "转运"), ("vulnerable", "重点人员"),
)

__all__ = ["FONT_FAMILY", "TOTAL_LABELS", "FontMissing", "UnprintableChar", "roster_csv", "roster_pdf", "roster_rows",
           "roster_xlsx", "rota_pdf", "unprintable", "warm_up"]


# ---- the font: what it can print and how wide it prints it -------------------------------------

class FontMissing(RuntimeError):
    """Noto Sans CJK SC is not installed: printing would fall back to boxes or another font."""


@dataclass(frozen=True)
class _Face:
    path: str
    index: int
    advances: dict[int, float]  # code point -> advance in em
    by_char: dict[str, float]   # the same, keyed by the character

    def width(self, text: str) -> float:
        try:
            return sum(map(self.by_char.__getitem__, text))
        except KeyError:  # a character the font lacks: counted as 1 em (it is printed as [U+XXXX])
            adv = self.advances
            return sum(adv.get(ord(ch), 1.0) for ch in text)


def _font_file(bold: bool) -> tuple[str, int]:
    """Where fontconfig finds Noto Sans CJK SC (the same file Pango will use)."""
    if shutil.which("fc-match"):
        pattern = f"{FONT_FAMILY}:weight={'bold' if bold else 'regular'}"
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}|%{index}|%{family}", pattern], capture_output=True,
                                 text=True, timeout=10, check=True).stdout
            path, index, family = out.split("|", 2)
            if FONT_FAMILY in family.split(","):
                return path, int(index)
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    path = _DEFAULT_FONT_FILES[bold]
    if Path(path).exists():
        return path, -1
    raise FontMissing(f"字体 {FONT_FAMILY} 未安装，无法打印中文 — install fonts-noto-cjk "
                      f"(deploy/system-packages.sh)")


@functools.cache
def _font_tables(bold: bool) -> tuple[str, int, dict[int, str], dict[str, int], int]:
    """(path, face index, cmap: code point -> glyph name, advances: glyph name -> units, units per em)."""
    from fontTools.ttLib import TTCollection, TTFont

    path, index = _font_file(bold)
    if index < 0:  # no fontconfig: look for the face by name in the collection
        with TTCollection(path, lazy=True) as collection:
            names = [f["name"].getDebugName(1) for f in collection.fonts]
        if FONT_FAMILY not in names:
            raise FontMissing(f"{path} has no face named {FONT_FAMILY}")
        index = names.index(FONT_FAMILY)
    font = TTFont(path, fontNumber=index, lazy=True)
    try:
        advances = {glyph: width for glyph, (width, _) in font["hmtx"].metrics.items()}
        upem = font["head"].unitsPerEm
        cmap = None
        if bold:
            # The weights of Noto Sans CJK share one glyph set (the same CIDs): the bold face can
            # use the regular face's character map, which saves parsing a second 44,000-entry cmap.
            regular = _font_tables(False)[2]
            if all(glyph in advances for glyph in regular.values()):
                cmap = regular
        return path, index, cmap or font.getBestCmap(), advances, upem
    finally:
        font.close()


@functools.cache
def _face(bold: bool = False) -> _Face:
    path, index, cmap, advances, upem = _font_tables(bold)
    by_code = {cp: advances[glyph] / upem for cp, glyph in cmap.items()}
    return _Face(path, index, by_code, {chr(cp): a for cp, a in by_code.items()})


_LAYOUT_WHITESPACE = frozenset("\t\n\r")


def unprintable(text: str) -> set[str]:
    """The characters of `text` that Noto Sans CJK SC has no glyph for (they would print as a box,
    or in another font). Tabs and line breaks are layout, not characters, and are never reported."""
    advances = _face(False).advances
    return {ch for ch in set(text) if ord(ch) not in advances and ch not in _LAYOUT_WHITESPACE}


@dataclass(frozen=True)
class UnprintableChar:
    char: str
    where: str  # as printed, e.g. "1-301 王[U+2B81D]英" or "包干干部"

    @property
    def code(self) -> str:
        return f"U+{ord(self.char):04X}"


class _Printable:
    """Makes text safe to print: characters the font lacks become a visible "[U+XXXX]" and are
    remembered with where they were, whitespace that would break the tab layout becomes a space."""

    _CONTROL = re.compile(r"[\t\n\r\x0b\x0c]")

    def __init__(self) -> None:
        self.advances = _face(False).advances
        self.found: list[UnprintableChar] = []

    def __call__(self, text: str, where: str = "") -> str:
        text = self._CONTROL.sub(" ", text)
        adv = self.advances
        if all(ord(ch) in adv for ch in text):
            return text
        shown = self.substitute(where or text)
        for ch in text:
            if ord(ch) not in adv:
                self.found.append(UnprintableChar(ch, shown))
        return self.substitute(text)

    def substitute(self, text: str) -> str:
        adv = self.advances
        return "".join(ch if ord(ch) in adv else f"[U+{ord(ch):04X}]" for ch in self._CONTROL.sub(" ", text))


# ---- values as printed (shared by PDF, XLSX and CSV) --------------------------------------------

def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI)


def _stamp(moment: datetime) -> str:
    return _local(moment).strftime("%Y-%m-%d %H:%M")


def _out_since(moment: datetime | None, today: date) -> str:
    if moment is None:
        return ""
    local = _local(moment)
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")


def _windows_open(current_window: str) -> tuple[str, ...]:
    return {"morning": ("morning",), "afternoon": ("morning", "afternoon")}.get(current_window, ())


def _report(r: ResidentLine, window: str, opened: tuple[str, ...]) -> str:
    value = getattr(r, window)
    if value:
        return REPORT_LABELS.get(value, value)
    if not r.present:
        return "—"
    return REPORT_LABELS[""] if window in opened else ""


def _flags(flags: Iterable[str]) -> str:
    return "、".join(FLAG_LABELS[f][0] if f in FLAG_LABELS else f for f in flags)


def _room(h: HouseholdLine, several_entrances: bool) -> str:
    return f"{h.entrance}-{h.room}" if several_entrances and h.entrance else h.room


def _several_entrances(sheet: Sheet) -> bool:
    return len({h.entrance for h in sheet.households}) > 1


def _totals_text(t: Totals) -> str:
    return "　".join(f"{label} {getattr(t, field)}" for field, label in TOTAL_LABELS)


def _title(sheet: Sheet) -> str:
    return f"{sheet.compound_name} {sheet.building}号楼"


def _as_of_text(as_of: datetime) -> str:
    return f"截至 {_stamp(as_of)} (据事件日志重建)"


# Spreadsheet / CSV columns: (key, header, width in characters).
ROW_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("floor", "楼层", 5), ("household_id", "户号", 14), ("room", "室号", 7), ("name", "姓名", 10), ("sex", "性别", 5),
    ("age", "年龄", 5), ("relation", "与户主关系", 11), ("flags", "标记", 16), ("id_number", "身份证号", 21),
    ("phone", "手机", 14), ("morning", "上午", 6), ("afternoon", "下午", 6), ("sampling", "核酸", 6),
    ("in_group", "群", 4), ("open_deliveries", "待送", 5), ("out_since", "外出", 12), ("transferred_to", "转运", 20),
)


def roster_rows(sheet: Sheet) -> Iterable[dict[str, object]]:
    """One dict per resident, floor by floor and room by room, with the values as printed
    (the XLSX and CSV rows). `age`, `floor` and `open_deliveries` are ints (or "")."""
    today = _local(sheet.generated_at).date()
    opened = _windows_open(sheet.current_window)
    several = _several_entrances(sheet)
    for floor, households in sheet.floors():
        for h in households:
            for i, r in enumerate(h.residents):
                yield {
                    "floor": floor, "household_id": h.household_id, "room": _room(h, several), "name": r.name,
                    "sex": SEX_LABELS.get(r.sex, r.sex), "age": "" if r.age is None else r.age,
                    "relation": r.relation, "flags": _flags(r.flags), "id_number": r.id_number, "phone": r.phone,
                    "morning": _report(r, "morning", opened), "afternoon": _report(r, "afternoon", opened),
                    "sampling": SAMPLING_LABELS.get(r.sampling, r.sampling),
                    "in_group": IN_GROUP_WORDS[h.in_group],
                    "open_deliveries": (h.open_deliveries if i == 0 else ""),
                    "out_since": _out_since(r.out_since, today), "transferred_to": r.transferred_to,
                }


def _sheets_of(doc: Sheet | CompoundSheets) -> tuple[Sheet, ...]:
    if isinstance(doc, CompoundSheets):
        return doc.sheets
    if isinstance(doc, Sheet):
        return (doc,)
    raise TypeError(f"expected a Sheet or CompoundSheets, got {type(doc).__name__}")


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
    for sheet in _sheets_of(doc):
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

    sheets = _sheets_of(doc)
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
    text = f"{title}　生成时间 {_stamp(generated_at)}　{MASKED_LABEL if masked else CLEAR_LABEL}"
    ws.write_string(0, 0, text, fmt["title"])
    if as_of is not None:
        ws.write_string(0, 12, _as_of_text(as_of), fmt["asof"])


def _xlsx_building(wb, ws, sheet: Sheet, fmt) -> None:
    head = (f"{_title(sheet)} 楼组表　包干干部 {sheet.cadre_name}　{PHASE_LABELS.get(sheet.phase, sheet.phase)}"
            f"　核酸轮次 {sheet.round_id or '无'}")
    _xlsx_head(ws, head, sheet.generated_at, sheet.masked, sheet.as_of, fmt)
    ws.write_string(1, 0, _totals_text(sheet.totals), fmt["totals"])
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
    ws.write_string(1, 0, _totals_text(doc.totals), fmt["totals"])
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


# ---- PDF ----------------------------------------------------------------------------------------

def roster_pdf(doc: Sheet | CompoundSheets) -> bytes:
    """The roster as an A4 portrait PDF in Simplified Chinese: per building a heading, the totals
    box, the building's QR code and the residents floor by floor. A whole compound gets a summary
    page first and each building on new pages. (See `roster_pdf.py` for how.)"""
    from services.roster.adapters import roster_pdf as pdf

    return pdf.roster_pdf(doc)


def warm_up() -> None:
    """Import WeasyPrint, start fontconfig, read the font metrics and render a tiny roster, so that
    the first real print of a process is not ~2 s slower than the next ones. Optional."""
    roster_pdf(Sheet(tenant="", compound="", compound_name="", building="0", cadre_name="", phase="", round_id="",
                     current_window="", generated_at=datetime.now(timezone.utc), as_of=None, masked=True,
                     resident_url="", households=()))


# ---- the duty rota: one A4 landscape page --------------------------------------------------------

def _day_label(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.month}月{d.day}日 周{WEEKDAYS[d.weekday()]}"


def rota_pdf(rota: RotaSheet) -> bytes:
    """The gate-post duty rota on one A4 landscape page: a row per day, a column per post and
    shift, names in each cell ("张三 / 李四"), shifts with fewer than two people shaded "缺人", and
    the cadres on 24-hour standby per day at the bottom."""
    clean = _Printable()
    e = html.escape
    columns = [(post_id, building, shift) for post_id, building in rota.posts for shift in rota.shifts]
    by_key = {(c.post_id, c.day, c.shift): c for c in rota.cells}
    n_cols, n_days = max(1, len(columns)), max(1, len(rota.days))
    # 14 days x 8 columns fit at 8.5 pt; more of either shrink the text. The rows share ~150 mm.
    font_pt = max(4.5, min(8.5, 8.5 * 8 / n_cols, 8.5 * 14 / n_days))
    line_pt = round(font_pt * 1.3, 2)
    row_pt = max(2 * line_pt + 3, min(3 * line_pt + 6, 150 * 72 / 25.4 / n_days))
    standby = {day: names for day, names in rota.standby}

    posts_head = "".join(
        f'<th colspan="{len(rota.shifts)}">{e(clean(building, "楼号"))}号楼门岗</th>' for _, building in rota.posts)
    shifts_head = "".join(f"<th>{e(clean(shift, '班次'))}</th>" for _ in rota.posts for shift in rota.shifts)
    body = []
    gaps = 0
    for day in rota.days:
        cells = []
        for post_id, building, shift in columns:
            cell: RotaCell | None = by_key.get((post_id, day, shift))
            people = cell.people if cell else ()
            checked = set(cell.checked_in) if cell else set()
            where = f"{_day_label(day)} {building}号楼 {shift}"
            names = " / ".join(e(clean(p, where)) + ("✓" if p in checked else "") for p in people)
            if len(people) < 2:
                gaps += 1
                names = f'{names}<br><b>缺人</b>' if names else "<b>缺人</b>"
                cells.append(f'<td class="gap">{names}</td>')
            else:
                cells.append(f"<td>{names}</td>")
        body.append(f'<tr><th class="day">{_day_label(day)}</th>{"".join(cells)}</tr>')
    standby_text = "　".join(
        f"{_day_label(day)} {e('、'.join(clean(n, '24小时待命') for n in standby.get(day, ()))) or '无'}"
        for day in rota.days)
    legend = "灰底“缺人”：该班次不足两人" + ("；✓ 已签到" if any(c.checked_in for c in rota.cells) else "")
    css = f"""
@page {{ size: A4 landscape; margin: 8mm 8mm 9mm 8mm;
  @bottom-right {{ content: "生成时间 {_stamp(rota.generated_at)}"; font-size: 7pt; }}
  @bottom-left {{ content: "{legend}"; font-size: 7pt; }} }}
html {{ font-family: "{FONT_FAMILY}"; font-size: {font_pt:.2f}pt; line-height: {line_pt}pt; color: #000; }}
body {{ margin: 0; }}
h1 {{ font-size: 15pt; line-height: 20pt; margin: 0 0 3pt 0; }}
table {{ width: 100%; table-layout: fixed; border-collapse: collapse; }}
th, td {{ border: 0.6pt solid #000; padding: 1pt 2pt; text-align: center; vertical-align: middle; }}
thead th {{ background: #d9d9d9; }}
th.day {{ width: 19mm; background: #ececec; white-space: nowrap; }}
tbody tr {{ height: {row_pt:.1f}pt; }}
td.gap {{ background: #bfbfbf; }}
td.gap b {{ font-weight: bold; }}
.standby {{ margin-top: 4pt; font-size: {max(font_pt - 0.5, 4.5):.2f}pt; line-height: {line_pt}pt; }}
.standby b {{ font-weight: bold; }}
"""
    title = f"{clean(rota.compound_name, '小区名称')} 门岗值班表"
    first_day, last_day = (rota.days[0], rota.days[-1]) if rota.days else ("", "")
    span = f"{_day_label(first_day)} — {_day_label(last_day)}" if rota.days else ""
    missing = ""
    if clean.found:
        missing = ("　字库缺字已印作 [U+编码]：" +
                   "；".join(f"{e(f.where)} {f.code}" for f in clean.found[:10]))
    doc = (f"<h1>{e(title)}</h1><p>{span}　共 {gaps} 个班次缺人　生成时间 {_stamp(rota.generated_at)}{missing}</p>"
           f'<table><thead><tr><th class="day" rowspan="2">日期</th>{posts_head}</tr><tr>{shifts_head}</tr></thead>'
           f"<tbody>{''.join(body)}</tbody></table>"
           f'<p class="standby"><b>24小时待命</b>　{standby_text}</p>')
    return weasy.render(weasy.page(title, doc), css, cache_css=False)
