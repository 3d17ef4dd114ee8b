"""Tenant isolation in PostgreSQL: the app role sees its tenants' rows only, nothing without a tenant,
cannot write or switch the policies off, while owners (runners, replay, verify) see everything."""
import asyncio
import secrets
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from services.delivery.bootstrap import Delivery
from services.delivery.projections.tables import DeliveryProjection
from services.lockdown.bootstrap import Lockdown
from services.lockdown.projections.tables import LockdownProjection
from services.registry.bootstrap import Registry
from services.registry.projections.tables import RegistryProjection
from services.roster.bootstrap import Roster
from services.roster.projections.tables import RosterProjection
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import InvalidToken, events_filter
from shared.infra.status import pending_after
from shared.projections.base import ensure_schema
from shared.projections.rebuild import replay, verify
from shared.projections.runner import ProjectionRunner
from shared.projections.security import APP_POLICY, APP_ROLE, OWNER_POLICY, tenant_transaction
from tests.conftest import eventually
from tests.support.registry import populate_building
from tests.support.servers import new_tenant

pytestmark = pytest.mark.integration

LIVE = ("proj_registry", "proj_lockdown", "proj_delivery", "proj_roster")
TENANT_TABLES = "SELECT table_schema, table_name FROM information_schema.columns WHERE column_name = 'tenant' " \
                "AND table_schema = ANY($1) ORDER BY 1, 2"


async def caught_up(db, nc, projections) -> bool:
    for projection in projections:
        seq = await db.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1", projection.name)
        if seq is None or await pending_after(nc.jetstream(), projection.filters, seq):
            return False
    return True


@pytest.fixture(scope="module")
async def two(platform):
    """Two tenants' buildings in every live projection, applied by the services' own runners."""
    a, b = new_tenant(), new_tenant()
    running = [await Registry(platform.nats_url, platform.database_url).start(commands=False),
               await Lockdown(platform.nats_url, platform.database_url).start(commands=False, scheduler=False),
               await Delivery(platform.nats_url, platform.database_url).start(commands=False, scheduler=False),
               await Roster(platform.nats_url, platform.database_url).start(commands=False)]
    nc, db = running[0].nc, await asyncpg.connect(platform.database_url)
    try:
        store = EventStore(nc)
        await populate_building(store, a, building="41", floors=3)
        await populate_building(store, b, building="7", floors=2, compound="c2")
        await store.close()
        projections = [RegistryProjection(), LockdownProjection(), DeliveryProjection(), RosterProjection()]
        await eventually(lambda: caught_up(db, nc, projections), timeout=60)
        yield a, b
    finally:
        await db.close()
        for service in reversed(running):
            await service.close()


async def tenant_counts(conn, schema, table) -> dict[str, int]:
    rows = await conn.fetch(f'SELECT tenant, count(*) AS n FROM "{schema}"."{table}" GROUP BY tenant')
    return {r["tenant"]: r["n"] for r in rows}


async def test_a_tenant_transaction_shows_only_that_tenants_rows_in_every_projection_table(two, db):
    a, _ = two
    tables = await db.fetch(TENANT_TABLES, list(LIVE))
    assert len(tables) > 40
    for schema, table in tables:
        owner_sees = (await tenant_counts(db, schema, table)).get(a, 0)
        async with tenant_transaction(db, [a]) as app:
            assert await tenant_counts(app, schema, table) == ({a: owner_sees} if owner_sees else {}), (schema, table)
    async with tenant_transaction(db, [a]) as app:
        for schema in LIVE:
            residents = "resident_flags" if schema == "proj_delivery" else "residents"
            assert await app.fetchval(f"SELECT count(*) FROM {schema}.{residents}") == 12, schema


