"""Reading the three-level net: the big table (compound), medium (building), small (household)."""
from __future__ import annotations

from datetime import date

import asyncpg

from shared.crypto import KeyErased, KeyStore, open_sealed
from shared.events.registry import FLAG_LABELS

TABLE_COLUMNS: list[tuple[str, str]] = [
    ("building", "楼号"), ("entrance", "单元"), ("room", "室号"), ("floor", "楼层"), ("name", "姓名"), ("sex", "性别"),
    ("age", "年龄"), ("id_number", "身份证号"), ("phone", "手机号"), ("relation", "与户主关系"), ("flags", "备注"),
    ("cadre", "包干干部"), ("verified_at", "核对时间"),
]

RESIDENT_ROWS = """
SELECT h.building, h.entrance, h.room, h.floor, h.household_id, r.resident_id, r.name, r.sex, r.birth_year,
       r.id_mask, r.phone_mask, r.id_number_sealed, r.phone_sealed, r.relation, r.flags, r.verified_at,
       b.cadre_name
FROM proj_registry.residents r
JOIN proj_registry.households h ON h.tenant = r.tenant AND h.compound = r.compound AND h.household_id = r.household_id
LEFT JOIN proj_registry.buildings b ON b.tenant = h.tenant AND b.compound = h.compound AND b.building = h.building
WHERE r.tenant = $1 AND r.compound = $2 AND r.status = 'living' AND ($3::text IS NULL OR h.building = $3)
  AND ($4::text IS NULL OR h.household_id = $4)
ORDER BY length(h.building), h.building, h.entrance, h.floor, h.room, r.relation <> '户主', r.birth_year
"""

BIG_TABLE = """
SELECT b.building, b.entrances, b.floors, b.cadre_name,
       (SELECT count(*) FROM proj_registry.households h
         WHERE h.tenant = b.tenant AND h.compound = b.compound AND h.building = b.building) AS households,
       (SELECT count(*) FROM proj_registry.residents r JOIN proj_registry.households h
             ON h.tenant = r.tenant AND h.compound = r.compound AND h.household_id = r.household_id
         WHERE r.tenant = b.tenant AND r.compound = b.compound AND h.building = b.building AND r.status = 'living') AS residents
FROM proj_registry.buildings b WHERE b.tenant = $1 AND b.compound = $2
ORDER BY length(b.building), b.building
"""


async def big_table(conn: asyncpg.Connection, tenant: str, compound: str) -> list[dict]:
    return [dict(r) for r in await conn.fetch(BIG_TABLE, tenant, compound)]


async def resident_rows(conn: asyncpg.Connection, tenant: str, compound: str, *, building: str | None = None,
                        household: str | None = None, clear_with: KeyStore | None = None,
                        today: date | None = None) -> list[dict]:
    """One row per living resident, masked; with `clear_with`, ID numbers and phones in clear."""
    records = await conn.fetch(RESIDENT_ROWS, tenant, compound, building, household)
    keys = await clear_with.find(tenant, [r["resident_id"] for r in records]) if clear_with else {}
    year = (today or date.today()).year
    rows = []
    for r in records:
        row = {k: r[k] for k in ("building", "entrance", "room", "floor", "name", "relation")}
        row.update(sex={"M": "男", "F": "女"}.get(r["sex"], ""), age=year - r["birth_year"],
                   id_number=r["id_mask"], phone=r["phone_mask"], cadre=r["cadre_name"] or "",
                   flags="、".join(FLAG_LABELS[f][0] for f in r["flags"] or [] if f in FLAG_LABELS),
                   verified_at=r["verified_at"].strftime("%Y-%m-%d") if r["verified_at"] else "")
        if clear_with:
            row.update(_clear(keys.get(r["resident_id"]), tenant, r))
        rows.append(row)
    return rows


def _clear(key: bytes | None, tenant: str, r) -> dict:
    if key is None:
        raise KeyErased(f"no key for resident {r['resident_id']}")
    rid = r["resident_id"]
    return {"id_number": open_sealed(key, r["id_number_sealed"], f"{tenant}/{rid}/id_number"),
            "phone": open_sealed(key, r["phone_sealed"], f"{tenant}/{rid}/phone") if r["phone_sealed"] else ""}


async def log_clear_access(conn: asyncpg.Connection, actor: str, tenant: str, what: str, reason: str) -> None:
    await conn.execute("INSERT INTO louzu.pii_access_log (actor, tenant, what, reason) VALUES ($1, $2, $3, $4)",
                       actor, tenant, what, reason)
