"""Compounds, buildings, households and residents (masked) from the gateway's read model: the lists
the consoles and the API page through, and the look-ups behind the pages (a town's committees, a
household found by room and phone, the resident who goes out at the gate, a sampling code).

Lists are ordered by a key and paged by cursor: pass the last row's `cursor` as `after`."""
from __future__ import annotations

import asyncpg

from services.gateway.projections.views import SCHEMA as S

BUILDING_ORDER = "length(b.building), b.building"


async def compounds(conn: asyncpg.Connection, tenants: list[str], *, after: str | None = None,
                    limit: int = 100) -> list[dict]:
    """The committees' compounds by name. Cursor: `<name>|<tenant>|<compound>`."""
    rows = await conn.fetch(
        f"SELECT tenant, compound, name, town FROM {S}.compounds WHERE tenant = ANY($1) AND ($2::text IS NULL OR "
        "(name, tenant, compound) > (split_part($2, '|', 1), split_part($2, '|', 2), split_part($2, '|', 3))) "
        "ORDER BY name, tenant, compound LIMIT $3", tenants, after, limit)
    return [{**dict(r), "cursor": f"{r['name']}|{r['tenant']}|{r['compound']}"} for r in rows]


async def compound(conn: asyncpg.Connection, tenant: str, compound: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT tenant, compound, name, town FROM {S}.compounds WHERE tenant = $1 "
                              "AND compound = $2", tenant, compound)
    return dict(row) if row else None


async def town_tenants(conn: asyncpg.Connection, town: str) -> set[str]:
    """The committees with a compound in the town (a town dispatcher's reach)."""
    return {r["tenant"] for r in await conn.fetch(f"SELECT DISTINCT tenant FROM {S}.compounds WHERE town = $1", town)}


async def buildings(conn: asyncpg.Connection, tenant: str, compound: str, *, after: str | None = None,
                    limit: int = 500) -> list[dict]:
    """A compound's buildings in number order, with phase, responsible cadre and household count.
    Cursor: the building number (numbers order by length, then text)."""
    rows = await conn.fetch(
        f"SELECT b.building, b.phase, b.cadre_name, c.town, (SELECT count(*) FROM {S}.households h "
        "WHERE h.tenant = b.tenant AND h.compound = b.compound AND h.building = b.building) AS households "
        f"FROM {S}.buildings b LEFT JOIN {S}.compounds c USING (tenant, compound) "
        "WHERE b.tenant = $1 AND b.compound = $2 AND ($3::text IS NULL OR (length(b.building), b.building) > "
        f"(length($3), $3)) ORDER BY {BUILDING_ORDER} LIMIT $4", tenant, compound, after, limit)
    return [{**dict(r), "cursor": r["building"]} for r in rows]


async def households(conn: asyncpg.Connection, tenant: str, compound: str, *, building: str | None = None,
                     after: str | None = None, limit: int = 100) -> list[dict]:
    """Households by id, with how many live there. Cursor: the household id."""
    rows = await conn.fetch(
        f"SELECT h.household_id, h.building, h.entrance, h.room, h.floor, (SELECT count(*) FROM {S}.residents r "
        "WHERE r.tenant = h.tenant AND r.compound = h.compound AND r.household_id = h.household_id "
        f"AND r.status = 'living') AS residents FROM {S}.households h WHERE h.tenant = $1 AND h.compound = $2 "
        "AND ($3::text IS NULL OR h.building = $3) AND ($4::text IS NULL OR h.household_id > $4) "
        "ORDER BY h.household_id LIMIT $5", tenant, compound, building, after, limit)
    return [{**dict(r), "cursor": r["household_id"]} for r in rows]