async def test_without_a_tenant_the_app_role_sees_no_rows_at_all(two, db):
    for schema, table in await db.fetch(TENANT_TABLES, list(LIVE)):
        async with db.transaction():
            await db.execute(f"SET LOCAL ROLE {APP_ROLE}")
            assert await db.fetchval(f'SELECT count(*) FROM "{schema}"."{table}"') == 0, (schema, table)
        async with tenant_transaction(db, []) as app:
            assert await app.fetchval(f'SELECT count(*) FROM "{schema}"."{table}"') == 0, (schema, table)
    assert await db.fetchval("SELECT count(*) FROM proj_registry.residents") >= 20  # the owner still does


async def test_a_town_dispatcher_sees_both_tenants_and_no_other(two, db):
    a, b = two
    async with tenant_transaction(db, [a, b]) as app:
        assert await tenant_counts(app, "proj_roster", "residents") == {a: 12, b: 8}
        assert await tenant_counts(app, "proj_registry", "households") == {a: 6, b: 4}


async def test_town_level_tables_are_readable_by_every_tenant_without_a_policy(two, db):
    towns = await db.fetchval("SELECT count(*) FROM proj_lockdown.towns")
    async with tenant_transaction(db, []) as app:
        assert await app.fetchval("SELECT count(*) FROM proj_lockdown.towns") == towns
        assert await app.fetchval("SELECT count(*) FROM proj_roster.towns") is not None


@pytest.mark.parametrize("statement", [
    "INSERT INTO proj_registry.compounds VALUES ('{a}', 'cx', 'x', 'taopu', now())",
    "UPDATE proj_registry.residents SET name = 'x'",
    "DELETE FROM proj_roster.residents",
    "ALTER TABLE proj_registry.residents DISABLE ROW LEVEL SECURITY",
    "ALTER TABLE proj_registry.residents NO FORCE ROW LEVEL SECURITY",
    f"DROP POLICY {APP_POLICY} ON proj_registry.residents",
    "TRUNCATE proj_lockdown.households",
    "SELECT * FROM louzu.pii_keys",
    "SELECT * FROM louzu.pii_access_log",
    "UPDATE louzu.projection_checkpoints SET last_seq = 0",
])
async def test_the_app_role_can_neither_write_nor_lift_the_policies(two, db, statement):
    a, _ = two
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with tenant_transaction(db, [a]) as app:
            await app.execute(statement.format(a=a))


async def test_the_app_role_logs_personal_data_access_for_its_own_tenants_only(two, db):
    a, b = two
    async with tenant_transaction(db, [a]) as app:
        await app.execute("INSERT INTO louzu.pii_access_log (actor, tenant, what, reason) "
                          "VALUES ('c1', $1, 'x', 'y')", a)
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with tenant_transaction(db, [a]) as app:
            await app.execute("INSERT INTO louzu.pii_access_log (actor, tenant, what, reason) "
                              "VALUES ('c1', $1, 'x', 'y')", b)
    assert await db.fetchval("SELECT count(*) FROM louzu.pii_access_log WHERE tenant = ANY($1)", [a, b]) == 1


async def test_tenant_lists_are_checked_before_anything_is_sent(db):
    for bad in (["a,b"], ["Tenant"], [""], ["x" * 65]):
        with pytest.raises(InvalidToken):
            async with tenant_transaction(db, bad):
                pass
    with pytest.raises(TypeError):
        async with tenant_transaction(db, "t1"):
            pass
    async with db.transaction():
        with pytest.raises(RuntimeError, match="open the transaction"):
            async with tenant_transaction(db, ["t1"]):
                pass
    assert await db.fetchval("SELECT current_user") != APP_ROLE


async def test_the_role_and_tenants_end_with_the_transaction(two, db):
    a, _ = two
    async with tenant_transaction(db, [a]) as app:
        assert await app.fetchval("SELECT current_user") == APP_ROLE
    assert await db.fetchval("SELECT current_user") != APP_ROLE
    assert await db.fetchval("SELECT current_setting('louzu.tenants', true)") in (None, "")


