"""The town dispatcher's one page: per compound, the sealed buildings with phase and time left,
testing-round progress, unreported temperatures, fever alerts, the delivery backlog and its oldest
request, rota gaps — and the town's open reinforcement requests. Read from the gateway's own read
model (`proj_gateway_views`) inside the dispatcher's tenant transaction (row-level security limits
it to the town's committees)."""
from __future__ import annotations

from datetime import datetime, time

import asyncpg

from shared.localtime import SHANGHAI, open_report_window
from services.gateway.projections.sheet import DEFAULT_REPORT_TIMES, OPEN
from services.gateway.projections.views import SCHEMA as S


COMPOUNDS = f"""
SELECT c.tenant, c.compound, c.name, t.report_times
FROM {S}.compounds c LEFT JOIN {S}.towns t ON t.town = c.town
WHERE c.town = $1 ORDER BY c.name, c.compound
"""
SEALED = f"""
SELECT tenant, compound, building, phase, seal_ends_at, monitoring_ends_at
FROM {S}.episodes WHERE phase IN ('sealed', 'health_monitoring')
ORDER BY tenant, compound, length(building), building
"""
ROUNDS = f"""
SELECT r.tenant, r.compound, r.round_id, r.starts_at,
       (SELECT count(*) FROM {S}.samples s WHERE s.tenant = r.tenant AND s.round_id = r.round_id
         AND s.status = 'sampled') AS sampled,
       (SELECT count(*) FROM {S}.samples s WHERE s.tenant = r.tenant AND s.round_id = r.round_id
         AND s.status = 'absent') AS absent,
       (SELECT count(*) FROM {S}.residents p JOIN {S}.households h ON h.tenant = p.tenant
         AND h.compound = p.compound AND h.household_id = p.household_id
         WHERE p.tenant = r.tenant AND p.compound = r.compound AND h.building = ANY(r.buildings)
         AND p.status = 'living' AND p.transferred_to = '') AS expected
FROM {S}.rounds r WHERE r.status = 'open' ORDER BY r.starts_at
"""
UNREPORTED = f"""
SELECT count(*) AS unreported
FROM {S}.residents p
JOIN {S}.households h ON h.tenant = p.tenant AND h.compound = p.compound AND h.household_id = p.household_id
JOIN {S}.buildings b ON b.tenant = h.tenant AND b.compound = h.compound AND b.building = h.building
WHERE b.phase IN ('sealed', 'health_monitoring') AND p.status = 'living' AND p.transferred_to = ''
  AND p.tenant = $1 AND p.compound = $2
  AND NOT EXISTS (SELECT 1 FROM {S}.reports r WHERE r.tenant = p.tenant AND r.resident_id = p.resident_id
                  AND r.window_start = $3)
"""
FEVERS = f"""
SELECT tenant, compound, count(*) AS fevers FROM {S}.fever_alerts WHERE raised_at >= $1
GROUP BY tenant, compound
"""
BACKLOG = f"""
SELECT tenant, compound, count(*) AS open, min(requested_at) AS oldest FROM {S}.requests
WHERE status = ANY($1) GROUP BY tenant, compound
"""
GAPS = f"""
SELECT tenant, compound, count(*) AS gaps FROM {S}.shifts WHERE day >= $1 AND cardinality(people) < 2
GROUP BY tenant, compound
"""
REINFORCEMENTS = f"""
SELECT r.tenant, r.compound, r.request_id, r.people, r.sent, r.from_day, r.until_day, r.reason, r.requested_at
FROM {S}.reinforcements r WHERE r.town = $1 AND r.status = 'open' ORDER BY r.requested_at
"""


async def town_overview(conn: asyncpg.Connection, town: str, now: datetime) -> dict:
    today = datetime.combine(now.astimezone(SHANGHAI).date(), time(0), SHANGHAI)
    compounds = {(r["tenant"], r["compound"]): {"tenant": r["tenant"], "compound": r["compound"], "name": r["name"],
                                                "sealed": [], "rounds": [], "unreported": 0, "fevers": 0,
                                                "deliveries_open": 0, "oldest_delivery": None, "rota_gaps": 0,
                                                "_times": list(r["report_times"] or DEFAULT_REPORT_TIMES)}
                 for r in await conn.fetch(COMPOUNDS, town)}
    for r in await conn.fetch(SEALED):
        if (c := compounds.get((r["tenant"], r["compound"]))) is not None:
            due = r["seal_ends_at"] if r["phase"] == "sealed" else r["monitoring_ends_at"]
            c["sealed"].append({"building": r["building"], "phase": r["phase"], "due_at": due,
                                "hours_left": round(max(0.0, (due - now).total_seconds()) / 3600, 1)})
    for r in await conn.fetch(ROUNDS):
        if (c := compounds.get((r["tenant"], r["compound"]))) is not None:
            c["rounds"].append({"round_id": r["round_id"], "sampled": r["sampled"], "absent": r["absent"],
                                "expected": r["expected"]})
    for key, c in compounds.items():
        start = open_report_window(now, c.pop("_times"))
        if start is not None and c["sealed"]:
            c["unreported"] = await conn.fetchval(UNREPORTED, *key, start) or 0
    for query, args, fill in ((FEVERS, (today,), lambda c, r: c.update(fevers=r["fevers"])),
                              (BACKLOG, (list(OPEN),), lambda c, r: c.update(deliveries_open=r["open"],
                                                                                 oldest_delivery=r["oldest"])),
                              (GAPS, (today.date(),), lambda c, r: c.update(rota_gaps=r["gaps"]))):
        for r in await conn.fetch(query, *args):
            if (c := compounds.get((r["tenant"], r["compound"]))) is not None:
                fill(c, r)
    requests = [dict(r) for r in await conn.fetch(REINFORCEMENTS, town)]
    return {"town": town, "generated_at": now, "compounds": list(compounds.values()), "reinforcements": requests,
            "totals": totals_of(list(compounds.values()))}


def totals_of(compounds: list[dict]) -> dict:
    """The town's bottom line: compounds, sealed buildings, fevers, open deliveries, rota gaps."""
    return {"compounds": len(compounds), "sealed": sum(len(c["sealed"]) for c in compounds),
            **{k: sum(c[k] for c in compounds) for k in ("fevers", "deliveries_open", "rota_gaps")}}
