"""The registry's composition root: the only place that knows every concrete class."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import nats
from faststream.nats import NatsBroker

from shared.commanding import make_broker
from shared.eventlog.store import EventStore
from shared.projections.runner import ProjectionRunner
from services.registry.application.service import RegistryService
from services.registry.entrypoints.commands import register_command_handlers
from services.registry.projections.tables import RegistryProjection


@dataclass
class Registry:
    nats_url: str
    database_url: str
    broker: NatsBroker | None = None
    nc: nats.NATS | None = None
    store: EventStore | None = None
    projector: asyncio.Task | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, *, commands: bool = True, projector: bool = True) -> "Registry":
        self.nc = await nats.connect(self.nats_url, name="louzu-registry")
        if commands:
            self.store = EventStore(self.nc)
            self.broker = make_broker(self.nats_url, "louzu-registry-commands")
            register_command_handlers(self.broker, RegistryService(self.store))
            await self.broker.start()
        if projector:
            runner = ProjectionRunner(self.nc, self.database_url, RegistryProjection())
            self.projector = asyncio.create_task(runner.run(self.stop))
        return self

    async def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        if self.projector:
            await asyncio.wait_for(self.projector, 10)
        if self.broker:
            await self.broker.stop()
        if self.store:
            await self.store.close()
        if self.nc:
            await self.nc.drain()
