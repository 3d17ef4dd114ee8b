"""delivery: supply requests/s through the whole command path (client → NATS request → delivery
service: validate, look up the household's flags, decide, EventStore.append → reply), and the lag of
the supply-queue view under that load. Baseline: a bare nats-py request–reply echo at the same
concurrency. The city's peak was ~1.8 M orders a day.
"""
from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import orjson

from bench.command_path import drive, echo_baseline, measure_with_lag
from bench.common import BenchServers, Figure, connect, say
from services.delivery.bootstrap import Delivery
from shared.eventlog.subjects import command_subject

TENANT, COMPOUND = "benchdeliv", "yinghuayuan"
REQUESTS, WARMUP = 24_000, 2_000
VISIBLE = "SELECT count(*) FROM proj_delivery.requests WHERE tenant = $1"
TARGET_RATE, TARGET_P99_LAG = 3_000, 1.0
ITEMS = ("青菜两斤、鸡蛋一盒", "food", "shop"), ("降压药", "medicine", "shop"), ("卫生纸", "daily_goods", "committee_stock")


def _body(n: int) -> bytes:
    items, category, source = ITEMS[n % len(ITEMS)]
    return orjson.dumps({"command_id": uuid.uuid4().hex, "tenant": TENANT, "compound": COMPOUND, "actor": "cadre-1",
                         "household_id": f"{n % 40 + 1}-1-{n % 36 + 101}", "building": str(n % 40 + 1),
                         "items": items, "category": category, "source": source,
                         "urgency": "urgent" if n % 10 == 0 else "normal"})

async def run(servers: BenchServers, **_options) -> list[Figure]:
    await servers.fresh_log()
    with contextlib.redirect_stdout(open(servers.home / "faststream-access.log", "a", encoding="utf-8")):
        delivery = await Delivery(servers.nats_url, servers.database_url).start(scheduler=False)
    client = await connect(servers.nats_url, "bench-delivery-client")
    echo_nc = await connect(servers.nats_url, "bench-delivery-echo")
    pool = await asyncpg.create_pool(servers.database_url, min_size=1, max_size=2)
    try:
        subject = command_subject(TENANT, "delivery", "request_delivery")
        await drive(client, [(subject, _body(n)) for n in range(WARMUP)], [], "requests")
        measured = [(subject, _body(n)) for n in range(WARMUP, WARMUP + REQUESTS)]
        echo_rate = await echo_baseline(client, echo_nc, [p for _, p in measured])
        await asyncio.sleep(2)
        rate, p50, p99 = await measure_with_lag(client, pool, VISIBLE, TENANT, measured, "requests")
        say(f"  delivery: {rate:,.0f}/s over {len(measured):,} requests; echo {echo_rate:,.0f}/s; "
            f"queue lag p50 {p50:.3f} s, p99 {p99:.3f} s")
    finally:
        await pool.close()
        await echo_nc.close()
        await client.close()
        await delivery.close()
    return [
        Figure("delivery request commands/s (command path)", rate, "requests/s", echo_rate,
               target=f"≥ {TARGET_RATE:,}", ok=rate >= TARGET_RATE,
               note="baseline: bare nats-py request–reply echo, same concurrency"),
        Figure("delivery queue-view lag p99", p99, "s", TARGET_P99_LAG, target=f"≤ {TARGET_P99_LAG} s",
               ok=p99 <= TARGET_P99_LAG, note="baseline column: the target; ratio < 1 is better"),
    ]
