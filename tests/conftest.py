import asyncio
import os

import asyncpg
import nats
import pytest

from shared.eventlog.streams import ensure_streams
from shared.logging import configure_logging
from shared.projections.base import migrate_platform
from tests.support.servers import new_tenant, start_servers

configure_logging("warning", json=True)
# Gateways under test print in their own process (no printer processes to start and warm in every
# test); tests/unit/test_roster_printing.py starts printer processes itself.
os.environ.setdefault("LOUZU_PRINT_WORKERS", "0")


@pytest.fixture(scope="session")
def servers():
    running = start_servers()
    os.environ.setdefault("LOUZU_TEST_HOME", str(running.home))
    yield running
    running.stop()


@pytest.fixture(scope="session")
async def platform(servers):
    nc = await nats.connect(servers.nats_url)
    await ensure_streams(nc)
    conn = await asyncpg.connect(servers.database_url)
    await migrate_platform(conn)
    await conn.close()
    await nc.close()
    return servers


@pytest.fixture
async def nc(platform):
    client = await nats.connect(platform.nats_url)
    yield client
    await client.close()


@pytest.fixture
async def db(platform):
    conn = await asyncpg.connect(platform.database_url)
    yield conn
    await conn.close()


@pytest.fixture
def tenant():
    return new_tenant()


async def eventually(check, timeout: float = 15.0, interval: float = 0.05):
    """Poll `check` (async, returns truthy when done) until the deadline; no bare sleeps in tests."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last: {result!r})")
        await asyncio.sleep(interval)
