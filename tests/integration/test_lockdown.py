"""The lockdown service on real servers, with a clock the test controls: phases on time across
restarts, late starts, replays and two instances; playbook versions; group coverage; the gate log."""
import asyncio
import uuid

import pytest

from services.lockdown.bootstrap import Lockdown
from services.lockdown.projections import queries
from services.lockdown.projections.tables import LockdownProjection
from shared.commanding import CommandClient
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject
from shared.events import registry as r
from shared.projections.rebuild import replay
from tests.conftest import eventually
from tests.support.clock import FakeClock

pytestmark = pytest.mark.integration


@pytest.fixture
def clock():
    return FakeClock()


async def start(platform, clock, tenant, **kw) -> Lockdown:
    return await Lockdown(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                          schedule_tenant=tenant).start(**kw)


@pytest.fixture
async def lockdown(platform, clock, tenant):
    running = await start(platform, clock, tenant)
    yield running
    await running.close()


def town_of(tenant):
    return "town" + tenant[1:7]


async def cmd(nc, tenant, name, **body):
    client = CommandClient(nc, tenant, "lockdown")
    return await client.send(name, {"command_id": uuid.uuid4().hex, "tenant": tenant, "compound": "c1",
                                    "actor": "cadre-1", **body})


async def seal(nc, tenant, building="38"):
    reply = await cmd(nc, tenant, "seal_building", building=building, town=town_of(tenant), reason="302室阳性",
                      ordered_by="镇防控办")
    assert reply["ok"], reply
    return reply


async def phase(db, tenant, building="38"):
    row = await queries.current_episode(db, tenant, "c1", building)
    return row and row["phase"]


async def phase_events(nc, tenant, building="38"):
    store = EventStore(nc)
    history = await store.read_aggregate(AggregateSubject.make(tenant, "c1", "lockdown", "building", building))
    return [type(x.event).__name__ for x in history]


async def test_phases_change_on_time_across_a_restart_of_the_service(platform, nc, db, clock, tenant):
    first = await start(platform, clock, tenant)
    await seal(nc, tenant)
    await eventually(lambda: _is(db, tenant, "sealed"))
    clock.advance(days=1)
    assert await first.schedule.tick() == 0
    await first.close()  # the service goes down in the middle of the seal
    clock.advance(days=1, minutes=1)
    second = await start(platform, clock, tenant)  # its first tick is the catch-up
    try:
        await eventually(lambda: _is(db, tenant, "health_monitoring"))
        clock.advance(days=12)
        assert await second.schedule.tick() == 1
        await eventually(lambda: _is(db, tenant, "released"))
    finally:
        await second.close()
    assert await phase_events(nc, tenant) == ["BuildingSealed", "PlaybookStamped", "HealthMonitoringStarted",
                                              "BuildingUnsealed"]


async def _is(db, tenant, wanted):
    return await phase(db, tenant) == wanted


async def test_a_late_start_catches_up_both_phase_changes_with_their_due_times(platform, nc, db, clock, tenant):
    commands_only = await start(platform, clock, tenant, scheduler=False)
    await seal(nc, tenant)
    await eventually(lambda: _is(db, tenant, "sealed"))
    await commands_only.close()
    clock.advance(days=20)  # down through both due times
    late = await start(platform, clock, tenant)
    try:
        await eventually(lambda: _is(db, tenant, "released"))
    finally:
        await late.close()
    episode = await queries.current_episode(db, tenant, "c1", "38")
    assert episode["monitoring_started_at"] == episode["seal_ends_at"]
    assert episode["released_at"] == episode["monitoring_ends_at"] and episode["released_by"] == "schedule"


async def test_two_instances_ticking_at_once_change_the_phase_once(platform, nc, db, clock, tenant):
    a = await start(platform, clock, tenant)
    b = await start(platform, clock, tenant, commands=False, projector=False)
    try:
        await seal(nc, tenant)
        await eventually(lambda: _is(db, tenant, "sealed"))
        clock.advance(days=2)
        fired = await asyncio.gather(a.schedule.tick(), b.schedule.tick(), a.schedule.tick(), b.schedule.tick())
        assert sum(fired) == 1
    finally:
        await b.close()
        await a.close()
    assert (await phase_events(nc, tenant)).count("HealthMonitoringStarted") == 1


async def test_a_replay_rebuilds_the_phases_without_firing_anything(lockdown, platform, nc, db, clock, tenant):
    await seal(nc, tenant)
    await eventually(lambda: _is(db, tenant, "sealed"))
    clock.advance(days=3)
    await lockdown.schedule.tick()
    await eventually(lambda: _is(db, tenant, "health_monitoring"))
    before = await phase_events(nc, tenant)
    await replay(nc, platform.database_url, LockdownProjection())
    assert await phase(db, tenant) == "health_monitoring"
    assert await lockdown.schedule.tick() == 0
    assert await phase_events(nc, tenant) == before


