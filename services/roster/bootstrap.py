"""The roster service's composition root: its commands, its read model, its queries (roster prints)
and the printer processes that lay out the PDFs (LOUZU_PRINT_WORKERS)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import asyncpg
import nats

from shared.commanding import CommandServer
from shared.commands.roster import COMMANDS
from shared.queries.roster import QUERIES
from shared.queries.serving import QueryServer
from shared.eventlog.store import EventStore
from shared.projections.base import ensure_schema
from shared.projections.runner import ProjectionRunner
from shared.service_main import shut_down
from services.roster.application.service import RosterService
from services.roster.entrypoints.queries import RosterQueries
from services.roster.projections import rota_queries
from services.roster.projections.tables import RosterProjection


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Roster:
    nats_url: str
    database_url: str
    clock: Callable[[], datetime] = utc_now
    secrets_dir: Path | None = None  # where the link secret is (None: printed QR codes open nothing)
    public_url: str = "http://localhost:8080"  # printed in the QR codes
    print_workers: int | None = 0  # printer processes for roster PDFs (None: the machine's default; 0: none)
    nc: nats.NATS | None = None
    store: EventStore | None = None
    pool: asyncpg.Pool | None = None
    server: CommandServer | None = None
    queries: QueryServer | None = None
    service: RosterService | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, *, commands: bool = True, projector: bool = True, queries: bool = True) -> "Roster":
        self.nc = await nats.connect(self.nats_url, name="louzu-roster")
        self.store = EventStore(self.nc)
        self.pool = await asyncpg.create_pool(self.database_url, min_size=1, max_size=6)
        async with self.pool.acquire() as conn:
            await ensure_schema(conn, RosterProjection(), RosterProjection().schema)
        self.service = RosterService(self.store, self.clock, post_defaults=self._post_defaults)
        if commands:
            self.server = await CommandServer(self.nc, "roster", COMMANDS,
                                              lambda command: self.service.execute(command)).start()
        if projector:
            runner = ProjectionRunner(self.nc, self.database_url, RosterProjection())
            self.tasks.append(asyncio.create_task(runner.run(self.stop)))
        if queries:
            answers = RosterQueries(self.nc, self.database_url, self.pool, public_url=self.public_url,
                                    secrets_dir=self.secrets_dir)
            self.queries = await QueryServer(self.nc, "roster", QUERIES, answers.handle, concurrency=2).start()
            if self.print_workers != 0:  # warmed in the background: prints meanwhile are laid out here
                from services.roster.adapters.roster_pdf import start_workers
                self.tasks.append(asyncio.create_task(asyncio.to_thread(start_workers, self.print_workers)))
        return self

    async def _post_defaults(self, tenant: str, compound: str, building: str) -> dict | None:
        async with self.pool.acquire() as conn:
            return await rota_queries.post_defaults(conn, "proj_roster", tenant, compound, building)

    async def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        if self.queries is not None:
            await self.queries.stop()
        await shut_down(self.tasks, self.server, self.pool, self.store, self.nc)
        if self.queries is not None and self.print_workers != 0:
            from services.roster.adapters.roster_pdf import stop_workers
            await asyncio.to_thread(stop_workers)
