"""Kill nats-server (SIGKILL) under load: every acknowledged append survives exactly once, and a
running projection catches up after the server comes back."""
import asyncio
import signal

import nats
import pytest

from services.registry.projections.tables import RegistryProjection
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.streams import ensure_streams
from shared.eventlog.subjects import AggregateSubject
from shared.infra.embedded import EmbeddedNats
from shared.projections.rebuild import verify
from shared.projections.runner import ProjectionRunner
from tests.conftest import eventually
from tests.support.registry import NOW, append_households
from shared.events import registry as e

pytestmark = pytest.mark.integration


@pytest.fixture
def own_nats(tmp_path):
    server = EmbeddedNats(tmp_path).start()
    yield server
    server.stop()


def crash(server: EmbeddedNats) -> None:
    server.proc.send_signal(signal.SIGKILL)
    server.proc.wait(10)


async def connect(url):
    return await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)


async def test_appends_acknowledged_before_a_server_crash_are_all_there_exactly_once(own_nats, tenant):
    nc = await connect(own_nats.url)
    await ensure_streams(nc)
    store = EventStore(nc)
    acked: dict[str, int] = {}

    async def append(i):
        hh = f"1-1-{i}"
        subject = AggregateSubject.make(tenant, "c1", "registry", "household", hh)
        event = e.HouseholdRegistered(household_id=hh, building="1", entrance="1", room=str(i), floor=1,
                                      registered_by="t", registered_at=NOW)
        try:
            result = await store.append(subject, [event], expected=0, meta=Metadata(f"{tenant}-{i}"))
            acked[hh] = result.last_seq
        except Exception:  # noqa: BLE001 - unacknowledged appends may or may not have landed
            pass

    burst = asyncio.gather(*(append(i) for i in range(3000)))
    await eventually(lambda: _more_than(acked, 200), timeout=30, interval=0.005)
    crash(own_nats)
    await burst
    own_nats.start()  # same port, same store
    await nc.close()
    nc = await connect(own_nats.url)
    js = nc.jetstream()
    seen: dict[str, list[int]] = {}
    stored = (await js.stream_info("LOUZU_EVENTS")).state.last_seq
    for seq in range(1, stored + 1):
        msg = await js.get_msg("LOUZU_EVENTS", seq, direct=True)
        seen.setdefault(msg.subject.rsplit(".", 1)[1], []).append(seq)
    await nc.close()
    assert acked, "no append was acknowledged before the crash"
    assert all(seen.get(hh) == [seq] for hh, seq in acked.items())  # acknowledged → present, once, where acked
    assert all(len(seqs) == 1 for seqs in seen.values())


async def _more_than(acked, n):
    return len(acked) > n


async def test_a_projection_catches_up_after_nats_server_is_killed_and_restarted(own_nats, platform, db, tenant):
    nc = await connect(own_nats.url)
    await ensure_streams(nc)
    store = EventStore(nc)
    projection = RegistryProjection(name=f"registry_{tenant}", schema=f"proj_{tenant}", tenant=tenant)
    first = await append_households(store, tenant, 500)
    stop = asyncio.Event()
    runner = ProjectionRunner(nc, platform.database_url, projection, batch=100)
    task = asyncio.create_task(runner.run(stop))
    try:
        await eventually(lambda: _checkpoint_at(db, projection.name, first), timeout=30)
        crash(own_nats)
        own_nats.start()
        last = await append_households(store, tenant, 500, compound="c2")
        await eventually(lambda: _checkpoint_at(db, projection.name, last), timeout=60)
    finally:
        stop.set()
        await task
    assert await db.fetchval(f'SELECT count(*) FROM "{projection.schema}".households') == 1000
    assert await verify(nc, platform.database_url, projection) == []
    await nc.close()


async def _checkpoint_at(db, name, seq):
    return (await db.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1", name) or 0) >= seq
