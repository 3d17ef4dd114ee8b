"""Projection runner: batches from JetStream, rows and checkpoint in one PostgreSQL transaction.

Exactly-once effect: the checkpoint moves only past events whose rows were written in the
same transaction, and only from the value this runner last saw (a conditional update), so a
crash, a redelivery or a second runner can neither lose nor double an effect. One runner per
projection holds a session advisory lock; others wait as hot standbys.
"""
from __future__ import annotations

import asyncio
import gc
import os
import signal
from dataclasses import dataclass
from typing import Sequence

import asyncpg
from nats.aio.client import Client as NATS
from nats.errors import Error as NatsError

from shared.eventlog.envelope import RecordedEvent, UndecodableEvent, decode, H_TYPE
from shared.eventlog.subjects import EVENTS_STREAM, checkpoint_subject
from shared.logging import get_logger
from shared.projections.base import Projection, ensure_schema
from shared.projections.reader import BatchReader, GapDetected, RawMessage, ReaderFailed

log = get_logger("louzu.projections")


TRANSIENT = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.CannotConnectNowError,
             NatsError, ReaderFailed, asyncio.TimeoutError)


class CheckpointMoved(RuntimeError):
    """Someone else advanced or reset this projection's checkpoint: start again from it."""


@dataclass(frozen=True, slots=True)
class DeadLetter:
    seq: int
    subject: str
    ce_type: str | None
    reason: str


def lock_key(checkpoint: str) -> str:
    return f"louzu.projection.{checkpoint}"


async def read_checkpoint(conn: asyncpg.Connection, name: str) -> int:
    await conn.execute("INSERT INTO louzu.projection_checkpoints (name) VALUES ($1) ON CONFLICT DO NOTHING", name)
    return await conn.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1", name)


