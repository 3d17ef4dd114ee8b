"""Health views: who has not reported in a window (per responsible cadre), fever alerts, who is not
yet sampled (by floor and household), the reconciliation counts, residents flagged by a positive
pool, transfers and disinfections."""
from __future__ import annotations

from datetime import datetime

import asyncpg

S = "proj_lockdown"

ROUND_ROSTER = f"""
WITH r AS (SELECT buildings FROM {S}.rounds WHERE tenant = $1 AND round_id = $2)
SELECT res.resident_id, res.name, h.household_id, h.building, h.room, h.floor, s.status, s.method, s.tube_id, s.reason
FROM r, {S}.residents res
JOIN {S}.households h ON h.tenant = res.tenant AND h.compound = res.compound AND h.household_id = res.household_id
LEFT JOIN {S}.samples s ON s.tenant = res.tenant AND s.round_id = $2 AND s.resident_id = res.resident_id
WHERE res.tenant = $1 AND res.status = 'living' AND h.building = ANY(r.buildings)
ORDER BY h.building, h.floor DESC, h.room, res.resident_id
"""


async def round_roster(conn: asyncpg.Connection, tenant: str, round_id: str) -> list[dict]:
    return [dict(r) for r in await conn.fetch(ROUND_ROSTER, tenant, round_id)]


async def unsampled(conn: asyncpg.Connection, tenant: str, round_id: str) -> list[dict]:
    """Residents neither sampled nor absent with a reason: the live list at the testing site."""
    return [r for r in await round_roster(conn, tenant, round_id) if r["status"] is None]


async def reconcile(conn: asyncpg.Connection, tenant: str, round_id: str) -> tuple[dict[str, int], list[tuple[str, str]]]:
    roster = await round_roster(conn, tenant, round_id)
    counts = {"sampled": sum(r["status"] == "sampled" for r in roster),
              "absent": sum(r["status"] == "absent" for r in roster)}
    return counts, [(r["resident_id"], r["household_id"]) for r in roster if r["status"] is None]


async def positive_residents(conn: asyncpg.Connection, tenant: str, round_id: str) -> list[dict]:
    rows = await conn.fetch(
        f"SELECT s.resident_id, s.household_id, s.tube_id, res.name FROM {S}.samples s "
        f"JOIN {S}.tube_results t USING (tenant, round_id, tube_id) "
        f"LEFT JOIN {S}.residents res ON res.tenant = s.tenant AND res.resident_id = s.resident_id "
        "WHERE s.tenant = $1 AND s.round_id = $2 AND t.positive ORDER BY s.household_id, s.resident_id", tenant, round_id)
    return [dict(r) for r in rows]


MISSED = f"""
SELECT res.resident_id, res.name, h.household_id, h.building, h.room, h.floor,
       COALESCE(c.cadre_name, '（未指定）') AS cadre
FROM {S}.episodes e
JOIN {S}.households h ON h.tenant = e.tenant AND h.compound = e.compound AND h.building = e.building_number
JOIN {S}.residents res ON res.tenant = h.tenant AND res.compound = h.compound AND res.household_id = h.household_id
LEFT JOIN {S}.cadres c ON c.tenant = h.tenant AND c.compound = h.compound AND c.building = h.building
WHERE e.tenant = $1 AND e.compound = $2 AND res.status = 'living'
  AND e.sealed_at <= $3 AND (e.released_at IS NULL OR e.released_at > $3)
  AND NOT EXISTS (SELECT 1 FROM {S}.transfers t WHERE t.tenant = res.tenant AND t.resident_id = res.resident_id
                  AND t.transferred_at <= $3 + interval '1 day')
  AND NOT EXISTS (SELECT 1 FROM {S}.reports r WHERE r.tenant = res.tenant AND r.resident_id = res.resident_id
                  AND r.window_start = $3)
ORDER BY cadre, h.building, h.floor, h.room
"""


async def missed_reports(conn: asyncpg.Connection, tenant: str, compound: str, window_start: datetime) -> dict[str, list]:
    """Residents of buildings under lockdown with no report in the window, per responsible cadre."""
    out: dict[str, list] = {}
    for row in await conn.fetch(MISSED, tenant, compound, window_start):
        out.setdefault(row["cadre"], []).append({k: row[k] for k in ("resident_id", "name", "household_id", "building",
                                                                     "room", "floor")})
    return out


async def fever_alerts(conn: asyncpg.Connection, tenant: str, compound: str) -> list[dict]:
    rows = await conn.fetch(f"SELECT f.*, res.name FROM {S}.fever_alerts f LEFT JOIN {S}.residents res "
                            "USING (tenant, resident_id) WHERE f.tenant = $1 AND f.compound = $2 ORDER BY raised_at DESC",
                            tenant, compound)
    return [dict(r) for r in rows]


async def transfers(conn: asyncpg.Connection, tenant: str, compound: str) -> list[dict]:
    return [dict(r) for r in await conn.fetch(f"SELECT * FROM {S}.transfers WHERE tenant = $1 AND compound = $2 "
                                              "ORDER BY transferred_at", tenant, compound)]


async def disinfections(conn: asyncpg.Connection, tenant: str, compound: str) -> list[dict]:
    return [dict(r) for r in await conn.fetch(f"SELECT * FROM {S}.disinfections WHERE tenant = $1 AND compound = $2 "
                                              "ORDER BY disinfected_at", tenant, compound)]
