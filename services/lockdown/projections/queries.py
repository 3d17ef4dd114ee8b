"""Reading the lockdown views: episodes with countdowns, overdue tasks, notices, group coverage,
who is out now."""
from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.eventlog.subjects import slug
from shared.events.lockdown import PARTIES

S = "proj_lockdown"


async def episodes(conn: asyncpg.Connection, tenant: str, compound: str, *, active_only: bool = False) -> list[dict]:
    rows = await conn.fetch(
        f"SELECT * FROM {S}.episodes WHERE tenant = $1 AND compound = $2 AND (NOT $3 OR phase <> 'released') "
        "ORDER BY sealed_at", tenant, compound, active_only)
    return [dict(r) for r in rows]


async def current_episode(conn: asyncpg.Connection, tenant: str, compound: str, building: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT * FROM {S}.episodes WHERE tenant = $1 AND compound = $2 AND building_number = $3 "
                              "ORDER BY sealed_at DESC LIMIT 1", tenant, compound, building)
    return dict(row) if row else None


def phase_due(episode: dict) -> datetime | None:
    return {"sealed": episode["seal_ends_at"], "health_monitoring": episode["monitoring_ends_at"]}.get(episode["phase"])


async def tasks(conn: asyncpg.Connection, tenant: str, episode_id: str, now: datetime) -> list[dict]:
    rows = await conn.fetch(f"SELECT * FROM {S}.tasks WHERE tenant = $1 AND episode_id = $2 ORDER BY due_at, key",
                            tenant, episode_id)
    return [{**dict(r), "overdue": r["completed_at"] is None and r["due_at"] < now} for r in rows]


async def notices(conn: asyncpg.Connection, tenant: str, compound: str, building: str) -> list[dict]:
    rows = await conn.fetch(f"SELECT n.* FROM {S}.notices n JOIN {S}.episodes e USING (tenant, episode_id) "
                            "WHERE n.tenant = $1 AND n.compound = $2 AND e.building_number = $3 ORDER BY published_at",
                            tenant, compound, building)
    return [dict(r) for r in rows]


async def coverage(conn: asyncpg.Connection, tenant: str, compound: str, building: str) -> dict:
    """Households with nobody in the building group, service parties missing, group size."""
    members = await conn.fetch(f"SELECT kind, household_id, party FROM {S}.group_members m "
                               "WHERE tenant = $1 AND compound = $2 AND building = $3", tenant, compound,
                               slug(building))
    households = await conn.fetch(f"SELECT household_id, room, floor FROM {S}.households "
                                  "WHERE tenant = $1 AND compound = $2 AND building = $3 ORDER BY floor, room",
                                  tenant, compound, building)
    present = {m["household_id"] for m in members if m["kind"] == "household"}
    parties = {m["party"] for m in members if m["kind"] == "party"}
    return {"households": len(households), "households_covered": sum(h["household_id"] in present for h in households),
            "households_missing": [h["household_id"] for h in households if h["household_id"] not in present],
            "parties_missing": [p for p in PARTIES if p not in parties], "group_size": len(members)}


async def out_now(conn: asyncpg.Connection, tenant: str, compound: str, building: str, now: datetime) -> list[dict]:
    rows = await conn.fetch(
        f"SELECT o.*, e.max_out_minutes FROM {S}.out_now o "
        f"JOIN LATERAL (SELECT max_out_minutes FROM {S}.episodes e WHERE e.tenant = o.tenant AND e.compound = o.compound "
        "AND e.building = o.building ORDER BY sealed_at DESC LIMIT 1) e ON true "
        "WHERE o.tenant = $1 AND o.compound = $2 AND o.building = $3 ORDER BY out_since", tenant, compound,
        slug(building))
    return [{**dict(r), "minutes_out": int((now - r["out_since"]).total_seconds() // 60),
             "overdue": (now - r["out_since"]).total_seconds() > r["max_out_minutes"] * 60} for r in rows]
