"""The delivery part of `louzu demo`: a realistic day of requests in the account's sealed buildings —
relatives' vegetables at the gate, a thermometer, urgent blood-pressure medicine, a few handled
already — and a vegetable group purchase for one building."""
from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta

import asyncpg
from nats.aio.client import Client as NATS

from shared.commanding import CommandClient

ASKS = [("青菜两斤、鸡蛋一盒（亲友送到门口）", "food", "relatives_at_gate", "normal"),
        ("体温计一支", "medical_supplies", "shop", "normal"), ("降压药（硝苯地平）", "medicine", "shop", "urgent"),
        ("大米10斤", "food", "committee_stock", "normal"), ("卫生纸、洗衣液", "daily_goods", "shop", "normal"),
        ("婴儿奶粉一罐", "food", "shop", "urgent"), ("胰岛素", "medicine", "relatives_at_gate", "urgent")]


async def load_delivery_demo(nc: NATS, pool: asyncpg.Pool, tenant: str, compound: str, buildings, actor: str) -> dict:
    client = CommandClient(nc, tenant, "delivery")
    rng = random.Random(20220322)
    rows = await pool.fetch("SELECT household_id, building FROM proj_delivery.households WHERE tenant = $1 "
                            "AND compound = $2 AND building = ANY($3) ORDER BY household_id", tenant, compound,
                            list(buildings))

    async def send(name: str, key: str, **body) -> dict:
        return await client.send(name, {"command_id": f"demo:{compound}:{key}", "tenant": tenant, "compound": compound,
                                        "actor": actor, **body})

    chosen = rng.sample(list(rows), k=max(1, len(rows) // 4))  # ~0.25 requests per household on a sealed day
    replies = await asyncio.gather(*(
        send("request_delivery", f"req:{r['household_id']}", household_id=r["household_id"], building=r["building"],
             items=ask[0], category=ask[1], source=ask[2], urgency=ask[3], on_behalf=True)
        for r, ask in ((r, ASKS[i % len(ASKS)]) for i, r in enumerate(chosen))))
    handled = 0
    for reply, r in list(zip(replies, chosen))[:5]:  # the morning's first requests are already at the door
        rid = await pool.fetchval("SELECT request_id FROM proj_delivery.requests WHERE tenant = $1 AND household_id = $2",
                                  tenant, r["household_id"])
        if not rid:
            continue
        await send("accept_delivery", f"acc:{rid}", request_id=rid)
        await send("assign_delivery", f"asg:{rid}", request_id=rid, assignee_id=f"gate-{r['building']}",
                   assignee_kind="gate_post_pair")
        await send("pick_up_delivery", f"pick:{rid}", request_id=rid, received_at_gate=True)
        handled += bool((await send("complete_delivery", f"done:{rid}", request_id=rid,
                                    confirmed_by_resident=True)).get("ok"))
    building = buildings[0]
    await send("open_group_purchase", f"veg:{building}", purchase_id=f"veg_{building}", scope="building",
               building=building, supplier="桃浦农贸市场", offer="蔬菜套餐（10种约8斤）", unit_price_fen=8800,
               delivery_due=(date.today() + timedelta(days=2)).isoformat())
    ordered = [r for r in rows if r["building"] == building][:12]
    await asyncio.gather(*(send("order_group_purchase", f"veg:{building}:{r['household_id']}", purchase_id=f"veg_{building}",
                                household_id=r["household_id"], building=building, quantity=1 + i % 2)
                           for i, r in enumerate(ordered)))
    return {"requests": sum(bool(r.get("ok")) for r in replies), "delivered": handled, "orders": len(ordered)}
