"""Assembling roster sheets from the roster read model (the live schema, or a scratch schema rebuilt
from the log for an as-of roster). Totals are counted from the assembled rows, never queried apart."""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

import asyncpg

from shared.crypto import KeyErased, KeyStore, open_sealed
from shared.events.lockdown import DEFAULT_REPORT_TIMES
from shared.localtime import local, todays_report_windows
from services.roster.domain.sheet import CompoundSheets, HouseholdLine, ResidentLine, Sheet, totals_of
from services.roster.projections.tables import OPEN_DELIVERY

HEADER = """
SELECT c.name AS compound_name, c.town, b.building, b.cadre_name, b.phase, b.sealed_at, b.monitoring_ends_at,
       t.report_times
FROM "{s}".buildings b
LEFT JOIN "{s}".compounds c ON c.tenant = b.tenant AND c.compound = b.compound
LEFT JOIN "{s}".towns t ON t.town = COALESCE(b.town, c.town)
WHERE b.tenant = $1 AND b.compound = $2 AND b.building = $3
"""

HOUSEHOLDS = """
SELECT h.household_id, h.entrance, h.room, h.floor,
       EXISTS (SELECT 1 FROM "{s}".group_members g WHERE g.tenant = h.tenant AND g.compound = h.compound
               AND g.household_id = h.household_id) AS in_group,
       (SELECT count(*) FROM "{s}".deliveries d WHERE d.tenant = h.tenant AND d.compound = h.compound
               AND d.household_id = h.household_id AND d.status = ANY($4)) AS open_deliveries
FROM "{s}".households h WHERE h.tenant = $1 AND h.compound = $2 AND h.building = $3
"""

# The building's residents by their households' ids (fetched first): an index look-up per household
# whatever the planner believes, where a join on the building was planned as a nested loop over the
# whole compound when the statistics were stale (after an import: 30 s for a 9-building compound).
RESIDENTS = """
SELECT r.resident_id, r.household_id, r.name, r.sex, r.birth_year, r.relation, r.flags, r.id_mask, r.phone_mask,
       r.id_number_sealed, r.phone_sealed, r.transferred_to, o.since AS out_since,
       am.fever AS am_fever, pm.fever AS pm_fever, s.status AS sampling
FROM "{s}".residents r
LEFT JOIN "{s}".out_now o ON o.tenant = r.tenant AND o.compound = r.compound AND o.resident_id = r.resident_id
LEFT JOIN "{s}".reports am ON am.tenant = r.tenant AND am.resident_id = r.resident_id AND am.window_start = $4
LEFT JOIN "{s}".reports pm ON pm.tenant = r.tenant AND pm.resident_id = r.resident_id AND pm.window_start = $5
LEFT JOIN "{s}".samples s ON s.tenant = r.tenant AND s.round_id = $6 AND s.resident_id = r.resident_id
WHERE r.tenant = $1 AND r.compound = $2 AND r.household_id = ANY($3) AND r.status = 'living'
ORDER BY r.household_id, r.relation <> '户主', r.birth_year, r.resident_id
"""

CURRENT_ROUND = """
SELECT round_id FROM "{s}".rounds WHERE tenant = $1 AND compound = $2 AND $3 = ANY(buildings) AND starts_at <= $4
ORDER BY starts_at DESC, round_id DESC LIMIT 1
"""



class UnknownBuilding(LookupError):
    pass


def windows(now: datetime, report_times: tuple[str, ...]) -> tuple[datetime | None, datetime | None, str]:
    """Today's (Shanghai) morning and afternoon report-window starts, and which is current."""
    starts = todays_report_windows(now, report_times)
    morning = next((s for s in starts if s.hour < 12), None)
    afternoon = next((s for s in starts if s.hour >= 12), None)
    current = ""
    for label, start in (("morning", morning), ("afternoon", afternoon)):
        if start is not None and start <= now:
            current = label
    return morning, afternoon, current


