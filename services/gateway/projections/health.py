"""Lockdown and health views from the gateway's read model: a building's current episode, its
playbook tasks (due, overdue), notices, group coverage and who is out at the gate; who is not yet
sampled in a round, fever alerts, and the residents who missed a report window, per responsible
cadre. Every function reads one committee's compound; lists that can be long take a cursor (`after`:
the last row's `cursor`) and a `limit`."""
from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from shared.eventlog.subjects import slug
from shared.events.lockdown import PARTIES
from services.gateway.projections.views import SCHEMA as S

ACTIVE = ("sealed", "health_monitoring")


async def current_episode(conn: asyncpg.Connection, tenant: str, compound: str, building: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT * FROM {S}.episodes WHERE tenant = $1 AND compound = $2 AND building = $3 "
                              "ORDER BY sealed_at DESC LIMIT 1", tenant, compound, building)
    return dict(row) if row else None


async def tasks(conn: asyncpg.Connection, tenant: str, compound: str, now: datetime, *, episode_id: str | None = None,
                open_only: bool = False, after: str | None = None, limit: int = 100) -> list[dict]:
    """Playbook tasks by due time (one episode's, or every episode's of the compound); overdue when
    not done by their due time. The cursor is `<due_at ISO>|<episode_id>|<key>`."""
    rows = await conn.fetch(
        f"SELECT k.*, e.building FROM {S}.tasks k JOIN {S}.episodes e USING (tenant, episode_id) "
        "WHERE k.tenant = $1 AND k.compound = $2 AND ($3::text IS NULL OR k.episode_id = $3) "
        "AND (NOT $4 OR k.completed_at IS NULL) AND ($5::text IS NULL OR "
        "(k.due_at, k.episode_id, k.key) > (split_part($5, '|', 1)::timestamptz, split_part($5, '|', 2), "
        "split_part($5, '|', 3))) ORDER BY k.due_at, k.episode_id, k.key LIMIT $6",
        tenant, compound, episode_id, open_only, after, limit)
    return [{**dict(r), "overdue": r["completed_at"] is None and r["due_at"] < now,
             "cursor": f"{r['due_at'].isoformat()}|{r['episode_id']}|{r['key']}"} for r in rows]


async def notices(conn: asyncpg.Connection, tenant: str, compound: str, building: str | None = None, *,
                  newest_first: bool = False, after: str | None = None, limit: int = 100) -> list[dict]:
    """Notices published to a building (or every building of the compound). Cursor: the notice id
    order within publication time, `<published_at ISO>|<notice_id>`."""
    order, cmp = ("DESC", "<") if newest_first else ("ASC", ">")
    rows = await conn.fetch(
        f"SELECT n.*, e.building FROM {S}.notices n LEFT JOIN {S}.episodes e USING (tenant, episode_id) "
        "WHERE n.tenant = $1 AND n.compound = $2 AND ($3::text IS NULL OR n.building_key = $3) "
        f"AND ($4::text IS NULL OR (n.published_at, n.notice_id) {cmp} (split_part($4, '|', 1)::timestamptz, "
        f"split_part($4, '|', 2))) ORDER BY n.published_at {order}, n.notice_id {order} LIMIT $5",
        tenant, compound, slug(building) if building else None, after, limit)
    return [{**dict(r), "cursor": f"{r['published_at'].isoformat()}|{r['notice_id']}"} for r in rows]


async def coverage(conn: asyncpg.Connection, tenant: str, compound: str, building: str) -> dict:
    """The building group (楼组群): households with nobody in it, service parties missing, its size."""
    members = await conn.fetch(f"SELECT kind, household_id, party FROM {S}.group_members WHERE tenant = $1 "
                               "AND compound = $2 AND building_key = $3", tenant, compound, slug(building))
    households = await conn.fetch(f"SELECT household_id FROM {S}.households WHERE tenant = $1 AND compound = $2 "
                                  "AND building = $3 ORDER BY floor, room", tenant, compound, building)
    present = {m["household_id"] for m in members if m["kind"] == "household"}
    parties = {m["party"] for m in members if m["kind"] == "party"}
    return {"households": len(households), "households_covered": sum(h["household_id"] in present for h in households),
            "households_missing": [h["household_id"] for h in households if h["household_id"] not in present],
            "parties_missing": [p for p in PARTIES if p not in parties], "group_size": len(members)}


