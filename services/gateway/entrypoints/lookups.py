"""Small reads the command routes need before they send: a scanned sampling code names the resident
and household it was booked for (from the gateway's own read model)."""
from __future__ import annotations

from services.gateway.entrypoints.context import Context
from services.gateway.projections.places import sampling_code


async def booked_code(ctx: Context, tenant: str, round_id: str, code: str) -> dict | None:
    async with ctx.reader([tenant]) as conn:
        return await sampling_code(conn, tenant, round_id, code)