async def residents(conn: asyncpg.Connection, tenant: str, compound: str, *, household_id: str | None = None,
                    building: str | None = None, after: str | None = None, limit: int = 100) -> list[dict]:
    """Living residents, masked (ID number and phone as masks only). Cursor: the resident id."""
    rows = await conn.fetch(
        f"SELECT r.resident_id, r.household_id, h.building, h.room, r.name, r.sex, r.birth_year, r.relation, r.flags, "
        f"r.id_mask, r.phone_mask, r.transferred_to FROM {S}.residents r JOIN {S}.households h "
        "ON h.tenant = r.tenant AND h.compound = r.compound AND h.household_id = r.household_id "
        "WHERE r.tenant = $1 AND r.compound = $2 AND r.status = 'living' AND ($3::text IS NULL OR r.household_id = $3) "
        "AND ($4::text IS NULL OR h.building = $4) AND ($5::text IS NULL OR r.resident_id > $5) "
        "ORDER BY r.resident_id LIMIT $6", tenant, compound, household_id, building, after, limit)
    return [{**dict(r), "flags": list(r["flags"]), "cursor": r["resident_id"]} for r in rows]


async def household(conn: asyncpg.Connection, tenant: str, compound: str, household_id: str) -> dict | None:
    row = await conn.fetchrow(f"SELECT household_id, building, entrance, room, floor FROM {S}.households "
                              "WHERE tenant = $1 AND compound = $2 AND household_id = $3", tenant, compound, household_id)
    return dict(row) if row else None


async def people_at_home(conn: asyncpg.Connection, tenant: str, compound: str, household_id: str) -> list[dict]:
    """The household's people who live there now (not moved out, not transferred), head first."""
    rows = await conn.fetch(
        f"SELECT resident_id, name FROM {S}.residents WHERE tenant = $1 AND compound = $2 AND household_id = $3 "
        "AND status = 'living' AND transferred_to = '' ORDER BY relation <> '户主', birth_year, resident_id",
        tenant, compound, household_id)
    return [dict(r) for r in rows]


async def household_by_phone(conn: asyncpg.Connection, tenant: str, compound: str, building: str, room: str,
                             phone_last4: str) -> str | None:
    """The household in that room with a living resident whose phone ends so (the QR code sign-in)."""
    return await conn.fetchval(
        f"SELECT h.household_id FROM {S}.households h JOIN {S}.residents r USING (tenant, compound, household_id) "
        "WHERE h.tenant = $1 AND h.compound = $2 AND h.building = $3 AND h.room = $4 AND r.status = 'living' "
        "AND r.phone_mask <> '' AND right(r.phone_mask, 4) = $5 ORDER BY h.household_id LIMIT 1",
        tenant, compound, building, room, phone_last4)


async def resident_in_room(conn: asyncpg.Connection, tenant: str, compound: str, building: str,
                           room: str) -> dict | None:
    """The resident the gate log records for a room: the head of household first."""
    row = await conn.fetchrow(
        f"SELECT r.resident_id, r.household_id FROM {S}.residents r JOIN {S}.households h "
        "USING (tenant, compound, household_id) WHERE r.tenant = $1 AND r.compound = $2 AND h.building = $3 "
        "AND h.room = $4 AND r.status = 'living' ORDER BY r.relation <> '户主', r.resident_id LIMIT 1",
        tenant, compound, building, room)
    return dict(row) if row else None


async def open_rounds(conn: asyncpg.Connection, tenant: str, compound: str) -> list[dict]:
    rows = await conn.fetch(f"SELECT round_id, compound, buildings, site, starts_at FROM {S}.rounds WHERE tenant = $1 "
                            "AND compound = $2 AND status = 'open' ORDER BY starts_at, round_id", tenant, compound)
    return [dict(r) for r in rows]


async def sampling_code(conn: asyncpg.Connection, tenant: str, round_id: str, code: str) -> dict | None:
    """Whose sampling code this is in the round (the check-off by scanning)."""
    row = await conn.fetchrow(f"SELECT resident_id, household_id FROM {S}.sampling_codes WHERE tenant = $1 "
                              "AND round_id = $2 AND code = $3", tenant, round_id, code)
    return dict(row) if row else None
