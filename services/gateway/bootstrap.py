"""The gateway's composition root: NATS, PostgreSQL, the access service (sign-ins and grants, served
over NATS like every service's commands), its read model, and the HTTP app."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import asyncpg
import nats
from fastapi import FastAPI

from shared.commanding import CommandServer
from shared.commands.gateway import COMMANDS
from shared.crypto import BlindIndex, load_or_create_secret
from shared.eventlog.store import EventStore
from shared.projections.base import ensure_schema
from shared.projections.runner import ProjectionRunner
from shared.service_main import shut_down
from services.gateway.adapters.state import open_state
from services.gateway.application.access import AccessService
from services.gateway.application.positions import Positions
from services.gateway.entrypoints.context import Context
from services.gateway.entrypoints.sessions import Sessions
from services.gateway.projections.tables import GatewayProjection
from services.gateway.projections.views import GatewayViews


def read_models() -> list:
    """The read models the gateway keeps and reads: sign-ins and grants, and its views of what the
    consoles and the API show (projected from every service's events, docs/reads.md)."""
    return [GatewayProjection(), GatewayViews()]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Gateway:
    nats_url: str
    database_url: str
    secrets_dir: Path
    public_url: str = "http://localhost:8080"
    clock: Callable[[], datetime] = utc_now
    nc: nats.NATS | None = None
    store: EventStore | None = None
    pool: asyncpg.Pool | None = None
    server: CommandServer | None = None
    access: AccessService | None = None
    app: FastAPI | None = None
    http_server: object | None = None
    tasks: list[asyncio.Task] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self, *, commands: bool = True, projector: bool = True) -> "Gateway":
        from services.gateway.entrypoints.app import create_app
        self.nc = await nats.connect(self.nats_url, name="louzu-gateway")
        self.store = EventStore(self.nc)
        self.pool = await asyncpg.create_pool(self.database_url, min_size=1, max_size=8)
        async with self.pool.acquire() as conn:
            for projection in read_models():  # the tables exist before the first request reads them
                await ensure_schema(conn, projection, projection.schema)
        self.access = AccessService(self.store, self.clock)
        if commands:
            self.server = await CommandServer(self.nc, "gateway", COMMANDS,
                                              lambda command: self.access.execute(command)).start()
        if projector:
            for projection in read_models():
                runner = ProjectionRunner(self.nc, self.database_url, projection, announce=True)
                self.tasks.append(asyncio.create_task(runner.run(self.stop)))
        session_key = load_or_create_secret(self.secrets_dir / "sessions.key")
        limits, principals = await open_state(self.nc, session_key)  # shared by the gateways of one secrets folder
        ctx = Context(nc=self.nc, pool=self.pool, database_url=self.database_url, access=self.access,
                      sessions=Sessions(session_key), limits=limits, principals=principals,
                      index=BlindIndex(load_or_create_secret(self.secrets_dir / "blind-index.key")),
                      clock=self.clock, public_url=self.public_url,
                      link_secret=load_or_create_secret(self.secrets_dir / "links.key"), secrets_dir=self.secrets_dir,
                      positions=await Positions(self.nc, self.pool).start())
        self.app = create_app(ctx, self.stop)
        return self

    async def serve(self, host: str, port: int) -> "Gateway":
        """Serve the HTTP app until `close()`; returns once the socket is listening."""
        import uvicorn
        # httptools, not the pure-Python h11: a fifth less of the gateway's CPU per command (docs/benchmarks.md)
        server = uvicorn.Server(uvicorn.Config(self.app, host=host, port=port, log_config=None, access_log=False,
                                               lifespan="off", timeout_graceful_shutdown=5, http="httptools"))
        self.tasks.append(asyncio.create_task(server.serve()))
        self.http_server = server
        while not server.started:
            if self.tasks[-1].done():
                await self.tasks[-1]
                raise RuntimeError(f"the HTTP server did not start on {host}:{port}")
            await asyncio.sleep(0.05)
        return self

    async def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        if self.http_server is not None:
            self.http_server.should_exit = True
        if self.app is not None:
            await self.app.state.ctx.close_buses()
            await self.app.state.ctx.positions.stop()
        await shut_down(self.tasks, self.server, self.pool, self.store, self.nc)
