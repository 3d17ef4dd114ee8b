"""delivery: supply requests/s through the whole command path (client → NATS request → delivery
service: validate, look up the household's flags, decide, EventStore.append → reply), and the lag of
the supply-queue view under that load. Baseline: a bare nats-py request–reply echo at the same
concurrency. The city's peak was ~1.8 M orders a day.
"""
from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
import uuid

import asyncpg
import orjson

from bench.common import BenchServers, Figure, Stopwatch, connect, say
from services.delivery.bootstrap import Delivery
from shared.eventlog.subjects import command_subject

TENANT, COMPOUND = "benchdeliv", "yinghuayuan"
REQUESTS, WARMUP = 24_000, 2_000
IN_FLIGHT = 256
TARGET_RATE, TARGET_P99_LAG = 3_000, 1.0
ITEMS = ("青菜两斤、鸡蛋一盒", "food", "shop"), ("降压药", "medicine", "shop"), ("卫生纸", "daily_goods", "committee_stock")


def _body(n: int) -> bytes:
    items, category, source = ITEMS[n % len(ITEMS)]
    return orjson.dumps({"command_id": uuid.uuid4().hex, "tenant": TENANT, "compound": COMPOUND, "actor": "cadre-1",
                         "household_id": f"{n % 40 + 1}-1-{n % 36 + 101}", "building": str(n % 40 + 1),
                         "items": items, "category": category, "source": source,
                         "urgency": "urgent" if n % 10 == 0 else "normal"})

async def _drive(nc, requests: list[tuple[str, bytes]], acked: list[float] | None) -> float:
    feed = iter(requests)
    failures: list[bytes] = []

    async def client() -> None:
        for subject, payload in feed:
            reply = await nc.request(subject, payload, timeout=30)
            if acked is not None:
                answer = orjson.loads(reply.data)
                if not answer.get("ok"):
                    failures.append(reply.data[:300])
                acked.append(time.perf_counter())

    with Stopwatch() as sw:
        await asyncio.gather(*(client() for _ in range(IN_FLIGHT)))
    if failures:
        raise RuntimeError(f"{len(failures)} requests refused, e.g. {failures[0]!r}")
    return len(requests) / sw.elapsed


async def _watch(pool: asyncpg.Pool, stop: asyncio.Event, seen: list[tuple[float, int]]) -> None:
    """Poll the supply queue's table every 10 ms: (time, requests visible)."""
    while not stop.is_set():
        count = await pool.fetchval("SELECT count(*) FROM proj_delivery.requests WHERE tenant = $1", TENANT)
        seen.append((time.perf_counter(), count))
        await asyncio.sleep(0.01)


def _lags(acked: list[float], seen: list[tuple[float, int]], before: int) -> list[float]:
    lags, j = [], 0
    for i, t_ack in enumerate(sorted(acked), start=1):
        while j < len(seen) and seen[j][1] - before < i:
            j += 1
        if j == len(seen):
            break
        lags.append(max(0.0, seen[j][0] - t_ack))
    return lags


async def run(servers: BenchServers, **_options) -> list[Figure]:
    await servers.fresh_log()
    with contextlib.redirect_stdout(open(servers.home / "faststream-access.log", "a", encoding="utf-8")):
        delivery = await Delivery(servers.nats_url, servers.database_url).start(scheduler=False)
    client = await connect(servers.nats_url, "bench-delivery-client")
    echo_nc = await connect(servers.nats_url, "bench-delivery-echo")
    pool = await asyncpg.create_pool(servers.database_url, min_size=1, max_size=2)
    try:
        subject = command_subject(TENANT, "delivery", "request_delivery")
        await _drive(client, [(subject, _body(n)) for n in range(WARMUP)], [])
        canned = orjson.dumps({"ok": True, "event_ids": [str(uuid.uuid4())], "last_seq": 1, "duplicate": False})

        async def echo(msg) -> None:
            await msg.respond(canned)
        await echo_nc.subscribe("bench.echo.>", queue="echo", cb=echo)
        await echo_nc.flush()
        measured = [(subject, _body(n)) for n in range(WARMUP, WARMUP + REQUESTS)]
        echo_rate = await _drive(client, [("bench.echo.x", p) for _, p in measured], None)
        await asyncio.sleep(2)
        before = await pool.fetchval("SELECT count(*) FROM proj_delivery.requests WHERE tenant = $1", TENANT)
        acked, seen, stop = [], [], asyncio.Event()
        watcher = asyncio.create_task(_watch(pool, stop, seen))
        rate = await _drive(client, measured, acked)
        deadline = time.perf_counter() + 60
        while (not seen or seen[-1][1] - before < len(measured)) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await watcher
        lags = sorted(_lags(acked, seen, before))
        p99 = lags[int(len(lags) * 0.99) - 1] if lags else float("inf")
        say(f"  delivery: {rate:,.0f}/s over {len(measured):,} requests; echo {echo_rate:,.0f}/s; "
            f"queue lag p50 {statistics.median(lags):.3f} s, p99 {p99:.3f} s")
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
