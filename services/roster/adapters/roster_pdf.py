"""The roster PDF (楼组表): pages planned here, laid out by WeasyPrint, in parallel when printer
processes are running.

Why it is built this way. WeasyPrint lays out and paints every box in Python, at about a
millisecond per line of text and more per block: a roster of 550 residents as an HTML table is
~8,000 cells and ~10 s. So:

- The residents are **text**: one line per resident (`white-space: pre`), every cell starting at
  its column's x. The room before a cell is filled with em and half-em spaces and one short tab
  onto a tab stop (`tab-size`), counted from the advance widths of the same font file Pango uses.
  A value too long for its column wraps onto a further line of the same row.
- Every line is exactly `LINE_PT` tall, so **the pages are planned here**, not found by WeasyPrint:
  a household never splits across pages (unless it is taller than a page), a floor heading never
  ends a page, and each page is one `<section>` holding one block of text. Every page knows its
  own number and the total, so the footer "第 3 页 / 共 12 页" is plain text and
- **pages can be laid out in separate processes** (`start_workers`): the pages are cut into as
  many runs as there are printer processes, each process lays out and paints its run, and the
  runs are joined into one file with pikepdf (qpdf). WeasyPrint's page count for each run is
  checked against the plan (`PaginationDrift`), so a page number can never be wrong.
- Rules, grey bands (column header, floor headings, fever residents) and the grey box behind an
  unreported temperature are **one SVG background per page**, drawn from the same plan, not
  borders and boxes WeasyPrint would have to lay out.

Characters the font does not have are printed as "[U+XXXX]" and listed under the building heading
(see `fonts.Printable`).
"""
from __future__ import annotations

import functools
import hashlib
import html
import io
import math
import os
import re
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Sequence

from services.roster.adapters import weasy
from services.roster.adapters.fonts import FONT_FAMILY, Printable, face
from services.roster.adapters.layout import (CLEAR_LABEL, IN_GROUP_MARKS, MASKED_LABEL, QR_CAPTION, SEX_LABELS,
                                             TOTAL_LABELS, as_of_text, flags_text, local_time, out_since, report_text,
                                             room_label, several_entrances, stamp, title_of, windows_open)
from services.roster.domain.sheet import (PHASE_LABELS, REPORT_LABELS, SAMPLING_LABELS, CompoundSheets, Sheet)

# ---- geometry -------------------------------------------------------------------------------------

PX_PER_PT = 4 / 3             # CSS px (WeasyPrint's unit) per pt
FONT_PX = 8 * PX_PER_PT       # 8 pt body text
LINE_PT = 10.6                # every line of the roster, in every page
GAP_PX = 6                    # at least this much white between a cell's text and the next column
PAD_PX = GAP_PX // 2          # a line's left padding: the text of column 0 starts here
MARGIN_MM = (8, 8, 12, 8)     # top, right, bottom (the footer), left
PAGE_WIDTH_PX = (210 - MARGIN_MM[1] - MARGIN_MM[3]) / 25.4 * 96
PAGE_HEIGHT_PT = (297 - MARGIN_MM[0] - MARGIN_MM[2]) / 25.4 * 72
LINES_PER_PAGE = int((PAGE_HEIGHT_PT - 2) // LINE_PT)  # 2 pt to spare: 73 lines
TOP_LINES, COVER_TOP_LINES, AS_OF_LINES = 10, 4, 3     # heading blocks, in lines (fixed height)
EM_SPACE, EN_SPACE = "\u2003", "\u2002"  # 1 em and 1/2 em in Noto Sans CJK
TAB_PX = 6                    # the tab grid (`tab-size`, whole px, > 1/2 em + SNAP_MIN_PX): columns start on it
SNAP_MIN_PX = 0.3             # a tab covers at least this much (Pango moves a tab to the first stop after x)

# Columns: (key, header, width in px — a multiple of TAB_PX, room for the longest usual value plus
# GAP_PX at 8 pt: a 4-character name, "独居老人、慢性病", an 18-digit ID in clear, an 11-digit
# phone); the last column takes what is left of the page. Longer values wrap inside their column.
PDF_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("room", "室号", 36), ("name", "姓名", 54), ("sex", "性别", 30), ("age", "年龄", 30),
    ("relation", "与户主\n关系", 42), ("flags", "标记", 96), ("id_number", "身份证号", 114),
    ("phone", "手机", 72), ("morning", "上午", 30), ("afternoon", "下午", 30), ("sampling", "核酸", 30),
    ("in_group", "群", 18), ("open_deliveries", "待送", 30), ("out_since", "外出", 36),
    ("transferred_to", "转运", 0),
)
_AM, _PM = [k for k, _, _ in PDF_COLUMNS].index("morning"), [k for k, _, _ in PDF_COLUMNS].index("afternoon")
# The compound's summary page: building, cadre, then the totals.
COVER_COLUMNS: tuple[tuple[str, str, int], ...] = (
    ("building", "楼号", 60), ("cadre", "包干干部", 72),
    *((f, label, 48) for f, label in TOTAL_LABELS[:-1]), (TOTAL_LABELS[-1][0], TOTAL_LABELS[-1][1], 0))

