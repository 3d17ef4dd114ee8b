"""The gate-post duty rota on real servers: a post's days from the building's seal, pairs one day
on and one day off, coverage gaps shown at once, a swap, check-in and hand-over, the standby list,
and a reinforcement from another committee's compound used in the rota and freed at home."""
import uuid

import pytest

from services.lockdown.bootstrap import Lockdown
from services.roster.bootstrap import Roster
from services.roster.projections import rota_queries as q
from shared.commanding import CommandClient
from shared.eventlog.store import EventStore
from tests.conftest import eventually
from tests.support.clock import FakeClock
from tests.support.registry import populate_building
from tests.support.running import running
from tests.support.servers import new_tenant

pytestmark = pytest.mark.integration
S = "proj_roster"
FOUR = (("p1", "周建华"), ("p2", "陈美玲"), ("p3", "吴志强"), ("p4", "孙丽萍"))


@pytest.fixture
def clock():
    return FakeClock()  # 2022-03-21 20:00 in Shanghai


@pytest.fixture
async def services(platform, clock, tenant):
    async with running(Lockdown(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                                schedule_tenant=tenant),
                       Roster(platform.nats_url, platform.database_url, clock=clock)) as (lockdown, roster):
        yield lockdown, roster


async def send(nc, tenant, name, service="roster", compound="c1", command_id=None, **body):
    return await CommandClient(nc, tenant, service).send(name, {
        "command_id": command_id or uuid.uuid4().hex, "tenant": tenant, "compound": compound, "actor": "cadre-1",
        **body})


async def ok(nc, tenant, name, **body):
    reply = await send(nc, tenant, name, **body)
    assert reply["ok"], reply
    return reply


async def seal(nc, db, tenant, building):
    await populate_building(EventStore(nc), tenant, building=building, floors=2)
    await ok(nc, tenant, "seal_building", service="lockdown", building=building, town="taopu", reason="阳性",
             ordered_by="镇防控办")
    await eventually(lambda: db.fetchval(f"SELECT phase = 'sealed' FROM {S}.buildings WHERE tenant = $1 "
                                         "AND building = $2", tenant, building))


async def enroll(nc, tenant, people, role="party_volunteer", compound="c1"):
    for pid, name in people:
        reply = await send(nc, tenant, "enroll_duty_person", compound=compound, person_id=pid, person_name=name,
                           role=role)
        assert reply["ok"], reply


async def caught_up(db, reply):
    await eventually(lambda: db.fetchval("SELECT last_seq >= $1 FROM louzu.projection_checkpoints WHERE name = 'roster'",
                                         reply["last_seq"]))


async def missing(db, tenant) -> int:
    """People missing from all short shifts together."""
    return sum(2 - g["have"] for g in (await q.gaps(db, S, tenant, "c1"))["short"])


async def test_four_people_on_one_post_make_two_pairs_alternating_over_the_building_s_period(services, nc, db, tenant):
    await seal(nc, db, tenant, "41")
    await enroll(nc, tenant, FOUR)
    await ok(nc, tenant, "open_gate_post", building="41")
    await caught_up(db, await ok(nc, tenant, "plan_rota"))
    rows = await q.plan(db, S, tenant, "c1")
    days = sorted({r["day"] for r in rows})
    assert str(days[0]) == "2022-03-21" and str(days[-1]) == "2022-04-04"  # sealed day to end of monitoring
    assert {r["shift"] for r in rows} == {"08:30-12:30", "13:00-17:00"}  # the town's default shifts
    pair_of = {d: {tuple(sorted(r["people"])) for r in rows if r["day"] == d} for d in days}
    assert all(len(pairs) == 1 for pairs in pair_of.values())  # one pair stands both shifts of its day
    sequence = [next(iter(pair_of[d])) for d in days]
    assert len(set(sequence)) == 2 and all(a != b for a, b in zip(sequence, sequence[1:]))
    gaps = await q.gaps(db, S, tenant, "c1", days[0])
    assert gaps == {"short": [], "unplanned": [], "buildings_without_post": []}


