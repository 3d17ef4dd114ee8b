"""The phone pages' data: a resident's own household (its people, notices, its supply requests),
and a volunteer's shifts, deliveries in walking order and testing rounds to check off."""
from __future__ import annotations

from services.gateway.domain.access import Principal


async def resident_view(ctx, who: Principal) -> dict | None:
    grant = next((g for g in who.grants if g.role == "resident"), None)
    if grant is None:
        return None
    async with ctx.reader([grant.tenant]) as conn:
        household = await conn.fetchrow(
            "SELECT household_id, building, room FROM proj_roster.households WHERE tenant = $1 AND compound = $2 "
            "AND household_id = $3", grant.tenant, grant.compound, grant.household_id)
        if household is None:
            return None
        people = await conn.fetch(
            "SELECT resident_id, name FROM proj_roster.residents WHERE tenant = $1 AND compound = $2 "
            "AND household_id = $3 AND status = 'living' AND transferred_to = '' ORDER BY relation <> '户主', "
            "birth_year", grant.tenant, grant.compound, grant.household_id)
        notices = await conn.fetch(
            "SELECT n.title_zh, n.text_zh, n.published_at FROM proj_lockdown.notices n WHERE n.tenant = $1 "
            "AND n.compound = $2 AND n.building = $3 ORDER BY n.published_at DESC LIMIT 5",
            grant.tenant, grant.compound, _slug(household["building"]))
        requests = await conn.fetch(
            "SELECT request_id, items, status, requested_at FROM proj_delivery.requests WHERE tenant = $1 "
            "AND compound = $2 AND household_id = $3 ORDER BY requested_at DESC LIMIT 10",
            grant.tenant, grant.compound, grant.household_id)
    return {"household": dict(household), "people": [dict(p) for p in people], "notices": [dict(n) for n in notices],
            "requests": [dict(r) for r in requests]}


def _slug(building: str) -> str:
    from shared.eventlog.subjects import slug
    return slug(building)


async def volunteer_view(ctx, who: Principal) -> dict:
    from services.delivery.projections import queries as delivery
    grants = [g for g in who.grants if g.role == "volunteer"]
    shifts, deliveries, rounds = [], [], []
    for g in grants:
        async with ctx.reader([g.tenant]) as conn:
            shifts += [dict(r, compound=g.compound) for r in await conn.fetch(
                "SELECT x.day, x.shift, x.post_id, p.building FROM proj_roster.shifts x JOIN proj_roster.posts p "
                "USING (tenant, compound, post_id) WHERE x.tenant = $1 AND x.compound = $2 AND $3 = ANY(x.people) "
                "AND x.day >= $4 ORDER BY x.day, x.shift LIMIT 10", g.tenant, g.compound, who.user_id,
                ctx.clock().date())]
            deliveries += [dict(r, tenant=g.tenant) for r in await delivery.mine(conn, g.tenant, g.compound,
                                                                                  who.user_id)]
            rounds += [dict(r, tenant=g.tenant) for r in await conn.fetch(
                "SELECT round_id, compound, buildings, site, starts_at FROM proj_lockdown.rounds WHERE tenant = $1 "
                "AND compound = $2 AND status = 'open' ORDER BY starts_at", g.tenant, g.compound)]
    return {"shifts": shifts, "deliveries": deliveries, "rounds": rounds, "grants": grants}