GREY = {"head": "#d9d9d9", "floor": "#ececec", "total": "#ececec", "fever": "#bdbdbd"}
UNREPORTED_GREY = "#c4c4c4"
TABLE = frozenset({"head", "row", "fever", "total"})  # lines between the column rules


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

    @property
    def width(self) -> float:
        return PAD_PX + self.total

    def rule_xs(self) -> list[float]:
        """x of each vertical rule from the line's left edge: the table's edges and between columns."""
        inner = [PAD_PX + s - GAP_PX / 2 for s in self.starts[1:]]
        return [0.3] + inner + [self.width - GAP_PX / 2 - 0.3]

    def cell_box(self, col: int) -> tuple[float, float]:
        """(x, width) in px of the inside of column `col`'s cell, just clear of its rules."""
        return PAD_PX + self.starts[col] - GAP_PX / 2 + 0.7, self.widths[col] - 1.4


_SPECIAL = re.compile("[&<>]")


class _Aligner:
    """Builds rows of text whose cells start at the grid's column starts, wrapping a value too long
    for its column onto further lines of the row. Widths come from the font's advance widths (the
    same file Pango uses), so the position reached after each cell is known to a hundredth of a px;
    `_pad` fills the room up to the next column."""

    def __init__(self, grid: _Grid, font_px: float) -> None:
        self.grid, self.font_px = grid, font_px
        self.face = face(False)

    def wrap(self, text: str, width_px: float) -> list[str]:
        if "\n" in text:
            return [line for part in text.split("\n") for line in self.wrap(part, width_px)]
        face = self.face
        px = self.font_px
        if face.width(text) * px <= width_px:
            return [text]
        lines, line, used, adv = [], [], 0.0, face.advances
        for ch in text:
            w = adv.get(ord(ch), 1.0) * px
            if line and used + w > width_px:
                # break after the last separator of the line if there is one, else here
                cut = max((i for i, c in enumerate(line) if c in " 、,/；"), default=-1)
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

    def row(self, cells: Sequence[str]) -> list[str]:
        """The escaped text of each line of one row (more than one if a value wraps)."""
        grid, width_of, px = self.grid, self.face.width, self.font_px
        columns: list[tuple[tuple[str, float], ...]] = []
        height = 1
        for text, room in zip(cells, grid.widths):
            if not text:
                columns.append(())
                continue
            width = width_of(text) * px
            if width <= room - GAP_PX:
                columns.append(((text, width),))
            else:
                wrapped = tuple((part, width_of(part) * px) for part in self.wrap(text, room - GAP_PX))
                columns.append(wrapped)
                height = max(height, len(wrapped))
        lines = []
        for n in range(height):
            parts, x = [], 0.0  # x in px
            for start, cell in zip(grid.starts, columns):
                if n >= len(cell):
                    continue
                text, width = cell[n]
                if start > x:
                    parts.append(self._pad(round((start - x) / px, 4), px))
                    x = start
                parts.append(html.escape(text, quote=False) if _SPECIAL.search(text) else text)
                x += width
            lines.append("".join(parts))
        return lines

    @staticmethod
    @functools.lru_cache(maxsize=8192)
    def _pad(gap: float, px: float) -> str:
        """What fills `gap` em up to the next column start: whole and half em spaces to within
        half an em of it, then one tab onto the column start, which is on the tab grid. (WeasyPrint
        70 draws a tab 2.4 % wider than Pango lays it out: a tab of at most half an em is off by
        at most 0.13 px, where a tab across the whole gap would shift the columns by pixels.)"""
        halves = max(0, int((gap - SNAP_MIN_PX / px) * 2))
        return EM_SPACE * (halves // 2) + EN_SPACE * (halves % 2) + "\t"


@functools.cache
def _grids() -> tuple[_Aligner, _Aligner]:
    """(residents, summary) aligners: computed once per process (font metrics)."""
    roster = _Grid.of([width for _, _, width in PDF_COLUMNS], PAGE_WIDTH_PX)
    cover = _Grid.of([width for _, _, width in COVER_COLUMNS], PAGE_WIDTH_PX)
    return _Aligner(roster, FONT_PX), _Aligner(cover, FONT_PX)


# ---- the plan: lines, then pages ------------------------------------------------------------------

@dataclass(frozen=True)
class _Line:
    text: str                      # escaped HTML, no newline
    kind: str                      # title | note | head | floor | row | fever | total
    rule_above: bool = False       # a household's (or the totals') first line: a rule above it
    marks: tuple[int, ...] = ()    # columns with an unreported temperature (grey box)


@dataclass
class _Page:
    title: str                     # the footer's title, as printed
    mask: str
    grid: _Grid
    top: str = ""                  # the heading block's HTML (a building's or the summary's first page)
    top_lines: int = 0
    lines: list[_Line] = field(default_factory=list)
    outline: str = ""              # a bookmark to this page
    images: dict[str, bytes] = field(default_factory=dict)  # the heading block's images (the QR code)
    number: int = 0
    of: int = 0


def _unit_lines(lines: list[str], kind: str, *, rule_above: bool = False, marks: tuple[int, ...] = ()) -> list[_Line]:
    return [_Line(text, kind, rule_above and i == 0, marks if i == 0 else ()) for i, text in enumerate(lines)]


def _paginate(units: list[list[_Line]], first_room: int, room: int) -> list[list[_Line]]:
    """Lines onto pages: a unit (a household; a floor heading with the floor's first household)
    moves whole to the next page when it does not fit, and is cut only if taller than a page."""
    room = max(1, room)
    pages: list[list[_Line]] = []
    page: list[_Line] = []
    left = max(0, first_room)
    for unit in units:
        if len(unit) > left and (page or left < room):
            pages.append(page)
            page, left = [], room
        while len(unit) > left:
            page.extend(unit[:left])
            unit = unit[left:]
            pages.append(page)
            page, left = [], room
        page.extend(unit)
        left -= len(unit)
    pages.append(page)
    return pages


def _heading_block(lines: int, inner: str) -> tuple[str, int]:
    return f'<div class="top" style="height: {lines * LINE_PT:.2f}pt">{inner}</div>', lines


def _building_pages(sheet: Sheet, clean: Printable) -> list[_Page]:
    aligner = _grids()[0]
    e = html.escape
    found_before = len(clean.found)
    title = clean(title_of(sheet), "楼号/小区名称")
    cadre = clean(sheet.cadre_name, "包干干部") or "—"
    round_id = clean(sheet.round_id, "核酸轮次") or "无"
    phase = PHASE_LABELS.get(sheet.phase, sheet.phase)
    mask = MASKED_LABEL if sheet.masked else CLEAR_LABEL
    units = _resident_units(sheet, aligner, clean)

    header = _unit_lines(aligner.row([h for _, h, _ in PDF_COLUMNS]), "head")
    notes: list[_Line] = []
    found = clean.found[found_before:]
    if found:
        listed = "；".join(f"{f.where}：{f.code}" for f in found[:40])
        more = f" 等 {len(found)} 处" if len(found) > 40 else ""
        text = f"以下字符字库中没有，已印作 [U+编码]，请手工补写：{listed}{more}"
        notes = [_Line(e(part, quote=False), "note")
                 for part in aligner.wrap(text, aligner.grid.total - GAP_PX)]

    totals_head = "".join(f"<th>{label}</th>" for _, label in TOTAL_LABELS)
    totals = "".join(f"<td>{getattr(sheet.totals, f)}</td>" for f, _ in TOTAL_LABELS)
    asof = f'<p class="asof">{e(as_of_text(sheet.as_of))}</p>' if sheet.as_of is not None else ""
    images = {}
    if sheet.resident_url:
        images[f"louzu:qr/{hashlib.sha256(sheet.resident_url.encode()).hexdigest()[:16]}.png"] = \
            _qr_png(sheet.resident_url)
    qr = "".join(f'<img class="code" src="{name}" alt="">' for name in images) + f"<br>{QR_CAPTION}" if images else ""
    top, top_lines = _heading_block(
        TOP_LINES + (AS_OF_LINES if asof else 0),
        f'<table class="head"><colgroup><col><col style="width: 32mm"></colgroup><tr><td>'
        f"<h1>{e(title)} 楼组表</h1>"
        f'<p class="meta">包干干部 {e(cadre)}　{e(phase)}　核酸轮次 {e(round_id)}　<span class="mask">{mask}</span></p>'
        f'<p class="meta">生成时间 {stamp(sheet.generated_at)}</p>{asof}'
        f'<table class="tot"><tr>{totals_head}</tr><tr>{totals}</tr></table>'
        f'</td><td class="qr">{qr}</td></tr></table>')

    continued = [_Line(f"{e(title)} 楼组表　{mask}", "title")]
    runs = _paginate(units, LINES_PER_PAGE - top_lines - len(notes) - len(header),
                     LINES_PER_PAGE - len(continued) - len(header))
    pages = [_Page(f"{title} 楼组表", mask, aligner.grid, top, top_lines, notes + header + runs[0],
                   outline=f"{title} 楼组表", images=images)]
    pages += [_Page(f"{title} 楼组表", mask, aligner.grid, lines=continued + header + run) for run in runs[1:]]
    return pages


def _resident_units(sheet: Sheet, aligner: _Aligner, clean: Printable) -> list[list[_Line]]:
    """A unit per household (a line per resident, more if a value wraps); a floor's heading line
    is one unit with the floor's first household. Fever residents are on a dark grey band; an
    unreported temperature gets a grey box behind its cell."""
    today = local_time(sheet.generated_at).date()
    opened = windows_open(sheet.current_window)
    several = several_entrances(sheet)
    unreported = REPORT_LABELS[""]
    blank = [""] * len(PDF_COLUMNS)
    units: list[list[_Line]] = []
    for floor, households in sheet.floors():
        heading = [_Line(f"{floor} 楼", "floor")]
        for h in households:
            room = room_label(h, several)
            where_room = clean(room, "室号")
            unit: list[_Line] = []
            if not h.residents:
                unit = _unit_lines(aligner.row([where_room, "(无登记住户)"] + blank[2:]), "row", rule_above=True)
            for i, r in enumerate(h.residents):
                where = f"{room} {r.name}"
                am, pm = report_text(r, "morning", opened), report_text(r, "afternoon", opened)
                fever = "fever" in (r.morning, r.afternoon)
                values = [
                    where_room if i == 0 else "", clean(r.name, where), SEX_LABELS.get(r.sex, clean(r.sex, where)),
                    "" if r.age is None else str(r.age), clean(r.relation, where), clean(flags_text(r.flags), where),
                    clean(r.id_number, where), clean(r.phone, where), am, pm,
                    SAMPLING_LABELS.get(r.sampling, clean(r.sampling, where)),
                    IN_GROUP_MARKS[h.in_group] if i == 0 else "",
                    str(h.open_deliveries) if i == 0 and h.open_deliveries else "",
                    out_since(r.out_since, today), clean(r.transferred_to, where),
                ]
                marks = () if fever else tuple(col for col, value in ((_AM, am), (_PM, pm)) if value == unreported)
                unit += _unit_lines(aligner.row(values), "fever" if fever else "row",
                                    rule_above=i == 0, marks=marks)
            units.append(heading + unit)
            heading = []
    return units


def _cover_pages(doc: CompoundSheets, clean: Printable) -> list[_Page]:
    """The compound's summary: a line per building (cadre and totals), then the totals."""
    aligner = _grids()[1]
    e = html.escape
    masked = all(s.masked for s in doc.sheets)
    mask = MASKED_LABEL if masked else CLEAR_LABEL
    as_of = next((s.as_of for s in doc.sheets if s.as_of is not None), None)
    name = clean(doc.compound_name, "小区名称")
    header = _unit_lines(aligner.row([h for _, h, _ in COVER_COLUMNS]), "head")
    units = [_unit_lines(aligner.row([f"{clean(s.building, '楼号')}号楼", clean(s.cadre_name, "包干干部")] +
                                     [str(getattr(s.totals, f)) for f, _ in TOTAL_LABELS]), "row", rule_above=True)
             for s in doc.sheets]
    units.append(_unit_lines(aligner.row(["合计", ""] + [str(getattr(doc.totals, f)) for f, _ in TOTAL_LABELS]), "total", rule_above=True))
    asof = f'<p class="asof">{e(as_of_text(as_of))}</p>' if as_of else ""
    top, top_lines = _heading_block(
        COVER_TOP_LINES + (AS_OF_LINES if asof else 0),
        f"<h1>{e(name)} 楼组表汇总</h1>"
        f'<p class="meta">共 {len(doc.sheets)} 栋楼　生成时间 {stamp(doc.generated_at)}　'
        f'<span class="mask">{mask}</span></p>{asof}')
    continued = [_Line(f"{e(name)} 楼组表汇总 (续)　{mask}", "title")]
    runs = _paginate(units, LINES_PER_PAGE - top_lines - len(header), LINES_PER_PAGE - len(continued) - len(header))
    title = f"{name} 楼组表汇总"
    pages = [_Page(title, mask, aligner.grid, top, top_lines, header + runs[0], outline=title)]
    pages += [_Page(title, mask, aligner.grid, lines=continued + header + run) for run in runs[1:]]
    return pages


def plan(doc: Sheet | CompoundSheets) -> tuple[str, list[_Page]]:
    """(the document's title, its pages, numbered)."""
    clean = Printable()
    if isinstance(doc, CompoundSheets):
        pages = _cover_pages(doc, clean)
        for sheet in doc.sheets:
            pages += _building_pages(sheet, clean)
        title = f"{doc.compound_name} 楼组表"
    else:
        pages = _building_pages(doc, clean)
        title = f"{title_of(doc)} 楼组表"
    for number, page in enumerate(pages, start=1):
        page.number, page.of = number, len(pages)
    return clean.substitute(title), pages


# ---- a page as HTML and its background as SVG -----------------------------------------------------

def _css_string(text: str) -> str:
    """`text` as a CSS string literal (ASCII punctuation escaped; the result is safe in an HTML attribute once
    escaped as one)."""
    return '"' + "".join(ch if ch.isalnum() or ord(ch) > 127 or ch == " " else f"\\{ord(ch):06x}" for ch in text) + '"'


def _background(page: _Page) -> bytes:
    """The page's rules and grey bands as one SVG, as tall as its block of lines. WeasyPrint parses
    SVG paths in Python, command by command, so everything is as few commands as it can be: a band
    is one stroke as thick as a line, the column rules run the whole table and the floor headings'
    bands are painted over them."""
    grid, lines = page.grid, page.lines
    line_px = LINE_PT * PX_PER_PT
    width, height = grid.width, len(lines) * line_px
    under: dict[str, list[str]] = {}   # bands under the column rules
    over: list[str] = []               # floor headings: over them
    rules: list[str] = []              # horizontal rules
    table = [i for i, line in enumerate(lines) if line.kind in TABLE or line.kind == "floor"]
    notes = [i for i, line in enumerate(lines) if line.kind == "note"]
    previous = ""
    for i, line in enumerate(lines):
        y = i * line_px
        middle = f"{y + line_px / 2:.1f}"
        if line.kind == "floor":
            over.append(f"M0 {middle}h{width:.1f}")
        elif line.kind in GREY:
            under.setdefault(GREY[line.kind], []).append(f"M0 {middle}h{width:.1f}")
        for col in line.marks:
            x, w = grid.cell_box(col)
            under.setdefault(UNREPORTED_GREY, []).append(f"M{x:.1f} {middle}h{w:.1f}")
        opens = (line.kind in ("head", "floor", "total") and previous != line.kind) or line.rule_above
        if opens or (previous == "head" and line.kind != "head"):
            rules.append(f"M0 {y:.1f}h{width:.1f}")
        previous = line.kind
    band = f'fill="none" stroke-width="{line_px:.2f}"'
    parts = [f'<path d="{"".join(d)}" stroke="{color}" {band}/>' for color, d in under.items()]
    if table:
        top, bottom = table[0] * line_px, (table[-1] + 1) * line_px
        columns = "".join(f"M{x:.1f} {top:.1f}V{bottom:.1f}" for x in grid.rule_xs())
        parts.append(f'<path d="{columns}" stroke="#000" stroke-width="0.4" fill="none"/>')
        rules.append(f"M0 {bottom - 0.5:.1f}h{width:.1f}")
    if over:
        parts.append(f'<path d="{"".join(over)}" stroke="{GREY["floor"]}" {band}/>')
    if notes:
        parts.append(f'<rect x="0.5" y="{notes[0] * line_px + 0.5:.1f}" width="{width - 1:.1f}" '
                     f'height="{len(notes) * line_px - 1:.1f}" fill="none" stroke="#000" stroke-width="1" '
                     f'stroke-dasharray="3 2"/>')
    if rules:
        parts.append(f'<path d="{"".join(rules)}" stroke="#000" stroke-width="1.07" fill="none"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.2f}" height="{max(height, 1):.2f}" '
            f'viewBox="0 0 {width:.2f} {max(height, 1):.2f}">{"".join(parts)}</svg>').encode()


def _page_html(page: _Page, first: bool, image: str) -> str:
    folio = f"{page.title}　　第 {page.number} 页 / 共 {page.of} 页　　{page.mask}"
    text = "\n".join(line.text for line in page.lines)
    height = len(page.lines) * LINE_PT * PX_PER_PT
    style = html.escape(f"string-set: folio {_css_string(folio)}", quote=True)
    block = (f'<div class="t" style="background-image: url({image}); background-size: {page.grid.width:.2f}px '
             f'{height:.2f}px">{text}</div>') if page.lines else ""
    return f'<section class="pg{" first" if first else ""}" style="{style}">{page.top}{block}</section>'


def _run_document(title: str, pages: Sequence[_Page]) -> tuple[str, dict[str, bytes]]:
    """A run of pages as one HTML document and the background images it loads."""
    resources, body = {}, []
    for i, page in enumerate(pages):
        image = f"louzu:page/{page.number}"
        resources[image] = _background(page)
        resources.update(page.images)
        body.append(_page_html(page, i == 0, image))
    return weasy.page(title, "".join(body)), resources


@functools.cache
def roster_css() -> str:
    left = MARGIN_MM[3]
    return f"""
@page {{
  size: A4 portrait; margin: {MARGIN_MM[0]}mm {MARGIN_MM[1]}mm {MARGIN_MM[2]}mm {left}mm;
  @bottom-center {{ content: string(folio); font-size: 7.5pt; width: 100%; }}
}}
html {{ font-family: "{FONT_FAMILY}"; font-size: 8pt; line-height: {LINE_PT}pt; color: #000; }}
body {{ margin: 0; }}
* {{ font-weight: normal; }}  /* one face: one font to subset per run of pages */
.pg {{ break-before: page; }}
.pg.first {{ break-before: auto; }}
.top {{ overflow: hidden; }}
h1 {{ font-size: 15pt; line-height: 20pt; margin: 0 0 2pt 0; bookmark-level: none; white-space: nowrap;
      overflow: hidden; text-overflow: ellipsis; }}
p {{ margin: 0 0 1.5pt 0; }}
.meta {{ font-size: 9pt; line-height: 13pt; white-space: nowrap; overflow: hidden; }}
.mask {{ border: 0.8pt solid #000; padding: 0 3pt; }}
.asof {{ font-size: 11pt; line-height: 16pt; border: 1.5pt solid #000; padding: 2pt 5pt;
         margin: 3pt 0; background: #e6e6e6; white-space: nowrap; overflow: hidden; }}
.head {{ width: 100%; table-layout: fixed; border-collapse: collapse; margin: 0; }}
.head > tr > td, .head td {{ vertical-align: top; padding: 0; }}
.qr {{ text-align: center; font-size: 7.5pt; line-height: 9pt; }}
.code {{ width: 26mm; height: 26mm; image-rendering: pixelated; }}
.tot {{ table-layout: fixed; width: 100%; border-collapse: collapse; margin-top: 4pt; }}
.tot td, .tot th {{ border: 0.8pt solid #000; text-align: center; padding: 1pt 0; }}
.tot th {{ font-size: 8pt; background: #e6e6e6; }}
.tot td {{ font-size: 13pt; line-height: 17pt; }}
.t {{ white-space: pre; tab-size: {TAB_PX}px; padding-left: {PAD_PX}px; background-repeat: no-repeat;
      background-position: 0 0; }}
"""


def _qr_png(url: str) -> bytes:
    """The building's QR code as a PNG of one pixel per module, printed 26 mm wide without smoothing
    (`image-rendering: pixelated`): a few hundred bytes, where an SVG of the modules costs WeasyPrint
    thousands of path commands to parse."""
    import qrcode
    from PIL import Image

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(url)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    image = Image.new("1", (len(matrix), len(matrix)), 1)
    image.putdata([0 if dark else 1 for row in matrix for dark in row])
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# ---- rendering: in this process or in printer processes -------------------------------------------

def render_run(title: str, pages: Sequence[_Page]) -> bytes:
    """One run of pages to PDF (in whichever process calls it)."""
    document, resources = _run_document(title, pages)
    return weasy.render(document, roster_css(), resources=resources, expected_pages=len(pages))


def _runs(pages: list[_Page], count: int) -> list[list[_Page]]:
    """The pages cut into at most `count` runs of about equal work: lines, a heading block with its
    QR code and totals counting as 45 lines (measured)."""
    weights = [len(p.lines) + (45 if p.top else 0) for p in pages]
    total = sum(weights)
    count = max(1, min(count, len(pages), total // 150 or 1))  # a short document: one run
    runs: list[list[_Page]] = [[]]
    done = 0
    for page, weight in zip(pages, weights):
        if runs[-1] and done + weight / 2 > total * len(runs) / count and len(runs) < count:
            runs.append([])
        runs[-1].append(page)
        done += weight
    return runs


def _join(parts: list[bytes], outline: list[tuple[str, int]]) -> bytes:
    """Runs of pages into one PDF, with a bookmark per building if there is more than one."""
    if len(parts) == 1 and len(outline) < 2:
        return parts[0]
    import pikepdf

    opened = [pikepdf.open(io.BytesIO(part)) for part in parts]
    try:
        out = opened[0]
        for other in opened[1:]:
            out.pages.extend(other.pages)
        if len(outline) > 1:
            with out.open_outline() as bookmarks:
                bookmarks.root.extend(pikepdf.OutlineItem(title, index) for title, index in outline)
        buffer = io.BytesIO()
        out.save(buffer, compress_streams=True, object_stream_mode=pikepdf.ObjectStreamMode.generate)
        return buffer.getvalue()
    finally:
        for pdf in opened:
            pdf.close()


class _Workers:
    """Printer processes, started once (they import WeasyPrint, read the fonts and render a tiny
    roster before the first real one)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pool: Executor | None = None
        self.count = 0

    def start(self, count: int) -> int:
        import multiprocessing

        with self.lock:
            if self.pool is None and count > 1:
                self.pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"),
                                                initializer=warm_up)
                self.count = count
                for future in [self.pool.submit(os.getpid) for _ in range(count)]:
                    future.result()
            return self.count

    def stop(self) -> None:
        with self.lock:
            pool, self.pool, self.count = self.pool, None, 0
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


_workers = _Workers()


def default_workers() -> int:
    """LOUZU_PRINT_WORKERS, else 2 on a machine with 2 or more cores, else 0 (print in-process)."""
    value = os.environ.get("LOUZU_PRINT_WORKERS", "").strip()
    if value:
        return max(0, int(value))
    return 2 if (os.cpu_count() or 1) >= 2 else 0


def start_workers(count: int | None = None) -> int:
    """Start printer processes for long-running services (the gateway); returns how many run.
    0 or 1: print in the calling process."""
    return _workers.start(default_workers() if count is None else count)


def stop_workers() -> None:
    _workers.stop()


def roster_pdf(doc: Sheet | CompoundSheets) -> bytes:
    """The roster as an A4 portrait PDF in Simplified Chinese: per building a heading, the totals
    box, the building's QR code and the residents floor by floor. A whole compound gets a summary
    page first and each building on new pages."""
    title, pages = plan(doc)
    outline = [(p.outline, p.number - 1) for p in pages if p.outline]
    pool = _workers.pool
    runs = _runs(pages, _workers.count if pool is not None else 1)
    if pool is None or len(runs) == 1:
        return _join([render_run(title, run) for run in runs], outline)
    try:
        futures = [pool.submit(render_run, title, run) for run in runs]
        parts = [future.result() for future in futures]
    except BrokenProcessPool:  # a printer process died (killed, out of memory): print here, start afresh
        _workers.stop()
        parts = [render_run(title, run) for run in runs]
    return _join(parts, outline)


def warm_up() -> None:
    """Import WeasyPrint, start fontconfig, read the font metrics and render a tiny roster, so that
    the first real print of a process is not ~2 s slower than the next ones. Optional."""
    roster_pdf(Sheet(tenant="", compound="", compound_name="", building="0", cadre_name="", phase="", round_id="",
                     current_window="", generated_at=datetime.now(timezone.utc), as_of=None, masked=True,
                     resident_url="", households=()))


__all__ = ["PDF_COLUMNS", "LINES_PER_PAGE", "plan", "render_run", "roster_css", "roster_pdf", "start_workers",
           "stop_workers", "default_workers", "warm_up"]
