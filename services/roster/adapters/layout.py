"""The roster's values as printed, shared by the PDF and the spreadsheets: labels, the totals in
order, times in Shanghai, report and sampling words, room numbers, and one row per resident."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Iterable

from shared.events.registry import FLAG_LABELS
from shared.localtime import SHANGHAI
from services.roster.domain.sheet import (REPORT_LABELS, SAMPLING_LABELS, CompoundSheets, HouseholdLine, ResidentLine,
                                          Sheet, Totals)

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


def local_time(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(SHANGHAI)


def stamp(moment: datetime) -> str:
    return local_time(moment).strftime("%Y-%m-%d %H:%M")


def out_since(moment: datetime | None, today: date) -> str:
    if moment is None:
        return ""
    local = local_time(moment)
    return local.strftime("%H:%M") if local.date() == today else local.strftime("%m-%d %H:%M")


def windows_open(current_window: str) -> tuple[str, ...]:
    return {"morning": ("morning",), "afternoon": ("morning", "afternoon")}.get(current_window, ())


def report_text(r: ResidentLine, window: str, opened: tuple[str, ...]) -> str:
    value = getattr(r, window)
    if value:
        return REPORT_LABELS.get(value, value)
    if not r.present:
        return "—"
    return REPORT_LABELS[""] if window in opened else ""


def flags_text(flags: Iterable[str]) -> str:
    return "、".join(FLAG_LABELS[f][0] if f in FLAG_LABELS else f for f in flags)


def room_label(h: HouseholdLine, several: bool) -> str:
    return f"{h.entrance}-{h.room}" if several and h.entrance else h.room


def several_entrances(sheet: Sheet) -> bool:
    return len({h.entrance for h in sheet.households}) > 1


def totals_text(t: Totals) -> str:
    return "　".join(f"{label} {getattr(t, field)}" for field, label in TOTAL_LABELS)


def title_of(sheet: Sheet) -> str:
    return f"{sheet.compound_name} {sheet.building}号楼"


def as_of_text(as_of: datetime) -> str:
    return f"截至 {stamp(as_of)} (据事件日志重建)"


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
    today = local_time(sheet.generated_at).date()
    opened = windows_open(sheet.current_window)
    several = several_entrances(sheet)
    for floor, households in sheet.floors():
        for h in households:
            for i, r in enumerate(h.residents):
                yield {
                    "floor": floor, "household_id": h.household_id, "room": room_label(h, several), "name": r.name,
                    "sex": SEX_LABELS.get(r.sex, r.sex), "age": "" if r.age is None else r.age,
                    "relation": r.relation, "flags": flags_text(r.flags), "id_number": r.id_number, "phone": r.phone,
                    "morning": report_text(r, "morning", opened), "afternoon": report_text(r, "afternoon", opened),
                    "sampling": SAMPLING_LABELS.get(r.sampling, r.sampling),
                    "in_group": IN_GROUP_WORDS[h.in_group],
                    "open_deliveries": (h.open_deliveries if i == 0 else ""),
                    "out_since": out_since(r.out_since, today), "transferred_to": r.transferred_to,
                }


def sheets_of(doc: Sheet | CompoundSheets) -> tuple[Sheet, ...]:
    if isinstance(doc, CompoundSheets):
        return doc.sheets
    if isinstance(doc, Sheet):
        return (doc,)
    raise TypeError(f"expected a Sheet or CompoundSheets, got {type(doc).__name__}")
