"""Everything the committee console shows for one building, read in one tenant transaction: the
live roster, the testing check-off board (not yet sampled, by floor), the supply queue, the rota,
the playbook tasks with due times, the notices, and the building's QR code — all from the gateway's
own read model (docs/reads.md)."""
from __future__ import annotations

import io
from datetime import datetime

import qrcode
import qrcode.image.svg

from shared.links import building_url
from shared.localtime import local
from services.gateway.domain.access import Principal
from services.gateway.projections import health, places, supply
from services.gateway.projections.sheet import building_sheet


def qr_svg(text: str) -> str:
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg"):]


async def building_view(ctx, who: Principal, tenant: str, compound: str, building: str) -> dict | None:
    now: datetime = ctx.clock()
    link = building_url(ctx.public_url, ctx.link_secret, tenant, compound, building)
    async with ctx.reader([tenant]) as conn:
        sheet = await building_sheet(conn, tenant, compound, building, now, resident_url=link)
        if sheet is None:
            return None
        episode = await health.current_episode(conn, tenant, compound, building)
        tasks = await health.tasks(conn, tenant, compound, now, episode_id=episode["episode_id"]) if episode else []
        notices = await health.notices(conn, tenant, compound, building)
        unsampled = await health.unsampled(conn, tenant, sheet.round_id) if sheet.round_id else []
        queue = await supply.queue(conn, tenant, compound, now, building=building)
        shifts = (await supply.plan(conn, tenant, compound, local(now).date(), building=building))[:8]
        place = await places.compound(conn, tenant, compound)
    by_floor: dict[int, list[dict]] = {}
    for r in unsampled:
        by_floor.setdefault(r["floor"], []).append(r)
    return {"sheet": sheet, "episode": episode, "tasks": tasks, "notices": notices, "round_id": sheet.round_id,
            "unsampled": sorted(by_floor.items(), reverse=True), "queue": queue, "shifts": shifts,
            "qr": qr_svg(link), "link": link, "town": place["town"] if place else "", "now": now}
