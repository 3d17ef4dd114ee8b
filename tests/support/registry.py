"""Helpers to drive the registry in tests: commands over NATS and a stream of synthetic events."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import orjson

from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject, command_subject
from shared.events import registry as e

NOW = datetime(2022, 3, 23, 20, 0, tzinfo=timezone.utc)


async def send(nc, tenant: str, name: str, body: dict) -> dict:
    reply = await nc.request(command_subject(tenant, "registry", name), orjson.dumps(body), timeout=15)
    return orjson.loads(reply.data)


def base(tenant: str, compound: str = "c1") -> dict:
    return {"command_id": uuid.uuid4().hex, "tenant": tenant, "compound": compound, "actor": "cadre-1"}


async def append_households(store: EventStore, tenant: str, count: int, compound: str = "c1") -> int:
    """Append `count` HouseholdRegistered events straight to the log; returns the last sequence."""
    last = 0
    for start in range(0, count, 200):
        results = []
        for i in range(start, min(start + 200, count)):
            hh = f"1-1-{100 + i}"
            subject = AggregateSubject.make(tenant, compound, "registry", "household", hh)
            event = e.HouseholdRegistered(household_id=hh, building="1", entrance="1", room=str(100 + i),
                                          floor=1, registered_by="test", registered_at=NOW)
            results.append(store.append(subject, [event], expected=0, meta=Metadata(uuid.uuid4().hex)))
        import asyncio
        done = await asyncio.gather(*results)
        last = max(r.last_seq for r in done)
    return last


async def populate_building(store: EventStore, tenant: str, building: str = "41", floors: int = 6,
                            per_floor: int = 2, people: int = 2, compound: str = "c1", cadre: str | None = "李文娟"):
    """Register a building's households and residents straight into the log (what an import would
    have done); returns {household_id: [resident ids]}."""
    import asyncio
    made: dict[str, list[str]] = {}
    appends = []
    for floor in range(1, floors + 1):
        for door in range(1, per_floor + 1):
            room = f"{floor}{door:02d}"
            hh = f"{building}-1-{room}"
            made[hh] = [f"p{building}x{room}x{i}" for i in range(people)]
            appends.append(store.append(
                AggregateSubject.make(tenant, compound, "registry", "household", hh),
                [e.HouseholdRegistered(household_id=hh, building=building, entrance="1", room=room, floor=floor,
                                       registered_by="t", registered_at=NOW)], expected=0, meta=Metadata(uuid.uuid4().hex)))
            for i, rid in enumerate(made[hh]):
                appends.append(store.append(
                    AggregateSubject.make(tenant, compound, "registry", "resident", rid),
                    [e.ResidentRegistered(resident_id=rid, household_id=hh, name=f"居民{room}{i}", sex="F",
                                          birth_year=1950 + i, id_hash=rid, id_number_sealed="v1:x", id_mask="m",
                                          registered_by="t", registered_at=NOW)],
                    expected=0, meta=Metadata(uuid.uuid4().hex)))
    if cadre:
        appends.append(store.append(AggregateSubject.make(tenant, compound, "registry", "building", building),
                                    [e.BuildingCadreAssigned(building=building, cadre_id="c-li", cadre_name=cadre,
                                                             assigned_by="t", assigned_at=NOW)],
                                    expected=0, meta=Metadata(uuid.uuid4().hex)))
    await asyncio.gather(*appends)
    return made
