"""Live updates for the town console over server-sent events, pushed when the gateway's read model
moves: its runner announces each checkpoint on core NATS (`application/positions.py`), and the
stream then asks the read model which of the town's committees changed since it last sent
(`changes`), re-reads the overview of those committees only, and sends the table again. Nothing
polls: a quiet town costs a keep-alive every few seconds.

The SSE event id is the read model's position, so a browser that reconnects (Last-Event-ID) is
brought up to date from where it left off. Every few seconds the stream reads the viewer's reach
again: a committee that joins the town appears without a reload, and a dispatcher whose grant is
revoked stops receiving."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

from fastapi import Request

from services.gateway.domain.access import Principal
from services.gateway.entrypoints import labels
from services.gateway.entrypoints.context import context, session_of
from services.gateway.entrypoints.templates import TEMPLATES
from services.gateway.projections.overview import totals_of, town_overview
from services.gateway.projections.views import NAME as VIEWS, SCHEMA

REACH_S = 5.0  # how often a stream re-reads who is watching (a committee joins the town, a grant is revoked)
WHOLE_S = 60.0  # a quiet town's table is read whole this often: hours left count down without events
CHANGED = f"SELECT DISTINCT tenant FROM {SCHEMA}.changes WHERE last_seq > $1"


def sse(event: str, data: str, event_id: int | None = None) -> str:
    head = (f"id: {event_id}\n" if event_id is not None else "") + f"event: {event}\n"
    return head + "".join(f"data: {line}\n" for line in data.splitlines() or [""]) + "\n"


def merge(whole: dict, part: dict, tenants: set[str]) -> dict:
    """The overview with the rows of `tenants` replaced by `part`'s (in place, so the order stays the
    read model's), totals counted again."""
    fresh = {(c["tenant"], c["compound"]): c for c in part["compounds"]}
    kept = [fresh.pop((c["tenant"], c["compound"]), c) for c in whole["compounds"]
            if c["tenant"] not in tenants or (c["tenant"], c["compound"]) in fresh]
    compounds = kept + list(fresh.values())
    requests = sorted([r for r in whole["reinforcements"] if r["tenant"] not in tenants] + part["reinforcements"],
                      key=lambda r: r["requested_at"])
    return {**part, "compounds": compounds, "reinforcements": requests, "totals": totals_of(compounds)}


async def overview_stream(request: Request, who: Principal, town: str, start: int) -> AsyncIterator[str]:
    ctx = context(request)
    lang = request.cookies.get("louzu_lang", "zh")
    template = TEMPLATES.get_template("town_table.html")
    session = session_of(request)
    tenants = sorted(who.tenants())
    town_tenant = f"town-{town}"  # the town's policy: a change there changes every committee's row
    stop = request.app.state.stop

    async def reach() -> list[str] | None:
        """The committees the viewer may see now; None once they may no longer watch this town."""
        now = await ctx.principal(session) if session else None
        if now is None or "town_dispatcher" not in now.roles or now.town != town:
            return None
        return sorted(now.tenants())

    async def read(among: list[str]) -> dict:
        async with ctx.reader(among) as conn:
            return await town_overview(conn, town, ctx.clock())

    async def changed_since(seq: int) -> set[str]:
        async with ctx.reader([*tenants, town_tenant]) as conn:
            return {r["tenant"] for r in await conn.fetch(CHANGED, seq)}

    def render(data: dict, seq: int) -> str:
        session_csrf = getattr(getattr(request.state, "session", None), "csrf", "")
        return sse("overview", template.render(t=labels.table(lang), town=town, o=data, csrf=session_csrf), seq)

    clock = asyncio.get_running_loop().time
    await ctx.positions.refresh((VIEWS,))  # where the read model is now
    last = start or ctx.positions.reached.get(VIEWS, 0)  # a reconnect: what changed since is sent next
    data = await read(tenants)
    yield "retry: 2000\n\n"
    yield render(data, last)
    checked = whole = clock()
    async for seq in ctx.positions.changes(VIEWS, last, stop, idle=REACH_S):
        if await request.is_disconnected():
            return
        if clock() - checked >= REACH_S or seq is None:
            checked = clock()
            now = await reach()
            if now is None:
                return  # signed out or the grant revoked: the stream ends, a reconnect gets 404
            if now != tenants:  # a committee joined the town (or left it)
                tenants, data = now, await read(now)
                yield render(data, last)
        if seq is None:
            if clock() - whole >= WHOLE_S:
                data, whole = await read(tenants), clock()
                yield render(data, last)
            else:
                yield ": keep-alive\n\n"
            continue
        changed = await changed_since(last)
        last = seq
        if town_tenant in changed:
            data = await read(tenants)
        elif changed:
            data = merge(data, await read(sorted(changed)), changed)
        else:
            continue  # other towns' committees, or events the console does not show
        yield render(data, seq)
