"""Health in a sealed building on real servers: fever alerts, missed reports, check-offs under
concurrency and retries, reconciliation, pooled results, transfers and disinfection."""
import asyncio
import uuid
from datetime import timedelta
from types import SimpleNamespace

import orjson
import pytest

from services.lockdown.application.service import sampling_subject
from services.lockdown.bootstrap import Lockdown
from services.lockdown.projections import health_queries as hq
from shared.commanding import CommandClient
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import command_subject
from tests.conftest import eventually
from tests.support.clock import FakeClock
from tests.support.registry import populate_building

pytestmark = pytest.mark.integration


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def lockdown(platform, clock, tenant):
    running = await Lockdown(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                             schedule_tenant=tenant).start()
    yield running
    await running.close()


@pytest.fixture
async def building(nc, tenant, lockdown):
    made = await populate_building(EventStore(nc), tenant)
    reply = await send(nc, tenant, "seal_building", building="41", town="taopu", reason="阳性", ordered_by="镇防控办")
    assert reply["ok"], reply
    return made


async def send(nc, tenant, name, command_id=None, **body):
    return await CommandClient(nc, tenant, "lockdown").send(name, {
        "command_id": command_id or uuid.uuid4().hex, "tenant": tenant, "compound": "c1", "actor": "v1", **body})


async def schedule_round(nc, tenant, clock, round_id="rd1"):
    reply = await send(nc, tenant, "schedule_testing_round", round_id=round_id, buildings=["41"], site="小区广场",
                       starts_at=(clock() + timedelta(hours=1)).isoformat())
    assert reply["ok"], reply


def residents(made):
    return [(rid, hh) for hh, rids in made.items() for rid in rids]


async def test_a_fever_raises_an_alert_and_the_temperature_is_never_in_clear(lockdown, building, nc, db, tenant):
    rid, hh = residents(building)[0]
    reply = await send(nc, tenant, "report_resident", building="41", household_id=hh, resident_id=rid, temperature=38.2,
                       symptoms="咳嗽", need="家里没有退烧药")
    assert reply["ok"] and len(reply["event_ids"]) == 2
    alerts = await eventually(lambda: hq.fever_alerts(db, tenant, "c1"))
    assert alerts[0]["resident_id"] == rid
    raw = await nc.jetstream().get_msg("LOUZU_EVENTS", reply["last_seq"] - 1, direct=True)
    assert b"38.2" not in raw.data and "咳嗽".encode() not in raw.data and "退烧药".encode() not in raw.data


async def test_residents_who_did_not_report_in_a_window_are_listed_per_cadre(lockdown, building, nc, db, clock, tenant):
    everyone = residents(building)
    clock.advance(hours=13)  # sealed at 20:00; the next morning's 08:00 window is the first one
    for rid, hh in everyone[:-3]:
        assert (await send(nc, tenant, "report_resident", building="41", household_id=hh, resident_id=rid,
                           temperature=36.5))["ok"]
    from services.lockdown.domain.health import report_window
    window = report_window(clock(), ("08:00", "14:00"))

    async def missed():
        found = await hq.missed_reports(db, tenant, "c1", window)
        return found if sum(map(len, found.values())) == 3 else None
    by_cadre = await eventually(missed)
    assert list(by_cadre) == ["李文娟"]
    assert {m["resident_id"] for m in by_cadre["李文娟"]} == {rid for rid, _ in everyone[-3:]}


async def test_two_volunteers_checking_off_one_resident_at_once_yield_one_check_off(lockdown, building, nc, tenant, clock):
    await schedule_round(nc, tenant, clock)
    rid, hh = residents(building)[0]
    replies = await asyncio.gather(*(send(nc, tenant, "check_off_sample", round_id="rd1", resident_id=rid,
                                          household_id=hh, tube_id=f"T{i}") for i in range(2)))
    assert all(r["ok"] for r in replies)
    assert sorted(len(r["event_ids"]) for r in replies) == [0, 1]


async def test_a_check_off_retried_after_a_lost_reply_is_recorded_once(lockdown, building, nc, tenant, clock):
    await schedule_round(nc, tenant, clock)
    rid, hh = residents(building)[1]
    body = {"command_id": "lost-reply-" + uuid.uuid4().hex, "tenant": tenant, "compound": "c1", "actor": "v1",
            "round_id": "rd1", "resident_id": rid, "household_id": hh, "tube_id": "T1"}
    # the first request's reply is lost: publish without waiting for it, then retry with the same id
    await nc.publish(command_subject(tenant, "lockdown", "check_off_sample"), orjson.dumps(body))
    await nc.flush()
    retry = orjson.loads((await nc.request(command_subject(tenant, "lockdown", "check_off_sample"),
                                           orjson.dumps(body), timeout=10)).data)
    assert retry["ok"]
    where = sampling_subject(SimpleNamespace(tenant=tenant, compound="c1", round_id="rd1", household_id=hh))
    history = await EventStore(nc).read_aggregate(where)
    assert [type(h.event).__name__ for h in history] == ["ResidentSampled"]


async def test_closing_reconciles_everyone_and_positive_pools_flag_their_residents(lockdown, building, nc, db, tenant,
                                                                                    clock):
    await schedule_round(nc, tenant, clock)
    everyone = residents(building)
    for i, (rid, hh) in enumerate(everyone[:-2]):
        assert (await send(nc, tenant, "check_off_sample", round_id="rd1", resident_id=rid, household_id=hh,
                           tube_id=f"T{i // 10:03d}"))["ok"]
    refused = await send(nc, tenant, "close_testing_round", round_id="rd1")
    assert refused["error"]["code"] == "round_not_reconciled" and "2 resident(s)" in refused["error"]["message_en"]
    (bedridden, bed_hh), (away, away_hh) = everyone[-2:]
    assert (await send(nc, tenant, "check_off_sample", round_id="rd1", resident_id=bedridden, household_id=bed_hh,
                       method="door", tube_id="T002"))["ok"]
    assert (await send(nc, tenant, "mark_absent", round_id="rd1", resident_id=away, household_id=away_hh,
                       reason="在外地工作"))["ok"]
    assert (await send(nc, tenant, "close_testing_round", round_id="rd1"))["ok"]
    assert (await send(nc, tenant, "record_test_result", round_id="rd1", tube_id="T001", positive=True))["ok"]
    assert (await send(nc, tenant, "record_test_result", round_id="rd1", tube_id="T000", positive=False))["ok"]

    async def flagged():
        rows = await hq.positive_residents(db, tenant, "rd1")
        return rows if len(rows) == 10 else None
    rows = await eventually(flagged)
    assert {r["resident_id"] for r in rows} == {rid for rid, _ in everyone[10:20]}
    closed = await db.fetchrow("SELECT * FROM proj_lockdown.rounds WHERE tenant = $1", tenant)
    assert (closed["status"], closed["sampled"], closed["absent"], closed["unaccounted"]) == ("closed", 23, 1, [])


async def test_a_transfer_and_a_disinfection_show_in_the_views(lockdown, building, nc, db, tenant):
    rid, hh = residents(building)[0]
    assert (await send(nc, tenant, "transfer_resident", building="41", resident_id=rid, household_id=hh,
                       facility="定点医院"))["ok"]
    assert (await send(nc, tenant, "disinfect_building", building="41", floors=[3]))["ok"]
    transfers = await eventually(lambda: hq.transfers(db, tenant, "c1"))
    disinfections = await eventually(lambda: hq.disinfections(db, tenant, "c1"))
    assert transfers[0]["facility"] == "定点医院" and disinfections[0]["floors"] == [3]