async def test_every_tenant_table_of_every_projection_schema_is_forced_under_both_policies(two, db):
    loose = await db.fetch("""
        SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute t ON t.attrelid = c.oid AND t.attname = 'tenant' AND NOT t.attisdropped
        WHERE n.nspname LIKE 'proj\\_%' AND c.relkind = 'r' AND NOT (
            c.relrowsecurity AND c.relforcerowsecurity
            AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $1)
            AND EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = $2
                        AND c.relowner = ANY (p.polroles)))""", APP_POLICY, OWNER_POLICY)
    assert loose == []


@pytest.fixture(params=["granted by an administrator", "admin of the role without SET"])
async def owner(platform, db, request):
    """A non-superuser that owns its own projection schema, as a production database user would: let
    into the app role by an administrator, or holding the role the way its creator would (ADMIN, but
    since PostgreSQL 16 without SET), so that it has to let itself in."""
    name, password = f"owner_{new_tenant()}", secrets.token_hex(8)
    await db.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
    await db.execute(f'GRANT CREATE ON DATABASE "{await db.fetchval("SELECT current_database()")}" TO {name}')
    await db.execute(f"GRANT USAGE ON SCHEMA louzu TO {name}")
    await db.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON louzu.projection_checkpoints, louzu.dead_letters "
                     f"TO {name}")
    if request.param == "granted by an administrator":
        await db.execute(f"GRANT {APP_ROLE} TO {name}")
    else:
        await db.execute(f"GRANT {APP_ROLE} TO {name} WITH ADMIN TRUE, INHERIT FALSE, SET FALSE")
    yield name, with_user(platform.database_url, name, password)
    await db.execute("DELETE FROM louzu.projection_checkpoints WHERE name LIKE $1", f"rls_{name}%")
    await db.execute("DELETE FROM louzu.dead_letters WHERE projection LIKE $1", f"rls_{name}%")
    await db.execute(f"DROP OWNED BY {name} CASCADE")
    await db.execute(f"DROP ROLE {name}")


def with_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.hostname}:{parts.port}"))


async def test_a_non_superuser_owner_projects_replays_and_verifies_under_forced_security(two, owner, nc):
    a, b = two
    name, dsn = owner
    projection = RegistryProjection(name=f"rls_{name}", schema=f"rls_{name}", tenant=a)
    projection.filters = (events_filter(tenant=a, service="registry"), events_filter(tenant=b, service="registry"))
    last = (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.last_seq
    await ProjectionRunner(nc, dsn, projection).run(asyncio.Event(), until_seq=last, idle_timeout=0.3)
    conn = await asyncpg.connect(dsn)
    try:
        assert not await conn.fetchval("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert await conn.fetchval("SELECT relforcerowsecurity FROM pg_class WHERE oid = $1::regclass",
                                   f"{projection.schema}.residents")
        assert await tenant_counts(conn, projection.schema, "residents") == {a: 12, b: 8}
        assert await verify(nc, dsn, projection) == []
        assert await replay(nc, dsn, projection) > 0
        assert await tenant_counts(conn, projection.schema, "residents") == {a: 12, b: 8}
        async with tenant_transaction(conn, [b]) as app:  # the swapped-in tables kept their policies
            assert await tenant_counts(app, projection.schema, "residents") == {b: 8}
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with tenant_transaction(conn, [b]) as app:
                await app.execute(f"ALTER TABLE {projection.schema}.residents DISABLE ROW LEVEL SECURITY")
    finally:
        await conn.close()


async def test_a_login_role_inside_the_app_role_cannot_become_the_owner(platform, two, db):
    a, _ = two
    name, password = f"reader_{new_tenant()}", secrets.token_hex(8)
    await db.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}' IN ROLE {APP_ROLE}")
    reader = await asyncpg.connect(with_user(platform.database_url, name, password))
    try:
        assert await reader.fetchval("SELECT count(*) FROM proj_registry.residents") == 0
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with tenant_transaction(reader, [a]) as app:
                await app.execute(f"SET ROLE {await db.fetchval('SELECT current_user')}")
        async with tenant_transaction(reader, [a]) as app:
            await app.execute("RESET ROLE")
            assert await tenant_counts(app, "proj_registry", "residents") == {a: 12}
    finally:
        await reader.close()
        await db.execute(f"DROP ROLE {name}")


