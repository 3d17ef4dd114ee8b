"""The registry's composition root: the only place that knows every concrete class."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import asyncpg
import nats

from shared.commanding import CommandServer
from shared.service_main import shut_down
from shared.commands.registry import COMMANDS
from shared.eventlog.store import EventStore
from shared.projections.base import ensure_schema
from shared.projections.runner import ProjectionRunner
from services.registry.application.service import RegistryService
from services.registry.projections.tables import RegistryProjection


@dataclass
class Registry:
    nats_url: str
    database_url: str
    server: CommandServer | None = None
    nc: nats.NATS | None = None
    store: EventStore | None = None
    projector: asyncio.Task | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, *, commands: bool = True, projector: bool = True) -> "Registry":
        self.nc = await nats.connect(self.nats_url, name="louzu-registry")
        if commands:
            self.store = EventStore(self.nc)
            service = RegistryService(self.store)
            self.server = await CommandServer(self.nc, "registry", COMMANDS,
                                              lambda command: service.execute(command)).start()
        if projector:
            conn = await asyncpg.connect(self.database_url)
            try:
                await ensure_schema(conn, RegistryProjection(), RegistryProjection().schema)
            finally:
                await conn.close()
            runner = ProjectionRunner(self.nc, self.database_url, RegistryProjection())
            self.projector = asyncio.create_task(runner.run(self.stop))
        return self

    async def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        await shut_down([self.projector], self.server, None, self.store, self.nc)