async def test_a_second_sealed_building_shows_its_coverage_gaps_at_once(services, nc, db, tenant):
    await seal(nc, db, tenant, "41")
    await enroll(nc, tenant, FOUR)
    await ok(nc, tenant, "open_gate_post", building="41")
    await ok(nc, tenant, "plan_rota")
    await seal(nc, db, tenant, "38")
    gaps = await q.gaps(db, S, tenant, "c1")
    assert gaps["buildings_without_post"] == ["38"]
    opened = await ok(nc, tenant, "open_gate_post", building="38")
    await caught_up(db, opened)
    assert len((await q.gaps(db, S, tenant, "c1"))["unplanned"]) == 15 * 2  # open but not planned: every shift
    await caught_up(db, await ok(nc, tenant, "plan_rota"))
    short = (await q.gaps(db, S, tenant, "c1"))["short"]
    assert short, "four people cannot staff two posts one day on, one day off"
    rows = await q.plan(db, S, tenant, "c1")
    for day in {r["day"] for r in rows}:  # never one person in two places at once
        on_day = [p for r in rows if r["day"] == day and r["shift"] == "08:30-12:30" for p in r["people"]]
        assert len(on_day) == len(set(on_day))


async def test_a_swap_is_an_event_and_a_double_booking_is_refused(services, nc, db, tenant):
    await seal(nc, db, tenant, "41")
    await seal(nc, db, tenant, "38")
    await enroll(nc, tenant, FOUR + (("p5", "赵国庆"), ("p6", "钱秀兰"), ("p7", "冯德明"), ("p8", "卫桂英")))
    await ok(nc, tenant, "open_gate_post", building="41")
    await ok(nc, tenant, "open_gate_post", building="38")
    await caught_up(db, await ok(nc, tenant, "plan_rota"))
    rows = await q.plan(db, S, tenant, "c1")
    first_day = min(r["day"] for r in rows)
    today = [r for r in rows if r["day"] == first_day]
    on_b38 = next(r for r in today if r["post_id"] == "b38")["people"][0]
    on_b41 = next(r for r in today if r["post_id"] == "b41")["people"][0]
    refused = await send(nc, tenant, "swap_shift", post_id="b41", day=str(first_day), out_person=on_b41,
                         in_person=on_b38, reason="家中有事")
    assert not refused["ok"] and refused["error"]["code"] == "double_booked"
    assert refused["error"]["field"] == "in_person" and refused["error"]["message_zh"]
    resting = sorted({p for p, _ in FOUR + (("p5", ""), ("p6", ""), ("p7", ""), ("p8", ""))}
                     - {p for r in today for p in r["people"]})[0]
    tomorrow = [r for r in rows if (r["day"] - first_day).days == 1]
    needs_rest = any(resting in r["people"] for r in tomorrow)
    reply = await send(nc, tenant, "swap_shift", post_id="b41", day=str(first_day), out_person=on_b41,
                       in_person=resting, reason="家中有事", accept_warnings=needs_rest)
    assert reply["ok"], reply
    await caught_up(db, reply)
    after = [r for r in await q.plan(db, S, tenant, "c1", first_day, first_day) if r["post_id"] == "b41"]
    assert all(resting in r["people"] and on_b41 not in r["people"] for r in after)
    assert await db.fetchval(f"SELECT count(*) FROM {S}.swaps WHERE tenant = $1", tenant) == 1


