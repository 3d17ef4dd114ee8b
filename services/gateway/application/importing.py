"""Importing a cadre's sheet through the HTTP API: the registry's own import, asked over the bus —
the registry checks every row against the residents it holds before anything is written, seals
the personal fields and writes its own events — with the outcome as JSON."""
from __future__ import annotations

from services.gateway.adapters import owners
from services.gateway.domain.access import Principal


async def import_sheet(ctx, who: Principal, tenant: str, compound: str, data: bytes, suffix: str,
                       skip_invalid: bool) -> dict:
    return await owners.import_sheet(await ctx.bus_for(tenant), ctx.nc, tenant=tenant, compound=compound,
                                     actor=who.user_id, data=data, suffix=suffix, skip_invalid=skip_invalid)
