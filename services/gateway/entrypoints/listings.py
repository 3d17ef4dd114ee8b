"""The HTTP API's lists under /api/v1: what the consoles list, from the gateway's own read model
(docs/reads.md). Every list is paged by cursor (`after`: the `next` of the page before; `limit`)
and filtered by the query parameters it names; one the caller does not reach is a 404, and a list
of personal or health data is recorded in the audit trail as it is read."""
from __future__ import annotations

from typing import Annotated, Any

from contextlib import asynccontextmanager

import asyncpg
from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from shared.commands.base import Building, Household, Moment, Token
from shared.events.lockdown import DEFAULT_REPORT_TIMES
from shared.localtime import open_report_window
from services.gateway.domain.access import OPERATIONS
from services.gateway.entrypoints.common import C, ERRORS, Ctx, ReadAfter, Who, plain, reach
from services.gateway.entrypoints.problems import ApiProblem, not_found
from shared.errors import Problem
from services.gateway.projections import health, places
from services.gateway.projections.views import SCHEMA

router = APIRouter(prefix="/api/v1", responses=ERRORS, dependencies=[ReadAfter])
After = Annotated[str | None, Query(max_length=300, description="the `next` of the previous page")]
Limit = Annotated[int, Query(ge=1, le=500, description="rows per page")]
InBuilding = Annotated[Building | None, Query(description="only this building")]


class Page(BaseModel):
    """One page of a list."""

    items: list[dict[str, Any]] = Field(description="the rows, in the list's order")
    next: str | None = Field(description="pass as `after` for the next page; null on the last page")


@asynccontextmanager
async def cursor_checked():
    """A cursor that was not a page's `next` is a 422 naming `after`, not a database error."""
    try:
        yield
    except (asyncpg.DataError, ValueError):
        raise ApiProblem(Problem("invalid_field", "翻页参数 after 无效，请使用上一页返回的 next",
                                 "`after` is not a cursor this list gave: send the previous page's `next`",
                                 "after"), 422) from None


def page(rows: list[dict], limit: int) -> Page:
    return Page(items=[plain(r) for r in rows], next=rows[-1].get("cursor") if len(rows) == limit else None)


@router.get("/compounds", operation_id="listCompounds", tags=["registry"], response_model=Page)
async def list_compounds(who: Who, ctx: Ctx, after: After = None, limit: Limit = 100) -> Page:
    """The compounds the caller may read: their committees', or every compound of the town for its dispatcher."""
    if not who.roles & OPERATIONS["listCompounds"]:
        raise not_found()
    tenants = sorted(who.tenants())
    async with cursor_checked(), ctx.reader(tenants) as conn:
        return page(await places.compounds(conn, tenants, after=after, limit=limit), limit)


@router.get(C + "/buildings", operation_id="listBuildings", tags=["registry"], response_model=Page)
async def list_buildings(tenant: Token, compound: Token, who: Who, ctx: Ctx, after: After = None,
                         limit: Limit = 100) -> Page:
    reach(who, "listBuildings", tenant, compound)
    async with cursor_checked(), ctx.reader([tenant]) as conn:
        return page(await places.buildings(conn, tenant, compound, after=after, limit=limit), limit)


@router.get(C + "/households", operation_id="listHouseholds", tags=["registry"], response_model=Page)
async def list_households(tenant: Token, compound: Token, who: Who, ctx: Ctx, building: InBuilding = None,
                          after: After = None, limit: Limit = 100) -> Page:
    reach(who, "listHouseholds", tenant, compound)
    async with cursor_checked(), ctx.reader([tenant]) as conn:
        return page(await places.households(conn, tenant, compound, building=building, after=after, limit=limit),
                    limit)


@router.get(C + "/residents", operation_id="listResidents", tags=["registry"], response_model=Page)
async def list_residents(tenant: Token, compound: Token, who: Who, ctx: Ctx, building: InBuilding = None,
                         household_id: Annotated[Household | None, Query()] = None, after: After = None,
                         limit: Limit = 100) -> Page:
    """Residents with their ID number and phone masked, whoever asks."""
    reach(who, "listResidents", tenant, compound)
    async with cursor_checked(), ctx.reader([tenant]) as conn:
        rows = await places.residents(conn, tenant, compound, household_id=household_id, building=building,
                                      after=after, limit=limit)
    await ctx.access.audit(who, tenant, compound, what=f"residents {building or household_id or 'all'} masked",
                           operation="listResidents", why="resident list")
    return page(rows, limit)


@router.get(C + "/fevers", operation_id="listFevers", tags=["lockdown"], response_model=Page)
async def list_fevers(tenant: Token, compound: Token, who: Who, ctx: Ctx,
                      since: Annotated[Moment | None, Query(description="only alerts raised since")] = None,
                      after: After = None, limit: Limit = 100) -> Page:
    """Fever alerts (a report at or above the town's threshold), newest first."""
    reach(who, "listFevers", tenant, compound)
    async with cursor_checked(), ctx.reader([tenant]) as conn:
        rows = await health.fevers(conn, tenant, compound, since=since, after=after, limit=limit)
    await ctx.access.audit(who, tenant, compound, what="fever alerts", operation="listFevers", why="fever follow-up")
    return page(rows, limit)


