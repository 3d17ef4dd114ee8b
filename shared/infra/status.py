"""`louzu status`: servers, services, and for each projection its checkpoint, lag and dead letters.

`nats_operator_file` is the operator's user and password (JSON, owner-only) that `louzu` verbs use
on the embedded server; `nats_context` a NATS CLI context for the same (`nats --context <it> …`)."""
from __future__ import annotations

import asyncpg
import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared.eventlog.subjects import EVENTS_STREAM
from shared.infra.system import SERVICES, alive, read_state
from shared.projections.base import Projection
from shared.projections.reader import filter_config
from shared.settings import PlatformSettings


async def pending_after(js, filters, seq: int) -> int:
    """Messages matching the projection's filters after `seq`: its true lag."""
    info = await js.add_consumer(EVENTS_STREAM, ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=seq + 1, ack_policy=AckPolicy.NONE,
        inactive_threshold=5.0, mem_storage=True, **filter_config(filters)))
    try:
        return info.num_pending
    finally:
        await js.delete_consumer(EVENTS_STREAM, info.name)


async def status(settings: PlatformSettings, nats_url: str, database_url: str,
                 projections: list[Projection]) -> dict:
    state = read_state(settings)
    pids = state.get("services", {})
    report: dict = {"nats_url": state.get("nats_url") if state.get("nats_operator_file") else nats_url,
                    "nats_operator_file": state.get("nats_operator_file"), "nats_context": state.get("nats_context"),
                    "database_url": database_url, "http_url": state.get("http_url"),
                    "data_dir": str(settings.home),
                    "services": {name: alive(pids.get(name)) for name in SERVICES}, "projections": {}}
    nc = await nats.connect(nats_url)
    conn = await asyncpg.connect(database_url)
    try:
        js = nc.jetstream()
        stream = await js.stream_info(EVENTS_STREAM)
        report["stream"] = {"name": EVENTS_STREAM, "messages": stream.state.messages, "last_seq": stream.state.last_seq}
        for projection in projections:
            last = await conn.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1",
                                       projection.name) or 0
            dead = await conn.fetchval("SELECT count(*) FROM louzu.dead_letters WHERE projection = $1", projection.name)
            report["projections"][projection.name] = {
                "last_seq": last, "lag": await pending_after(js, projection.filters, last), "dead_letters": dead}
    finally:
        await conn.close()
        await nc.close()
    return report
