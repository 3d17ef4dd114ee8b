"""The delivery queue on real servers: priority order, the seal rule from the lockdown phase, two
volunteers taking one request, a retried command, escalation on time, a group purchase end to end."""
import asyncio
import uuid
from datetime import date, timedelta

import pytest

from services.delivery.bootstrap import Delivery
from services.delivery.projections import queries
from services.lockdown.bootstrap import Lockdown
from shared.commanding import CommandClient
from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject
from shared.events.registry import ResidentUpdated
from tests.conftest import eventually
from tests.support.clock import FakeClock
from tests.support.registry import populate_building

pytestmark = pytest.mark.integration


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def delivery(platform, clock, tenant):
    running = await Delivery(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                             schedule_tenant=tenant).start()
    yield running
    await running.close()


@pytest.fixture
async def people(nc, tenant, delivery):
    return await populate_building(EventStore(nc), tenant, building="38")


@pytest.fixture
def households(people):
    return list(people)


async def send(nc, tenant, name, command_id=None, actor="cadre-1", **body):
    return await CommandClient(nc, tenant, "delivery").send(name, {
        "command_id": command_id or uuid.uuid4().hex, "tenant": tenant, "compound": "c1", "actor": actor, **body})


async def request(nc, tenant, clock, household, **kw):
    body = dict(household_id=household, building="38", items="青菜两斤、鸡蛋一盒", category="food", source="shop")
    reply = await send(nc, tenant, "request_delivery", **{**body, **kw})
    assert reply["ok"], reply
    return reply


async def queue_of(db, tenant, clock, n):
    rows = await queries.queue(db, tenant, "c1", clock())
    return rows if len(rows) == n else None


async def test_the_queue_puts_urgent_medicine_first_then_vulnerable_households_then_the_oldest(
        delivery, nc, db, tenant, clock, households, people):
    lonely = people[households[2]][0]
    await EventStore(nc).append(  # the registry learns at the door that she lives alone
        AggregateSubject.make(tenant, "c1", "registry", "resident", lonely),
        [ResidentUpdated(resident_id=lonely, flags=("elderly_alone",), updated_by="cadre-1", updated_at=clock())],
        expected=await _last(nc, tenant, lonely), meta=Metadata(uuid.uuid4().hex))
    await eventually(lambda: queries.household_flags(db, tenant, "c1", households[2]))
    await request(nc, tenant, clock, households[0])
    clock.advance(minutes=30)
    await request(nc, tenant, clock, households[1])
    await request(nc, tenant, clock, households[2])
    clock.advance(minutes=10)
    await request(nc, tenant, clock, households[3], items="降压药", category="medicine", urgency="urgent")
    rows = await eventually(lambda: queue_of(db, tenant, clock, 4))
    assert [r["household_id"] for r in rows] == [households[3], households[2], households[0], households[1]]
    assert rows[0]["why"][0] == "紧急药品" and "独居老人" in rows[1]["why"] and rows[2]["age_minutes"] == 40


async def _last(nc, tenant, resident):
    history = await EventStore(nc).read_aggregate(AggregateSubject.make(tenant, "c1", "registry", "resident", resident))
    return history[-1].seq


async def test_two_volunteers_taking_one_request_at_once_one_wins_and_the_other_is_told(
        delivery, nc, db, tenant, clock, households):
    await request(nc, tenant, clock, households[0])
    requested = await eventually(lambda: queue_of(db, tenant, clock, 1))
    rid = requested[0]["request_id"]
    assert (await send(nc, tenant, "accept_delivery", request_id=rid))["ok"]
    replies = await asyncio.gather(*(send(nc, tenant, "assign_delivery", actor=v, request_id=rid, assignee_id=v,
                                          assignee_kind="volunteer", take=True) for v in ("vol-a", "vol-b")))
    winners = [r for r in replies if r["ok"]]
    losers = [r for r in replies if not r["ok"]]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0]["error"]["code"] == "already_taken" and "接走" in losers[0]["error"]["message_zh"]


async def test_a_retried_command_adds_nothing(delivery, nc, db, tenant, clock, households):
    command_id = "retry-" + uuid.uuid4().hex
    first = await request(nc, tenant, clock, households[0], command_id=command_id)
    again = await request(nc, tenant, clock, households[0], command_id=command_id)
    assert again["duplicate"] and again["last_seq"] == first["last_seq"]
    assert len(await eventually(lambda: queue_of(db, tenant, clock, 1))) == 1


