"""replay: events/s rebuilding the registry projection from the log
(`shared.projections.rebuild.replay`, as `louzu replay registry` does), beside the leanest
read-and-write path we could write without the framework.

The log is generated first with the bare atomic-batch path, but every message is a real
stored event: `shared.eventlog.envelope.encode` of a registry event, on its aggregate's subject.
Mix: ~20 % HouseholdRegistered, ~70 % ResidentRegistered, ~10 % ResidentUpdated/ResidentVerified
(plus each compound's CompoundRegistered and BuildingRegistered), over 4 tenants × 3 compounds.

Baseline: an ephemeral pull consumer (ack none) fed by two pipelined
`$JS.API.CONSUMER.MSG.NEXT` requests of 1000, orjson of each body, and per batch one transaction
with a `COPY` (asyncpg copy_records_to_table) into a plain table plus a checkpoint update.
"""
from __future__ import annotations

import asyncio
from typing import Iterator

import asyncpg
import orjson
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from bench.common import NOW, BenchServers, Faker, Figure, RawBatchPublisher, Stopwatch, connect, encoded, say
from services.registry.projections.tables import RegistryProjection
from shared.eventlog.envelope import H_TYPE
from shared.eventlog.subjects import EVENTS_STREAM, AggregateSubject
from shared.events import registry as e
from shared.projections.base import ensure_schema
from shared.projections.rebuild import replay

TENANTS = ("taopu-yhy", "taopu-lq", "changzheng-mj", "ganquan-hl")
COMPOUNDS = ("yinghuayuan", "lanqiao", "meijia")
BUILDINGS = 20
BATCH = 1000
TARGET = 30_000
TARGET_RATIO = 0.6
LEAN_COLUMNS = ("seq", "tenant", "compound", "aggregate_id", "type", "household_id", "name", "id_hash", "id_mask",
                "id_number_sealed", "phone_mask", "phone_sealed")


class Counts:
    def __init__(self) -> None:
        self.households = self.residents = self.changes = self.setup = 0

    @property
    def total(self) -> int:
        return self.households + self.residents + self.changes + self.setup


