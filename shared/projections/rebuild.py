"""Replay (rebuild beside the live tables, then swap) and verify (rebuild into scratch, compare)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Callable

import asyncpg
from nats.aio.client import Client as NATS

from shared.eventlog.subjects import EVENTS_STREAM
from shared.projections.base import Projection, index_ddl
from shared.projections.runner import ProjectionRunner, read_checkpoint

Progress = Callable[[ProjectionRunner], None]


async def _stream_last(nc: NATS, stream: str = EVENTS_STREAM) -> int:
    return (await nc.jetstream().stream_info(stream)).state.last_seq


async def _fresh(conn: asyncpg.Connection, schema: str, checkpoint: str) -> None:
    await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    await conn.execute("DELETE FROM louzu.projection_checkpoints WHERE name = $1", checkpoint)
    await conn.execute("DELETE FROM louzu.dead_letters WHERE projection = $1", checkpoint)


async def _build(nc: NATS, dsn: str, projection: Projection, schema: str, checkpoint: str,
                 until_seq: int, progress: Progress | None, batch: int, with_indexes: bool = True) -> ProjectionRunner:
    runner = ProjectionRunner(nc, dsn, projection, schema=schema, checkpoint=checkpoint, batch=batch,
                              with_indexes=with_indexes)
    task = asyncio.create_task(runner.run(asyncio.Event(), until_seq=until_seq, idle_timeout=0.3))
    while not task.done():
        if progress:
            progress(runner)
        await asyncio.sleep(0.2)
    await task
    if progress:
        progress(runner)
    return runner


async def replay(nc: NATS, dsn: str, projection: Projection, *, progress: Progress | None = None,
                 batch: int = 5000) -> int:
    """Rebuild `projection` from sequence 1 while the live tables keep serving, then swap atomically.
    Returns the number of events applied."""
    schema, checkpoint = f"{projection.schema}__rebuild", f"{projection.name}__rebuild"
    conn = await asyncpg.connect(dsn)
    applied = 0
    try:
        await _fresh(conn, schema, checkpoint)
        runner = await _build(nc, dsn, projection, schema, checkpoint, await _stream_last(nc), progress, batch,
                              with_indexes=False)
        applied += runner.applied
        if index_ddl(projection, schema):
            await conn.execute(index_ddl(projection, schema))  # after the bulk load: one sort, not a million inserts
        while True:
            if await _swap(conn, projection, schema, checkpoint):
                return applied
            runner = await _build(nc, dsn, projection, schema, checkpoint, await _stream_last(nc), progress, batch)
            applied += runner.applied
    finally:
        await conn.close()


async def _swap(conn: asyncpg.Connection, projection: Projection, schema: str, checkpoint: str) -> bool:
    async with conn.transaction():
        await read_checkpoint(conn, projection.name)
        live = await conn.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1 FOR UPDATE",
                                   projection.name)
        rebuilt = await read_checkpoint(conn, checkpoint)
        if rebuilt < live:
            return False  # the live runner moved on while we built: catch up, then try again
        old = f"{projection.schema}__old"
        await conn.execute(f'DROP SCHEMA IF EXISTS "{old}" CASCADE')
        await conn.execute(f'ALTER SCHEMA "{projection.schema}" RENAME TO "{old}"')
        await conn.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{projection.schema}"')
        await conn.execute(f'DROP SCHEMA "{old}" CASCADE')
        await conn.execute("UPDATE louzu.projection_checkpoints SET last_seq = $2, updated_at = now() WHERE name = $1",
                           projection.name, rebuilt)
        await conn.execute("DELETE FROM louzu.dead_letters WHERE projection = $1", projection.name)
        await conn.execute("UPDATE louzu.dead_letters SET projection = $1 WHERE projection = $2",
                           projection.name, checkpoint)
        await conn.execute("DELETE FROM louzu.projection_checkpoints WHERE name = $1", checkpoint)
        return True


@dataclass
class Difference:
    table: str
    only_live: list[dict] = field(default_factory=list)
    only_rebuilt: list[dict] = field(default_factory=list)


async def verify(nc: NATS, dsn: str, projection: Projection, *, batch: int = 1000) -> list[Difference]:
    """Rebuild into scratch tables up to the live checkpoint and compare every table; [] means equal."""
    schema, checkpoint = f"{projection.schema}__verify", f"{projection.name}__verify"
    conn = await asyncpg.connect(dsn)
    try:
        await _fresh(conn, schema, checkpoint)
        while True:
            live = await read_checkpoint(conn, projection.name)
            await _build(nc, dsn, projection, schema, checkpoint, live, None, batch)
            async with conn.transaction(isolation="repeatable_read"):
                now = await conn.fetchval(
                    "SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1 FOR SHARE", projection.name)
                if now != live:
                    continue
                return [d for t in projection.tables
                        if (d := await _compare(conn, projection.schema, schema, t)).only_live or d.only_rebuilt]
    finally:
        await _fresh(conn, schema, checkpoint)
        await conn.close()


async def _compare(conn: asyncpg.Connection, live: str, scratch: str, table: str) -> Difference:
    diff = Difference(table)
    for a, b, sink in ((live, scratch, diff.only_live), (scratch, live, diff.only_rebuilt)):
        rows = await conn.fetch(f'(SELECT * FROM "{a}"."{table}" EXCEPT ALL SELECT * FROM "{b}"."{table}") LIMIT 10')
        sink.extend(dict(r) for r in rows)
    return diff
