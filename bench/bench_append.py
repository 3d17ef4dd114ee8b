"""append: events/s through EventStore.append with every guarantee on, beside the bare
pipelined atomic-batch path of nats-py (no envelope), and a lone-publish figure for context.

Every append is one ResidentRegistered (sealed fields at their real length) to its own new
aggregate with `expected=0` and its own command id; `CONCURRENCY` appenders run at once so group
commit can pack full atomic batches. Rounds of the store and of the baseline alternate and the
median of each is reported, so a slow moment of the disk hits both alike.
"""
from __future__ import annotations

import asyncio
import statistics
import time
import uuid

from bench.common import (BenchServers, Faker, Figure, RawBatchPublisher, Stopwatch, connect, encoded,
                          registry_subject, resident_id, say)
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore

CONCURRENCY = 2000
PER_ROUND = 40_000
ROUNDS = 3
LONE_SECONDS = 3.0
TARGET = 10_000


def _appends(faker: Faker, tenant: str, count: int) -> list[tuple]:
    out = []
    for i in range(count):
        rid = resident_id(i, tenant)
        hh = f"{faker.rng.randint(1, 60)}-{faker.rng.randint(1, 4)}-{faker.rng.randint(1, 18)}0{faker.rng.randint(1, 4)}"
        out.append((registry_subject(tenant, "c1", "resident", rid), faker.resident_registered(rid, hh),
                    Metadata(uuid.uuid4().hex, source="/louzu/registry/bench")))
    return out


async def _store_round(store: EventStore, items: list[tuple]) -> float:
    feed = iter(items)

    async def appender() -> None:
        for subject, event, meta in feed:
            await store.append(subject, [event], expected=0, meta=meta)

    with Stopwatch() as sw:
        await asyncio.gather(*(appender() for _ in range(CONCURRENCY)))
    return len(items) / sw.elapsed


async def _raw_round(nc, messages: list[tuple]) -> float:
    with Stopwatch() as sw:
        async with RawBatchPublisher(nc, batch=1000, in_flight=4) as publisher:
            await publisher.publish_all(messages)
    return len(messages) / sw.elapsed


async def _lone_publish(nc, faker: Faker, seconds: float) -> float:
    js = nc.jetstream()
    done, end = 0, time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < end:
        rid = resident_id(done, "lone")
        subject, headers, body = encoded(registry_subject("benchlone", "c1", "resident", rid),
                                         faker.resident_registered(rid, "38-1-302"))
        headers["Nats-Expected-Last-Subject-Sequence"] = "0"
        await js.publish(subject, body, headers=headers)
        done += 1
    return done / (time.perf_counter() - start)


async def run(servers: BenchServers, **_options) -> list[Figure]:
    await servers.fresh_log()
    nc = await connect(servers.nats_url, "bench-append")
    store = EventStore(nc)
    faker = Faker(11)
    try:
        store_rates, raw_rates, sizes = [], [], []
        for round_no in range(ROUNDS):
            items = _appends(faker, f"bencha{round_no}", PER_ROUND)
            raw = [(str(registry_subject(f"benchr{round_no}", "c1", "resident", s.aggregate_id)), None,
                    ev.model_dump_json().encode()) for s, ev, _ in items]
            sizes.extend(len(body) for _, _, body in raw)
            raw_rates.append(await _raw_round(nc, raw))
            store_rates.append(await _store_round(store, items))
            say(f"  append round {round_no + 1}/{ROUNDS}: EventStore {store_rates[-1]:,.0f} events/s, "
                f"raw batches {raw_rates[-1]:,.0f} events/s")
        lone = await _lone_publish(nc, faker, LONE_SECONDS)
        say(f"  lone js.publish: {lone:,.0f} events/s")
    finally:
        await store.close()
        await nc.close()
    value, baseline = statistics.median(store_rates), statistics.median(raw_rates)
    body = statistics.mean(sizes)
    return [
        Figure("append.event_store", value, "events/s", baseline, target=f"≥ {TARGET:,}", ok=value >= TARGET,
               note=f"{ROUNDS}×{PER_ROUND:,} ResidentRegistered (body {body:.0f} B + CloudEvents headers), "
                    f"{CONCURRENCY} concurrent appenders, expected=0, own command id each; baseline: bare atomic "
                    f"batches of 1000, 4 in flight, same bodies, no envelope (median of {ROUNDS})"),
        Figure("append.lone_publish", lone, "events/s", baseline, target="context",
               note="one js.publish at a time (envelope + expected-last-subject-sequence), one fsync per event"),
    ]
