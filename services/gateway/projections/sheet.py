"""A building's roster as the committee console and `getBuildingRoster?format=json` show it, read
from the gateway's own read model: households by floor and room, their residents (masked) with age,
flags, this morning's and afternoon's reports, the current testing round's status, who is out at the
gate and who was transferred — and totals counted from those same rows.

The printed roster (PDF, XLSX, CSV, a clear or as-of print) is the roster service's: the gateway asks
it for those. The report windows are the town policy's times read with `shared.localtime`."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from shared.localtime import local, todays_report_windows
from services.gateway.projections.views import SCHEMA as S

DEFAULT_REPORT_TIMES = ("08:00", "14:00")  # until the town sets its policy
OPEN = ("requested", "accepted", "assigned", "picked_up", "failed")  # a request still on its way

HEADER = f"""
SELECT c.name AS compound_name, c.town, b.cadre_name, b.phase, t.report_times
FROM {S}.buildings b
LEFT JOIN {S}.compounds c ON c.tenant = b.tenant AND c.compound = b.compound
LEFT JOIN {S}.towns t ON t.town = c.town
WHERE b.tenant = $1 AND b.compound = $2 AND b.building = $3
"""
HOUSEHOLDS = f"""
SELECT h.household_id, h.entrance, h.room, h.floor,
       EXISTS (SELECT 1 FROM {S}.group_members g WHERE g.tenant = h.tenant AND g.compound = h.compound
               AND g.household_id = h.household_id) AS in_group,
       (SELECT count(*) FROM {S}.requests d WHERE d.tenant = h.tenant AND d.compound = h.compound
               AND d.household_id = h.household_id AND d.status = ANY($4)) AS open_deliveries
FROM {S}.households h WHERE h.tenant = $1 AND h.compound = $2 AND h.building = $3
"""
RESIDENTS = f"""
SELECT r.resident_id, r.household_id, r.name, r.sex, r.birth_year, r.relation, r.flags, r.id_mask, r.phone_mask,
       r.transferred_to, o.out_since, am.fever AS am_fever, pm.fever AS pm_fever, s.status AS sampling
FROM {S}.residents r
JOIN {S}.households h ON h.tenant = r.tenant AND h.compound = r.compound AND h.household_id = r.household_id
LEFT JOIN {S}.out_now o ON o.tenant = r.tenant AND o.compound = r.compound AND o.resident_id = r.resident_id
LEFT JOIN {S}.reports am ON am.tenant = r.tenant AND am.resident_id = r.resident_id AND am.window_start = $4
LEFT JOIN {S}.reports pm ON pm.tenant = r.tenant AND pm.resident_id = r.resident_id AND pm.window_start = $5
LEFT JOIN {S}.samples s ON s.tenant = r.tenant AND s.round_id = $6 AND s.resident_id = r.resident_id
WHERE r.tenant = $1 AND r.compound = $2 AND h.building = $3 AND r.status = 'living'
ORDER BY r.household_id, r.relation <> '户主', r.birth_year, r.resident_id
"""
CURRENT_ROUND = f"""
SELECT round_id FROM {S}.rounds WHERE tenant = $1 AND compound = $2 AND $3 = ANY(buildings) AND starts_at <= $4
ORDER BY starts_at DESC, round_id DESC LIMIT 1
"""
COUNTED = ("households", "residents", "sampled", "absent", "not_sampled", "unreported", "fever",
           "households_not_in_group", "open_deliveries", "out_now", "transferred", "vulnerable")


@dataclass(frozen=True)
class Household:
    household_id: str
    entrance: str
    room: str
    floor: int
    in_group: bool
    open_deliveries: int
    residents: tuple[dict, ...]


@dataclass(frozen=True)
class BuildingSheet:
    tenant: str
    compound: str
    compound_name: str
    building: str
    cadre_name: str
    phase: str
    round_id: str  # the current testing round, "" if none
    current_window: str  # "morning" / "afternoon" / "" (no window open yet today)
    generated_at: datetime
    masked: bool
    resident_url: str
    households: tuple[Household, ...]
    totals: dict = field(default_factory=dict)

    def floors(self) -> list[tuple[int, list[Household]]]:
        """Households by floor (ascending), rooms in order within a floor."""
        by_floor: dict[int, list[Household]] = defaultdict(list)
        for h in self.households:
            by_floor[h.floor].append(h)
        return [(f, sorted(by_floor[f], key=lambda h: (h.entrance, _room_key(h.room)))) for f in sorted(by_floor)]


def _room_key(room: str) -> tuple[int, str]:
    digits = "".join(ch for ch in room if ch.isdigit())
    return (int(digits) if digits else 0, room)


def windows(now: datetime, report_times) -> tuple[datetime | None, datetime | None, str]:
    """Today's (Shanghai) morning and afternoon report-window starts, and which one is current."""
    starts = todays_report_windows(now, report_times)
    morning = next((s for s in starts if s.hour < 12), None)
    afternoon = next((s for s in starts if s.hour >= 12), None)
    current = next((label for label, start in (("afternoon", afternoon), ("morning", morning))
                    if start is not None and start <= now), "")
    return morning, afternoon, current