async def out_now(conn: asyncpg.Connection, tenant: str, compound: str, now: datetime,
                  building: str | None = None) -> list[dict]:
    """Who is out at the gate now, longest out first; overdue past the episode's time allowed out."""
    rows = await conn.fetch(
        f"SELECT o.resident_id, o.household_id, o.out_since, o.reason, h.building, h.room, r.name, "
        f"e.max_out_minutes FROM {S}.out_now o "
        f"LEFT JOIN {S}.households h ON h.tenant = o.tenant AND h.compound = o.compound AND h.household_id = o.household_id "
        f"LEFT JOIN {S}.residents r ON r.tenant = o.tenant AND r.resident_id = o.resident_id "
        f"LEFT JOIN LATERAL (SELECT max_out_minutes FROM {S}.episodes e WHERE e.tenant = o.tenant "
        "  AND e.compound = o.compound AND e.building_key = o.building_key ORDER BY sealed_at DESC LIMIT 1) e ON true "
        "WHERE o.tenant = $1 AND o.compound = $2 AND ($3::text IS NULL OR o.building_key = $3) ORDER BY o.out_since",
        tenant, compound, slug(building) if building else None)
    return [{**dict(r), "minutes_out": int((now - r["out_since"]).total_seconds() // 60),
             "overdue": r["max_out_minutes"] is not None
             and (now - r["out_since"]).total_seconds() > r["max_out_minutes"] * 60} for r in rows]


UNSAMPLED = f"""
WITH x AS (SELECT compound, buildings FROM {S}.rounds WHERE tenant = $1 AND round_id = $2)
SELECT r.resident_id, r.name, h.household_id, h.building, h.room, h.floor
FROM x, {S}.residents r
JOIN {S}.households h ON h.tenant = r.tenant AND h.compound = r.compound AND h.household_id = r.household_id
WHERE r.tenant = $1 AND r.compound = x.compound AND r.status = 'living' AND h.building = ANY(x.buildings)
  AND NOT EXISTS (SELECT 1 FROM {S}.samples s WHERE s.tenant = r.tenant AND s.round_id = $2
                  AND s.resident_id = r.resident_id)
ORDER BY h.building, h.floor DESC, h.room, r.resident_id
"""


async def unsampled(conn: asyncpg.Connection, tenant: str, round_id: str) -> list[dict]:
    """Residents of the round's buildings neither sampled nor absent with a reason: the live list at
    the testing site, by building, top floor first."""
    return [dict(r) for r in await conn.fetch(UNSAMPLED, tenant, round_id)]


async def fevers(conn: asyncpg.Connection, tenant: str, compound: str, *, since: datetime | None = None,
                 after: str | None = None, limit: int = 100) -> list[dict]:
    """Fever alerts, newest first. Cursor: `<raised_at ISO>|<report_id>`."""
    rows = await conn.fetch(
        f"SELECT f.report_id, f.building, f.household_id, f.resident_id, f.raised_at, r.name FROM {S}.fever_alerts f "
        f"LEFT JOIN {S}.residents r ON r.tenant = f.tenant AND r.resident_id = f.resident_id "
        "WHERE f.tenant = $1 AND f.compound = $2 AND ($3::timestamptz IS NULL OR f.raised_at >= $3) "
        "AND ($4::text IS NULL OR (f.raised_at, f.report_id) < (split_part($4, '|', 1)::timestamptz, "
        "split_part($4, '|', 2))) ORDER BY f.raised_at DESC, f.report_id DESC LIMIT $5",
        tenant, compound, since, after, limit)
    return [{**dict(r), "cursor": f"{r['raised_at'].isoformat()}|{r['report_id']}"} for r in rows]


MISSED = f"""
SELECT r.resident_id, r.name, h.household_id, h.building, h.room, h.floor,
       COALESCE(NULLIF(b.cadre_name, ''), '（未指定）') AS cadre
FROM {S}.episodes e
JOIN {S}.households h ON h.tenant = e.tenant AND h.compound = e.compound AND h.building = e.building
JOIN {S}.residents r ON r.tenant = h.tenant AND r.compound = h.compound AND r.household_id = h.household_id
LEFT JOIN {S}.buildings b ON b.tenant = h.tenant AND b.compound = h.compound AND b.building = h.building
WHERE e.tenant = $1 AND e.compound = $2 AND r.status = 'living'
  AND e.sealed_at <= $3 AND (e.released_at IS NULL OR e.released_at > $3)
  AND (r.transferred_at IS NULL OR r.transferred_at > $4)
  AND NOT EXISTS (SELECT 1 FROM {S}.reports x WHERE x.tenant = r.tenant AND x.resident_id = r.resident_id
                  AND x.window_start = $3)
ORDER BY cadre, length(h.building), h.building, h.floor, h.room, r.resident_id
"""


async def missed_reports(conn: asyncpg.Connection, tenant: str, compound: str, window_start: datetime) -> list[dict]:
    """Residents of buildings under lockdown at `window_start` with no report for that window, grouped
    by the building's responsible cadre: [{cadre, residents: [...]}, ...]. A resident transferred
    away by the end of that day is not expected to report."""
    groups: dict[str, list[dict]] = {}
    for row in await conn.fetch(MISSED, tenant, compound, window_start, window_start + timedelta(days=1)):
        groups.setdefault(row["cadre"], []).append({k: row[k] for k in ("resident_id", "name", "household_id",
                                                                        "building", "room", "floor")})
    return [{"cadre": cadre, "residents": people} for cadre, people in groups.items()]
