"""The event log's guarantees on a real nats-server: concurrency, idempotency, atomicity, envelope."""
import asyncio
import uuid

import pytest

from shared.eventlog.envelope import Metadata
from shared.eventlog.store import ConcurrencyConflict, EventStore
from shared.eventlog.subjects import AggregateSubject
from shared.events import registry as e
from tests.support.registry import NOW

pytestmark = pytest.mark.integration


def household(tenant, hh="38-1-302"):
    return AggregateSubject.make(tenant, "c1", "registry", "household", hh)


def registered(hh="38-1-302"):
    return e.HouseholdRegistered(household_id=hh, building="38", entrance="1", room="302", floor=3,
                                 registered_by="cadre-1", registered_at=NOW)


def verified(rid):
    return e.ResidentVerified(resident_id=rid, verified_by="cadre-1", verified_at=NOW, note="")


@pytest.fixture
async def store(nc):
    log = EventStore(nc)
    yield log
    await log.close()


async def test_two_concurrent_appends_with_the_same_expectation_let_exactly_one_through(store, tenant):
    subject = household(tenant)
    results = await asyncio.gather(
        store.append(subject, [registered()], expected=0, meta=Metadata(uuid.uuid4().hex)),
        store.append(subject, [registered()], expected=0, meta=Metadata(uuid.uuid4().hex)),
        return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["AppendResult", "ConcurrencyConflict"]
    assert len(await store.read_aggregate(subject)) == 1


async def test_a_conflict_is_a_typed_error_naming_the_aggregate(store, tenant):
    subject = household(tenant)
    await store.append(subject, [registered()], expected=0, meta=Metadata(uuid.uuid4().hex))
    with pytest.raises(ConcurrencyConflict) as caught:
        await store.append(subject, [registered()], expected=0, meta=Metadata(uuid.uuid4().hex))
    assert caught.value.subject == str(subject) and caught.value.expected == 0


async def test_a_retried_single_event_command_is_stored_once(store, tenant):
    subject, meta = household(tenant), Metadata("cmd-" + uuid.uuid4().hex)
    first = await store.append(subject, [registered()], expected=0, meta=meta)
    again = await store.append(subject, [registered()], expected=0, meta=meta)
    assert again.duplicate and again.event_ids == first.event_ids and again.last_seq == first.last_seq
    assert len(await store.read_aggregate(subject)) == 1


async def test_a_retried_multi_event_command_is_stored_once(store, tenant):
    subject = AggregateSubject.make(tenant, "c1", "registry", "resident", "r1")
    meta = Metadata("cmd-" + uuid.uuid4().hex)
    events = [verified("r1"), verified("r1"), verified("r1")]
    first = await store.append(subject, events, expected=0, meta=meta)
    again = await store.append(subject, events, expected=0, meta=meta)
    assert again.duplicate and again.event_ids == first.event_ids
    history = await store.read_aggregate(subject)
    assert [r.seq for r in history] == list(range(first.last_seq - 2, first.last_seq + 1))


async def test_a_multi_event_command_that_conflicts_stores_none_of_its_events(store, tenant):
    subject = AggregateSubject.make(tenant, "c1", "registry", "resident", "r2")
    await store.append(subject, [verified("r2")], expected=0, meta=Metadata(uuid.uuid4().hex))
    before = await store.last_seq()
    with pytest.raises(ConcurrencyConflict):
        await store.append(subject, [verified("r2")] * 5, expected=0, meta=Metadata(uuid.uuid4().hex))
    assert await store.last_seq() == before
    assert len(await store.read_aggregate(subject)) == 1


async def test_group_commit_lands_every_good_command_when_one_in_the_batch_conflicts(store, tenant):
    taken = household(tenant, "9-1-101")
    await store.append(taken, [registered("9-1-101")], expected=0, meta=Metadata(uuid.uuid4().hex))
    subjects = [household(tenant, f"9-1-{200 + i}") for i in range(50)] + [taken]
    results = await asyncio.gather(*(
        store.append(s, [registered(), registered()], expected=0, meta=Metadata(uuid.uuid4().hex)) for s in subjects),
        return_exceptions=True)
    assert [type(r).__name__ for r in results].count("ConcurrencyConflict") == 1
    assert isinstance(results[-1], ConcurrencyConflict)
    for s in subjects[:-1]:
        assert len(await store.read_aggregate(s)) == 2
    assert len(await store.read_aggregate(taken)) == 1


async def test_events_carry_a_cloudevents_envelope_in_nats_headers(store, nc, tenant):
    subject = household(tenant)
    meta = Metadata("cmd-" + uuid.uuid4().hex, correlation_id="corr-1", source="/louzu/registry/高莹")
    result = await store.append(subject, [registered()], expected=0, meta=meta)
    raw = await nc.jetstream().get_msg("LOUZU_EVENTS", result.last_seq, direct=True)
    h = raw.headers
    assert h["ce-specversion"] == "1.0" and h["ce-id"] == result.event_ids[0]
    assert h["ce-type"] == "louzu.registry.HouseholdRegistered.v1"
    assert h["ce-subject"] == "38-1-302" and h["ce-tenant"] == tenant and h["ce-correlationid"] == "corr-1"
    assert h["ce-source"] == "/louzu/registry/%E9%AB%98%E8%8E%B9" and h["ce-time"].endswith("Z")
    assert raw.data.startswith(b"{") and b'"household_id":"38-1-302"' in raw.data
