"""`louzu demo` loads Yinghuayuan through the command path; the projection shows the account's numbers."""
import asyncpg
import nats
import pytest

from services.registry import demo
from services.registry.bootstrap import Registry
from services.registry.adapters.bus import RegistryClient
from services.registry.entrypoints.demo_cli import load_compound
from shared.crypto import BlindIndex
from tests.conftest import eventually

pytestmark = pytest.mark.integration


class _Session:
    def __init__(self, nc, pool, tenant):
        self.nc, self.pool, self.client = nc, pool, RegistryClient(nc, tenant)


async def test_the_demo_compound_holds_the_accounts_86_households_and_174_residents(platform, db):
    registry = await Registry(platform.nats_url, platform.database_url).start()
    nc = await nats.connect(platform.nats_url)
    pool = await asyncpg.create_pool(platform.database_url, min_size=1, max_size=4)
    compound = demo.yinghuayuan()
    try:
        counts = await load_compound(_Session(nc, pool, compound.tenant), compound, "test", BlindIndex(b"s" * 32))
        assert counts["refused"] == 0 and counts["residents"] + counts["unchanged"] >= len(compound.residents)

        async def loaded():
            n = await db.fetchval("SELECT count(*) FROM proj_registry.residents WHERE tenant = 'yinghuayuan' "
                                  "AND status = 'living'")
            cadres = await db.fetchval("SELECT count(*) FROM proj_registry.buildings WHERE tenant = 'yinghuayuan' "
                                       "AND cadre_name IS NOT NULL")
            return n == len(compound.residents) and cadres == len({r.building for r in compound.residents})
        await eventually(loaded, timeout=60)
        row = await db.fetchrow(
            "SELECT count(DISTINCT h.household_id) AS households, count(*) AS residents FROM proj_registry.residents r "
            "JOIN proj_registry.households h USING (tenant, compound, household_id) "
            "WHERE r.tenant = 'yinghuayuan' AND h.building = ANY($1)", list(compound.account_buildings))
        assert "38" in compound.account_buildings
        assert (row["households"], row["residents"]) == (86, 174)
    finally:
        await pool.close()
        await nc.close()
        await registry.close()