async def building_sheet(conn: asyncpg.Connection, schema: str, tenant: str, compound: str, building: str,
                         now: datetime, *, resident_url: str = "", clear_with: KeyStore | None = None,
                         as_of: datetime | None = None) -> Sheet:
    """The roster of one building as it stands at `now` (the read model must be current to `now`)."""
    s = schema
    head = await conn.fetchrow(HEADER.format(s=s), tenant, compound, building)
    if head is None:
        raise UnknownBuilding(building)
    morning, afternoon, current = windows(now, tuple(head["report_times"] or DEFAULT_REPORT_TIMES))
    round_id = await conn.fetchval(CURRENT_ROUND.format(s=s), tenant, compound, building, now) or ""
    households = await conn.fetch(HOUSEHOLDS.format(s=s), tenant, compound, building, list(OPEN_DELIVERY))
    people = await conn.fetch(RESIDENTS.format(s=s), tenant, compound, [h["household_id"] for h in households],
                              morning, afternoon, round_id)
    keys = await clear_with.find(tenant, [p["resident_id"] for p in people]) if clear_with else {}
    by_household: dict[str, list[ResidentLine]] = defaultdict(list)
    today = local(now).date()
    for p in people:
        by_household[p["household_id"]].append(_line(p, today, bool(round_id), keys if clear_with else None, tenant))
    lines = tuple(HouseholdLine(h["household_id"], h["entrance"], h["room"], h["floor"], h["in_group"],
                                h["open_deliveries"], tuple(by_household.get(h["household_id"], ())))
                  for h in households)
    return Sheet(tenant=tenant, compound=compound, compound_name=head["compound_name"] or compound, building=building,
                 cadre_name=head["cadre_name"], phase=head["phase"], round_id=round_id, current_window=current,
                 generated_at=now, as_of=as_of, masked=clear_with is None, resident_url=resident_url,
                 households=lines, totals=totals_of(lines, current))


def _report(fever) -> str:
    return "" if fever is None else ("fever" if fever else "ok")


def _line(p, today: date, has_round: bool, keys: dict | None, tenant: str) -> ResidentLine:
    id_number, phone = p["id_mask"], p["phone_mask"]
    if keys is not None:
        key = keys.get(p["resident_id"])
        if key is None:
            raise KeyErased(f"no key for resident {p['resident_id']}")
        rid = p["resident_id"]
        id_number = open_sealed(key, p["id_number_sealed"], f"{tenant}/{rid}/id_number")
        phone = open_sealed(key, p["phone_sealed"], f"{tenant}/{rid}/phone") if p["phone_sealed"] else ""
    sampling = (p["sampling"] or "pending") if has_round else ""
    return ResidentLine(resident_id=p["resident_id"], name=p["name"], sex=p["sex"],
                        age=today.year - p["birth_year"] if p["birth_year"] else None, relation=p["relation"],
                        flags=tuple(p["flags"] or ()), id_number=id_number, phone=phone,
                        morning=_report(p["am_fever"]), afternoon=_report(p["pm_fever"]), sampling=sampling,
                        out_since=p["out_since"], transferred_to=p["transferred_to"])


BUILDINGS = """
SELECT b.building, c.name FROM "{s}".buildings b
LEFT JOIN "{s}".compounds c ON c.tenant = b.tenant AND c.compound = b.compound
WHERE b.tenant = $1 AND b.compound = $2
  AND EXISTS (SELECT 1 FROM "{s}".households h WHERE h.tenant = b.tenant AND h.compound = b.compound
              AND h.building = b.building)
ORDER BY length(b.building), b.building
"""


async def compound_sheets(conn: asyncpg.Connection, schema: str, tenant: str, compound: str, now: datetime, *,
                          resident_url=lambda building: "", clear_with: KeyStore | None = None,
                          as_of: datetime | None = None) -> CompoundSheets:
    """Every building with households, in building order, in one document."""
    rows = await conn.fetch(BUILDINGS.format(s=schema), tenant, compound)
    if not rows:
        raise UnknownBuilding(compound)
    sheets = [await building_sheet(conn, schema, tenant, compound, row["building"], now,
                                   resident_url=resident_url(row["building"]), clear_with=clear_with, as_of=as_of)
              for row in rows]
    return CompoundSheets(compound, rows[0]["name"] or compound, now, tuple(sheets))
