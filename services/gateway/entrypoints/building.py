"""Everything the committee console shows for one building, read in one tenant transaction: the
live roster, the testing check-off board (not yet sampled, by floor), the supply queue, the rota,
the playbook tasks with due times, the notices, and the building's QR code."""
from __future__ import annotations

import io
from datetime import datetime

import qrcode
import qrcode.image.svg

from shared.links import building_url
from services.gateway.domain.access import Principal


def qr_svg(text: str) -> str:
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2).save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg"):]


async def building_view(ctx, who: Principal, tenant: str, compound: str, building: str) -> dict | None:
    from services.delivery.projections import queries as delivery
    from services.lockdown.projections import health_queries, queries as lockdown
    from services.roster.projections import queries as roster, rota_queries
    now: datetime = ctx.clock()
    link = building_url(ctx.public_url, ctx.link_secret, tenant, compound, building)
    async with ctx.reader([tenant]) as conn:
        try:
            sheet = await roster.building_sheet(conn, "proj_roster", tenant, compound, building, now, resident_url=link)
        except roster.UnknownBuilding:
            return None
        episode = await lockdown.current_episode(conn, tenant, compound, building)
        tasks = await lockdown.tasks(conn, tenant, episode["episode_id"], now) if episode else []
        notices = await lockdown.notices(conn, tenant, compound, building)
        unsampled = await health_queries.unsampled(conn, tenant, sheet.round_id) if sheet.round_id else []
        queue = await delivery.queue(conn, tenant, compound, now, building=building)
        shifts = [s for s in await rota_queries.plan(conn, "proj_roster", tenant, compound, now.date())
                  if s["building"] == building][:8]
        town = await conn.fetchval("SELECT town FROM proj_roster.compounds WHERE tenant = $1 AND compound = $2",
                                   tenant, compound)
    by_floor: dict[int, list[dict]] = {}
    for r in unsampled:
        by_floor.setdefault(r["floor"], []).append(r)
    return {"sheet": sheet, "episode": episode, "tasks": tasks, "notices": notices, "round_id": sheet.round_id,
            "unsampled": sorted(by_floor.items(), reverse=True), "queue": queue, "shifts": shifts,
            "qr": qr_svg(link), "link": link, "town": town or "", "now": now}
