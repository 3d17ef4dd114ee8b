"""The phone pages' data: a resident's own household (its people, notices, its supply requests),
and a volunteer's shifts, deliveries in walking order and testing rounds to check off — all from
the gateway's own read model (docs/reads.md)."""
from __future__ import annotations

from services.gateway.domain.access import Principal
from services.gateway.projections import health, places, supply
from shared.localtime import local


async def resident_view(ctx, who: Principal) -> dict | None:
    grant = next((g for g in who.grants if g.role == "resident"), None)
    if grant is None:
        return None
    async with ctx.reader([grant.tenant]) as conn:
        household = await places.household(conn, grant.tenant, grant.compound, grant.household_id)
        if household is None:
            return None
        people = await places.people_at_home(conn, grant.tenant, grant.compound, grant.household_id)
        notices = await health.notices(conn, grant.tenant, grant.compound, household["building"], newest_first=True,
                                       limit=5)
        requests = await supply.household_requests(conn, grant.tenant, grant.compound, grant.household_id)
    return {"household": household, "people": people, "notices": notices, "requests": requests}


async def volunteer_view(ctx, who: Principal) -> dict:
    grants = [g for g in who.grants if g.role == "volunteer"]
    shifts, deliveries, rounds = [], [], []
    for g in grants:
        async with ctx.reader([g.tenant]) as conn:
            shifts += [dict(r, compound=g.compound) for r in await supply.shifts_of(
                conn, g.tenant, g.compound, who.user_id, local(ctx.clock()).date())]
            deliveries += [dict(r, tenant=g.tenant) for r in await supply.mine(conn, g.tenant, g.compound, who.user_id)]
            rounds += [dict(r, tenant=g.tenant) for r in await places.open_rounds(conn, g.tenant, g.compound)]
    return {"shifts": shifts, "deliveries": deliveries, "rounds": rounds, "grants": grants}
