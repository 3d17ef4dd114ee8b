"""Reading the duty rota: the pool, the plan, coverage gaps, check-ins and hand-over notes, the
standby list, reinforcement requests, and the one-page printable rota."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import asyncpg

from shared.localtime import SHANGHAI
from services.roster.domain.sheet import RotaCell, RotaSheet



def _day(moment: datetime | None) -> date | None:
    return moment.astimezone(SHANGHAI).date() if moment else None


async def post_defaults(conn: asyncpg.Connection, s: str, tenant: str, compound: str, building: str) -> dict | None:
    """A new gate post's days (the building's current episode) and shifts (its town's policy)."""
    row = await conn.fetchrow(
        f'SELECT b.phase, b.sealed_at, b.monitoring_ends_at, t.gate_shifts FROM "{s}".buildings b '
        f'LEFT JOIN "{s}".compounds c ON c.tenant = b.tenant AND c.compound = b.compound '
        f'LEFT JOIN "{s}".towns t ON t.town = COALESCE(b.town, c.town) '
        'WHERE b.tenant = $1 AND b.compound = $2 AND b.building = $3', tenant, compound, building)
    if row is None:
        return None
    active = row["phase"] in ("sealed", "health_monitoring")
    return {"sealed_on": _day(row["sealed_at"]) if active else None,
            "last_day": _day(row["monitoring_ends_at"]) if active else None,
            "shifts": tuple(row["gate_shifts"]) if row["gate_shifts"] else None}


async def pool(conn: asyncpg.Connection, s: str, tenant: str, compound: str) -> list[dict]:
    rows = await conn.fetch(
        f'SELECT p.person_id, p.name, p.role, p.home_compound, p.available_from, p.available_until, p.unavailable, '
        f'p.withdrawn_from, p.request_id, (SELECT count(DISTINCT (x.post_id, x.day)) FROM "{s}".shifts x '
        '  WHERE x.tenant = p.tenant AND x.compound = p.compound AND p.person_id = ANY(x.people)) AS days_on, '
        f'(SELECT array_agg(a.from_day || \'..\' || a.until_day || \' → \' || a.to_compound) FROM "{s}".duty_away a '
        '  WHERE a.tenant = p.tenant AND a.compound = p.compound AND a.person_id = p.person_id) AS away '
        f'FROM "{s}".duty_people p WHERE p.tenant = $1 AND p.compound = $2 ORDER BY p.enrolled_seq', tenant, compound)
    return [dict(r) for r in rows]


async def plan(conn: asyncpg.Connection, s: str, tenant: str, compound: str, first: date | None = None,
               last: date | None = None) -> list[dict]:
    """Every planned shift with names and check-ins, by day, post and shift."""
    rows = await conn.fetch(
        f'SELECT x.day, x.post_id, p.building, x.shift, x.people, '
        f'  (SELECT array_agg(d.name ORDER BY array_position(x.people, d.person_id)) FROM "{s}".duty_people d '
        '    WHERE d.tenant = x.tenant AND d.compound = x.compound AND d.person_id = ANY(x.people)) AS names, '
        f'  (SELECT array_agg(c.person_id) FROM "{s}".checkins c WHERE c.tenant = x.tenant AND c.compound = x.compound '
        '    AND c.post_id = x.post_id AND c.day = x.day AND c.shift = x.shift) AS checked_in '
        f'FROM "{s}".shifts x JOIN "{s}".posts p ON p.tenant = x.tenant AND p.compound = x.compound '
        '  AND p.post_id = x.post_id '
        'WHERE x.tenant = $1 AND x.compound = $2 AND ($3::date IS NULL OR x.day >= $3) '
        '  AND ($4::date IS NULL OR x.day <= $4) ORDER BY x.day, x.post_id, x.shift', tenant, compound, first, last)
    return [dict(r, names=list(r["names"] or []), checked_in=list(r["checked_in"] or [])) for r in rows]


async def gaps(conn: asyncpg.Connection, s: str, tenant: str, compound: str, first: date | None = None) -> dict:
    """Shifts with fewer than two people, post days not planned at all, and sealed buildings
    without a gate post."""
    short = await conn.fetch(
        f'SELECT day, post_id, shift, cardinality(people) AS have FROM "{s}".shifts WHERE tenant = $1 '
        'AND compound = $2 AND cardinality(people) < 2 AND ($3::date IS NULL OR day >= $3) ORDER BY day, post_id, shift',
        tenant, compound, first)
    unplanned = await conn.fetch(
        f'SELECT d::date AS day, p.post_id, sh AS shift, 0 AS have FROM "{s}".posts p, '
        'generate_series(GREATEST(p.start_day, COALESCE($3::date, p.start_day)), p.end_day, interval \'1 day\') d, '
        'unnest(p.shifts) sh WHERE p.tenant = $1 AND p.compound = $2 AND NOT EXISTS ('
        f'  SELECT 1 FROM "{s}".shifts x WHERE x.tenant = p.tenant AND x.compound = p.compound '
        '   AND x.post_id = p.post_id AND x.day = d::date AND x.shift = sh) ORDER BY 1, 2, 3', tenant, compound, first)
    unposted = await conn.fetch(
        f'SELECT b.building FROM "{s}".buildings b WHERE b.tenant = $1 AND b.compound = $2 '
        "AND b.phase IN ('sealed', 'health_monitoring') AND NOT EXISTS ("
        f'  SELECT 1 FROM "{s}".posts p WHERE p.tenant = b.tenant AND p.compound = b.compound '
        '   AND p.building = b.building) ORDER BY length(b.building), b.building', tenant, compound)
    return {"short": [dict(r) for r in short], "unplanned": [dict(r) for r in unplanned],
            "buildings_without_post": [r["building"] for r in unposted]}


async def checkins(conn: asyncpg.Connection, s: str, tenant: str, compound: str, day: date) -> list[dict]:
    """Who checked in and out on a day, with the hand-over notes (交接)."""
    rows = await conn.fetch(
        f'SELECT c.post_id, c.shift, c.person_id, d.name, c.checked_in_at, c.checked_out_at, c.handover_note '
        f'FROM "{s}".checkins c LEFT JOIN "{s}".duty_people d ON d.tenant = c.tenant AND d.compound = c.compound '
        '  AND d.person_id = c.person_id WHERE c.tenant = $1 AND c.compound = $2 AND c.day = $3 '
        'ORDER BY c.post_id, c.shift, c.checked_in_at', tenant, compound, day)
    return [dict(r) for r in rows]


async def standby(conn: asyncpg.Connection, s: str, tenant: str, compound: str, first: date | None = None,
                  last: date | None = None) -> list[dict]:
    rows = await conn.fetch(
        f'SELECT s.day, s.person_ids, (SELECT array_agg(d.name ORDER BY array_position(s.person_ids, d.person_id)) '
        f'  FROM "{s}".duty_people d WHERE d.tenant = s.tenant AND d.compound = s.compound '
        '  AND d.person_id = ANY(s.person_ids)) AS names '
        f'FROM "{s}".standby s WHERE s.tenant = $1 AND s.compound = $2 AND ($3::date IS NULL OR s.day >= $3) '
        'AND ($4::date IS NULL OR s.day <= $4) ORDER BY s.day', tenant, compound, first, last)
    return [dict(r, names=list(r["names"] or [])) for r in rows]


async def reinforcements(conn: asyncpg.Connection, s: str, *, town: str | None = None, tenant: str | None = None,
                         open_only: bool = False) -> list[dict]:
    """Requests (a town's, or one committee's), oldest first, with who was sent."""
    rows = await conn.fetch(
        f'SELECT r.*, (SELECT array_agg(p.name || \'（\' || p.from_compound || \'）\') FROM "{s}".reinforcement_people p '
        '  WHERE p.tenant = r.tenant AND p.request_id = r.request_id) AS sent_people '
        f'FROM "{s}".reinforcements r WHERE ($1::text IS NULL OR r.town = $1) AND ($2::text IS NULL OR r.tenant = $2) '
        "AND (NOT $3 OR r.status = 'open') ORDER BY r.requested_at", town, tenant, open_only)
    return [dict(r, sent_people=list(r["sent_people"] or [])) for r in rows]


async def rota_sheet(conn: asyncpg.Connection, s: str, tenant: str, compound: str, first: date, last: date,
                     now: datetime) -> RotaSheet:
    """The printable rota of `first`..`last`."""
    name = await conn.fetchval(f'SELECT name FROM "{s}".compounds WHERE tenant = $1 AND compound = $2',
                               tenant, compound) or compound
    posts = await conn.fetch(
        f'SELECT post_id, building, shifts FROM "{s}".posts WHERE tenant = $1 AND compound = $2 '
        'AND end_day >= $3 AND start_day <= $4 ORDER BY post_id', tenant, compound, first, last)
    rows = await plan(conn, s, tenant, compound, first, last)
    names = {p["person_id"]: p["name"] for p in await pool(conn, s, tenant, compound)}
    cells = tuple(RotaCell(r["post_id"], r["building"], r["day"].isoformat(), r["shift"], tuple(r["names"]),
                           tuple(names.get(p, p) for p in r["checked_in"])) for r in rows)
    shifts = tuple(dict.fromkeys(sh for p in posts for sh in p["shifts"]))
    days = tuple((first + timedelta(days=i)).isoformat() for i in range((last - first).days + 1))
    on_standby = tuple((r["day"].isoformat(), tuple(r["names"])) for r in await standby(conn, s, tenant, compound,
                                                                                         first, last))
    return RotaSheet(compound, name, days, shifts, tuple((p["post_id"], p["building"]) for p in posts), cells,
                     on_standby, now)
