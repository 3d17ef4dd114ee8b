"""Tenant isolation in PostgreSQL: row-level security that fails closed.

Two kinds of connection use the projection schemas, told apart by the role they act as:

* **The owner** — the role that ran `ensure_schema` and so owns the tables. Projection runners,
  `louzu replay`/`verify`, as-of rosters and today's queries act as it. Every table with a
  `tenant` column has `FORCE ROW LEVEL SECURITY` (so being the owner alone shows nothing) and a
  policy `louzu_owner_v1` for exactly the owning role (or its members): `USING (true) WITH CHECK
  (true)`. Nothing changes for them. (A superuser, like the embedded server's `postgres`,
  bypasses row-level security anyway.)
* **The app role** `louzu_app` — NOLOGIN; owns nothing; neither superuser nor BYPASSRLS (checked
  at every start). It may SELECT the projection tables (but not a projection's `private_tables`)
  and INSERT into `louzu.pii_access_log`, nothing else. On tenant tables its policy is
  `tenant = ANY (string_to_array(current_setting('louzu.tenants', true), ','))`: NULL, so no rows,
  when the setting is unset; false when it is empty. A forgotten tenant shows nothing.
  Town-level tables (keyed by `town`) are readable without a policy.

`tenant_transaction(conn, tenants)` enters the app role on an owner connection for one transaction.
A NOLOGIN role entered with SET LOCAL ROLE, rather than a second login, needs one DSN, one pool
and no second secret; the role and the tenants end with the transaction, so a pooled connection
cannot carry one request's tenants into the next.

The limit, stated plainly: PostgreSQL checks SET ROLE against the *session* user, so SQL that runs
`RESET ROLE` on an owner connection is the owner again. The boundary stops a query that forgets
its tenant filter; it does not stop code that chooses to leave the role. Where that matters,
connect the read side as a login role that is only a member of the app role
(`CREATE ROLE louzu_reader LOGIN PASSWORD '…' IN ROLE louzu_app`): it cannot become the owner, and
louzu_app's policies still apply to it after RESET ROLE (tests/integration/test_row_level_security.py).

Securing is idempotent and cheap: it reads the catalogue and issues only what is missing, so it
runs on every start and in every `ensure_schema` (rebuild and verify schemas included: a rebuilt
schema is swapped in with its grants and policies).
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from typing import AsyncIterator, Sequence

import asyncpg

from shared.eventlog.subjects import token
from shared.logging import get_logger

log = get_logger("louzu.security")

APP_ROLE = "louzu_app"
TENANTS_SETTING = "louzu.tenants"
APP_POLICY, OWNER_POLICY = "louzu_app_v1", "louzu_owner_v1"  # a new version drops the old ones
ROLE_LOCK = 7303  # after 7301 (platform) or 7302 (schemas): never taken before them, so no lock cycle
TENANT_MATCH = f"tenant = ANY (string_to_array(current_setting('{TENANTS_SETTING}', true), ','))"


class UnsafeAppRole(RuntimeError):
    """The app role cannot be created, or exists with powers that would bypass row-level security."""


ROLE_STATE = """
SELECT rolsuper OR rolbypassrls AS bypasses, pg_has_role(current_user, oid, $2) AS entered_by_us
FROM pg_roles WHERE rolname = $1"""

TABLE_STATE = """
SELECT c.relname, format('%I.%I', n.nspname, c.relname) AS name, quote_ident(pg_get_userbyid(c.relowner)) AS owner,
       has_schema_privilege($2, n.oid, 'USAGE') AS schema_usage,
       c.relrowsecurity AS rls, c.relforcerowsecurity AS forced, has_table_privilege($2, c.oid, $3) AS granted,
       EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant'
               AND a.attnum > 0 AND NOT a.attisdropped) AS tenanted,
       ARRAY(SELECT p.polname::text FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $5
               AND c.relowner = ANY (p.polroles)) AS owner_policy_current
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND ($4::text IS NULL OR c.relname = $4)"""


async def ensure_app_role(conn: asyncpg.Connection) -> None:
    """Create the app role once (safe when several processes start at once) and let this user enter it."""
    # Since PostgreSQL 16 a membership may lack the SET option (a CREATEROLE user's own new roles do)
    may_set, with_set = ("SET", " WITH SET TRUE") if conn.get_server_version().major >= 16 else ("MEMBER", "")
    state = await conn.fetchrow(ROLE_STATE, APP_ROLE, may_set)
    if state is None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", ROLE_LOCK)
            await _create_role(conn)
        state = await conn.fetchrow(ROLE_STATE, APP_ROLE, may_set)
    if state["bypasses"]:
        raise UnsafeAppRole(f"role {APP_ROLE} is a superuser or has BYPASSRLS: tenant isolation would not hold")
    if not state["entered_by_us"]:
        try:
            async with conn.transaction():
                await conn.execute(f"GRANT {APP_ROLE} TO CURRENT_USER{with_set}")
        except asyncpg.InsufficientPrivilegeError:
            log.warning("security.cannot_enter_app_role", role=APP_ROLE,
                        fix=f"as an administrator: GRANT {APP_ROLE} TO <this database user>")


async def _create_role(conn: asyncpg.Connection) -> None:
    if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", APP_ROLE):
        return
    try:
        async with conn.transaction():
            await conn.execute(f"CREATE ROLE {APP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE")
    except (asyncpg.DuplicateObjectError, asyncpg.UniqueViolationError):
        pass  # created meanwhile from another database of the same cluster (roles are cluster-wide)
    except asyncpg.InsufficientPrivilegeError as exc:
        raise UnsafeAppRole(f"this database user may not create roles: as an administrator, run once "
                            f"CREATE ROLE {APP_ROLE} NOLOGIN; GRANT {APP_ROLE} TO <this database user>") from exc


async def secure_schema(conn: asyncpg.Connection, schema: str, private: Sequence[str] = ()) -> None:
    """The app role may read `schema` except its `private` tables (e.g. password hashes); each tenant
    table shows the app only its tenants."""
    await _secure(conn, schema, None, "SELECT", f"FOR SELECT TO {APP_ROLE} USING ({TENANT_MATCH})", private)


async def secure_platform(conn: asyncpg.Connection) -> None:
    """The app role may append to the personal-data access log, for its own tenants only; it has no
    access to keys, checkpoints or dead letters."""
    await _secure(conn, "louzu", "pii_access_log", "INSERT", f"FOR INSERT TO {APP_ROLE} WITH CHECK ({TENANT_MATCH})")
    if not await conn.fetchval("SELECT has_sequence_privilege($1, pg_get_serial_sequence('louzu.pii_access_log', "
                               "'id'), 'USAGE')", APP_ROLE):
        sequence = await conn.fetchval("SELECT pg_get_serial_sequence('louzu.pii_access_log', 'id')")
        await conn.execute(f"GRANT USAGE ON SEQUENCE {sequence} TO {APP_ROLE}")


async def _secure(conn: asyncpg.Connection, schema: str, table: str | None, privilege: str, app_policy: str,
                  private: Sequence[str] = ()) -> None:
    tables = await conn.fetch(TABLE_STATE, schema, APP_ROLE, privilege, table, OWNER_POLICY)
    statements = [] if all(t["schema_usage"] for t in tables) else [f'GRANT USAGE ON SCHEMA "{schema}" TO {APP_ROLE}']
    for t in tables:
        statements += _table_statements(t, privilege, app_policy, t["relname"] in private)
    if statements:
        await conn.execute(";\n".join(statements))


def _table_statements(t: asyncpg.Record, privilege: str, app_policy: str, private: bool) -> list[str]:
    name, out = t["name"], []
    if private and t["granted"]:
        out.append(f"REVOKE ALL ON {name} FROM {APP_ROLE}")
    elif not private and not t["granted"]:
        out.append(f"GRANT {privilege} ON {name} TO {APP_ROLE}")
    if not t["tenanted"]:
        return out  # town-level tables: readable by every tenant
    if not t["rls"]:
        out.append(f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY")
    if not t["forced"]:
        out.append(f"ALTER TABLE {name} FORCE ROW LEVEL SECURITY")
    out += [f'DROP POLICY "{p}" ON {name}' for p in t["policies"]
            if p.startswith(("louzu_app_v", "louzu_owner_v")) and p not in (APP_POLICY, OWNER_POLICY)]
    if APP_POLICY not in t["policies"]:
        out.append(f"CREATE POLICY {APP_POLICY} ON {name} AS PERMISSIVE {app_policy}")
    if OWNER_POLICY not in t["policies"]:
        out.append(f"CREATE POLICY {OWNER_POLICY} ON {name} AS PERMISSIVE FOR ALL TO {t['owner']} "
                   "USING (true) WITH CHECK (true)")
    elif not t["owner_policy_current"]:
        out.append(f"ALTER POLICY {OWNER_POLICY} ON {name} TO {t['owner']}")  # the table changed owner
    return out


@asynccontextmanager
async def tenant_transaction(conn: asyncpg.Connection, tenants: Sequence[str]) -> AsyncIterator[asyncpg.Connection]:
    """A transaction acting as the app role that sees the rows of `tenants` only (none for [])."""
    if isinstance(tenants, str):
        raise TypeError("tenants is a list of tenants, not one string")
    joined = ",".join(token(t, "tenant") for t in tenants)  # a token cannot hold a comma
    if conn.is_in_transaction():
        raise RuntimeError("tenant_transaction must open the transaction: inside another one, "
                           "the role and tenants would outlive it")
    async with conn.transaction():
        # set_config('role', …, true) is SET LOCAL ROLE, in the same round trip as the tenants
        await conn.execute("SELECT set_config('role', $1, true), set_config($2, $3, true)",
                           APP_ROLE, TENANTS_SETTING, joined)
        yield conn