async def test_an_episode_keeps_the_playbook_version_it_started_with(lockdown, nc, db, tenant):
    town = town_of(tenant)
    town_cmd = dict(tenant=f"town-{town}", compound="all", actor="town", town=town)
    client = CommandClient(nc, f"town-{town}", "lockdown")
    assert (await client.send("publish_playbook", {"command_id": uuid.uuid4().hex, **town_cmd}))["ok"]
    await seal(nc, tenant, "38")
    extra = {"key": "call_families", "title_zh": "电话联系独居老人家属", "title_en": "Call families of elderly living alone",
             "due_offset_s": 1800, "owner_role": "committee_cadre"}
    from services.lockdown.application.service import default_playbook_event
    tasks = [t.model_dump() for t in default_playbook_event(town, "x", lockdown.clock()).tasks] + [extra]
    edited = await client.send("publish_playbook", {"command_id": uuid.uuid4().hex, **town_cmd, "tasks": tasks})
    assert edited["ok"]
    await seal(nc, tenant, "36")

    async def keys(building):
        episode = await queries.current_episode(db, tenant, "c1", building)
        return episode and {t["key"] for t in await queries.tasks(db, tenant, episode["episode_id"], lockdown.clock())}
    await eventually(lambda: _has(keys, "36", "call_families"))
    assert "call_families" not in await keys("38") and len(await keys("38")) == 10
    episodes = {e["building_number"]: e["playbook_version"] for e in await queries.episodes(db, tenant, "c1")}
    assert episodes == {"38": 1, "36": 2}


async def _has(keys, building, key):
    found = await keys(building)
    return found and key in found


async def test_overdue_tasks_show_and_completed_ones_do_not(lockdown, nc, db, clock, tenant):
    await seal(nc, tenant)
    await eventually(lambda: _is(db, tenant, "sealed"))
    clock.advance(minutes=11)
    assert (await cmd(nc, tenant, "complete_task", building="38", task_key="print_roster"))["ok"]
    episode = await queries.current_episode(db, tenant, "c1", "38")

    async def overdue():
        tasks = await queries.tasks(db, tenant, episode["episode_id"], clock())
        return {t["key"] for t in tasks if t["overdue"]} if any(t["completed_at"] for t in tasks) else None
    late = await eventually(overdue)
    assert late == {"convene_staff", "form_group", "share_group_qr"}


async def test_group_coverage_names_households_without_a_member_and_missing_parties(lockdown, nc, db, tenant):
    store = EventStore(nc)
    for room in ("101", "102", "201", "202"):
        hh = f"38-1-{room}"
        await store.append(AggregateSubject.make(tenant, "c1", "registry", "household", hh),
                           [r.HouseholdRegistered(household_id=hh, building="38", entrance="1", room=room,
                                                  floor=int(room[0]), registered_by="t", registered_at=lockdown.clock())],
                           expected=0, meta=Metadata(uuid.uuid4().hex))
    await seal(nc, tenant)
    for hh in ("38-1-101", "38-1-202"):
        assert (await cmd(nc, tenant, "join_group", building="38", kind="household", household_id=hh,
                          display_name=f"{hh} 户"))["ok"]
    for party in ("police", "committee_cadre", "community_doctor"):
        assert (await cmd(nc, tenant, "join_group", building="38", kind="party", party=party, display_name=party))["ok"]

    async def covered():
        found = await queries.coverage(db, tenant, "c1", "38")
        return found if found["group_size"] == 5 and found["households"] == 4 else None
    coverage = await eventually(covered)
    assert coverage["households_missing"] == ["38-1-102", "38-1-201"]
    assert coverage["parties_missing"] == ["property_manager", "town_office"]


async def test_the_gate_log_shows_who_is_out_and_flags_who_is_out_too_long(lockdown, nc, db, clock, tenant):
    await seal(nc, tenant)
    refused = await cmd(nc, tenant, "record_gate_pass", building="38", resident_id="r1", household_id="38-1-302",
                        direction="out", reason="买菜")
    assert refused["error"]["code"] == "sealed_no_exit"
    await eventually(lambda: _is(db, tenant, "sealed"))
    clock.advance(days=2)
    assert await lockdown.schedule.tick() == 1
    for resident in ("r1", "r2"):
        assert (await cmd(nc, tenant, "record_gate_pass", building="38", resident_id=resident, household_id="38-1-302",
                          direction="out", reason="上班"))["ok"]
        clock.advance(minutes=90)  # r1 is out 180 minutes by the check, r2 90; the policy allows 120

    async def out():
        rows = await queries.out_now(db, tenant, "c1", "38", clock())
        return rows if len(rows) == 2 else None
    rows = {x["resident_id"]: x for x in await eventually(out)}
    assert rows["r1"]["overdue"] and not rows["r2"]["overdue"]
    assert (await cmd(nc, tenant, "record_gate_pass", building="38", resident_id="r1", household_id="38-1-302",
                      direction="in", reason="返回"))["ok"]
    await eventually(lambda: _count_out(db, tenant, clock, 1))


async def _count_out(db, tenant, clock, n):
    return len(await queries.out_now(db, tenant, "c1", "38", clock())) == n