async def test_check_in_and_out_keep_the_hand_over_note_and_the_standby_list_names_cadres(services, nc, db, tenant):
    await seal(nc, db, tenant, "41")
    await enroll(nc, tenant, FOUR)
    await enroll(nc, tenant, (("c-yuan", "袁廷海"),), role="committee_cadre")
    await ok(nc, tenant, "open_gate_post", building="41")
    await caught_up(db, await ok(nc, tenant, "plan_rota"))
    shift = (await q.plan(db, S, tenant, "c1"))[0]
    who, day = shift["people"][0], str(shift["day"])
    early = await send(nc, tenant, "check_out_shift", post_id="b41", day=day, shift=shift["shift"], person_id=who)
    assert not early["ok"] and early["error"]["code"] == "not_checked_in"
    stranger = await send(nc, tenant, "check_in_shift", post_id="b41", day=day, shift=shift["shift"],
                          person_id="c-yuan")
    assert not stranger["ok"] and stranger["error"]["code"] == "not_on_shift"
    await ok(nc, tenant, "check_in_shift", post_id="b41", day=day, shift=shift["shift"], person_id=who)
    await ok(nc, tenant, "check_out_shift", post_id="b41", day=day, shift=shift["shift"], person_id=who,
             handover_note="302 室药品已送达；601 室老人需每日电话问候")
    unknown = await send(nc, tenant, "set_standby", day=day, person_ids=["nobody"])
    assert not unknown["ok"] and unknown["error"]["code"] == "unknown_person"
    await caught_up(db, await ok(nc, tenant, "set_standby", day=day, person_ids=["c-yuan"]))
    seen = await q.checkins(db, S, tenant, "c1", shift["day"])
    assert seen[0]["person_id"] == who and seen[0]["checked_out_at"] and "601" in seen[0]["handover_note"]
    assert (await q.standby(db, S, tenant, "c1"))[0]["names"] == ["袁廷海"]


async def test_a_reinforcement_from_another_committee_is_used_in_the_rota_and_freed_at_home(services, nc, db, tenant):
    home = new_tenant()  # a neighbouring compound under another committee
    await enroll(nc, home, (("zb-he", "何晓东"),), compound="c2")
    await seal(nc, db, tenant, "41")
    await seal(nc, db, tenant, "38")
    await enroll(nc, tenant, FOUR)
    await ok(nc, tenant, "open_gate_post", building="41")
    await ok(nc, tenant, "open_gate_post", building="38")
    await caught_up(db, await ok(nc, tenant, "plan_rota"))
    missing_before = await missing(db, tenant)
    await ok(nc, tenant, "request_reinforcement", request_id="rf1", town="taopu", people=2, from_day="2022-03-21",
             until_day="2022-04-04", reason="两个楼栋同时封控")
    dispatch = dict(request_id="rf1", people=[
        {"person_id": "zb-he", "name": "何晓东", "from_tenant": home, "from_compound": "c2"},
        {"person_id": "unit-7", "name": "蒋永福", "from_compound": "镇机关"}])
    sent = await ok(nc, tenant, "dispatch_reinforcement", command_id="dispatch-rf1", **dispatch)
    again = await send(nc, tenant, "dispatch_reinforcement", command_id="dispatch-rf1", **dispatch)
    assert again["ok"] and again["duplicate"] and again["event_ids"] == sent["event_ids"]  # the same answer
    await caught_up(db, await ok(nc, tenant, "plan_rota"))
    pool = {p["person_id"]: p for p in await q.pool(db, S, tenant, "c1")}
    assert pool["zb-he"]["role"] == "reinforcement" and pool["zb-he"]["request_id"] == "rf1"
    assert len(pool) == 6
    rows = await q.plan(db, S, tenant, "c1")
    assert any("zb-he" in r["people"] for r in rows) and any("unit-7" in r["people"] for r in rows)
    assert await missing(db, tenant) < missing_before
    requests = await q.reinforcements(db, S, town="taopu", tenant=tenant)
    assert requests[0]["status"] == "filled" and requests[0]["sent"] == 2 and sent["event_ids"]
    await eventually(lambda: db.fetchval(f"SELECT count(*) = 1 FROM {S}.duty_away WHERE tenant = $1 "
                                         "AND person_id = 'zb-he' AND to_tenant = $2", home, tenant))
    too_many = await send(nc, tenant, "dispatch_reinforcement", request_id="rf1", people=[
        {"person_id": "x9", "name": "多余", "from_compound": "c9"}])
    assert not too_many["ok"] and too_many["error"]["code"] == "request_closed"
