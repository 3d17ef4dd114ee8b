"""The gateway's NATS KV buckets: made idempotently at start (and again if the server lost them), and
keys that belong to one deployment. A key is an HMAC under the sessions key: gateways that share a
secrets folder (and so accept each other's cookies) share the buckets' entries, other deployments on
the same server do not, and no client address or user id is stored in clear."""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nats.aio.client import Client as NATS
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BadRequestError, NoStreamResponseError
from nats.js.kv import KeyValue

MAX_BYTES = 64 << 20  # per bucket; full, it refuses new keys: sign-ins wait (503), principals are read from SQL
T = TypeVar("T")


async def open_bucket(nc: NATS, bucket: str, ttl: float) -> KeyValue:
    """The bucket, created if missing (idempotent: every gateway does this at start, at once or not);
    one made with another TTL by an earlier version is given this one."""
    js = nc.jetstream()
    config = KeyValueConfig(bucket=bucket, ttl=ttl, history=1, storage=StorageType.MEMORY, max_bytes=MAX_BYTES)
    try:
        return await js.create_key_value(config)
    except BadRequestError:
        info = await js.stream_info(f"KV_{bucket}")
        info.config.max_age, info.config.duplicate_window, info.config.max_bytes = ttl, min(ttl, 120.0), MAX_BYTES
        await js.update_stream(info.config)
        return await js.key_value(bucket)


class Bucket:
    """A KV bucket that makes itself again when the server has lost it: memory storage does not
    survive a nats-server restart, and the gateway does."""

    def __init__(self, nc: NATS, name: str, ttl: float) -> None:
        self.nc, self.name, self.ttl = nc, name, ttl
        self.kv: KeyValue | None = None

    async def open(self) -> "Bucket":
        self.kv = await open_bucket(self.nc, self.name, self.ttl)
        return self

    async def get(self, key: str) -> KeyValue.Entry:
        return await self.kv.get(key)  # a lost bucket reads as a missing key

    async def put(self, key: str, value: bytes) -> int:
        return await self._write(lambda kv: kv.put(key, value))

    async def create(self, key: str, value: bytes) -> int:
        return await self._write(lambda kv: kv.create(key, value))

    async def update(self, key: str, value: bytes, last: int) -> int:
        return await self._write(lambda kv: kv.update(key, value, last=last))

    async def delete(self, key: str) -> bool:
        return await self._write(lambda kv: kv.delete(key))

    async def _write(self, write: Callable[[KeyValue], Awaitable[T]]) -> T:
        try:
            return await write(self.kv)
        except NoStreamResponseError:
            await self.open()
            return await write(self.kv)


class Keys:
    """KV keys for one deployment (one sessions key)."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self.scope = self._mac(b"louzu-gateway-state")[:16]

    def _mac(self, value: bytes) -> str:
        return hmac.new(self._secret, value, hashlib.sha256).hexdigest()

    def __call__(self, name: str) -> str:
        return f"{self.scope}.{self._mac(name.encode())[:40]}"
