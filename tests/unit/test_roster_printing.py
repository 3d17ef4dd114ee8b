"""Printed rosters and the duty rota, checked the way a person would: the PDF is read back with
poppler (pdftotext, pdffonts, pdfinfo, pdftoppm) and looked at as pixels; the workbook is opened
with openpyxl; the CSV with the csv module."""
from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from PIL import Image

from services.roster.adapters import printing
from services.roster.adapters import roster_pdf as roster_pdf_module
from services.roster.adapters.weasy import PaginationDrift
from services.roster.adapters.printing import (roster_csv, roster_pdf, roster_xlsx, rota_pdf, unprintable)
from services.roster.domain.sheet import (CompoundSheets, HouseholdLine, ResidentLine, RotaCell, RotaSheet, Sheet,
                                          totals_of)

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("pdftotext", "pdffonts", "pdftoppm", "pdfinfo", "zbarimg")),
    reason="poppler-utils or zbar-tools not installed (deploy/system-packages.sh)")

GENERATED = datetime(2026, 4, 2, 6, 5, tzinfo=timezone.utc)  # 14:05 in Shanghai
RARE = "\U0002B81D"  # a CJK Extension D character Noto Sans CJK does not have
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹"
GIVEN = ("秀英", "建国", "桂兰", "志强", "丽娟", "明华", "玉珍", "德福", "国平", "红梅", "海燕", "伟", "俊", "晓东",
         "小芳", "文军", "金凤", "雪梅", "春生", "永红", "淑珍", "建华", "秀兰", "国强")


def person(n: int, name: str | None = None, **fields) -> ResidentLine:
    values = dict(resident_id=f"r{n:05d}", name=name or SURNAMES[n % len(SURNAMES)] + GIVEN[(n * 7) % len(GIVEN)],
                  sex="MF"[n % 2], age=20 + (n * 13) % 70, relation="户主" if n % 3 == 0 else ("配偶", "子", "女")[n % 3],
                  flags=(), id_number=f"3101{n % 20 + 1:02d}********{(1000 + n) % 10000:04d}",
                  phone=f"139****{(2000 + n) % 10000:04d}",
                  morning="ok", afternoon="ok", sampling="sampled", out_since=None, transferred_to="")
    values.update(fields)
    return ResidentLine(**values)


def building(number: str, households: int, *, start: int = 0, special: bool = True, window: str = "afternoon",
             as_of: datetime | None = None, masked: bool = True, extra: tuple[HouseholdLine, ...] = ()) -> Sheet:
    lines, n = [], start
    for k in range(households):
        floor, room = k // 4 + 1, f"{k // 4 + 1}{k % 4 + 1:02d}"
        people = []
        for _ in range(1 + k % 3):
            n += 1
            people.append(person(n, afternoon="" if n % 4 == 0 else "ok",
                                 sampling=("sampled", "absent", "pending")[n % 3]))
        lines.append(HouseholdLine(f"{number}-1-{room}", "1", room, floor, k % 5 != 0, int(k % 4 == 1), tuple(people)))
    if special:
        lines[0] = HouseholdLine(lines[0].household_id, "1", lines[0].room, lines[0].floor, True, 2, (
            person(9001, "王秀英", age=81, flags=("elderly_alone", "chronic_illness"), id_number="310101********1234",
                   afternoon="fever"),
            person(9002, "李建国", age=84, flags=("elderly_alone", "chronic_illness", "pregnant", "infant",
                                                 "disability")),
            person(9003, "张桂兰", age=56, out_since=GENERATED - timedelta(minutes=47)),
            person(9004, "刘志强", age=33, morning="", afternoon="", sampling="", transferred_to="临港方舱医院"),
        ))
    lines.extend(extra)
    lines = tuple(lines)
    return Sheet(tenant="t1", compound="yinghuayuan", compound_name="樱花苑", building=number, cadre_name="陈静",
                 phase="sealed", round_id="R-0402", current_window=window, generated_at=GENERATED, as_of=as_of,
                 masked=masked, resident_url=f"https://louzu.example.cn/r/t1/yinghuayuan/{number}", households=lines,
                 totals=totals_of(lines, window))


