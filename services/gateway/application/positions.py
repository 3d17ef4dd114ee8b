"""Reads that see their own writes. A command answers with the stream position of its last event; a
read that sends it back waits until the read model it reads has applied the log that far — bounded,
then a clear 503 — and the town console's live stream is pushed when that read model moves.

The gateway's projection runners announce every checkpoint on core NATS
(`louzu.checkpoint.<projection>`): every gateway process hears it, whichever one runs the projector.
An announcement lost (a reconnect) costs only time: a waiter also reads the checkpoint table now and
then."""
from __future__ import annotations

import asyncio
from typing import Iterable

import asyncpg
from nats.aio.client import Client as NATS

from shared.eventlog.subjects import CHECKPOINTS_ROOT, EVENTS_STREAM, checkpoints_filter
from shared.logging import get_logger

log = get_logger("louzu.gateway.positions")
WAIT_S = 5.0  # a read waits at most this long for its position, then answers 503
RECHECK_S = 0.5  # how often a waiter reads the checkpoint table, in case an announcement was missed


class PositionNotReached(RuntimeError):
    def __init__(self, projection: str, position: int, reached: int) -> None:
        super().__init__(f"{projection} has applied the log up to {reached}, not yet {position}")
        self.projection, self.position, self.reached = projection, position, reached


class Positions:
    """The last position each projection announced, and waiting for one to pass a position."""

    def __init__(self, nc: NATS, pool: asyncpg.Pool) -> None:
        self.nc, self.pool = nc, pool
        self.reached: dict[str, int] = {}
        self._moved = asyncio.Condition()
        self._sub = None

    async def start(self) -> "Positions":
        self._sub = await self.nc.subscribe(checkpoints_filter(), cb=self._on_announce)
        return self

    async def stop(self) -> None:
        if self._sub is not None:
            await self._sub.unsubscribe()
            self._sub = None

    async def _on_announce(self, msg) -> None:
        name = msg.subject[len(CHECKPOINTS_ROOT) + 1:]
        try:
            seq = int(msg.data)
        except ValueError:
            return
        await self._advance(name, seq)

    async def _advance(self, name: str, seq: int) -> None:
        if seq > self.reached.get(name, -1):
            self.reached[name] = seq
            async with self._moved:
                self._moved.notify_all()

    async def refresh(self, names: Iterable[str]) -> None:
        """Read the projections' checkpoints from the table (a stream starting, a missed announcement)."""
        rows = await self.pool.fetch("SELECT name, last_seq FROM louzu.projection_checkpoints WHERE name = ANY($1)",
                                     list(names))
        for row in rows:
            await self._advance(row["name"], row["last_seq"])

    async def log_end(self) -> int:
        """The position of the log's last event: a position past it was never answered by a command."""
        return (await self.nc.jetstream().stream_info(EVENTS_STREAM)).state.last_seq

    def passed(self, names: Iterable[str], position: int) -> bool:
        return all(self.reached.get(name, -1) >= position for name in names)

    async def wait(self, names: tuple[str, ...], position: int, timeout: float = WAIT_S) -> None:
        """Return once every projection of `names` has applied `position`; PositionNotReached after `timeout`."""
        if self.passed(names, position):
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        await self.refresh(names)
        while not self.passed(names, position):
            left = deadline - loop.time()
            if left <= 0:
                await self.refresh(names)
                if self.passed(names, position):
                    return
                behind = min(names, key=lambda n: self.reached.get(n, -1))
                raise PositionNotReached(behind, position, self.reached.get(behind, -1))
            async with self._moved:
                try:
                    await asyncio.wait_for(self._moved.wait(), min(left, RECHECK_S))
                except asyncio.TimeoutError:
                    await self.refresh(names)

    async def changes(self, name: str, after: int, stop: asyncio.Event, idle: float):
        """Yield each new position of `name` past `after` as it is announced (None every `idle` seconds
        without one, so a caller can send a keep-alive or look around)."""
        last = after
        while not stop.is_set():
            async with self._moved:
                if self.reached.get(name, -1) <= last:
                    try:
                        await asyncio.wait_for(self._moved.wait_for(lambda: self.reached.get(name, -1) > last), idle)
                    except asyncio.TimeoutError:
                        yield None
                        continue
            last = self.reached[name]
            yield last
