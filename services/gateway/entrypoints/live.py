"""Live updates for the town console over server-sent events. The gateway follows the town's
committees' part of the event log; after each batch it waits for its own read model to apply it,
renders the overview table again and sends it. The SSE event id is the log's sequence number, so a
browser that reconnects (Last-Event-ID) is brought up to date from where it left off. Every few
seconds the stream reads the viewer's reach again: a committee that joins the town appears without a
reload, and a dispatcher whose grant is revoked stops receiving."""
from __future__ import annotations

import asyncio
from typing import AsyncIterator

from fastapi import Request

from shared.eventlog.subjects import EVENTS_STREAM, events_filter
from shared.projections.reader import BatchReader
from services.gateway.domain.access import Principal
from services.gateway.entrypoints.context import context, session_of
from services.gateway.entrypoints import labels
from services.gateway.entrypoints.templates import TEMPLATES
from services.gateway.projections.overview import town_overview
from services.gateway.projections.views import NAME as VIEWS

REACH_S = 5.0  # how often a stream re-reads who is watching (a committee joins the town, a grant is revoked)
CATCH_UP_S = 3.0


def sse(event: str, data: str, event_id: int | None = None) -> str:
    head = (f"id: {event_id}\n" if event_id is not None else "") + f"event: {event}\n"
    return head + "".join(f"data: {line}\n" for line in data.splitlines() or [""]) + "\n"


async def _caught_up(pool, seq: int) -> None:
    deadline = asyncio.get_running_loop().time() + CATCH_UP_S
    while asyncio.get_running_loop().time() < deadline:
        done = await pool.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1", VIEWS) or 0
        if done >= seq:
            return
        await asyncio.sleep(0.1)


async def overview_stream(request: Request, who: Principal, town: str, start: int) -> AsyncIterator[str]:
    ctx = context(request)
    lang = request.cookies.get("louzu_lang", "zh")
    template = TEMPLATES.get_template("town_table.html")
    session = session_of(request)
    tenants = sorted(who.tenants())
    clock = asyncio.get_running_loop().time

    async def reach() -> list[str] | None:
        """The committees the viewer may see now; None once they may no longer watch this town."""
        now = await ctx.principal(session) if session else None
        if now is None or "town_dispatcher" not in now.roles or now.town != town:
            return None
        return sorted(now.tenants())

    async def render(seq: int) -> str:
        async with ctx.reader(tenants) as conn:
            data = await town_overview(conn, town, ctx.clock())
        session_csrf = getattr(getattr(request.state, "session", None), "csrf", "")
        return sse("overview", template.render(t=labels.table(lang), town=town, o=data, csrf=session_csrf), seq)

    def follow(after: int) -> BatchReader:
        filters = [events_filter(tenant=t) for t in tenants] or [events_filter(tenant="nobody-here")]
        return BatchReader(ctx.nc, EVENTS_STREAM, filters, after + 1, batch=500)

    js = ctx.nc.jetstream()
    last = start or (await js.stream_info(EVENTS_STREAM)).state.last_seq
    yield "retry: 2000\n\n"
    yield await render(last)
    reader = await follow(last).open()
    checked = clock()
    try:
        while not request.app.state.stop.is_set():
            if await request.is_disconnected():
                return
            batch = await reader.next_batch(REACH_S)
            if batch:
                last = batch[-1].seq
            if clock() - checked >= REACH_S:
                checked = clock()
                now = await reach()
                if now is None:
                    return  # signed out or the grant revoked: the stream ends, a reconnect gets 404
                if now != tenants:  # a committee joined the town (or left it): follow its events too
                    tenants = now
                    await reader.close()
                    reader = await follow(last).open()
                    yield await render(last)
                    continue
            if not batch:
                yield ": keep-alive\n\n"
                continue
            await _caught_up(ctx.pool, last)
            yield await render(last)
    finally:
        await reader.close()
