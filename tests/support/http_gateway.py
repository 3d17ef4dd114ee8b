"""A gateway served over real HTTP on a free port, with the lockdown, delivery, roster and registry
services behind it, all on an event loop of their own in a background thread: synchronous clients (requests,
schemathesis) can call it while pytest runs them, as any outside tool would.

Seeded with one committee of one town: compound c1 with building 41 and its households, a testing
round r1 in it, and a committee cadre signed in (session cookie and CSRF token)."""
from __future__ import annotations

import asyncio
import threading
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

import asyncpg
import httpx
import nats

from services.delivery.bootstrap import Delivery
from services.gateway.bootstrap import Gateway
from services.gateway.entrypoints.sessions import COOKIE
from services.lockdown.bootstrap import Lockdown
from services.registry.bootstrap import Registry
from services.roster.bootstrap import Roster
from shared.eventlog.store import EventStore
from shared.infra.embedded import free_port
from tests.conftest import eventually
from tests.support.clock import FakeClock
from tests.support.gateway import PASSWORD, make_user, register_compound
from tests.support.registry import populate_building
from tests.support.running import running
from tests.support.servers import new_tenant

START_TIMEOUT_S = 120


@dataclass
class Served:
    url: str
    tenant: str
    compound: str
    building: str
    round_id: str
    town: str
    cadre: str
    cookie: str
    csrf: str
    extra_urls: dict[str, str] = field(default_factory=dict)

    @property
    def signed_in(self) -> dict[str, str]:
        """The headers a signed-in cadre's tool sends: the session cookie and its CSRF token."""
        return {"Cookie": f"{COOKIE}={self.cookie}", "X-CSRF-Token": self.csrf}

    def path(self, rest: str = "") -> str:
        return f"/api/v1/committees/{self.tenant}/compounds/{self.compound}{rest}"


@contextmanager
def served_gateway(platform, secrets: Path, extra_apps: dict[str, Callable] | None = None, *,
                   tenant: str | None = None, town: str | None = None) -> Iterator[Served]:
    """Start everything in a thread; `extra_apps` name builders `(gateway) -> ASGI app` served beside it,
    on ports of their own, sharing the gateway's connections."""
    ready, box = threading.Event(), {}
    tenant, town = tenant or new_tenant(), town or "town" + uuid.uuid4().hex[:6]
    thread = threading.Thread(target=asyncio.run, args=(_serve(platform, secrets, extra_apps or {}, tenant, town,
                                                               box, ready),),
                              name="served-gateway", daemon=True)
    thread.start()
    if not ready.wait(START_TIMEOUT_S):
        raise RuntimeError(f"the served gateway did not start within {START_TIMEOUT_S} s")
    if "error" in box:
        thread.join(30)
        raise RuntimeError("the served gateway did not start") from box["error"]
    try:
        yield box["served"]
    finally:
        box["loop"].call_soon_threadsafe(box["stop"].set)
        thread.join(60)


async def _serve(platform, secrets: Path, extra_apps: dict, tenant: str, town: str, box: dict,
                 ready: threading.Event) -> None:
    import uvicorn
    box["loop"], box["stop"] = asyncio.get_running_loop(), asyncio.Event()
    clock = FakeClock()
    extra_servers: list = []
    try:
        async with running(Lockdown(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                                    schedule_tenant=tenant),
                           Delivery(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                                    schedule_tenant=tenant),
                           Roster(platform.nats_url, platform.database_url, clock=clock),
                           Registry(platform.nats_url, platform.database_url, secrets_dir=secrets),
                           Gateway(platform.nats_url, platform.database_url, secrets, clock=clock)) as started:
            gateway: Gateway = started[-1]
            port = free_port()
            await gateway.serve("127.0.0.1", port)
            extra_urls = {}
            for name, build in extra_apps.items():
                extra_port = free_port()
                server = uvicorn.Server(uvicorn.Config(build(gateway), host="127.0.0.1", port=extra_port,
                                                       log_config=None, access_log=False, lifespan="off"))
                extra_servers.append((server, asyncio.create_task(server.serve())))
                await eventually(lambda: _started(server))
                extra_urls[name] = f"http://127.0.0.1:{extra_port}"
            served = await _seed(platform, f"http://127.0.0.1:{port}", tenant, town)
            served.extra_urls = extra_urls
            box["served"] = served
            ready.set()
            await box["stop"].wait()
            for server, task in extra_servers:
                server.should_exit = True
                await task
    except BaseException as error:  # reported to the test that waits for the start
        box["error"] = error
        ready.set()


async def _started(server) -> bool:
    return server.started


async def _seed(platform, url: str, tenant: str, town: str) -> Served:
    cadre = f"cadre-{tenant}"
    nc = await nats.connect(platform.nats_url)
    db = await asyncpg.connect(platform.database_url)
    store = EventStore(nc)
    try:
        await register_compound(store, tenant, "c1", f"小区{tenant[-3:]}", town)
        await populate_building(store, tenant, building="41", floors=2)
        await make_user(nc, cadre, town, {"role": "committee_cadre", "grant_tenant": tenant})
        await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway.users WHERE user_id = $1", cadre))
        await eventually(lambda: db.fetchval("SELECT count(*) = 4 FROM proj_roster.households WHERE tenant = $1",
                                             tenant))
    finally:
        await store.close()
        await db.close()
        await nc.close()
    async with httpx.AsyncClient(base_url=url) as http:
        signed = await http.post("/api/v1/session", json={"user_id": cadre, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        served = Served(url, tenant, "c1", "41", "r1", town, cadre, signed.cookies[COOKIE], signed.json()["csrf_token"])
        round_ = await http.post(served.path("/rounds"), headers=served.signed_in, json={
            "round_id": served.round_id, "buildings": [served.building], "site": "东门广场",
            "starts_at": datetime(2022, 3, 22, 7, 0, tzinfo=timezone.utc).isoformat()})
        assert round_.status_code == 200, round_.text
    return served
