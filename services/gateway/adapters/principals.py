"""Principals as a gateway last read them from its read model, shared by every gateway process of
a deployment through NATS KV for `PRINCIPAL_TTL_S`: the bucket's max_age, so the server itself
drops an entry that old, and a revoked grant stops working everywhere within that time."""
from __future__ import annotations

import json

import structlog
from nats.errors import Error as NatsError
from nats.js.errors import KeyNotFoundError

from services.gateway.adapters.kv import Bucket, Keys
from services.gateway.domain.access import Grant, Principal

PRINCIPAL_TTL_S = 10.0  # a revoked grant stops working within this many seconds (docs/security.md)
log = structlog.get_logger("louzu.gateway.principals")


class PrincipalCache:
    """Principals as last read, for `PRINCIPAL_TTL_S` (the bucket's max_age). `forget` makes every
    gateway read the principal again at its next request."""

    def __init__(self, kv: Bucket, keys: Keys) -> None:
        self.kv, self.keys = kv, keys

    async def get(self, user_id: str) -> tuple[bool, Principal | None]:
        """(found, principal); (False, None) if not cached or the bucket cannot be reached."""
        try:
            entry = await self.kv.get(self.keys(f"principal:{user_id}"))
        except KeyNotFoundError:
            return False, None
        except (NatsError, TimeoutError) as exc:  # read it from the database instead
            log.warning("principal_cache_unavailable", error=type(exc).__name__)
            return False, None
        return True, decode(entry.value) if entry.value else None

    async def put(self, user_id: str, principal: Principal | None) -> None:
        try:
            await self.kv.put(self.keys(f"principal:{user_id}"), encode(principal))
        except (NatsError, TimeoutError) as exc:
            log.warning("principal_cache_unavailable", error=type(exc).__name__)

    async def forget(self, user_id: str) -> None:
        try:
            await self.kv.delete(self.keys(f"principal:{user_id}"))
        except (NatsError, TimeoutError) as exc:  # the cached principal then lives out its TTL
            log.warning("principal_cache_unavailable", error=type(exc).__name__)


def encode(p: Principal | None) -> bytes:
    if p is None:
        return b"null"
    return json.dumps({"u": p.user_id, "n": p.display_name, "t": p.town, "x": sorted(p.town_tenants),
                       "g": [[g.role, g.tenant, g.compound, g.household_id] for g in p.grants]}).encode()


def decode(value: bytes) -> Principal | None:
    data = json.loads(value)
    if data is None:
        return None
    return Principal(data["u"], data["n"], data["t"], tuple(Grant(*g) for g in data["g"]), frozenset(data["x"]))
