"""What a projection is: tables in its own schema, and a set-based apply for a batch of events."""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Protocol, Sequence

import asyncpg

from shared.eventlog.envelope import RecordedEvent
from shared.projections import security
from shared.projections.security import ensure_app_role, secure_platform, secure_schema

PLATFORM_DDL = """
CREATE SCHEMA IF NOT EXISTS louzu;
CREATE TABLE IF NOT EXISTS louzu.projection_checkpoints (
    name        text PRIMARY KEY,
    last_seq    bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS louzu.dead_letters (
    projection  text NOT NULL,
    seq         bigint NOT NULL,
    subject     text NOT NULL,
    ce_type     text,
    reason      text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, seq)
);
CREATE TABLE IF NOT EXISTS louzu.pii_keys (
    tenant      text NOT NULL,
    subject_id  text NOT NULL,
    key         bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, subject_id)
);
CREATE TABLE IF NOT EXISTS louzu.pii_access_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    tenant      text NOT NULL,
    what        text NOT NULL,
    reason      text NOT NULL
);
"""


class Projection(Protocol):
    """A read model: `name` keys its checkpoint, `schema` holds its tables, `filters` are the event
    subjects it reads, `tables` are compared by verify. Optional: `indexes(schema)`, built after a
    rebuild's bulk load, and `private_tables`, which the app role may not read (docs/security.md)."""

    name: str
    schema: str
    filters: Sequence[str]
    tables: Sequence[str]

    def ddl(self, schema: str) -> str:
        """CREATE statements for this projection's tables inside `schema`."""

    async def apply(self, conn: asyncpg.Connection, schema: str, events: Sequence[RecordedEvent]) -> None:
        """Write the effect of `events` (ordered, none seen before) inside the caller's transaction."""


async def migrate_platform(conn: asyncpg.Connection) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7301)")
        await conn.execute(PLATFORM_DDL)
        await ensure_app_role(conn)
        await secure_platform(conn)


def index_ddl(projection: Projection, schema: str) -> str:
    """Secondary indexes, if the projection keeps them apart so a rebuild can add them after the load."""
    indexes = getattr(projection, "indexes", None)
    return indexes(schema) if indexes else ""


@functools.cache
def _security_digest() -> str:
    """Changes whenever the statements that secure a schema change (docs/security.md)."""
    return hashlib.sha256(Path(security.__file__).read_bytes()).hexdigest()


def schema_mark(projection: Projection, schema: str, with_indexes: bool = True) -> str:
    """What `ensure_schema` writes as the schema's comment: a digest of every statement it runs."""
    parts = [projection.ddl(schema), index_ddl(projection, schema) if with_indexes else "",
             *getattr(projection, "private_tables", ()), _security_digest()]
    return "louzu:" + hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


async def ensure_schema(conn: asyncpg.Connection, projection: Projection, schema: str, *,
                        with_indexes: bool = True) -> None:
    """Create the projection's tables (and indexes), and secure them, unless this same set of
    statements has already run on this schema: its mark is the schema's comment. Skipping matters:
    DDL on tables that running projectors are writing to can deadlock with them (several services
    start at once, each ensuring every schema it reads)."""
    mark = schema_mark(projection, schema, with_indexes)
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(7302)")
        current = await conn.fetchval(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", schema)
        if current == mark:
            return
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(projection.ddl(schema))
        if with_indexes and index_ddl(projection, schema):
            await conn.execute(index_ddl(projection, schema))
        await ensure_app_role(conn)
        await secure_schema(conn, schema, getattr(projection, "private_tables", ()))  # docs/security.md
        await conn.execute(f"COMMENT ON SCHEMA \"{schema}\" IS '{mark}'")
