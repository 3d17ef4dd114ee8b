"""A roster as of a past moment, for audits: the roster projection replayed from the log into a
scratch schema, up to the last event the log held at that moment, for one compound only.

"At that moment" is the log's own clock (the time JetStream stored each event), so the sheet shows
what the system knew then — not what was later recorded about then."""
from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import AsyncIterator

import asyncpg
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared.eventlog.subjects import EVENTS_STREAM
from shared.projections.runner import ProjectionRunner
from services.roster.projections.tables import RosterProjection


async def last_seq_at(nc: NATS, moment: datetime, stream: str = EVENTS_STREAM) -> int:
    """The sequence of the last event stored at or before `moment` (0: none)."""
    js = nc.jetstream()
    start = moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    info = await js.add_consumer(stream, ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=start, ack_policy=AckPolicy.NONE,
        inactive_threshold=30.0, mem_storage=True))
    try:
        return info.delivered.stream_seq
    finally:
        await js.delete_consumer(stream, info.name)


@asynccontextmanager
async def scratch_roster(nc: NATS, dsn: str, tenant: str, compound: str, moment: datetime) -> AsyncIterator[str]:
    """Yield the name of a schema holding the compound's roster read model as of `moment`; it is
    dropped afterwards."""
    tag = uuid.uuid4().hex[:12]
    projection = RosterProjection(name=f"roster__asof_{tag}", schema=f"proj_roster__asof_{tag}", tenant=tenant,
                                  compound=compound)
    until = await last_seq_at(nc, moment)
    try:
        runner = ProjectionRunner(nc, dsn, projection, batch=2000)
        await runner.run(asyncio.Event(), until_seq=until, idle_timeout=0.3)
        yield projection.schema
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{projection.schema}" CASCADE')
            await conn.execute("DELETE FROM louzu.projection_checkpoints WHERE name = $1", projection.name)
            await conn.execute("DELETE FROM louzu.dead_letters WHERE projection = $1", projection.name)
        finally:
            await conn.close()
