"""The delivery service's composition root."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable

import asyncpg
import nats

from shared.commanding import CommandServer
from shared.service_main import shut_down
from shared.commands.delivery import COMMANDS
from shared.eventlog.store import EventStore
from shared.projections.base import ensure_schema
from shared.projections.runner import ProjectionRunner
from services.delivery.application.escalation import EscalationSchedule
from services.delivery.application.service import DeliveryService
from services.delivery.projections import queries
from services.delivery.projections.tables import DeliveryProjection


FLAGS_TTL_S = 30.0


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Delivery:
    nats_url: str
    database_url: str
    clock: Callable[[], datetime] = utc_now
    escalate_after: timedelta = timedelta(hours=2)
    schedule_interval: float = 30.0
    schedule_tenant: str | None = None
    escalation: EscalationSchedule | None = None
    nc: nats.NATS | None = None
    store: EventStore | None = None
    pool: asyncpg.Pool | None = None
    server: CommandServer | None = None
    service: DeliveryService | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)
    _flag_cache: dict = field(default_factory=dict)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, *, commands: bool = True, projector: bool = True, scheduler: bool = True) -> "Delivery":
        self.nc = await nats.connect(self.nats_url, name="louzu-delivery")
        self.store = EventStore(self.nc)
        self.pool = await asyncpg.create_pool(self.database_url, min_size=2, max_size=16)
        async with self.pool.acquire() as conn:
            await ensure_schema(conn, DeliveryProjection(), DeliveryProjection().schema)
        self.service = DeliveryService(self.store, self.clock, flags=self._flags, phase=self._phase)
        if commands:
            self.server = await CommandServer(self.nc, "delivery", COMMANDS,
                                              lambda command: self.service.execute(command)).start()
        if projector:
            runner = ProjectionRunner(self.nc, self.database_url, DeliveryProjection())
            self.tasks.append(asyncio.create_task(runner.run(self.stop)))
        if scheduler:
            self.escalation = EscalationSchedule(self.service, self.pool, self.clock, self.escalate_after,
                                                 self.schedule_tenant)
            self.tasks.append(asyncio.create_task(self.escalation.run(self.stop, self.schedule_interval)))
        return self

    async def _flags(self, tenant: str, compound: str, household: str):
        """A household's flags change rarely (a registry update); read them at most every FLAGS_TTL_S."""
        key, now = (tenant, compound, household), asyncio.get_running_loop().time()
        cached = self._flag_cache.get(key)
        if cached and now - cached[0] < FLAGS_TTL_S:
            return cached[1]
        async with self.pool.acquire() as conn:
            flags = await queries.household_flags(conn, tenant, compound, household)
        if len(self._flag_cache) > 100_000:
            self._flag_cache.clear()
        self._flag_cache[key] = (now, flags)
        return flags

    async def _phase(self, tenant: str, compound: str, building: str):
        async with self.pool.acquire() as conn:
            return await queries.building_phase(conn, tenant, compound, building)

    async def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        await shut_down(self.tasks, self.server, self.pool, self.store, self.nc)
