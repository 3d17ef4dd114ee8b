"""Small reads the command routes need before they send: a scanned sampling code names the resident
and household it was booked for."""
from __future__ import annotations

from services.gateway.entrypoints.context import Context


async def booked_code(ctx: Context, tenant: str, round_id: str, code: str) -> dict | None:
    async with ctx.reader([tenant]) as conn:
        row = await conn.fetchrow("SELECT resident_id, household_id FROM proj_lockdown.sampling_codes "
                                  "WHERE tenant = $1 AND round_id = $2 AND code = $3", tenant, round_id, code)
    return dict(row) if row else None
