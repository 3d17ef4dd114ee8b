"""The HTTP API's reads under /api/v1: lists and views the consoles show, each checked against the
signed-in principal's reach first (one it does not reach is a 404, as if it did not exist). They read
the gateway's own read model; a printed roster is asked of the roster service (docs/reads.md)."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, File, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from shared.commands.base import Building, Day, Moment, RoundId, Token
from shared.errors import Problem
from shared.links import building_url
from services.gateway.entrypoints.common import C, ERRORS, Ctx, Who, plain, reach, ReadAfter
from services.gateway.entrypoints.limits import read_upload
from services.gateway.entrypoints.problems import ApiProblem, not_found
from services.gateway.projections import health, supply
from services.gateway.projections.overview import town_overview as overview
from services.gateway.projections.sheet import building_sheet

router = APIRouter(prefix="/api/v1", responses=ERRORS, dependencies=[ReadAfter])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(C + "/rounds/{round_id}/unsampled", operation_id="listUnsampled", tags=["lockdown"])
async def list_unsampled(tenant: Token, compound: Token, round_id: RoundId, who: Who, ctx: Ctx) -> list[dict]:
    reach(who, "listUnsampled", tenant, compound)
    async with ctx.reader([tenant]) as conn:
        rows = await health.unsampled(conn, tenant, round_id)
    await ctx.access.audit(who, tenant, compound, what=f"unsampled {round_id}", operation="listUnsampled",
                           why="testing check-off")
    return [plain(r) for r in rows]


@router.get(C + "/deliveries", operation_id="getDeliveryQueue", tags=["delivery"])
async def delivery_queue(tenant: Token, compound: Token, who: Who, ctx: Ctx, building: Annotated[Building | None, Query()] = None) -> list[dict]:
    reach(who, "getDeliveryQueue", tenant, compound)
    async with ctx.reader([tenant]) as conn:
        return [plain(r) for r in await supply.queue(conn, tenant, compound, ctx.clock(), building=building)]


@router.get(C + "/buildings/{building}/roster", operation_id="getBuildingRoster", tags=["roster"],
            responses={200: {"content": {"application/json": {}, "application/pdf": {}, "text/csv": {},
                                         XLSX: {}}}})
async def building_roster(tenant: Token, compound: Token, building: Building, who: Who, ctx: Ctx,
                          format: Literal["json", "pdf", "xlsx", "csv"] = "json",
                          why: Annotated[str, Query(min_length=1, max_length=200, pattern=r"\S")] = "building roster",
                          as_of: Annotated[Moment | None, Query(description=(
                              "print the roster as the log stood then (an audit); pdf, xlsx or csv"))] = None):
    """The building roster (樓組表), masked: JSON for the consoles, or printed by the roster service as
    PDF, XLSX or CSV (building `all`: the whole compound). ID numbers and phones in clear are printed
    only by `louzu roster --clear --reason`, which is logged."""
    reach(who, "getBuildingRoster", tenant, compound)
    await ctx.access.audit(who, tenant, compound, what=f"roster {building} {format} masked"
                           + (f" as of {as_of.isoformat()}" if as_of else ""), operation="getBuildingRoster", why=why)
    if format != "json" or as_of is not None:  # printed by the roster service, as `louzu roster`
        from services.gateway.adapters.owners import print_roster
        data, media = await print_roster(await ctx.bus_for(tenant), ctx.nc, tenant=tenant, compound=compound,
                                         building=None if building == "all" else building,
                                         fmt="pdf" if format == "json" else format, actor=who.user_id, as_of=as_of)
        return Response(data, media_type=media, headers={"Content-Disposition": attachment(building, format)})
    async with ctx.reader([tenant]) as conn:
        sheet = await building_sheet(conn, tenant, compound, building, ctx.clock(), resident_url=building_url(
            ctx.public_url, ctx.link_secret, tenant, compound, building))
    if sheet is None:
        raise not_found()
    return plain(asdict(sheet))


def attachment(building: str, fmt: str) -> str:
    """A download's Content-Disposition: an ASCII name for every browser, the real one (a building may
    be 三号楼) as RFC 6266's filename*."""
    name = f"roster-{'compound' if building == 'all' else building}.{fmt}"
    ascii_name = name if name.isascii() else f"roster.{fmt}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


@router.get(C + "/rota", operation_id="getRota", tags=["roster"])
async def get_rota(tenant: Token, compound: Token, who: Who, ctx: Ctx, start: Day | None = None,
                   end: Day | None = None) -> dict:
    reach(who, "getRota", tenant, compound)
    async with ctx.reader([tenant]) as conn:
        plan = await supply.plan(conn, tenant, compound, start, end)
        gaps = await supply.gaps(conn, tenant, compound, start)
    return {"shifts": [plain(r) for r in plan], "gaps": plain(gaps)}


@router.get("/towns/{town}/overview", operation_id="getTownOverview", tags=["gateway"])
async def town_overview(town: Token, who: Who, ctx: Ctx) -> dict:
    if "town_dispatcher" not in who.roles or who.town != town:
        raise not_found()
    async with ctx.reader(sorted(who.tenants())) as conn:
        return plain(await overview(conn, town, ctx.clock()))


# ---- registry ------------------------------------------------------------------------------------

class ImportOutcomeBody(BaseModel):
    imported: bool
    residents_added: int
    households_added: int
    buildings_added: int
    unchanged: int
    errors: list[dict] = Field(description="rows refused: {row, column, message_zh, message_en}")


@router.post(C + "/imports", operation_id="importResidents", tags=["registry"], response_model=ImportOutcomeBody)
async def import_residents(tenant: Token, compound: Token, who: Who, ctx: Ctx, file: UploadFile = File(...),
                           skip_invalid: bool = False):
    reach(who, "importResidents", tenant, compound)
    from services.gateway.application.importing import import_sheet
    suffix = Path(file.filename or "upload.xlsx").suffix.lower()
    if suffix not in (".xlsx", ".csv"):
        raise ApiProblem(Problem("format", "只接受 .xlsx 或 .csv 文件", "only .xlsx or .csv files are accepted", "file"), 422)
    data = await read_upload(file)  # 413 past MAX_UPLOAD_BYTES, while reading
    return await import_sheet(ctx, who, tenant, compound, data, suffix.lstrip("."), skip_invalid)