async def test_during_the_seal_only_the_gate_post_pair_may_carry_to_the_door(platform, delivery, nc, db, tenant, clock,
                                                                             households):
    lockdown = await Lockdown(platform.nats_url, platform.database_url, clock=clock).start(scheduler=False)
    try:
        sealed = await CommandClient(nc, tenant, "lockdown").send("seal_building", {
            "command_id": uuid.uuid4().hex, "tenant": tenant, "compound": "c1", "actor": "cadre-1",
            "building": "38", "town": "taopu", "reason": "阳性", "ordered_by": "镇防控办"})
        assert sealed["ok"]
    finally:
        await lockdown.close()
    await eventually(lambda: queries.building_phase(db, tenant, "c1", "38"))
    await request(nc, tenant, clock, households[0], source="relatives_at_gate", items="亲友送来的蔬菜")
    rid = (await eventually(lambda: queue_of(db, tenant, clock, 1)))[0]["request_id"]
    await send(nc, tenant, "accept_delivery", request_id=rid)
    refused = await send(nc, tenant, "assign_delivery", request_id=rid, assignee_id="vol-a", assignee_kind="volunteer")
    assert refused["error"]["code"] == "seal_gate_post_only"
    assert (await send(nc, tenant, "assign_delivery", request_id=rid, assignee_id="gate-38",
                       assignee_kind="gate_post_pair"))["ok"]
    ungated = await send(nc, tenant, "pick_up_delivery", request_id=rid)
    assert ungated["error"]["code"] == "gate_receipt_required"
    assert (await send(nc, tenant, "pick_up_delivery", request_id=rid, received_at_gate=True))["ok"]
    early = await send(nc, tenant, "accept_delivery", request_id=rid)
    assert early["error"]["code"] == "illegal_transition"
    assert (await send(nc, tenant, "complete_delivery", request_id=rid, confirmed_by_resident=True))["ok"]


async def test_an_aged_request_escalates_to_the_responsible_cadre_once(delivery, nc, db, tenant, clock, households):
    await request(nc, tenant, clock, households[0])
    await eventually(lambda: queue_of(db, tenant, clock, 1))
    assert await delivery.escalation.tick() == 0
    clock.advance(hours=2, minutes=1)
    assert await delivery.escalation.tick() == 1
    rows = await eventually(lambda: _escalated(db, tenant, clock))
    assert rows[0]["escalated_to"] == "c-li" and rows[0]["overdue"] and rows[0]["stuck"]
    assert await delivery.escalation.tick() == 0


async def _escalated(db, tenant, clock):
    rows = await queries.queue(db, tenant, "c1", clock())
    return rows if rows and rows[0]["escalated_to"] else None


async def test_a_group_purchase_adds_up_per_building_from_open_to_arrival(delivery, nc, db, tenant, clock, households):
    opened = await send(nc, tenant, "open_group_purchase", purchase_id="veg0322", scope="building", building="38",
                        supplier="桃浦农贸", offer="蔬菜套餐（10种）", unit_price_fen=8800,
                        delivery_due=(date.today() + timedelta(days=2)).isoformat())
    assert opened["ok"], opened
    for i, hh in enumerate(households[:5]):
        assert (await send(nc, tenant, "order_group_purchase", purchase_id="veg0322", household_id=hh, building="38",
                           quantity=1 + i % 2))["ok"]
    assert (await send(nc, tenant, "order_group_purchase", purchase_id="veg0322", household_id=households[0],
                       building="38", quantity=3))["ok"]  # a household changes its order
    assert (await send(nc, tenant, "cancel_group_purchase_order", purchase_id="veg0322",
                       household_id=households[4]))["ok"]
    assert (await send(nc, tenant, "close_group_purchase", purchase_id="veg0322"))["ok"]
    late = await send(nc, tenant, "order_group_purchase", purchase_id="veg0322", household_id=households[6],
                      building="38", quantity=1)
    assert late["error"]["code"] == "illegal_transition"
    arrival = await send(nc, tenant, "record_group_purchase_arrival", purchase_id="veg0322")
    assert arrival["ok"], arrival

    async def arrived():
        found = await queries.purchase_summary(db, tenant, "veg0322")
        return found if found["purchase"] and found["purchase"]["status"] == "arrived" else None
    summary = await eventually(arrived)
    assert summary["buildings"]["38"] == {"households": 4, "quantity": 3 + 2 + 1 + 2, "amount_fen": 8 * 8800}
    assert summary["total"] == summary["buildings"]["38"]
    again = await send(nc, tenant, "record_group_purchase_arrival", purchase_id="veg0322")  # resent: fan-out doubles nothing
    assert again["ok"]
    doors = await eventually(lambda: queue_of(db, tenant, clock, 4))
    assert sorted(r["household_id"] for r in doors) == sorted(households[:4])
    assert all(r["source"] == "group_purchase" and "veg0322" in r["items"] for r in doors)
