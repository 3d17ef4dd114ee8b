"""`louzu up` gives every committee its own NATS user; which committees exist it learns from the
registry's compound events in the log, not from the registry's tables."""
import uuid

import pytest

from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject
from shared.events import registry as e
from shared.infra.system import committees
from tests.support.registry import NOW
from tests.support.servers import new_tenant

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def compound(tenant: str, compound_id: str) -> AggregateSubject:
    return AggregateSubject.make(tenant, compound_id, "registry", "compound", compound_id)


def registered(compound_id: str) -> e.CompoundRegistered:
    return e.CompoundRegistered(compound=compound_id, name="樱花苑", town="taopu", registered_by="cadre-1",
                                registered_at=NOW)


async def test_every_committee_with_a_registered_compound_is_found_once(nc, platform):
    store = EventStore(nc)
    first, second, bystander = new_tenant(), new_tenant(), new_tenant()
    try:
        for tenant, compound_id in ((first, "c1"), (first, "c2"), (second, "c1")):
            await store.append(compound(tenant, compound_id), [registered(compound_id)], expected=0,
                               meta=Metadata(uuid.uuid4().hex))
        household = AggregateSubject.make(bystander, "c1", "registry", "household", "38-1-302")
        await store.append(household, [e.HouseholdRegistered(household_id="38-1-302", building="38", entrance="1",
                                                             room="302", floor=3, registered_by="cadre-1",
                                                             registered_at=NOW)],
                           expected=0, meta=Metadata(uuid.uuid4().hex))
    finally:
        await store.close()
    found = await committees(platform.nats_url)
    assert {first, second} <= set(found)
    assert bystander not in found  # a household alone does not make a committee
    assert len(found) == len(set(found)) and found == sorted(found)


async def test_a_log_without_compounds_has_no_committees_and_answers_at_once(platform, monkeypatch):
    from shared.infra import system
    monkeypatch.setattr(system, "COMPOUND_EVENTS", str(AggregateSubject("*", "*", "registry", "nothing", "*")))
    assert await committees(platform.nats_url, timeout=30) == []  # no wait for a message that never comes