class ProjectionRunner:
    """Keeps one projection's tables in `schema` equal to the log, checkpointed as `checkpoint`."""

    def __init__(self, nc: NATS, dsn: str, projection: Projection, *, schema: str | None = None,
                 checkpoint: str | None = None, batch: int = 1000, stream: str = EVENTS_STREAM,
                 with_indexes: bool = True, announce: bool = False) -> None:
        self.nc, self.dsn, self.projection, self.stream, self.batch = nc, dsn, projection, stream, batch
        self.announce = announce  # publish every checkpoint on core NATS (readers waiting for a position)
        self.schema = schema or projection.schema
        self.checkpoint = checkpoint or projection.name
        self.last_seq = 0
        self.applied = 0
        self.with_indexes = with_indexes  # a rebuild adds secondary indexes after the bulk load
        self._kill_at = int(os.environ.get("LOUZU_TEST_KILL_AT_SEQ", "0"))  # crash tests only

    async def _connect(self) -> asyncpg.Connection:
        conn = await asyncpg.connect(self.dsn)
        await ensure_schema(conn, self.projection, self.schema, with_indexes=self.with_indexes)
        return conn

    async def run(self, stop: asyncio.Event, *, until_seq: int | None = None, idle_timeout: float = 0.5) -> int:
        """Apply events until `stop` is set (or, with `until_seq`, until that sequence is applied).
        A lost connection to either server is survived: the runner waits, reconnects and resumes
        from its checkpoint."""
        while True:
            try:
                return await self._run_once(stop, until_seq, idle_timeout)
            except TRANSIENT as exc:
                log.warning("projection.interrupted", projection=self.checkpoint, error=type(exc).__name__)
                try:
                    await asyncio.wait_for(stop.wait(), 1.0)
                    return self.last_seq
                except asyncio.TimeoutError:
                    continue

    async def _run_once(self, stop: asyncio.Event, until_seq: int | None, idle_timeout: float) -> int:
        tune_gc()
        conn = await self._connect()
        try:
            while not stop.is_set():
                if await conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", lock_key(self.checkpoint)):
                    break
                await asyncio.sleep(0.5)  # a standby: another runner holds this projection
            else:
                return self.last_seq
            while not stop.is_set():
                try:
                    if await self._follow(conn, stop, until_seq, idle_timeout):
                        break
                except (CheckpointMoved, GapDetected) as why:
                    log.info("projection.restart", projection=self.checkpoint, reason=str(why))
            return self.last_seq
        finally:
            await conn.close()

    async def _follow(self, conn: asyncpg.Connection, stop: asyncio.Event, until_seq: int | None,
                      idle_timeout: float) -> bool:
        self.last_seq = await read_checkpoint(conn, self.checkpoint)
        if until_seq is not None and self.last_seq >= until_seq:
            return True
        reader = await BatchReader(self.nc, self.stream, self.projection.filters,
                                   self.last_seq + 1, self.batch).open()
        try:
            while not stop.is_set():
                raw = await reader.next_batch(idle_timeout)
                if until_seq is not None:
                    raw = [msg for msg in raw if msg.seq <= until_seq]
                if raw:
                    await self._apply_batch(conn, raw)
                if self.announce:  # after each batch, and while idle (a reader that just started learns it)
                    await self.nc.publish(checkpoint_subject(self.checkpoint), str(self.last_seq).encode())
                if until_seq is not None and (self.last_seq >= until_seq or (not raw and reader.pending == 0)):
                    return True
            return True
        finally:
            await reader.close()

    async def _apply_batch(self, conn: asyncpg.Connection, raw: Sequence[RawMessage]) -> None:
        events, dead = decode_batch(raw, self.last_seq)
        if not events and not dead:
            return
        new_seq = raw[-1].seq
        async with conn.transaction():
            moved = await conn.fetchval(
                "UPDATE louzu.projection_checkpoints SET last_seq = $2, updated_at = now() "
                "WHERE name = $1 AND last_seq = $3 RETURNING last_seq", self.checkpoint, new_seq, self.last_seq)
            if moved is None:
                raise CheckpointMoved(f"checkpoint of {self.checkpoint} is no longer {self.last_seq}")
            dead += await self._apply_events(conn, events)
            if dead:
                await record_dead_letters(conn, self.checkpoint, dead)
            if self._kill_at and self.last_seq < self._kill_at <= new_seq:
                os.kill(os.getpid(), signal.SIGKILL)  # crash test: die with the batch written but not committed
        self.last_seq = new_seq
        self.applied += len(events)

    async def _apply_events(self, conn: asyncpg.Connection, events: list[RecordedEvent]) -> list[DeadLetter]:
        """Set-based apply; if the batch fails, apply one by one and set aside the events that fail."""
        if not events:
            return []
        try:
            async with conn.transaction():
                await self.projection.apply(conn, self.schema, events)
            return []
        except (asyncpg.PostgresError, ValueError, KeyError, TypeError) as batch_error:
            log.warning("projection.batch_failed", projection=self.checkpoint, error=type(batch_error).__name__)
        dead = []
        for event in events:
            try:
                async with conn.transaction():
                    await self.projection.apply(conn, self.schema, [event])
            except (asyncpg.PostgresError, ValueError, KeyError, TypeError) as exc:
                dead.append(DeadLetter(event.seq, str(event.subject), type(event.event).ce_type(),
                                       f"apply failed: {type(exc).__name__}"))
        return dead


def tune_gc() -> None:
    """A batch allocates hundreds of thousands of short-lived objects; CPython's default collection
    thresholds spent a third of a replay in the garbage collector (docs/benchmarks.md)."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def decode_batch(raw: Sequence[RawMessage], after: int) -> tuple[list[RecordedEvent], list[DeadLetter]]:
    events, dead = [], []
    for msg in raw:
        if msg.seq <= after:
            continue
        try:
            events.append(decode(msg.seq, msg.subject, msg.headers, msg.data))
        except UndecodableEvent as exc:
            dead.append(DeadLetter(msg.seq, msg.subject, (msg.headers or {}).get(H_TYPE), str(exc)))
    return events, dead


async def record_dead_letters(conn: asyncpg.Connection, projection: str, dead: list[DeadLetter]) -> None:
    await conn.executemany(
        "INSERT INTO louzu.dead_letters (projection, seq, subject, ce_type, reason) VALUES ($1, $2, $3, $4, $5) "
        "ON CONFLICT DO NOTHING", [(projection, d.seq, d.subject, d.ce_type, d.reason) for d in dead])
    for letter in dead:
        log.warning("projection.dead_letter", projection=projection, seq=letter.seq, reason=letter.reason)