def generate(total: int, counts: Counts, seed: int = 41) -> Iterator[tuple]:
    """`total` encoded registry events in a plausible order: compounds and buildings first, then
    households, their residents, and changes to residents already registered."""
    faker = Faker(seed)
    rng = faker.rng
    places = [(t, c) for t in TENANTS for c in COMPOUNDS]
    households: dict[tuple, list[str]] = {p: [] for p in places}
    residents: dict[tuple, list[str]] = {p: [] for p in places}
    rooms: dict[tuple, int] = {p: 0 for p in places}

    def subject(place: tuple, aggregate: str, ident: str) -> AggregateSubject:
        return AggregateSubject(place[0], place[1], "registry", aggregate, ident)

    for place in places:
        yield encoded(subject(place, "compound", place[1]), e.CompoundRegistered(
            compound=place[1], name="樱花苑", town=place[0].split("-")[0], registered_by="cadre-1", registered_at=NOW))
        counts.setup += 1
        for b in range(1, BUILDINGS + 1):
            yield encoded(subject(place, "building", str(b)), e.BuildingRegistered(
                building=str(b), entrances=4, floors=18, registered_by="cadre-1", registered_at=NOW))
            counts.setup += 1
    while counts.total < total:
        place = places[rng.randrange(len(places))]
        roll = rng.random()
        if roll < 0.2 or not households[place]:
            n = rooms[place] = rooms[place] + 1
            # mixed radix: building, entrance, floor, door (two digits, so extra buildings past 99 doors)
            building = 1 + n % BUILDINGS + BUILDINGS * (n // (BUILDINGS * 4 * 18 * 99))
            entrance, floor, door = 1 + (n // BUILDINGS) % 4, 1 + (n // (BUILDINGS * 4)) % 18, 1 + (n // (BUILDINGS * 72)) % 99
            event = faker.household_registered(str(building), str(entrance), f"{floor}{door:02d}")
            households[place].append(event.household_id)
            counts.households += 1
            yield encoded(subject(place, "household", event.household_id), event)
        elif roll < 0.9:
            rid = f"r{rng.getrandbits(96):024x}"
            hh = households[place][-1 - rng.randrange(min(50, len(households[place])))]
            residents[place].append(rid)
            counts.residents += 1
            yield encoded(subject(place, "resident", rid), faker.resident_registered(rid, hh))
        elif residents[place]:
            rid = residents[place][rng.randrange(len(residents[place]))]
            event = faker.resident_updated(rid) if rng.random() < 0.5 else faker.resident_verified(rid)
            counts.changes += 1
            yield encoded(subject(place, "resident", rid), event)


async def _generate_log(nc, total: int) -> Counts:
    counts = Counts()
    with Stopwatch() as sw:
        async with RawBatchPublisher(nc, batch=BATCH, in_flight=4) as publisher:
            chunk: list[tuple] = []
            for message in generate(total, counts):
                chunk.append(message)
                if len(chunk) == BATCH:
                    await publisher.publish_batch(chunk)
                    chunk = []
                    if publisher.published % 200_000 == 0:
                        say(f"  replay: generated {publisher.published:,} / {total:,} events")
            if chunk:
                await publisher.publish_batch(chunk)
    say(f"  replay: log of {counts.total:,} events ({counts.households:,} households, {counts.residents:,} residents, "
        f"{counts.changes:,} updates/verifications) written in {sw.elapsed:.0f} s "
        f"({counts.total / sw.elapsed:,.0f} events/s)")
    return counts


async def lean_replay(nc, dsn: str, filters: list[str]) -> tuple[int, float]:
    """The baseline: pull, orjson, COPY, checkpoint — no framework. Returns (events, seconds)."""
    conn = await asyncpg.connect(dsn)
    await conn.execute("DROP SCHEMA IF EXISTS bench_lean CASCADE; CREATE SCHEMA bench_lean;"
                       "CREATE TABLE bench_lean.events (seq bigint, tenant text, compound text, aggregate_id text,"
                       " type text, household_id text, name text, id_hash text, id_mask text, id_number_sealed text,"
                       " phone_mask text, phone_sealed text);"
                       "CREATE TABLE bench_lean.checkpoint (name text PRIMARY KEY, last_seq bigint NOT NULL);"
                       "INSERT INTO bench_lean.checkpoint VALUES ('lean', 0)")
    js = nc.jetstream()
    with Stopwatch() as sw:
        info = await js.add_consumer(EVENTS_STREAM, ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=30.0, mem_storage=True,
            max_waiting=4, **({"filter_subject": filters[0]} if len(filters) == 1 else {"filter_subjects": filters})))
        total = info.num_pending
        next_subject = f"$JS.API.CONSUMER.MSG.NEXT.{EVENTS_STREAM}.{info.name}"
        request = orjson.dumps({"batch": BATCH, "expires": 10_000_000_000})
        inbox = nc.new_inbox()
        batches: asyncio.Queue[list] = asyncio.Queue()
        state = {"batch": [], "delivered": 0}

        async def on_msg(msg) -> None:
            if not msg.reply:  # a status (408 when a spare request expires at the end)
                return
            state["batch"].append((int(msg.reply.split(".")[-4]), msg.subject, msg.headers, msg.data))
            state["delivered"] += 1
            if len(state["batch"]) == BATCH or state["delivered"] == total:
                batches.put_nowait(state["batch"])
                state["batch"] = []
                if state["delivered"] < total:
                    await nc.publish(next_subject, request, reply=inbox)

        sub = await nc.subscribe(inbox, cb=on_msg, pending_msgs_limit=-1, pending_bytes_limit=-1)
        for _ in range(2):  # two requests outstanding: one is delivered while the other's batch is written
            await nc.publish(next_subject, request, reply=inbox)
        written = 0
        while written < total:
            batch = await batches.get()
            records = []
            for seq, subject, headers, data in batch:
                body = orjson.loads(data)
                _, _, tenant, compound, _, _, aggregate_id = subject.split(".")
                records.append((seq, tenant, compound, aggregate_id, headers.get(H_TYPE), body.get("household_id"),
                                body.get("name"), body.get("id_hash"), body.get("id_mask"),
                                body.get("id_number_sealed"), body.get("phone_mask"), body.get("phone_sealed")))
            async with conn.transaction():
                await conn.copy_records_to_table("events", schema_name="bench_lean", records=records,
                                                 columns=LEAN_COLUMNS)
                await conn.execute("UPDATE bench_lean.checkpoint SET last_seq = $1 WHERE name = 'lean'", batch[-1][0])
            written += len(batch)
    await sub.unsubscribe()
    try:
        await js.delete_consumer(EVENTS_STREAM, info.name)
    except Exception:  # noqa: BLE001 - ephemeral, it expires anyway
        pass
    stored = await conn.fetchval("SELECT count(*) FROM bench_lean.events")
    await conn.execute("DROP SCHEMA bench_lean CASCADE")
    await conn.close()
    if stored != total:
        raise RuntimeError(f"lean baseline stored {stored} rows for {total} events")
    return total, sw.elapsed


async def run(servers: BenchServers, *, events: int = 1_000_000, **_options) -> list[Figure]:
    await servers.fresh_log()
    nc = await connect(servers.nats_url, "bench-replay")
    projection = RegistryProjection()
    try:
        counts = await _generate_log(nc, events)
        lean_events, lean_seconds = await lean_replay(nc, servers.database_url, _filters(projection))
        baseline = lean_events / lean_seconds
        say(f"  replay baseline (pull + orjson + COPY): {lean_events:,} events in {lean_seconds:.1f} s "
            f"= {baseline:,.0f} events/s")
        await _ensure_live_schema(servers.database_url, projection)
        with Stopwatch() as sw:
            applied = await replay(nc, servers.database_url, projection)
        value = applied / sw.elapsed
        say(f"  replay (ProjectionRunner via rebuild.replay): {applied:,} events in {sw.elapsed:.1f} s "
            f"= {value:,.0f} events/s")
    finally:
        await nc.close()
    await _check_tables(servers.database_url, projection, counts)
    if applied < counts.total:
        raise RuntimeError(f"replay applied {applied} of {counts.total} events")
    ratio = value / baseline
    return [Figure("replay.registry_projection", value, "events/s", baseline,
                   target=f"≥ {TARGET:,} and ≥ {TARGET_RATIO}× baseline",
                   ok=value >= TARGET and ratio >= TARGET_RATIO,
                   note=f"{counts.total:,} events ({counts.households:,} HouseholdRegistered, {counts.residents:,} "
                        f"ResidentRegistered, {counts.changes:,} ResidentUpdated/Verified); replay() end to end incl. "
                        f"schema swap; baseline: pull consumer + orjson + COPY into a plain table + checkpoint per "
                        f"batch of {BATCH}")]


async def _ensure_live_schema(dsn: str, projection) -> None:
    """As `louzu up` leaves it: the projection's live tables exist (replay swaps them out)."""
    conn = await asyncpg.connect(dsn)
    try:
        await ensure_schema(conn, projection, projection.schema)
    finally:
        await conn.close()


def _filters(projection) -> list[str]:
    """The projection's subjects (`filters`; `filter_subject` in older code)."""
    return list(getattr(projection, "filters", None) or [projection.filter_subject])


async def _check_tables(dsn: str, projection: RegistryProjection, counts: Counts) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        households = await conn.fetchval(f'SELECT count(*) FROM "{projection.schema}".households')
        residents = await conn.fetchval(f'SELECT count(*) FROM "{projection.schema}".residents')
    finally:
        await conn.close()
    if (households, residents) != (counts.households, counts.residents):
        raise RuntimeError(f"replayed tables hold {households} households / {residents} residents, "
                           f"the log has {counts.households} / {counts.residents}")

