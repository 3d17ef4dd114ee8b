"""Supply and rota views from the gateway's read model: the delivery queue in the order the delivery
service ranked it, a household's requests, a volunteer's deliveries in walking order; the rota plan
with names and check-ins, its gaps, and a person's next shifts.

The queue's order and reasons are the delivery service's: each request carries its tier and
reasons (`DeliveryRequested.standing`), and a request is overdue once the service has escalated it
(`DeliveryEscalated`). The gateway only adds how long it has waited. Requests recorded before the
standing was carried have no tier and are listed with everyone else's, by waiting time."""
from __future__ import annotations

from datetime import date, datetime

import asyncpg

from services.gateway.projections.sheet import OPEN
from services.gateway.projections.views import SCHEMA as S

ROWS = f"""
SELECT q.tenant, q.compound, q.request_id, q.building, q.household_id, q.status, q.items, q.category, q.source,
       q.urgency, q.vulnerable, q.requested_at, q.tier, q.why AS reasons, q.why_en AS reasons_en, q.assignee_id,
       q.assignee_kind, q.attempt, q.escalated_to, q.updated_at, h.entrance, h.room, h.floor
FROM {S}.requests q
LEFT JOIN {S}.households h ON h.tenant = q.tenant AND h.compound = q.compound AND h.household_id = q.household_id
WHERE q.tenant = $1 AND q.compound = $2 AND q.status = ANY($3) AND ($4::text IS NULL OR q.building = $4)
"""


def _queued(row: asyncpg.Record, now: datetime) -> dict:
    out = dict(row)
    minutes = max(0, int((now - row["requested_at"]).total_seconds() // 60))
    overdue = row["escalated_to"] is not None
    out.update(age_minutes=minutes, overdue=overdue, stuck=overdue or row["status"] == "failed",
               why=[*row["reasons"], f"已等待 {minutes} 分钟", *(["已超时，已上报包干干部"] if overdue else [])],
               why_en=[*row["reasons_en"], f"waiting {minutes} min",
                       *(["overdue, escalated to the responsible cadre"] if overdue else [])])
    return out


async def queue(conn: asyncpg.Connection, tenant: str, compound: str, now: datetime, *,
                building: str | None = None) -> list[dict]:
    """Open requests, first to carry first: by the tier the delivery service gave them, then by
    request time, then id."""
    rows = await conn.fetch(ROWS + " ORDER BY COALESCE(q.tier, 2), q.requested_at, q.request_id",
                            tenant, compound, list(OPEN), building)
    return [_queued(r, now) for r in rows]


async def mine(conn: asyncpg.Connection, tenant: str, compound: str, assignee: str) -> list[dict]:
    """A volunteer's deliveries in walking order: building, entrance, then floor from the bottom up."""
    rows = await conn.fetch(ROWS + " AND q.assignee_id = $5", tenant, compound, ["assigned", "picked_up"], None,
                            assignee)
    return sorted((dict(r) for r in rows),
                  key=lambda r: (len(r["building"]), r["building"], r["entrance"] or "", r["floor"] or 0, r["room"] or ""))


async def household_requests(conn: asyncpg.Connection, tenant: str, compound: str, household_id: str,
                             limit: int = 10) -> list[dict]:
    rows = await conn.fetch(f"SELECT request_id, items, status, requested_at FROM {S}.requests WHERE tenant = $1 "
                            "AND compound = $2 AND household_id = $3 ORDER BY requested_at DESC LIMIT $4",
                            tenant, compound, household_id, limit)
    return [dict(r) for r in rows]


PLAN = f"""
SELECT x.day, x.post_id, p.building, x.shift, x.people,
  (SELECT array_agg(d.name ORDER BY array_position(x.people, d.person_id)) FROM {S}.duty_people d
    WHERE d.tenant = x.tenant AND d.compound = x.compound AND d.person_id = ANY(x.people)) AS names,
  (SELECT array_agg(c.person_id ORDER BY c.checked_in_at, c.person_id) FROM {S}.checkins c
    WHERE c.tenant = x.tenant AND c.compound = x.compound AND c.post_id = x.post_id AND c.day = x.day
    AND c.shift = x.shift) AS checked_in
FROM {S}.shifts x JOIN {S}.posts p ON p.tenant = x.tenant AND p.compound = x.compound AND p.post_id = x.post_id
WHERE x.tenant = $1 AND x.compound = $2 AND ($3::date IS NULL OR x.day >= $3) AND ($4::date IS NULL OR x.day <= $4)
  AND ($5::text IS NULL OR p.building = $5)
ORDER BY x.day, x.post_id, x.shift
"""


async def plan(conn: asyncpg.Connection, tenant: str, compound: str, first: date | None = None,
               last: date | None = None, *, building: str | None = None) -> list[dict]:
    """Every planned shift with names and check-ins, by day, post and shift."""
    rows = await conn.fetch(PLAN, tenant, compound, first, last, building)
    return [dict(r, names=list(r["names"] or []), checked_in=list(r["checked_in"] or [])) for r in rows]


async def gaps(conn: asyncpg.Connection, tenant: str, compound: str, first: date | None = None) -> dict:
    """Shifts with fewer than two people, post days not planned at all, and sealed buildings
    without a gate post."""
    short = await conn.fetch(
        f"SELECT day, post_id, shift, cardinality(people) AS have FROM {S}.shifts WHERE tenant = $1 AND compound = $2 "
        "AND cardinality(people) < 2 AND ($3::date IS NULL OR day >= $3) ORDER BY day, post_id, shift",
        tenant, compound, first)
    unplanned = await conn.fetch(
        f"SELECT d::date AS day, p.post_id, sh AS shift, 0 AS have FROM {S}.posts p, "
        "generate_series(GREATEST(p.start_day, COALESCE($3::date, p.start_day)), p.end_day, interval '1 day') d, "
        "unnest(p.shifts) sh WHERE p.tenant = $1 AND p.compound = $2 AND NOT EXISTS ("
        f"  SELECT 1 FROM {S}.shifts x WHERE x.tenant = p.tenant AND x.compound = p.compound "
        "   AND x.post_id = p.post_id AND x.day = d::date AND x.shift = sh) ORDER BY 1, 2, 3", tenant, compound, first)
    unposted = await conn.fetch(
        f"SELECT b.building FROM {S}.buildings b WHERE b.tenant = $1 AND b.compound = $2 "
        "AND b.phase IN ('sealed', 'health_monitoring') AND NOT EXISTS ("
        f"  SELECT 1 FROM {S}.posts p WHERE p.tenant = b.tenant AND p.compound = b.compound "
        "   AND p.building = b.building) ORDER BY length(b.building), b.building", tenant, compound)
    return {"short": [dict(r) for r in short], "unplanned": [dict(r) for r in unplanned],
            "buildings_without_post": [r["building"] for r in unposted]}


async def shifts_of(conn: asyncpg.Connection, tenant: str, compound: str, person_id: str, first: date,
                    limit: int = 10) -> list[dict]:
    """A person's next shifts, from `first` on."""
    rows = await conn.fetch(
        f"SELECT x.day, x.shift, x.post_id, p.building FROM {S}.shifts x JOIN {S}.posts p USING (tenant, compound, "
        "post_id) WHERE x.tenant = $1 AND x.compound = $2 AND $3 = ANY(x.people) AND x.day >= $4 "
        "ORDER BY x.day, x.shift LIMIT $5", tenant, compound, person_id, first, limit)
    return [dict(r) for r in rows]