def names_of(sheet: Sheet) -> list[str]:
    return [r.name for h in sheet.households for r in h.residents]


def run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def pdf_text(path: Path, *, first: int | None = None, last: int | None = None, layout: bool = True) -> str:
    pages = ([f"-f", str(first)] if first else []) + ([f"-l", str(last)] if last else [])
    return run("pdftotext", *(["-layout"] if layout else []), *pages, str(path), "-")


def page_count(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", run("pdfinfo", str(path)), re.M).group(1))


def fonts(path: Path) -> list[tuple[str, str]]:
    rows = run("pdffonts", str(path)).splitlines()[2:]
    return [(row.split()[0], row[row.index("Identity") if "Identity" in row else 0:]) for row in rows]


def words(path: Path, page: int) -> list[tuple[str, float, float, float, float]]:
    """(text, xMin, yMin, xMax, yMax) of every word on a page, in pt."""
    out = run("pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(path), "-")
    return [(html_unescape(m.group(5)), *(float(m.group(i)) for i in range(1, 5))) for m in re.finditer(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', out)]


def html_unescape(text: str) -> str:
    import html
    return html.unescape(text)


@pytest.fixture(scope="module")
def sheet() -> Sheet:
    return building("7", 46)  # ~95 residents: two pages


@pytest.fixture(scope="module")
def sheet_pdf(sheet, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "building.pdf"
    path.write_bytes(roster_pdf(sheet))
    return path


# ---- the building PDF ---------------------------------------------------------------------------

def test_every_resident_the_heading_and_the_generation_time_are_printed(sheet, sheet_pdf):
    text = pdf_text(sheet_pdf)
    found = set(re.findall(r"\S+", text))
    missing = [n for n in names_of(sheet) if n not in found]
    assert not missing, f"names not in the PDF: {missing}"
    assert "樱花苑 7号楼 楼组表" in text
    assert "包干干部 陈静" in text and "封控期" in text and "核酸轮次 R-0402" in text
    assert "生成时间 2026-04-02 14:05" in text  # 06:05 UTC, printed in Shanghai time
    assert "已脱敏" in text and "明文" not in text
    assert "扫码上报体温/求助" in text
    assert "\ufffd" not in text
    assert "310101********1234" in text  # a masked ID printed whole
    assert "临港方舱医院" in text
    assert "13:18" in text  # out since 13:18 (47 minutes before 14:05)
    for label in ("独居老人", "慢性病", "孕妇", "婴幼儿", "残疾"):  # five flags wrap inside their column
        assert label in text


def test_the_totals_box_shows_the_sheet_totals(sheet, sheet_pdf):
    lines = pdf_text(sheet_pdf, first=1, last=1).splitlines()
    labels = [label for _, label in printing.TOTAL_LABELS]
    at = next(i for i, line in enumerate(lines) if all(label in line for label in labels))
    assert re.findall(r"\S+", lines[at]) == labels
    figures = next(line for line in lines[at + 1:] if line.strip())
    expected = [getattr(sheet.totals, field) for field, _ in printing.TOTAL_LABELS]
    assert [int(x) for x in re.findall(r"\d+", figures)] == expected
    assert sheet.totals.fever == 1 and sheet.totals.transferred == 1 and sheet.totals.out_now == 1


def test_only_noto_sans_cjk_is_embedded(sheet_pdf):
    embedded = fonts(sheet_pdf)
    assert embedded, "no fonts in the PDF"
    for name, _ in embedded:
        assert re.fullmatch(r"[A-Z]{6}\+Noto-Sans-CJK-SC(-Bold)?", name), f"fallback font {name}"


def test_page_one_renders_and_is_not_blank(sheet_pdf, tmp_path):
    run("pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(sheet_pdf), str(tmp_path / "p"))
    image = Image.open(next(tmp_path.glob("p*.png"))).convert("L")
    dark = sum(1 for value in image.getdata() if value < 128)
    share = dark / (image.width * image.height)
    assert image.width > 350 and image.height > 500  # A4 portrait at 50 dpi: 413 x 585
    assert 0.01 < share < 0.5, f"{share:.1%} dark pixels"


def test_a_long_roster_spans_pages_with_the_header_title_and_page_numbers_on_each(sheet_pdf):
    pages = page_count(sheet_pdf)
    assert pages > 1
    for page in range(1, pages + 1):
        text = pdf_text(sheet_pdf, first=page, last=page)
        header = next((line for line in text.splitlines() if "身份证号" in line), "")
        for column in ("室号", "姓名", "性别", "年龄", "与户主", "标记", "身份证号", "手机", "上午", "下午", "核酸", "群",
                       "待送", "外出", "转运"):
            assert column in header, f"column {column} missing from the header on page {page}"
        assert f"第{page}页/共{pages}页" in re.sub(r"\s+", "", text)  # printed as "第 1 页 / 共 2 页"
        assert "樱花苑 7号楼" in text


def test_columns_line_up_down_the_page(sheet_pdf):
    """Cells are placed by counting the font's advance widths: every ID number, every phone, every
    report starts at its column's x on every row, under its header."""
    for page in (1, 2):
        ws = words(sheet_pdf, page)
        for pattern, header in ((r"3101\d\d\*{8}\d{4}", "身份证号"), (r"139\*{4}\d{4}", "手机")):
            xs = [x for text, x, *_ in ws if re.fullmatch(pattern, text)]
            head = [x for text, x, *_ in ws if text == header]
            assert len(xs) > 20 and head
            assert max(xs) - min(xs) < 0.5, f"{header} column wanders by {max(xs) - min(xs):.2f} pt on page {page}"
            assert abs(head[0] - min(xs)) < 0.5


def test_the_fever_row_is_shaded(sheet, sheet_pdf, tmp_path):
    """Looked at as pixels: the fever resident's row is darker than a normal row."""
    ws = words(sheet_pdf, 1)
    fever = next(w for w in ws if w[0] == "王秀英")
    normal = next(w for w in ws if w[0] == "张桂兰")
    run("pdftoppm", "-r", "72", "-gray", "-f", "1", "-l", "1", str(sheet_pdf), str(tmp_path / "g"))
    image = Image.open(next(tmp_path.glob("g*.pgm")))

    def mean(word) -> float:  # a strip across the row, right of the text (the report columns)
        _, _, y0, _, y1 = word
        box = image.crop((330, int(y0) + 2, 560, int(y1) - 2))
        data = list(box.getdata())
        return sum(data) / len(data)

    assert mean(fever) < mean(normal) - 25, (mean(fever), mean(normal))


def test_unreported_cells_are_marked(sheet_pdf, tmp_path):
    """"未报" is printed on a grey box: its cell is darker than a reported "正常" in the same column."""
    ws = words(sheet_pdf, 1)
    afternoon = next(w for w in ws if w[0] == "下午")
    late = [w for w in ws if w[0] == "未报" and abs(w[1] - afternoon[1]) < 0.5]
    column = [w for w in ws if w[0] == "正常" and abs(w[1] - afternoon[1]) < 0.5]
    assert late and column
    run("pdftoppm", "-r", "72", "-gray", "-f", "1", "-l", "1", str(sheet_pdf), str(tmp_path / "u"))
    image = Image.open(next(tmp_path.glob("u*.pgm")))

    def lightness(word) -> float:  # the cell around the word, without the word's own ink
        _, x0, y0, x1, y1 = word
        strip = image.crop((int(x1) + 1, int(y0) + 1, int(x1) + 4, int(y1) - 1))
        data = list(strip.getdata())
        return sum(data) / len(data)

    assert lightness(late[0]) < lightness(column[0]) - 30, (lightness(late[0]), lightness(column[0]))


def test_the_qr_code_scans_to_the_buildings_resident_page(sheet, sheet_pdf, tmp_path):
    run("pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(sheet_pdf), str(tmp_path / "q"))
    scanned = run("zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(next(tmp_path.glob("q*.png"))))
    assert scanned.strip() == sheet.resident_url


# ---- the page plan --------------------------------------------------------------------------------

def test_households_stay_whole_and_a_floor_heading_never_ends_a_page(tmp_path):
    big = HouseholdLine("4-1-201", "1", "201", 2, True, 0, tuple(person(5000 + i) for i in range(90)))
    sheet = building("4", 60, special=False, extra=(big,))
    _, pages = roster_pdf_module.plan(sheet)

    def pages_of(h: HouseholdLine) -> set[int]:
        return {n for n, page in enumerate(pages) for r in h.residents for line in page.lines
                if r.id_number in line.text}

    for page in pages:
        assert page.top_lines + len(page.lines) <= roster_pdf_module.LINES_PER_PAGE
        assert page.lines[-1].kind != "floor", "a floor heading at the foot of a page"
        assert any(line.kind == "head" for line in page.lines), "a page without the column header"
    for h in sheet.households:
        assert pages_of(h), f"{h.room} not printed"
        if h is not big:
            assert len(pages_of(h)) == 1, f"{h.room} split over pages {sorted(pages_of(h))}"
    assert len(pages_of(big)) == 2  # 90 people are taller than a page: cut once
    path = tmp_path / "big.pdf"
    path.write_bytes(roster_pdf(sheet))  # WeasyPrint agrees with the plan (else PaginationDrift)
    assert page_count(path) == len(pages)
    text = pdf_text(path)
    assert all(r.id_number in text for h in sheet.households for r in h.residents)


def test_a_page_plan_that_does_not_fit_is_refused_not_misnumbered(monkeypatch):
    """If WeasyPrint's pages ever differed from the plan, page numbers would be wrong: the print
    fails instead. (Planning 90 lines on a page that holds 73 shows the check works.)"""
    monkeypatch.setattr(roster_pdf_module, "LINES_PER_PAGE", 90)
    with pytest.raises(PaginationDrift):
        roster_pdf(building("5", 60, special=False))


# ---- characters the font does not have ----------------------------------------------------------

def test_unprintable_finds_characters_outside_the_font(sheet):
    assert unprintable("王" + RARE + "英") == {RARE}
    assert unprintable("李\ue000") == {"\ue000"}
    assert unprintable("王秀英\t李建国\n") == set()
    everything = "".join(
        r.name + r.relation + r.id_number + r.phone + r.transferred_to for h in sheet.households for r in h.residents)
    assert unprintable(everything) == set()
    assert unprintable("".join(label for _, label in printing.TOTAL_LABELS) + "号楼楼组表包干干部已脱敏明文生成时间") == set()


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture(scope="module")
def rare_pdf(tmp_path_factory) -> tuple[Sheet, Path, list[str]]:
    rare = HouseholdLine("3-1-105", "1", "105", 1, True, 0, (person(7001, "王" + RARE + "英"), person(7002, "李\ue000")))
    sheet = building("3", 3, special=False, extra=(rare,), masked=False,
                     as_of=datetime(2026, 3, 30, 0, 0, tzinfo=timezone.utc))
    path = tmp_path_factory.mktemp("rare") / "rare.pdf"
    collect = Collect()
    logging.getLogger("weasyprint").addHandler(collect)
    try:
        path.write_bytes(roster_pdf(sheet))
    finally:
        logging.getLogger("weasyprint").removeHandler(collect)
    return sheet, path, collect.messages


def test_a_character_outside_the_font_is_printed_as_its_code_and_listed(rare_pdf):
    _, path, warnings = rare_pdf
    assert not warnings, warnings  # e.g. ".notdef glyph rendered": nothing unprintable reached the renderer
    text = pdf_text(path)
    assert "王[U+2B81D]英" in text
    assert "李[U+E000]" in text
    notice = next(line for line in text.splitlines() if "请手工补写" in line)
    assert "U+2B81D" in notice and "U+E000" in notice
    assert "\ufffd" not in text
    for name, _ in fonts(path):
        assert "Noto-Sans-CJK-SC" in name, f"fallback font {name}"


def test_a_rebuilt_clear_print_says_so(rare_pdf):
    text = pdf_text(rare_pdf[1])
    assert "截至 2026-03-30 08:00 (据事件日志重建)" in text
    assert "明文 (已登记)" in text and "已脱敏" not in text


# ---- a whole compound ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def compound() -> CompoundSheets:
    sheets = (building("1", 4, special=False), building("2", 5, start=100, special=False),
              building("12", 6, start=200))
    return CompoundSheets("yinghuayuan", "樱花苑", GENERATED, sheets)


def test_compound_pdf_has_a_cover_then_each_building_on_its_own_pages(compound, tmp_path):
    path = tmp_path / "compound.pdf"
    path.write_bytes(roster_pdf(compound))
    cover = pdf_text(path, first=1, last=1)
    assert "樱花苑 楼组表汇总" in cover
    rows = {line.split()[0]: [int(x) for x in re.findall(r"\b\d+\b", line.split(None, 1)[1])]
            for line in cover.splitlines() if re.match(r"\s*(\d+号楼|合计)\s", line)}
    for s in compound.sheets:
        assert rows[f"{s.building}号楼"] == [getattr(s.totals, f) for f, _ in printing.TOTAL_LABELS]
    assert rows["合计"] == [getattr(compound.totals, f) for f, _ in printing.TOTAL_LABELS]
    pages = page_count(path)
    assert pages == 1 + len(compound.sheets)  # small buildings: one page each
    for page, s in enumerate(compound.sheets, start=2):
        text = pdf_text(path, first=page, last=page)
        assert f"樱花苑 {s.building}号楼 楼组表" in text
        assert all(n in text for n in names_of(s))


# ---- XLSX ---------------------------------------------------------------------------------------

def test_xlsx_keeps_ids_phones_and_formula_like_names_as_text(tmp_path):
    tricky = HouseholdLine("5-1-901", "1", "901", 9, True, 0, (
        person(8001, "=1+2", id_number="310101199003071237", phone="13812345678"),
        person(8002, "@cmd", phone="+8613812345678"), person(8003, "-2+3")))
    sheet = building("5", 6, extra=(tricky,), masked=False)
    path = tmp_path / "r.xlsx"
    path.write_bytes(roster_xlsx(sheet))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["5号楼"]
    ws = wb["5号楼"]
    assert ws.freeze_panes == "A4"
    header = [c.value for c in ws[3]]
    assert header[:4] == ["楼层", "户号", "室号", "姓名"] and "身份证号" in header and "手机" in header
    col = {name: i for i, name in enumerate(header)}
    rows = list(ws.iter_rows(min_row=4))
    assert len(rows) == sheet.totals.residents
    for row in rows:
        for key in ("身份证号", "手机", "姓名"):
            cell = row[col[key]]
            assert cell.value is None or cell.data_type == "s", (key, cell.value, cell.data_type)
    by_name = {row[col["姓名"]].value: row for row in rows}
    for name in ("=1+2", "@cmd", "-2+3"):
        cell = by_name[name][col["姓名"]]
        assert cell.data_type == "s" and cell.value == name
    assert by_name["=1+2"][col["身份证号"]].value == "310101199003071237"
    assert by_name["@cmd"][col["手机"]].value == "+8613812345678"
    assert by_name["王秀英"][col["下午"]].value == "发热"
    assert isinstance(by_name["王秀英"][col["年龄"]].value, int)
    assert "生成时间 2026-04-02 14:05" in ws["A1"].value and "明文 (已登记)" in ws["A1"].value
    totals = ws["A2"].value
    for field, label in printing.TOTAL_LABELS:
        assert f"{label} {getattr(sheet.totals, field)}" in totals


def test_compound_xlsx_has_a_summary_then_one_sheet_per_building(compound, tmp_path):
    path = tmp_path / "c.xlsx"
    path.write_bytes(roster_xlsx(compound))
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["汇总", "1号楼", "2号楼", "12号楼"]
    for s in compound.sheets:
        assert wb[f"{s.building}号楼"].max_row - 3 == s.totals.residents
    summary = wb["汇总"]
    header = [c.value for c in summary[3]]
    residents = header.index("人数")
    assert [summary.cell(row=4 + i, column=residents + 1).value for i in range(3)] == \
        [s.totals.residents for s in compound.sheets]
    assert summary.cell(row=7, column=1).value == "合计"
    assert summary.cell(row=7, column=residents + 1).value == compound.totals.residents


# ---- CSV ----------------------------------------------------------------------------------------

def test_csv_has_a_bom_one_header_and_defused_formulas(compound):
    tricky = HouseholdLine("9-1-101", "1", "101", 1, True, 0, (
        person(8101, "=HYPERLINK(\"x\")"), person(8102, "@SUM(A1)"), person(8103, "+86"), person(8104, "-1"),
        person(8105, "\tTab")))
    doc = CompoundSheets("yinghuayuan", "樱花苑", GENERATED,
                         compound.sheets + (building("9", 1, special=False, extra=(tricky,)),))
    data = roster_csv(doc)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][:5] == ["楼号", "楼层", "户号", "室号", "姓名"]
    assert len(rows) == 1 + doc.totals.residents
    assert {r[0] for r in rows[1:]} == {"1", "2", "12", "9"}
    names = [r[4] for r in rows[1:]]
    for raw in ("=HYPERLINK(\"x\")", "@SUM(A1)", "+86", "-1", "\tTab"):
        assert "'" + raw in names
    assert "王秀英" in names and "310101********1234" in [r[9] for r in rows[1:]]


# ---- the duty rota ------------------------------------------------------------------------------

ROTA_NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴敏", "徐涛", "孙悦", "马超",
              "朱琳", "胡斌", "郭倩")


def test_rota_fits_one_landscape_page_with_names_and_gaps(tmp_path):
    days = tuple((date(2026, 4, 2) + timedelta(days=i)).isoformat() for i in range(14))
    shifts = ("08:00-20:00", "20:00-08:00")
    posts = tuple((f"p{b}", str(b)) for b in (3, 7, 12, 15))
    cells, k = [], 0
    for day in days:
        for post_id, b in posts:
            for shift in shifts:
                k += 1
                people = (ROTA_NAMES[k % 16], ROTA_NAMES[(k + 5) % 16]) if k % 9 else (ROTA_NAMES[k % 16],)
                cells.append(RotaCell(post_id, b, day, shift, () if k % 23 == 0 else people))
    standby = tuple((day, (ROTA_NAMES[i % 16],)) for i, day in enumerate(days))
    rota = RotaSheet("yinghuayuan", "樱花苑", days, shifts, posts, tuple(cells), standby, GENERATED)
    path = tmp_path / "rota.pdf"
    path.write_bytes(rota_pdf(rota))
    assert page_count(path) == 1
    info = run("pdfinfo", str(path))
    width, height = map(float, re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    assert width > height  # landscape
    text = pdf_text(path)
    assert "樱花苑 门岗值班表" in text
    for b in (3, 7, 12, 15):
        assert f"{b}号楼门岗" in text
    assert all(name in text for name in ROTA_NAMES)
    gaps = sum(c.gap for c in cells)
    assert text.count("缺人") >= gaps and f"共 {gaps} 个班次缺人" in text
    assert "24小时待命" in text and "4月2日 周四" in text and "4月15日 周三" in text
    assert "生成时间 2026-04-02 14:05" in text
    for name, _ in fonts(path):
        assert "Noto-Sans-CJK-SC" in name
