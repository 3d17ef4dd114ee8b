"""The gateway's read model: sign-ins, role grants and the audit trail of personal-data reads.
Rows are a pure function of the events, so `louzu verify` compares them with a rebuild."""
from __future__ import annotations

from typing import Sequence

import asyncpg

from shared.eventlog.envelope import RecordedEvent
from shared.eventlog.subjects import events_filter
from shared.events import gateway as e
from shared.projections.writes import Writes

DDL = """
CREATE TABLE IF NOT EXISTS "{s}".users (
    user_id text PRIMARY KEY, display_name text NOT NULL, town text NOT NULL, password_hash text NOT NULL,
    registered_at timestamptz NOT NULL);
CREATE TABLE IF NOT EXISTS "{s}".grants (
    user_id text NOT NULL, role text NOT NULL, tenant text NOT NULL, compound text NOT NULL,
    household_id text NOT NULL, granted_at timestamptz NOT NULL,
    PRIMARY KEY (user_id, role, tenant, compound, household_id));
CREATE TABLE IF NOT EXISTS "{s}".audit (
    tenant text NOT NULL, compound text NOT NULL, seq bigint NOT NULL, user_id text NOT NULL, role text NOT NULL,
    what text NOT NULL, operation text NOT NULL, why text NOT NULL, clear boolean NOT NULL,
    read_at timestamptz NOT NULL, PRIMARY KEY (tenant, seq));
"""


class GatewayProjection:
    tables = ("users", "grants", "audit")
    private_tables = ("users",)  # password hashes: never readable by the app role

    def __init__(self, name: str = "gateway", schema: str = "proj_gateway", tenant: str = "*") -> None:
        self.name, self.schema = name, schema
        self.filters = (events_filter(tenant=tenant, service="gateway"),)

    def ddl(self, schema: str) -> str:
        return DDL.format(s=schema)

    async def apply(self, conn: asyncpg.Connection, schema: str, events: Sequence[RecordedEvent]) -> None:
        w, s = Writes(), schema
        for rec in events:
            ev = rec.event
            match ev:
                case e.UserRegistered():
                    w.add(f'INSERT INTO "{s}".users VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING',
                          ev.user_id, ev.display_name, ev.town, ev.password_hash, ev.registered_at)
                case e.PasswordChanged():
                    w.add(f'UPDATE "{s}".users SET password_hash = $2 WHERE user_id = $1', ev.user_id, ev.password_hash)
                case e.RoleGranted():
                    w.add(f'INSERT INTO "{s}".grants VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT DO NOTHING',
                          ev.user_id, ev.role, ev.tenant, ev.compound, ev.household_id, ev.granted_at)
                case e.RoleRevoked():
                    w.add(f'DELETE FROM "{s}".grants WHERE user_id = $1 AND role = $2 AND tenant = $3 AND compound = $4 '
                          'AND household_id = $5', ev.user_id, ev.role, ev.tenant, ev.compound, ev.household_id)
                case e.PersonalDataRead():
                    w.add(f'INSERT INTO "{s}".audit VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) ON CONFLICT DO NOTHING',
                          rec.subject.tenant, rec.subject.compound, rec.seq, ev.user_id, ev.role, ev.what,
                          ev.operation, ev.why, ev.clear, ev.read_at)
        await w.flush(conn)