class Scratch:
    """A projection with one tenant table, one town-level table and one private table."""
    tables = ("notes", "towns", "secrets")

    def __init__(self, schema: str, private: tuple[str, ...] = ()) -> None:
        self.name = self.schema = schema
        self.filters, self.private_tables = (), private

    def ddl(self, schema: str) -> str:
        return (f'CREATE TABLE IF NOT EXISTS "{schema}".notes (tenant text NOT NULL, note text NOT NULL);'
                f'CREATE TABLE IF NOT EXISTS "{schema}".towns (town text PRIMARY KEY);'
                f'CREATE TABLE IF NOT EXISTS "{schema}".secrets (user_id text PRIMARY KEY, password_hash text);')


async def test_securing_at_once_from_many_connections_and_again_changes_nothing_twice(platform, db, tenant):
    schema = f"rls_scratch_{tenant}"
    conns = [await asyncpg.connect(platform.database_url) for _ in range(4)]
    try:
        await asyncio.gather(*(ensure_schema(c, Scratch(schema), schema) for c in conns))
        await ensure_schema(db, Scratch(schema), schema)
        policies = await db.fetch("SELECT tablename, policyname FROM pg_policies WHERE schemaname = $1 ORDER BY 2",
                                  schema)
        assert [(p["tablename"], p["policyname"]) for p in policies] == [("notes", APP_POLICY), ("notes", OWNER_POLICY)]
        await db.execute(f"INSERT INTO {schema}.notes VALUES ($1, 'mine'), ('someone-else', 'theirs')", tenant)
        await db.execute(f"INSERT INTO {schema}.towns VALUES ('taopu')")
        async with tenant_transaction(db, [tenant]) as app:
            assert await app.fetchval(f"SELECT array_agg(note) FROM {schema}.notes") == ["mine"]
            assert await app.fetchval(f"SELECT count(*) FROM {schema}.towns") == 1
            assert await app.fetchval(f"SELECT count(*) FROM {schema}.secrets") == 0  # not private yet

        await ensure_schema(db, Scratch(schema, private=("secrets",)), schema)
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            async with tenant_transaction(db, [tenant]) as app:
                await app.fetchval(f"SELECT count(*) FROM {schema}.secrets")
    finally:
        for c in conns:
            await c.close()
        await db.execute(f'DROP SCHEMA "{schema}" CASCADE')


class Indexed(Scratch):
    """Scratch with secondary indexes: CREATE INDEX locks its table against writers."""

    def __init__(self, schema: str, columns: tuple[str, ...] = ("tenant",)) -> None:
        super().__init__(schema)
        self.columns = columns

    def indexes(self, schema: str) -> str:
        return "".join(f'CREATE INDEX IF NOT EXISTS notes_{c} ON "{schema}".notes ({c});' for c in self.columns)


async def test_a_schema_already_set_up_takes_no_lock_while_a_projector_writes(platform, db, tenant):
    """Services starting at once each ensure every schema they read. Once a schema is set up, a
    second `ensure_schema` must not run DDL: CREATE INDEX waits for the lock a projector's batch
    holds, and two such waits in opposite order are a deadlock (a failed start). A change to the
    statements runs them again."""
    schema = f"ddl_scratch_{tenant}"
    await ensure_schema(db, Indexed(schema), schema)
    projector = await asyncpg.connect(platform.database_url)
    try:
        async with projector.transaction():  # a batch in flight
            await projector.execute(f"INSERT INTO {schema}.notes VALUES ($1, 'in flight')", tenant)
            await asyncio.wait_for(ensure_schema(db, Indexed(schema), schema), 5)  # no DDL: no wait
            with pytest.raises(asyncio.TimeoutError):  # a new index: DDL, which waits for the batch
                await asyncio.wait_for(ensure_schema(db, Indexed(schema, ("tenant", "note")), schema), 1)
    finally:
        await projector.close()
        await db.execute(f'DROP SCHEMA "{schema}" CASCADE')
