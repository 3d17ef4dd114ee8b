"""Printing the building roster (楼组表) and the gate-post duty rota: PDF, XLSX and CSV.

Pure functions, data in and bytes out: `roster_pdf`, `roster_xlsx` and `roster_csv` take a `Sheet`
(one building) or a `CompoundSheets` (every building, one file); `rota_pdf` takes a `RotaSheet`.
Nothing is read from disk but the Noto Sans CJK fonts (found through fontconfig), and the PDF
renderer fetches nothing at all.

How the roster PDF is made fast. WeasyPrint lays out and paints every box in Python: a roster of
550 residents as an HTML table is ~8,000 cells and takes ~10 s. So the residents' table is text:
one block per household, one line per resident (`white-space: pre`), every cell starting at its
column's x. The room before a cell is filled with em and half-em spaces and one short tab onto a
tab stop (`tab-size`), counted here from the advance widths of the same font file Pango uses (read
with fontTools). Column rules are a background image tiled down the table; unreported cells get
an empty grey box behind them (absolutely positioned, no text box split); fever rows are bold on
a grey band. A value too long for its column wraps onto a second line of the same row. The
column header is an in-flow row on a building's first page and a running element in the top
margin of the following pages (`element(head, first-except)`), so it heads every page.

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
import gc
import html
import io
import math
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterable, Sequence

from services.roster.domain.sheet import SHANGHAI
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


# ---- PDF: WeasyPrint -----------------------------------------------------------------------------

_render_lock = threading.Lock()


@functools.cache
def _weasy():
    """WeasyPrint's font configuration, made once per process (fontconfig start-up is slow)."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@functools.cache
def _stylesheet(css: str):
    from weasyprint import CSS

    return CSS(string=css, font_config=_weasy())


@functools.cache
def _fetcher():
    """Serves the column rules image and nothing else: a printed roster never loads anything from
    the network or the disk, whatever a value in it says."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class Fetcher(URLFetcher):
        def fetch(self, url, headers=None):
            if url == "louzu:rules":
                return URLFetcherResponse(url, _roster_layout().rules_svg,
                                          headers={"Content-Type": "image/svg+xml"})
            raise ValueError(f"the roster printer fetches nothing: {url[:60]}")

    return Fetcher()


def warm_up() -> None:
    """Import WeasyPrint, start fontconfig, read the font metrics and render a tiny roster, so that
    the first real print of a process is not ~2 s slower than the next ones. Optional."""
    roster_pdf(Sheet(tenant="", compound="", compound_name="", building="0", cadre_name="", phase="", round_id="",
                     current_window="", generated_at=datetime.now(timezone.utc), as_of=None, masked=True,
                     resident_url="", households=()))


def _render(document: str, css: str, *, reuse_css: bool = True) -> bytes:
    from weasyprint import CSS, HTML

    with _render_lock:  # one FontConfiguration is shared: render one document at a time
        stylesheet = _stylesheet(css) if reuse_css else CSS(string=css, font_config=_weasy())
        # WeasyPrint makes ~10^6 short-lived objects per roster: the cyclic garbage collector,
        # running every few thousand allocations, costs 15-25 % of a render. Collect once after.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return HTML(string=document, url_fetcher=_fetcher()).write_pdf(stylesheets=[stylesheet],
                                                                           font_config=_weasy())
        finally:
            if collecting:
                gc.enable()


def _html(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f"</head><body>{body}</body></html>")


# -- the aligned roster table --

FONT_PX = 8 * 4 / 3           # 8 pt body text, in CSS px (WeasyPrint's unit)
GAP_PX = 6                    # at least this much white between a cell's text and the next column
PAD_PX = GAP_PX // 2          # a row's left padding: the text of column 0 starts here
LINE_PT = 10.6
PAGE_WIDTH_PX = (210 - 16) / 25.4 * 96  # A4 minus 8 mm margins
EM_SPACE, EN_SPACE = "\u2003", "\u2002"  # 1 em and 1/2 em in Noto Sans CJK, like U+0020 (0.224 em)
TAB_PX = 6                    # the tab grid (`tab-size`, whole px, > 1/2 em + SNAP_MIN_PX): columns start on it
SNAP_MIN_PX = 0.3             # a tab covers at least this much (Pango moves a tab to the first stop after x)

# PDF columns: (key, header, width in px — a multiple of TAB_PX, room for the longest usual value
# plus GAP_PX at 8 pt: a 4-character name, "独居老人、慢性病", an 18-digit ID in clear, an 11-digit
# phone); the last column takes what is left of the page. Longer values wrap inside their column.
PDF_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("room", "室号", 36), ("name", "姓名", 54), ("sex", "性别", 30), ("age", "年龄", 30),
    ("relation", "与户主\n关系", 42), ("flags", "标记", 96), ("id_number", "身份证号", 114),
    ("phone", "手机", 72), ("morning", "上午", 30), ("afternoon", "下午", 30), ("sampling", "核酸", 30),
    ("in_group", "群", 18), ("open_deliveries", "待送", 30), ("out_since", "外出", 36),
    ("transferred_to", "转运", 0),
)


_AM, _PM = [k for k, _, _ in PDF_COLUMNS].index("morning"), [k for k, _, _ in PDF_COLUMNS].index("afternoon")


@dataclass(frozen=True)
class _Grid:
    starts: tuple[int, ...]     # px from the text origin, on the tab grid
    widths: tuple[float, ...]   # px

    @classmethod
    def of(cls, widths_px: Sequence[int], total_px: float) -> "_Grid":
        starts, x = [], 0
        for width in widths_px[:-1]:
            assert width % TAB_PX == 0, width
            starts.append(x)
            x += width
        starts.append(x)
        widths = list(widths_px[:-1]) + [math.floor(total_px - PAD_PX - x)]
        return cls(tuple(starts), tuple(widths))

    @property
    def total(self) -> float:
        return self.starts[-1] + self.widths[-1]

    def rule_xs(self) -> list[float]:
        """x of each vertical rule from the row's left edge: the table's edges and between columns."""
        inner = [PAD_PX + s - GAP_PX / 2 for s in self.starts[1:]]
        return [0.3] + inner + [PAD_PX + self.total - GAP_PX / 2 - 0.3]

    @property
    def width(self) -> float:
        return PAD_PX + self.total

    def rules_svg(self, height: int = 400) -> bytes:
        """The vertical column rules as an SVG tile, repeated down the table (vector: crisp in print
        and light for viewers; WeasyPrint draws it once per page)."""
        path = "".join(f"M{x:.2f} 0V{height}" for x in self.rule_xs())
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width:.2f}" height="{height}" '
                f'viewBox="0 0 {self.width:.2f} {height}"><path d="{path}" stroke="#000" stroke-width="0.4" '
                f'fill="none"/></svg>').encode()

    def cell_box(self, col: int) -> tuple[float, float]:
        """(x, width) in px of the inside of column `col`'s cell, just clear of its rules."""
        return PAD_PX + self.starts[col] - GAP_PX / 2 + 0.7, self.widths[col] - 1.4


