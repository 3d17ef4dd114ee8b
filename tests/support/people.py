"""Valid synthetic ID numbers and phones for tests (GB 11643 check digit)."""
from __future__ import annotations

import csv
from pathlib import Path

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(birth: str, serial: int, area: str = "310107") -> str:
    first = f"{area}{birth}{serial:03d}"
    return first + "10X98765432"[sum(int(d) * w for d, w in zip(first, WEIGHTS)) % 11]


HEADER = ("楼号", "单元", "室号", "姓名", "性别", "身份证号", "手机号", "与户主关系", "备注")


def sheet_rows(count: int, building: str = "38", start_serial: int = 100) -> list[tuple]:
    rows = []
    for i in range(count):
        serial = start_serial + i
        sex = "男" if serial % 2 else "女"
        room = f"{1 + (i // 4) % 6}0{1 + (i // 2) % 2}"
        rows.append((building, "1", room, f"居民{i:03d}", sex, id_number("19550101", serial),
                     f"139{serial:08d}", "户主" if i % 2 == 0 else "配偶", "独居老人" if i % 7 == 0 else ""))
    return rows


def write_sheet(path: Path, rows: list[tuple]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path
