"""Personal fields inside events: AES-GCM with a key per person kept in PostgreSQL
(deleting the key erases the person wherever the log is copied), and a keyed hash (blind
index) for look-ups and de-duplication without the clear value."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

import asyncpg
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "v1:"


class KeyErased(LookupError):
    """The person's key was deleted: their encrypted fields can no longer be read."""


def load_or_create_secret(path: Path) -> bytes:
    """A 32-byte secret in a file readable by the owner only, created on first use."""
    if path.exists():
        return bytes.fromhex(path.read_text().strip())
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value.hex())
    return value


class BlindIndex:
    """HMAC-SHA256 of a normalised value, per tenant, so equal ID numbers match without being stored."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def __call__(self, tenant: str, kind: str, value: str) -> str:
        mac = hmac.new(self._secret, f"{tenant}\x1f{kind}\x1f{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:32]


def seal(key: bytes, value: str, context: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(key).encrypt(nonce, value.encode(), context.encode())
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def open_sealed(key: bytes, token: str, context: str) -> str:
    raw = base64.b64decode(token.removeprefix(PREFIX))
    return AESGCM(key).decrypt(raw[:12], raw[12:], context.encode()).decode()


class KeyStore:
    """Per-person data keys in `louzu.pii_keys`; `erase` is the crypto-shredding of one person."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def ensure(self, tenant: str, subject_ids: list[str]) -> dict[str, bytes]:
        fresh = [secrets.token_bytes(32) for _ in subject_ids]
        async with self.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO louzu.pii_keys (tenant, subject_id, key) SELECT $1, s, k FROM unnest($2::text[], $3::bytea[]) "
                "AS t(s, k) ON CONFLICT DO NOTHING", tenant, subject_ids, fresh)
            rows = await conn.fetch("SELECT subject_id, key FROM louzu.pii_keys WHERE tenant = $1 AND subject_id = ANY($2)",
                                    tenant, subject_ids)
        return {r["subject_id"]: bytes(r["key"]) for r in rows}

    async def find(self, tenant: str, subject_ids: list[str]) -> dict[str, bytes]:
        async with self.pool.acquire() as conn:
            rows = await conn.fetch("SELECT subject_id, key FROM louzu.pii_keys WHERE tenant = $1 AND subject_id = ANY($2)",
                                    tenant, subject_ids)
        return {r["subject_id"]: bytes(r["key"]) for r in rows}

    async def erase(self, tenant: str, subject_id: str) -> bool:
        async with self.pool.acquire() as conn:
            done = await conn.execute("DELETE FROM louzu.pii_keys WHERE tenant = $1 AND subject_id = $2", tenant, subject_id)
        return done.endswith(" 1")