class _Aligner:
    """Builds rows of text whose cells start at the grid's column starts, wrapping a value too long
    for its column onto further lines of the row. Widths come from the font's advance widths (the
    same file Pango uses), so the position reached after each cell is known to a hundredth of a px;
    `_pad` fills the room up to the next column."""

    def __init__(self, grid: _Grid, font_px: float) -> None:
        self.grid, self.font_px = grid, font_px
        self.regular, self.bold = _face(False), _face(True)

    def wrap(self, text: str, width_px: float, bold: bool) -> list[str]:
        if "\n" in text:
            return [line for part in text.split("\n") for line in self.wrap(part, width_px, bold)]
        face = self.bold if bold else self.regular
        px = self.font_px
        if face.width(text) * px <= width_px:
            return [text]
        lines, line, used, adv = [], [], 0.0, face.advances
        for ch in text:
            w = adv.get(ord(ch), 1.0) * px
            if line and used + w > width_px:
                # break after the last separator of the line if there is one, else here
                cut = max((i for i, c in enumerate(line) if c in " 、,/"), default=-1)
                if 0 < cut < len(line) - 1:
                    rest = line[cut + 1:]
                    lines.append("".join(line[:cut + 1]).rstrip())
                    line, used = rest, sum(adv.get(ord(c), 1.0) * px for c in rest)
                else:
                    lines.append("".join(line))
                    line, used = [], 0.0
            line.append(ch)
            used += w
        if line:
            lines.append("".join(line))
        return lines

    def row(self, cells: Sequence[str], bold: bool = False) -> tuple[str, int]:
        """The escaped text of one row (lines joined by newlines) and its number of lines."""
        grid, face, px = self.grid, (self.bold if bold else self.regular), self.font_px
        columns: list[list[str]] = []
        for text, width in zip(cells, grid.widths):
            columns.append(self.wrap(text, width - GAP_PX, bold) if text else [])
        height = max(1, max(len(c) for c in columns))
        lines = []
        for n in range(height):
            parts, x = [], 0.0  # x in px
            for col, wrapped in enumerate(columns):
                if n >= len(wrapped):
                    continue
                text = wrapped[n]
                start = grid.starts[col]
                if start > x:
                    parts.append(self._pad(round((start - x) / px, 4), px))
                    x = start
                parts.append(html.escape(text, quote=False))
                x += face.width(text) * px
            lines.append("".join(parts))
        return "\n".join(lines), height

    @staticmethod
    @functools.lru_cache(maxsize=8192)
    def _pad(gap: float, px: float) -> str:
        """What fills `gap` em up to the next column start: whole and half em spaces to within
        half an em of it, then one tab onto the column start, which is on the tab grid. (WeasyPrint
        70 draws a tab 2.4 % wider than Pango lays it out: a tab of at most half an em is off by
        at most 0.13 px, where a tab across the whole gap would shift the columns by pixels.)"""
        halves = max(0, int((gap - SNAP_MIN_PX / px) * 2))
        return EM_SPACE * (halves // 2) + EN_SPACE * (halves % 2) + "\t"


def _qr_svg(url: str, size_mm: float = 26) -> str:
    """The building's QR code as inline SVG: one path of horizontal runs (no raster)."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    n = len(matrix)
    runs = []
    for y, line in enumerate(matrix):
        x = 0
        while x < n:
            if line[x]:
                start = x
                while x < n and line[x]:
                    x += 1
                runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size_mm}mm" height="{size_mm}mm" '
            f'viewBox="0 0 {n} {n}" shape-rendering="crispEdges"><rect width="{n}" height="{n}" fill="#fff"/>'
            f'<path d="{"".join(runs)}" fill="#000"/></svg>')


@dataclass(frozen=True)
class _RosterLayout:
    grid: _Grid
    aligner: _Aligner
    css: str
    rules_svg: bytes


@functools.cache
def _roster_layout() -> _RosterLayout:
    """Computed once per process: the column grid, the aligner (font metrics), the stylesheet."""
    grid = _Grid.of([width for _, _, width in PDF_COLUMNS], PAGE_WIDTH_PX)
    return _RosterLayout(grid, _Aligner(grid, FONT_PX), _roster_css(grid), grid.rules_svg())


def _roster_css(grid: _Grid) -> str:
    rules = f'url("louzu:rules") 0 0 / {grid.width:.2f}px 400px repeat-y'  # few, tall tiles
    return f"""
@page {{
  size: A4 portrait; margin: 22mm 8mm 13mm 8mm;
  @top-left {{ content: element(head, first-except); width: 100%; vertical-align: bottom; }}
  @bottom-center {{ content: string(title) "　　第 " counter(page) " 页 / 共 " counter(pages) " 页　　" string(mask);
                    font-size: 7.5pt; width: 100%; }}
}}
@page cover {{ @top-left {{ content: none; }} }}
html {{ font-family: "{FONT_FAMILY}"; font-size: 8pt; line-height: {LINE_PT}pt; color: #000; }}
body {{ margin: 0; }}
h1 {{ font-size: 15pt; line-height: 20pt; margin: 0 0 2pt 0; string-set: title content(); }}
p {{ margin: 0 0 1.5pt 0; }}
.cover {{ page: cover; }}
.sheet {{ break-before: page; }}
.first {{ break-before: auto; }}
.meta {{ font-size: 9pt; line-height: 13pt; }}
.mask {{ string-set: mask content(); font-weight: bold; border: 0.8pt solid #000; padding: 0 3pt; }}
.asof {{ font-size: 11pt; line-height: 16pt; font-weight: bold; border: 1.5pt solid #000; padding: 2pt 5pt;
         margin: 3pt 0; background: #e6e6e6; }}
.missing {{ font-size: 9pt; border: 1pt dashed #000; padding: 2pt 4pt; margin: 3pt 0; }}
.top {{ width: 100%; table-layout: fixed; border-collapse: collapse; margin: 2pt 0 5pt 0; }}
.top td {{ vertical-align: top; padding: 0; }}
.qr {{ text-align: center; font-size: 7.5pt; line-height: 9pt; }}
.tot {{ table-layout: fixed; width: 100%; border-collapse: collapse; margin-top: 4pt; }}
.tot td, .tot th {{ border: 0.8pt solid #000; text-align: center; padding: 1pt 0; }}
.tot th {{ font-size: 8pt; font-weight: normal; background: #e6e6e6; }}
.tot td {{ font-size: 13pt; line-height: 17pt; font-weight: bold; }}
.run {{ position: running(head); }}
.runtitle {{ font-size: 9pt; font-weight: bold; line-height: 12pt; }}
.rows {{ background: {rules}; border-bottom: 0.8pt solid #000; }}
.r {{ white-space: pre; tab-size: {TAB_PX}px; padding-left: {PAD_PX}px; }}
.ch {{ font-weight: bold; background: {rules}, #d9d9d9; border-top: 0.8pt solid #000;
       border-bottom: 0.8pt solid #000; }}
.fl {{ font-weight: bold; background: #ececec; border-top: 0.8pt solid #000; padding-left: {PAD_PX}px;
       break-after: avoid; }}
.hh {{ white-space: pre; tab-size: {TAB_PX}px; padding-left: {PAD_PX}px; break-inside: avoid;
       border-top: 0.8pt solid #000; }}
.fv {{ font-weight: bold; background: #bdbdbd; }}
.hm {{ position: relative; }}
.m {{ position: absolute; z-index: -1; top: 0; height: {LINE_PT}pt; background: #c4c4c4; }}
.ma {{ left: {grid.cell_box(_AM)[0]:.2f}px; width: {grid.cell_box(_AM)[1]:.2f}px; }}
.mp {{ left: {grid.cell_box(_PM)[0]:.2f}px; width: {grid.cell_box(_PM)[1]:.2f}px; }}
{"".join(f".l{n} {{{{ top: {n * LINE_PT:.2f}pt; }}}}" for n in range(1, 16))}
.sum {{ width: 100%; table-layout: fixed; border-collapse: collapse; margin-top: 6pt; }}
.sum th, .sum td {{ border: 0.6pt solid #000; padding: 1.5pt 2pt; text-align: center; }}
.sum th {{ background: #d9d9d9; }}
.sum .total td {{ font-weight: bold; background: #ececec; border-top: 1.2pt solid #000; }}
"""


def roster_pdf(doc: Sheet | CompoundSheets) -> bytes:
    """The roster as an A4 portrait PDF in Simplified Chinese: per building a heading, the totals
    box, the building's QR code and the residents floor by floor. A whole compound gets a summary
    page first and each building on a new page."""
    layout = _roster_layout()
    clean = _Printable()
    parts = []
    if isinstance(doc, CompoundSheets):
        parts.append(_cover_html(doc, clean))
        for sheet in doc.sheets:
            parts.append(_sheet_html(sheet, layout.aligner, clean, first=False))
        title = f"{doc.compound_name} 楼组表"
    else:
        parts.append(_sheet_html(doc, layout.aligner, clean, first=True))
        title = f"{_title(doc)} 楼组表"
    return _render(_html(clean.substitute(title), "".join(parts)), layout.css)


def _cover_html(doc: CompoundSheets, clean: _Printable) -> str:
    e = html.escape
    masked = all(s.masked for s in doc.sheets)
    as_of = next((s.as_of for s in doc.sheets if s.as_of is not None), None)
    head = "".join(f"<th>{e(label)}</th>" for _, label in TOTAL_LABELS)
    rows = []
    for s in doc.sheets:
        figures = "".join(f"<td>{getattr(s.totals, f)}</td>" for f, _ in TOTAL_LABELS)
        rows.append(f"<tr><td>{e(clean(s.building, '楼号'))}号楼</td><td>{e(clean(s.cadre_name, '包干干部'))}</td>"
                    f"{figures}</tr>")
    total = "".join(f"<td>{getattr(doc.totals, f)}</td>" for f, _ in TOTAL_LABELS)
    asof = f'<p class="asof">{e(_as_of_text(as_of))}</p>' if as_of else ""
    return (f'<section class="cover"><h1>{e(clean(doc.compound_name, "小区名称"))} 楼组表汇总</h1>'
            f'<p class="meta">共 {len(doc.sheets)} 栋楼　生成时间 {_stamp(doc.generated_at)}　'
            f'<span class="mask">{MASKED_LABEL if masked else CLEAR_LABEL}</span></p>{asof}'
            f'<table class="sum"><colgroup><col style="width: 9%"><col style="width: 11%"></colgroup>'
            f"<thead><tr><th>楼号</th><th>包干干部</th>{head}</tr></thead><tbody>{''.join(rows)}"
            f'<tr class="total"><td>合计</td><td></td>{total}</tr></tbody></table></section>')


def _sheet_html(sheet: Sheet, tabs: _Aligner, clean: _Printable, first: bool) -> str:
    """One building: heading, totals box and QR code, the column header, the residents."""
    e = html.escape
    found_before = len(clean.found)
    title = clean(_title(sheet), "楼号/小区名称")
    cadre = clean(sheet.cadre_name, "包干干部") or "—"
    round_id = clean(sheet.round_id, "核酸轮次") or "无"
    phase = PHASE_LABELS.get(sheet.phase, sheet.phase)
    mask = MASKED_LABEL if sheet.masked else CLEAR_LABEL
    header, _ = tabs.row([h for _, h, _ in PDF_COLUMNS], bold=True)
    rows = _rows_html(sheet, tabs, clean)

    totals_head = "".join(f"<th>{label}</th>" for _, label in TOTAL_LABELS)
    totals = "".join(f"<td>{getattr(sheet.totals, f)}</td>" for f, _ in TOTAL_LABELS)
    asof = f'<p class="asof">{e(_as_of_text(sheet.as_of))}</p>' if sheet.as_of is not None else ""
    qr = f"{_qr_svg(sheet.resident_url)}<br>{QR_CAPTION}" if sheet.resident_url else ""
    missing = ""
    found = clean.found[found_before:]
    if found:
        listed = "；".join(f"{e(f.where)}：{f.code}" for f in found[:40])
        more = f" 等 {len(found)} 处" if len(found) > 40 else ""
        missing = f'<p class="missing">以下字符字库中没有，已印作 [U+编码]，请手工补写：{listed}{more}</p>'
    return (
        f'<section class="sheet{" first" if first else ""}">'
        f'<table class="top"><colgroup><col><col style="width: 32mm"></colgroup><tr><td>'
        f"<h1>{e(title)} 楼组表</h1>"
        f'<p class="meta">包干干部 {e(cadre)}　{e(phase)}　核酸轮次 {e(round_id)}　<span class="mask">{mask}</span></p>'
        f'<p class="meta">生成时间 {_stamp(sheet.generated_at)}</p>{asof}'
        f'<table class="tot"><tr>{totals_head}</tr><tr>{totals}</tr></table>'
        f'</td><td class="qr">{qr}</td></tr></table>{missing}'
        f'<div class="run"><div class="runtitle">{e(title)} 楼组表　{mask}</div><div class="r ch">{header}</div></div>'
        f'<div class="r ch">{header}</div>'
        f'<div class="rows">{rows}</div></section>'
    )


def _rows_html(sheet: Sheet, tabs: _Aligner, clean: _Printable) -> str:
    """A row per floor ("3 楼"), then a block per household with a line per resident (two if a
    value wraps) in one text. Fever residents are bold on a grey band; an unreported report gets
    an empty grey box behind its cell (absolutely positioned at line k: the text is not split)."""
    keys = [k for k, _, _ in PDF_COLUMNS]
    today = _local(sheet.generated_at).date()
    opened = _windows_open(sheet.current_window)
    several = _several_entrances(sheet)
    unreported = REPORT_LABELS[""]
    blank = [""] * len(keys)
    out: list[str] = []
    append = out.append
    for floor, households in sheet.floors():
        append(f'<div class="fl">{floor} 楼</div>')
        for h in households:
            room = _room(h, several)
            where_room = clean(room, "室号")
            if not h.residents:
                text, _ = tabs.row([where_room, "(无登记住户)"] + blank[2:])
                append(f'<div class="hh">{text}</div>')
                continue
            texts, marks, line = [], [], 0
            for i, r in enumerate(h.residents):
                where = f"{room} {r.name}"
                am, pm = _report(r, "morning", opened), _report(r, "afternoon", opened)
                fever = "fever" in (r.morning, r.afternoon)
                values = [
                    where_room if i == 0 else "", clean(r.name, where), SEX_LABELS.get(r.sex, clean(r.sex, where)),
                    "" if r.age is None else str(r.age), clean(r.relation, where), clean(_flags(r.flags), where),
                    clean(r.id_number, where), clean(r.phone, where), am, pm,
                    SAMPLING_LABELS.get(r.sampling, clean(r.sampling, where)),
                    IN_GROUP_MARKS[h.in_group] if i == 0 else "",
                    str(h.open_deliveries) if i == 0 and h.open_deliveries else "",
                    _out_since(r.out_since, today), clean(r.transferred_to, where),
                ]
                if fever:
                    text, height = tabs.row(values, bold=True)
                    texts.append(f'<b class="fv">{text}</b>')
                else:
                    text, height = tabs.row(values)
                    texts.append(text)
                    for value, cls in ((am, "ma"), (pm, "mp")):
                        if value == unreported:
                            marks.append(f'<i class="m {cls} l{line}"></i>' if line < 16 else
                                         f'<i class="m {cls}" style="top: {line * LINE_PT:.2f}pt"></i>')
                line += height
            opening = '<div class="hh hm">' + "".join(marks) if marks else '<div class="hh">'
            append(opening + "\n".join(texts) + "</div>")
    return "".join(out)


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
    return _render(_html(title, doc), css, reuse_css=False)
