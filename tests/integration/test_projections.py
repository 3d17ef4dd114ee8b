"""Projection runner guarantees on real servers: crash mid-batch, two runners, poison messages,
replay and verify."""
import asyncio
import os
import signal
import subprocess
import sys

import pytest

from services.registry.projections.tables import RegistryProjection
from shared.eventlog.store import EventStore
from shared.projections.rebuild import replay, verify
from shared.projections.runner import ProjectionRunner
from tests.conftest import eventually
from tests.support.registry import append_households

pytestmark = pytest.mark.integration


def projection_for(tenant):
    return RegistryProjection(name=f"registry_{tenant}", schema=f"proj_{tenant}", tenant=tenant)


async def checkpoint(db, name):
    return await db.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1", name) or 0


async def household_count(db, schema):
    return await db.fetchval(f'SELECT count(*) FROM "{schema}".households')


def start_runner(platform, projection, extra_env=None):
    env = {**os.environ, "NATS_URL": platform.nats_url, "DATABASE_URL": platform.database_url, **(extra_env or {})}
    return subprocess.Popen([sys.executable, "-m", "tests.support.run_projector", projection.name, projection.schema,
                             projection.filters[0].split(".")[2]], env=env)


@pytest.fixture
async def store(nc):
    log = EventStore(nc)
    yield log
    await log.close()


async def test_a_runner_killed_mid_batch_loses_and_doubles_nothing_after_restart(platform, store, db, tenant):
    projection = projection_for(tenant)
    last = await append_households(store, tenant, 1500)
    first_seq = last - 1499
    kill_at = first_seq + 730  # inside the 8th batch of 100
    crashed = start_runner(platform, projection, {"LOUZU_TEST_KILL_AT_SEQ": str(kill_at)})
    assert await asyncio.to_thread(crashed.wait, 60) == -signal.SIGKILL
    applied = await checkpoint(db, projection.name)
    assert first_seq <= applied < kill_at
    # the batch that died was rolled back with the checkpoint: rows match the checkpoint exactly
    assert await household_count(db, projection.schema) == applied - first_seq + 1

    restarted = start_runner(platform, projection)
    try:
        await eventually(lambda: _at(db, projection.name, last), timeout=60)
    finally:
        restarted.terminate()
        await asyncio.to_thread(restarted.wait, 30)
    assert await household_count(db, projection.schema) == 1500
    assert await verify(store.nc, platform.database_url, projection) == []


async def test_runners_killed_at_random_moments_still_end_equal_to_the_log(platform, store, db, tenant):
    projection = projection_for(tenant)
    last = await append_households(store, tenant, 3000)
    for delay in (0.4, 0.7, 0.3):
        runner = start_runner(platform, projection)
        await asyncio.sleep(delay)  # a deliberate crash point, not a wait for a result
        runner.send_signal(signal.SIGKILL)
        await asyncio.to_thread(runner.wait, 30)
    final = start_runner(platform, projection)
    try:
        await eventually(lambda: _at(db, projection.name, last), timeout=90)
    finally:
        final.terminate()
        await asyncio.to_thread(final.wait, 30)
    assert await household_count(db, projection.schema) == 3000
    assert await verify(store.nc, platform.database_url, projection) == []


async def _at(db, name, seq):
    return await checkpoint(db, name) >= seq


async def test_two_runners_started_at_once_apply_each_event_once(platform, store, db, nc, tenant):
    projection = projection_for(tenant)
    last = await append_households(store, tenant, 2000)
    stop = asyncio.Event()
    runners = [ProjectionRunner(nc, platform.database_url, projection, batch=100) for _ in range(2)]
    tasks = [asyncio.create_task(r.run(stop)) for r in runners]
    try:
        await eventually(lambda: _at(db, projection.name, last), timeout=60)
    finally:
        stop.set()
        await asyncio.gather(*tasks)
    assert sorted(r.applied for r in runners) == [0, 2000]  # one worked, the other stood by
    assert await household_count(db, projection.schema) == 2000


async def test_a_poison_message_is_dead_lettered_and_does_not_block_the_events_behind_it(platform, store, db, nc, tenant):
    projection = projection_for(tenant)
    await append_households(store, tenant, 10)
    js = nc.jetstream()
    subject = f"louzu.evt.{tenant}.c1.registry.household.poison"
    garbage = await js.publish(subject, b"\xff not json", headers={"ce-specversion": "1.0",
                                                                   "ce-type": "louzu.registry.HouseholdRegistered.v1"})
    unknown = await js.publish(subject + "2", b"{}", headers={"ce-specversion": "1.0", "ce-type": "louzu.registry.Nope.v1"})
    last = await append_households(store, tenant, 10, compound="c2")
    stop = asyncio.Event()
    task = asyncio.create_task(ProjectionRunner(nc, platform.database_url, projection).run(stop))
    try:
        await eventually(lambda: _at(db, projection.name, last), timeout=30)
    finally:
        stop.set()
        await task
    assert await household_count(db, projection.schema) == 20
    letters = await db.fetch("SELECT seq, reason FROM louzu.dead_letters WHERE projection = $1 ORDER BY seq",
                             projection.name)
    assert [r["seq"] for r in letters] == [garbage.seq, unknown.seq]
    assert "HouseholdRegistered" in letters[0]["reason"] and "unknown event type" in letters[1]["reason"]


async def test_replay_rebuilds_tables_equal_to_the_live_ones_and_swaps_them_in(platform, store, db, nc, tenant):
    projection = projection_for(tenant)
    last = await append_households(store, tenant, 500)
    stop = asyncio.Event()
    live = asyncio.create_task(ProjectionRunner(nc, platform.database_url, projection).run(stop))
    try:
        await eventually(lambda: _at(db, projection.name, last), timeout=30)
        before = sorted(map(tuple, await db.fetch(f'SELECT * FROM "{projection.schema}".households')))
        await db.execute(f'DELETE FROM "{projection.schema}".households WHERE room = $1', "100")  # corrupt one row
        assert (await verify(nc, platform.database_url, projection))[0].only_rebuilt
        applied = await replay(nc, platform.database_url, projection)
        after = sorted(map(tuple, await db.fetch(f'SELECT * FROM "{projection.schema}".households')))
        assert applied == 500 and after == before
        indexes = {r["indexname"] for r in await db.fetch("SELECT indexname FROM pg_indexes WHERE schemaname = $1",
                                                          projection.schema)}
        assert {"residents_household", "residents_id_hash"} <= indexes  # added after the bulk load
        assert await verify(nc, platform.database_url, projection) == []
        more = await append_households(store, tenant, 5, compound="c3")  # the live runner carries on after the swap
        await eventually(lambda: _at(db, projection.name, more), timeout=30)
        assert await household_count(db, projection.schema) == 505
    finally:
        stop.set()
        await live
