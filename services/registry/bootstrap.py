"""The registry's composition root: the only place that knows every concrete class. Its parts: the
commands, the read model, and the queries (imports of a cadre's sheet, which need the blind-index
key from the secrets folder)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import nats

from shared.commanding import CommandServer
from shared.crypto import BlindIndex, load_or_create_secret
from shared.queries.registry import QUERIES
from shared.queries.serving import QueryServer
from shared.service_main import shut_down
from shared.commands.registry import COMMANDS
from shared.eventlog.store import EventStore
from shared.projections.base import ensure_schema
from shared.projections.runner import ProjectionRunner
from services.registry.application.service import RegistryService
from services.registry.entrypoints.queries import RegistryQueries
from services.registry.projections.tables import RegistryProjection


@dataclass
class Registry:
    nats_url: str
    database_url: str
    secrets_dir: Path | None = None  # the blind-index key for imports (None: imports are refused)
    server: CommandServer | None = None
    queries: QueryServer | None = None
    pool: asyncpg.Pool | None = None
    nc: nats.NATS | None = None
    store: EventStore | None = None
    projector: asyncio.Task | None = None
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, *, commands: bool = True, projector: bool = True, queries: bool = True) -> "Registry":
        self.nc = await nats.connect(self.nats_url, name="louzu-registry")
        if commands or queries:
            self.store = EventStore(self.nc)
            service = RegistryService(self.store)
        if commands:
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
        if queries:
            self.pool = await asyncpg.create_pool(self.database_url, min_size=1, max_size=4)
            index = (BlindIndex(load_or_create_secret(self.secrets_dir / "blind-index.key"))
                     if self.secrets_dir is not None else None)
            answers = RegistryQueries(self.nc, self.pool, index, service)
            self.queries = await QueryServer(self.nc, "registry", QUERIES, answers.handle, concurrency=2).start()
        return self

    async def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        if self.queries is not None:
            await self.queries.stop()
        await shut_down([self.projector], self.server, self.pool, self.store, self.nc)
