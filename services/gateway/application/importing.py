"""Importing a cadre's sheet through the HTTP API: the registry's own import — every row checked
before anything is written, personal fields sealed at this edge — with the outcome as JSON."""
from __future__ import annotations

from pathlib import Path

from shared.crypto import KeyStore
from services.gateway.domain.access import Principal
from services.registry.adapters.bus import RegistryClient, RegistryUnavailable
from services.registry.application.importing import Importer, check_file


async def import_sheet(ctx, who: Principal, tenant: str, compound: str, path: Path, skip_invalid: bool) -> dict:
    async with ctx.pool.acquire() as conn:
        report = await check_file(path, conn, ctx.index, tenant, compound)
    errors = [{"row": e.row, "column": e.field, "code": e.code, "message_zh": e.message_zh, "message_en": e.message_en}
              for e in report.header_errors + report.errors]
    empty = {"imported": False, "residents_added": 0, "households_added": 0, "buildings_added": 0, "unchanged": 0,
             "errors": errors}
    if not report.ok and not skip_invalid:
        return empty
    try:
        outcome = await Importer(RegistryClient(await ctx.bus_for(tenant), tenant), KeyStore(ctx.pool), ctx.index, tenant, compound,
                                 who.user_id).run(report, skip_invalid=skip_invalid)
    except RegistryUnavailable as exc:
        from shared.errors import DomainError
        raise DomainError("service_unavailable", "登记服务暂不可用，请稍后重试", str(exc)) from None
    errors += [{"row": row, "column": p.field, "code": p.code, "message_zh": p.message_zh, "message_en": p.message_en}
               for row, p in outcome.refused]
    return {"imported": outcome.residents_added > 0 or outcome.unchanged > 0, "residents_added": outcome.residents_added,
            "households_added": outcome.households_added, "buildings_added": outcome.buildings_added,
            "unchanged": outcome.unchanged, "errors": errors}
