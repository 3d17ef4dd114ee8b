"""checkoff: testing-round check-offs/s through the whole command path (client → NATS request →
lockdown service: validate, load the round and the household's sampling aggregate, decide,
EventStore.append → reply), and the lag of the "not yet sampled" view under that load: for each
acknowledged check-off, the time until the lockdown projection shows it. Baseline: a bare nats-py
request–reply echo at the same concurrency. A city's testing day is ~25 M check-offs.
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
from services.lockdown.bootstrap import Lockdown
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject, command_subject
from shared.events import registry as r
from bench.common import NOW

TENANT, COMPOUND = "benchcheck", "yinghuayuan"
BUILDINGS, HOUSEHOLDS, PEOPLE = 40, 36, 3         # 4,320 residents
ROUNDS = 6                                         # 25,920 check-offs
IN_FLIGHT = 256
TARGET_RATE, TARGET_P99_LAG = 3_000, 1.0


async def _roster(store: EventStore) -> list[tuple[str, str]]:
    people, appends = [], []
    for b in range(1, BUILDINGS + 1):
        for h in range(HOUSEHOLDS):
            hh = f"{b}-1-{(h // 2) + 1}0{h % 2 + 1}"
            appends.append(store.append(AggregateSubject.make(TENANT, COMPOUND, "registry", "household", hh),
                                        [r.HouseholdRegistered(household_id=hh, building=str(b), entrance="1",
                                                               room=hh.rsplit("-", 1)[1], floor=h // 2 + 1,
                                                               registered_by="bench", registered_at=NOW)],
                                        expected=0, meta=Metadata(uuid.uuid4().hex)))
            for p in range(PEOPLE):
                rid = f"r{b:03d}{h:03d}{p}"
                people.append((rid, hh))
                appends.append(store.append(
                    AggregateSubject.make(TENANT, COMPOUND, "registry", "resident", rid),
                    [r.ResidentRegistered(resident_id=rid, household_id=hh, name="居民", sex="F", birth_year=1960,
                                          id_hash=rid, id_number_sealed="v1:" + "x" * 60, id_mask="310107********0012",
                                          registered_by="bench", registered_at=NOW)],
                    expected=0, meta=Metadata(uuid.uuid4().hex)))
    await asyncio.gather(*appends)
    return people


def _body(name: str, **fields) -> bytes:
    return orjson.dumps({"command_id": uuid.uuid4().hex, "tenant": TENANT, "compound": COMPOUND, "actor": "v1", **fields})


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
        raise RuntimeError(f"{len(failures)} check-offs refused, e.g. {failures[0]!r}")
    return len(requests) / sw.elapsed


async def _watch(pool: asyncpg.Pool, stop: asyncio.Event, seen: list[tuple[float, int]]) -> None:
    """Poll the not-yet-sampled view's source every 10 ms: (time, check-offs visible)."""
    while not stop.is_set():
        count = await pool.fetchval("SELECT count(*) FROM proj_lockdown.samples WHERE tenant = $1", TENANT)
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
        lockdown = await Lockdown(servers.nats_url, servers.database_url).start(scheduler=False)
    client = await connect(servers.nats_url, "bench-checkoff-client")
    echo_nc = await connect(servers.nats_url, "bench-checkoff-echo")
    pool = await asyncpg.create_pool(servers.database_url, min_size=1, max_size=2)
    try:
        people = await _roster(EventStore(client))
        subject = command_subject(TENANT, "lockdown", "check_off_sample")
        rounds = [f"round{i}" for i in range(ROUNDS + 1)]
        for rid in rounds:
            await client.request(command_subject(TENANT, "lockdown", "schedule_testing_round"),
                                 _body("s", round_id=rid, buildings=[str(b) for b in range(1, BUILDINGS + 1)],
                                       site="广场", starts_at=NOW.isoformat()), timeout=30)
        say(f"  checkoff setup: {len(people)} residents in {BUILDINGS} buildings, {len(rounds)} rounds")
        requests = {rid: [(subject, _body("c", round_id=rid, resident_id=p, household_id=hh, tube_id=f"T{i // 10}"))
                          for i, (p, hh) in enumerate(people)] for rid in rounds}
        await _drive(client, requests[rounds[0]], [])  # warm-up round
        canned = orjson.dumps({"ok": True, "event_ids": [str(uuid.uuid4())], "last_seq": 1, "duplicate": False})

        async def echo(msg) -> None:
            await msg.respond(canned)
        await echo_nc.subscribe("bench.echo.>", queue="echo", cb=echo)
        await echo_nc.flush()
        echo_rate = await _drive(client, [("bench.echo.x", p) for _, p in requests[rounds[1]]], None)
        await asyncio.sleep(2)  # let the projection drain the warm-up before measuring lag
        before = await pool.fetchval("SELECT count(*) FROM proj_lockdown.samples WHERE tenant = $1", TENANT)
        acked, seen, stop = [], [], asyncio.Event()
        watcher = asyncio.create_task(_watch(pool, stop, seen))
        measured = [m for rid in rounds[1:] for m in requests[rid]]
        rate = await _drive(client, measured, acked)
        deadline = time.perf_counter() + 60
        while (not seen or seen[-1][1] - before < len(measured)) and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        stop.set()
        await watcher
        lags = sorted(_lags(acked, seen, before))
        p99 = lags[int(len(lags) * 0.99) - 1] if lags else float("inf")
        say(f"  checkoff: {rate:,.0f}/s over {len(measured):,} check-offs; echo {echo_rate:,.0f}/s; "
            f"view lag p50 {statistics.median(lags):.3f} s, p99 {p99:.3f} s")
    finally:
        await pool.close()
        await echo_nc.close()
        await client.close()
        await lockdown.close()
    return [
        Figure("checkoff commands/s (command path)", rate, "check-offs/s", echo_rate, target=f"≥ {TARGET_RATE:,}",
               ok=rate >= TARGET_RATE, note="baseline: bare nats-py request–reply echo, same concurrency"),
        Figure("checkoff unsampled-view lag p99", p99, "s", TARGET_P99_LAG, target=f"≤ {TARGET_P99_LAG} s",
               ok=p99 <= TARGET_P99_LAG, note="baseline column: the target; ratio < 1 is better"),
    ]
