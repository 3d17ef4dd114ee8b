"""The lockdown service's composition root."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import asyncpg
import nats

from shared.commanding import CommandServer
from shared.service_main import shut_down
from shared.commands.lockdown import COMMANDS
from shared.crypto import KeyStore
from shared.eventlog.store import EventStore
from shared.infra.status import pending_after
from shared.projections.base import ensure_schema
from shared.projections.runner import ProjectionRunner
from services.lockdown.application.schedule import PhaseSchedule
from services.lockdown.application.service import LockdownService
from services.lockdown.projections import health_queries
from services.lockdown.projections.tables import LockdownProjection


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Lockdown:
    nats_url: str
    database_url: str
    clock: Callable[[], datetime] = utc_now
    schedule_interval: float = 1.0
    schedule_tenant: str | None = None
    server: CommandServer | None = None
    nc: nats.NATS | None = None
    store: EventStore | None = None
    service: LockdownService | None = None
    schedule: PhaseSchedule | None = None
    pool: asyncpg.Pool | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, *, commands: bool = True, projector: bool = True, scheduler: bool = True) -> "Lockdown":
        self.nc = await nats.connect(self.nats_url, name="louzu-lockdown")
        self.store = EventStore(self.nc)
        self.pool = await asyncpg.create_pool(self.database_url, min_size=1, max_size=4)
        async with self.pool.acquire() as conn:
            projection = LockdownProjection()
            await ensure_schema(conn, projection, projection.schema)
        self.service = LockdownService(self.store, self.clock, keys=KeyStore(self.pool), reconcile=self._reconcile)
        if commands:
            self.server = await CommandServer(self.nc, "lockdown", COMMANDS,
                                              lambda command: self.service.execute(command)).start()
        if projector:
            runner = ProjectionRunner(self.nc, self.database_url, LockdownProjection())
            self.tasks.append(asyncio.create_task(runner.run(self.stop)))
        if scheduler:
            self.schedule = PhaseSchedule(self.service, self.pool, self.clock, tenant=self.schedule_tenant)
            self.tasks.append(asyncio.create_task(self.schedule.run(self.stop, self.schedule_interval)))
        return self

    async def _reconcile(self, tenant: str, round_id: str):
        """Counts and who is unaccounted for, read once the roster has caught up with the log."""
        projection = LockdownProjection()
        async with self.pool.acquire() as conn:
            for _ in range(100):
                seq = await conn.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1",
                                          projection.name) or 0
                if await pending_after(self.nc.jetstream(), projection.filters, seq) == 0:
                    break
                await asyncio.sleep(0.05)
            return await health_queries.reconcile(conn, tenant, round_id)

    async def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        await shut_down(self.tasks, self.server, self.pool, self.store, self.nc)
