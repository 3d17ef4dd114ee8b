"""The supply queue: open requests by computed priority with their age and holder; a volunteer's
deliveries in walking order; a town's backlog and oldest request per compound."""
from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from shared.eventlog.subjects import slug
from services.delivery.domain.priority import priority, sort_queue

S = "proj_delivery"
OPEN = ("requested", "accepted", "assigned", "picked_up", "failed")

ROWS = f"""
SELECT q.*, h.entrance, h.room, h.floor FROM {S}.requests q
LEFT JOIN {S}.households h ON h.tenant = q.tenant AND h.compound = q.compound AND h.household_id = q.household_id
WHERE q.tenant = $1 AND q.compound = $2 AND q.status = ANY($3) AND ($4::text IS NULL OR q.building = $4)
"""


async def queue(conn: asyncpg.Connection, tenant: str, compound: str, now: datetime, *, building: str | None = None,
                escalate_after: timedelta = timedelta(hours=2)) -> list[dict]:
    rows = [dict(r) for r in await conn.fetch(ROWS, tenant, compound, list(OPEN), building)]
    out = []
    for row in sort_queue(rows, now, escalate_after):
        p = priority(row, now, escalate_after)
        out.append({**row, "age_minutes": p.age_minutes, "overdue": p.overdue,
                    "why": [zh for zh, _ in p.reasons], "why_en": [en for _, en in p.reasons],
                    "stuck": p.overdue or row["status"] == "failed"})
    return out


async def mine(conn: asyncpg.Connection, tenant: str, compound: str, assignee: str) -> list[dict]:
    """A volunteer's deliveries in walking order: building, entrance, then floor from the bottom up."""
    rows = await conn.fetch(ROWS + " AND q.assignee_id = $5", tenant, compound, ["assigned", "picked_up"], None, assignee)
    return sorted((dict(r) for r in rows),
                  key=lambda r: (len(r["building"]), r["building"], r["entrance"] or "", r["floor"] or 0, r["room"] or ""))


async def backlog(conn: asyncpg.Connection, now: datetime) -> list[dict]:
    rows = await conn.fetch(f"SELECT tenant, compound, count(*) AS open, min(requested_at) AS oldest FROM {S}.requests "
                            "WHERE status = ANY($1) GROUP BY tenant, compound ORDER BY min(requested_at)", list(OPEN))
    return [{**dict(r), "oldest_minutes": int((now - r["oldest"]).total_seconds() // 60)} for r in rows]


async def household_flags(conn: asyncpg.Connection, tenant: str, compound: str, household_id: str) -> tuple[str, ...]:
    flags = await conn.fetchval(f"SELECT array_agg(DISTINCT f) FROM {S}.resident_flags, unnest(flags) AS f "
                                "WHERE tenant = $1 AND compound = $2 AND household_id = $3 AND living",
                                tenant, compound, household_id)
    return tuple(flags or ())


async def building_phase(conn: asyncpg.Connection, tenant: str, compound: str, building: str) -> str | None:
    return await conn.fetchval(f"SELECT phase FROM {S}.building_phase WHERE tenant = $1 AND compound = $2 AND building = $3",
                               tenant, compound, slug(building))


async def purchase_summary(conn: asyncpg.Connection, tenant: str, purchase_id: str) -> dict:
    head = await conn.fetchrow(f"SELECT * FROM {S}.purchases WHERE tenant = $1 AND purchase_id = $2", tenant, purchase_id)
    rows = await conn.fetch(f"SELECT building, count(*) AS households, sum(quantity) AS quantity FROM {S}.purchase_orders "
                            "WHERE tenant = $1 AND purchase_id = $2 GROUP BY building ORDER BY length(building), building",
                            tenant, purchase_id)
    price = head["unit_price_fen"] if head else 0
    buildings = {r["building"]: {"households": r["households"], "quantity": r["quantity"],
                                 "amount_fen": r["quantity"] * price} for r in rows}
    total = {k: sum(b[k] for b in buildings.values()) for k in ("households", "quantity", "amount_fen")}
    return {"purchase": dict(head) if head else None, "buildings": buildings, "total": total}
