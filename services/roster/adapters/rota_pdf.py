"""The gate-post duty rota (门岗值班表) on one A4 landscape page, as a PDF."""
from __future__ import annotations

import html
from datetime import date

from services.roster.adapters import weasy
from services.roster.adapters.fonts import FONT_FAMILY, Printable
from services.roster.adapters.layout import WEEKDAYS, stamp
from services.roster.domain.sheet import RotaCell, RotaSheet

def _day_label(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.month}月{d.day}日 周{WEEKDAYS[d.weekday()]}"


def rota_pdf(rota: RotaSheet) -> bytes:
    """The gate-post duty rota on one A4 landscape page: a row per day, a column per post and
    shift, names in each cell ("张三 / 李四"), shifts with fewer than two people shaded "缺人", and
    the cadres on 24-hour standby per day at the bottom."""
    clean = Printable()
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
  @bottom-right {{ content: "生成时间 {stamp(rota.generated_at)}"; font-size: 7pt; }}
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
    doc = (f"<h1>{e(title)}</h1><p>{span}　共 {gaps} 个班次缺人　生成时间 {stamp(rota.generated_at)}{missing}</p>"
           f'<table><thead><tr><th class="day" rowspan="2">日期</th>{posts_head}</tr><tr>{shifts_head}</tr></thead>'
           f"<tbody>{''.join(body)}</tbody></table>"
           f'<p class="standby"><b>24小时待命</b>　{standby_text}</p>')
    return weasy.render(weasy.page(title, doc), css, cache_css=False)