async def building_sheet(conn: asyncpg.Connection, tenant: str, compound: str, building: str, now: datetime, *,
                         resident_url: str = "") -> BuildingSheet | None:
    """The building's roster as it stands at `now`; None for a building the committee does not have."""
    head = await conn.fetchrow(HEADER, tenant, compound, building)
    if head is None:
        return None
    morning, afternoon, current = windows(now, tuple(head["report_times"] or DEFAULT_REPORT_TIMES))
    round_id = await conn.fetchval(CURRENT_ROUND, tenant, compound, building, now) or ""
    households = await conn.fetch(HOUSEHOLDS, tenant, compound, building, list(OPEN))
    people = await conn.fetch(RESIDENTS, tenant, compound, building, morning, afternoon, round_id)
    by_household: dict[str, list[dict]] = defaultdict(list)
    year = local(now).year
    for p in people:
        by_household[p["household_id"]].append(_line(p, year, bool(round_id)))
    lines = tuple(Household(h["household_id"], h["entrance"], h["room"], h["floor"], h["in_group"],
                            h["open_deliveries"], tuple(by_household.get(h["household_id"], ()))) for h in households)
    return BuildingSheet(tenant, compound, head["compound_name"] or compound, building, head["cadre_name"],
                         head["phase"], round_id, current, now, True, resident_url, lines, totals_of(lines, current))


def _report(fever) -> str:
    return "" if fever is None else ("fever" if fever else "ok")


def _line(p, year: int, has_round: bool) -> dict:
    return {"resident_id": p["resident_id"], "name": p["name"], "sex": p["sex"],
            "age": year - p["birth_year"] if p["birth_year"] else None, "relation": p["relation"],
            "flags": tuple(p["flags"] or ()), "id_number": p["id_mask"], "phone": p["phone_mask"],
            "morning": _report(p["am_fever"]), "afternoon": _report(p["pm_fever"]),
            "sampling": (p["sampling"] or "pending") if has_round else "", "out_since": p["out_since"],
            "transferred_to": p["transferred_to"]}


def totals_of(households: tuple[Household, ...], current_window: str) -> dict:
    """The figures at the top of the sheet, counted from its rows so they cannot disagree with them."""
    counts = dict.fromkeys(COUNTED, 0)
    for h in households:
        counts["households"] += 1
        counts["households_not_in_group"] += not h.in_group
        counts["open_deliveries"] += h.open_deliveries
        for r in h.residents:
            counts["residents"] += 1
            counts["sampled"] += r["sampling"] == "sampled"
            counts["absent"] += r["sampling"] == "absent"
            counts["not_sampled"] += r["sampling"] == "pending"
            counts["fever"] += "fever" in (r["morning"], r["afternoon"])
            counts["out_now"] += r["out_since"] is not None
            counts["transferred"] += bool(r["transferred_to"])
            counts["vulnerable"] += bool(r["flags"])
            if current_window and not r["transferred_to"] and not r[current_window]:
                counts["unreported"] += 1
    return counts