@router.get(C + "/missed-reports", operation_id="listMissedReports", tags=["lockdown"], response_model=Page)
async def list_missed_reports(tenant: Token, compound: Token, who: Who, ctx: Ctx,
                              window_start: Annotated[Moment | None, Query(
                                  description="a report window's start; default: the window open now")] = None
                              ) -> Page:
    """Residents of sealed buildings with no report in the window, grouped by the cadre responsible."""
    reach(who, "listMissedReports", tenant, compound)
    async with cursor_checked(), ctx.reader([tenant]) as conn:
        if window_start is None:
            times = await conn.fetchval(f"SELECT t.report_times FROM {SCHEMA}.compounds c JOIN {SCHEMA}.towns t "
                                        "ON t.town = c.town WHERE c.tenant = $1 AND c.compound = $2", tenant, compound)
            window_start = open_report_window(ctx.clock(), list(times or DEFAULT_REPORT_TIMES))
        groups = await health.missed_reports(conn, tenant, compound, window_start) if window_start else []
    return Page(items=[plain(g) for g in groups], next=None)


@router.get(C + "/out-now", operation_id="listOutNow", tags=["lockdown"], response_model=Page)
async def list_out_now(tenant: Token, compound: Token, who: Who, ctx: Ctx, building: InBuilding = None) -> Page:
    """Who is out at the gate now, longest first; overdue past the time allowed out."""
    reach(who, "listOutNow", tenant, compound)
    async with cursor_checked(), ctx.reader([tenant]) as conn:
        rows = await health.out_now(conn, tenant, compound, ctx.clock(), building)
    return Page(items=[plain(r) for r in rows], next=None)


@router.get(C + "/buildings/{building}/group/coverage", operation_id="getGroupCoverage", tags=["lockdown"])
async def get_group_coverage(tenant: Token, compound: Token, building: Building, who: Who, ctx: Ctx) -> dict:
    """The building group (楼组群): households with nobody in it, service parties missing."""
    reach(who, "getGroupCoverage", tenant, compound)
    async with cursor_checked(), ctx.reader([tenant]) as conn:
        if not await conn.fetchval(f"SELECT true FROM {SCHEMA}.buildings WHERE tenant = $1 AND compound = $2 "
                                   "AND building = $3", tenant, compound, building):
            raise not_found()
        return plain(await health.coverage(conn, tenant, compound, building))


@router.get(C + "/notices", operation_id="listNotices", tags=["lockdown"], response_model=Page)
async def list_notices(tenant: Token, compound: Token, who: Who, ctx: Ctx, building: InBuilding = None,
                       after: After = None, limit: Limit = 100) -> Page:
    reach(who, "listNotices", tenant, compound)
    async with cursor_checked(), ctx.reader([tenant]) as conn:
        return page(await health.notices(conn, tenant, compound, building, after=after, limit=limit), limit)


@router.get(C + "/tasks", operation_id="listPlaybookTasks", tags=["lockdown"], response_model=Page)
async def list_playbook_tasks(tenant: Token, compound: Token, who: Who, ctx: Ctx, building: InBuilding = None,
                              open_only: Annotated[bool, Query(description="only tasks not done")] = False,
                              after: After = None, limit: Limit = 100) -> Page:
    """The town playbook's tasks stamped for the compound's sealed buildings, by due time, overdue flagged."""
    reach(who, "listPlaybookTasks", tenant, compound)
    async with cursor_checked(), ctx.reader([tenant]) as conn:
        episode = await health.current_episode(conn, tenant, compound, building) if building else None
        if building and episode is None:
            return Page(items=[], next=None)
        rows = await health.tasks(conn, tenant, compound, ctx.clock(), episode_id=episode and episode["episode_id"],
                                  open_only=open_only, after=after, limit=limit)
    return page(rows, limit)


@router.get("/towns/{town}/reinforcements", operation_id="listReinforcements", tags=["roster"], response_model=Page)
async def list_reinforcements(town: Token, who: Who, ctx: Ctx) -> Page:
    """The town's open requests for more people, oldest first."""
    if not who.can_town("listReinforcements", town):
        raise not_found()
    from services.gateway.projections.overview import REINFORCEMENTS
    async with cursor_checked(), ctx.reader(sorted(who.tenants())) as conn:
        return Page(items=[plain(r) for r in await conn.fetch(REINFORCEMENTS, town)], next=None)


@router.get("/users", operation_id="listUsers", tags=["gateway"], response_model=Page)
async def list_users(who: Who, ctx: Ctx, after: After = None, limit: Limit = 100) -> Page:
    """The town's sign-ins and their grants (never a password hash)."""
    if not who.can_town("listUsers", who.town):
        raise not_found()
    rows = await ctx.pool.fetch(
        "SELECT u.user_id, u.display_name, u.registered_at, COALESCE(array_agg(g.role || ':' || g.tenant || ':' || "
        "g.compound || ':' || g.household_id) FILTER (WHERE g.role IS NOT NULL), '{}') AS grants "
        "FROM proj_gateway.users u LEFT JOIN proj_gateway.grants g USING (user_id) WHERE u.town = $1 "
        "AND ($2::text IS NULL OR u.user_id > $2) GROUP BY u.user_id ORDER BY u.user_id LIMIT $3",
        who.town, after, limit)
    return page([{**dict(r), "grants": list(r["grants"]), "cursor": r["user_id"]} for r in rows], limit)

