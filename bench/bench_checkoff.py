"""checkoff: testing-round check-offs/s through the whole command path (client → NATS request →
lockdown service: validate, load the round and the household's sampling aggregate, decide,
EventStore.append → reply), and the lag of the "not yet sampled" view under that load: for each
acknowledged check-off, the time until the lockdown projection shows it. Baseline: a bare nats-py
request–reply echo at the same concurrency. A city's testing day is ~25 M check-offs.
"""
from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import orjson

from bench.command_path import drive, echo_baseline, measure_with_lag
from bench.common import BenchServers, Figure, connect, say
from services.lockdown.bootstrap import Lockdown
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject, command_subject
from shared.events import registry as r
from bench.common import NOW

TENANT, COMPOUND = "benchcheck", "yinghuayuan"
BUILDINGS, HOUSEHOLDS, PEOPLE = 40, 36, 3         # 4,320 residents
ROUNDS = 6                                         # 25,920 check-offs
VISIBLE = "SELECT count(*) FROM proj_lockdown.samples WHERE tenant = $1"
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
        await drive(client, requests[rounds[0]], [], "check-offs")  # warm-up round
        echo_rate = await echo_baseline(client, echo_nc, [p for _, p in requests[rounds[1]]])
        await asyncio.sleep(2)  # let the projection drain the warm-up before measuring lag
        measured = [m for rid in rounds[1:] for m in requests[rid]]
        rate, p50, p99 = await measure_with_lag(client, pool, VISIBLE, TENANT, measured, "check-offs")
        say(f"  checkoff: {rate:,.0f}/s over {len(measured):,} check-offs; echo {echo_rate:,.0f}/s; "
            f"view lag p50 {p50:.3f} s, p99 {p99:.3f} s")
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
