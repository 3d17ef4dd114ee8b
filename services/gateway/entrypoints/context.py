"""What every request handler gets: the gateway's connections and services, and the signed-in
principal (from the session cookie).

Nothing here is a fact another gateway process would not see: sign-in counts and recent principals
are in NATS KV (`adapters/state.py`, `adapters/principals.py`), sessions are signed cookies. The
per-committee bus connections (`bus_for`) are connections, not state: each process opens its own."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import AsyncIterator, Callable, Sequence

import asyncpg
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import nats
from fastapi import Request
from nats.aio.client import Client as NATS

from shared.crypto import BlindIndex
from shared.errors import Problem
from shared.infra import nats_auth
from services.gateway.adapters.state import PrincipalCache, RateLimit
from services.gateway.application.access import AccessService, principal_of
from services.gateway.application.positions import Positions
from services.gateway.domain.access import Grant, Principal
from services.gateway.entrypoints.problems import ApiProblem
from services.gateway.entrypoints.sessions import COOKIE, Session, Sessions


@dataclass
class Context:
    nc: NATS
    pool: asyncpg.Pool
    database_url: str
    access: AccessService
    sessions: Sessions
    index: BlindIndex
    clock: Callable[[], datetime]
    public_url: str
    link_secret: bytes
    limits: RateLimit
    principals: PrincipalCache
    secrets_dir: Path | None = None
    positions: Positions | None = None
    _buses: dict[str, NATS] = field(default_factory=dict)

    async def bus_for(self, tenant: str) -> NATS:
        """The connection a committee's commands go through: under `louzu up`, that committee's own
        NATS user, which may send commands for it and nobody else (docs/security.md)."""
        if tenant in self._buses and self._buses[tenant].is_connected:
            return self._buses[tenant]
        if self.secrets_dir is None or not (self.secrets_dir / nats_auth.USERS_FILE).exists():
            return self.nc  # servers without users (NATS_URL given, tests)
        base = self.nc.connected_url.geturl() if self.nc.connected_url else ""
        for _ in range(40):  # a new committee's user is added within seconds of its first compound
            url = nats_auth.tenant_url(self.secrets_dir, _without_user(base), tenant)
            if url:
                break
            await asyncio.sleep(0.25)
        else:
            raise ApiProblem(Problem("service_unavailable", "该居委的消息通道尚未就绪，请稍后重试",
                                     "this committee's bus user is not ready yet; retry shortly"), 503)
        self._buses[tenant] = await nats.connect(url, name=f"louzu-gateway-{tenant}")
        return self._buses[tenant]

    async def close_buses(self) -> None:
        for bus in self._buses.values():
            await bus.drain()
        self._buses.clear()

    @asynccontextmanager
    async def reader(self, tenants: Sequence[str]) -> AsyncIterator[asyncpg.Connection]:
        """A read-only transaction that sees only these committees' rows."""
        from shared.projections.security import tenant_transaction
        async with self.pool.acquire() as conn:
            async with tenant_transaction(conn, list(tenants)):
                yield conn

    async def forget_principal(self, user_id: str) -> None:
        """Every gateway reads this user's grants again at its next request."""
        await self.principals.forget(user_id)

    async def principal(self, session: Session) -> Principal | None:
        if session.resident:
            tenant, compound, building, household = session.resident
            return Principal(f"resident:{household}", f"{household} 住户", "", (
                Grant("resident", tenant, compound, household),))
        cached, found = await self.principals.get(session.user_id)
        if cached:
            return found
        found = await principal_of(self.pool, session.user_id)
        await self.principals.put(session.user_id, found)
        return found


def _without_user(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rsplit("@", 1)[-1], parts.path, parts.query, parts.fragment))


def context(request: Request) -> Context:
    return request.app.state.ctx


def session_of(request: Request) -> Session | None:
    return context(request).sessions.read(request.cookies.get(COOKIE))


async def principal(request: Request) -> Principal:
    """The signed-in principal, or 401. State-changing requests must carry the session's CSRF token."""
    from services.gateway.entrypoints.sessions import csrf_ok
    session = session_of(request)
    found = await context(request).principal(session) if session else None
    if found is None:
        raise ApiProblem(Problem("unauthenticated", "请先登录", "sign in first"), 401)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not csrf_ok(session, request.headers.get("X-CSRF-Token")):
        raise ApiProblem(Problem("csrf", "页面已过期，请刷新后重试", "missing or wrong CSRF token; reload the page"), 403)
    request.state.session = session
    return found
