"""The gateway's own read model on real servers: projected from every service's events (the
registry's, lockdown's, delivery's and the rota's), equal to a rebuild from the log, masked only,
isolated by tenant, and read by the gateway's queries the way the consoles show it."""
import asyncio
import uuid
from datetime import date, timedelta

import pytest

from shared.eventlog.envelope import Metadata
from shared.eventlog.store import EventStore
from shared.eventlog.subjects import AggregateSubject, slug
from shared.events import delivery as d
from shared.events import lockdown as lk
from shared.events import roster as ro
from shared.projections.rebuild import replay, verify
from shared.projections.runner import ProjectionRunner
from shared.projections.security import tenant_transaction
from services.gateway.projections import health, places, supply
from services.gateway.projections.overview import town_overview
from services.gateway.projections.sheet import building_sheet
from services.gateway.projections.views import GatewayViews
from tests.support.gateway import register_compound
from tests.support.registry import NOW, populate_building

pytestmark = pytest.mark.integration

LATER = NOW + timedelta(hours=3)
DAY = date(2022, 3, 24)  # NOW in Shanghai


@pytest.fixture
async def store(nc):
    log = EventStore(nc)
    yield log
    await log.close()


def views_for(tenant):
    return GatewayViews(name=f"views_{tenant}", schema=f"proj_views_{tenant}")


async def put(store, tenant, service, aggregate, key, *events):
    subject = AggregateSubject.make(tenant, "c1", service, aggregate, slug(key))
    return (await store.append(subject, list(events), expected=None, meta=Metadata(uuid.uuid4().hex))).last_seq


def standing(tier, *zh):
    return d.QueueStanding(tier=tier, reasons_zh=zh, reasons_en=zh)


async def a_sealed_building(store, tenant, town):
    """Building 41 of a town's compound, sealed, with a task, a notice, a group member, one resident out,
    a fever, a testing round with one sample, three supply requests, a planned shift and a reinforcement
    request. Returns the last sequence."""
    await register_compound(store, tenant, "c1", "樱花苑", town)
    made = await populate_building(store, tenant, building="41", floors=2)
    (h1, p1), (h2, p2) = [(h, ids) for h, ids in sorted(made.items())][:2]
    ep = "ep-" + tenant
    await put(store, tenant, "lockdown", "building", "41", lk.BuildingSealed(
        episode_id=ep, building="41", town=town, ordered_by="镇防控办", reason="302 阳性", sealed_at=NOW,
        seal_ends_at=NOW + timedelta(days=7), monitoring_ends_at=NOW + timedelta(days=14), policy_version=1,
        seal_days=7, monitoring_days=7, max_out_minutes=60, playbook_version=1), lk.PlaybookStamped(
        episode_id=ep, template_version=1, tasks=(lk.StampedTask(key="notice", title_zh="张贴通知", title_en="Post the notice",
                                                                  owner_role="committee_cadre", due_at=NOW + timedelta(hours=1)),)),
        lk.NoticePublished(episode_id=ep, notice_id="n1", template_key="sealed", title_zh="封控通知", text_zh="请居家",
                           published_by="cadre", published_at=NOW),
        lk.GroupMemberJoined(member_id="m1", kind="household", household_id=h1, display_name="住户",
                             joined_at=NOW, added_by="cadre"),
        lk.GatePassRecorded(episode_id=ep, pass_id="g1", resident_id=p2[0], household_id=h2, direction="out",
                            reason="medical", passed_at=NOW, recorded_by="v1"))
    await put(store, tenant, "lockdown", "household", h1, lk.ResidentReported(
        report_id="r1", resident_id=p1[0], household_id=h1, building="41", window_start=NOW, temperature_sealed="x",
        fever=True, reported_by=p1[0], reported_at=NOW), lk.FeverAlertRaised(
        report_id="r1", resident_id=p1[0], household_id=h1, building="41", raised_at=NOW))
    await put(store, tenant, "lockdown", "round", "t1", lk.TestingRoundScheduled(
        round_id="t1", buildings=("41",), site="门口", starts_at=NOW, call_down=(), scheduled_by="c", scheduled_at=NOW))
    await put(store, tenant, "lockdown", "sampling", "t1", lk.ResidentSampled(
        round_id="t1", resident_id=p1[0], household_id=h1, method="roster", tube_id="T1", sampled_by="v", sampled_at=NOW))
    for rid, household, category, urgency, tier, minutes in (("q-food", h1, "food", "normal", 2, 0),
                                                            ("q-old", h2, "food", "normal", None, 5),
                                                            ("q-med", h2, "medicine", "urgent", 0, 30)):
        await put(store, tenant, "delivery", "request", rid, d.DeliveryRequested(
            request_id=rid, household_id=household, building="41", requested_by="r", items="米", category=category,
            source="shop", urgency=urgency, requested_at=NOW + timedelta(minutes=minutes),
            standing=standing(tier, "紧急药品") if tier is not None else None))
    await put(store, tenant, "delivery", "request", "q-food", d.DeliveryEscalated(
        request_id="q-food", to_cadre_id="c-li", age_minutes=120, escalated_by="schedule", escalated_at=LATER))
    await put(store, tenant, "roster", "rota", "c1", ro.DutyPersonEnrolled(
        person_id="v1", name="志愿者甲", role="party_volunteer", home_compound="c1", enrolled_by="c", enrolled_at=NOW),
        ro.GatePostOpened(post_id="p41", building="41", start=DAY, end=DAY + timedelta(days=1),
                          shifts=("08:00-12:00",), opened_by="c", opened_at=NOW),
        ro.RotaPlanned(start=DAY, end=DAY, shifts=(ro.PlannedShift(
            post_id="p41", day=DAY, shift="08:00-12:00", people=("v1",)),), gaps=1, planned_by="c",
            planned_at=NOW))
    return await put(store, tenant, "roster", "reinforcement", "rf1", ro.ReinforcementRequested(
        request_id="rf1", town=town, people=2, from_day=DAY, until_day=DAY, reason="第四栋封控",
        requested_by="c", requested_at=NOW))


async def projected(nc, platform, projection, last):
    runner = ProjectionRunner(nc, platform.database_url, projection)
    await runner.run(asyncio.Event(), until_seq=last, idle_timeout=0.3)


async def test_the_views_equal_a_rebuild_from_the_log_and_a_replay_swaps_in_equal_tables(platform, nc, store, db, tenant):
    projection = views_for(tenant)
    last = await a_sealed_building(store, tenant, "town" + uuid.uuid4().hex[:6])
    await projected(nc, platform, projection, last)
    assert await verify(nc, platform.database_url, projection) == []
    await db.execute(f'DELETE FROM "{projection.schema}".requests WHERE tenant = $1', tenant)
    assert (await verify(nc, platform.database_url, projection))[0].table == "requests"
    assert await replay(nc, platform.database_url, projection) > 0
    assert await verify(nc, platform.database_url, projection) == []
    assert await db.fetchval(f'SELECT count(*) FROM "{projection.schema}".requests WHERE tenant = $1', tenant) == 3


async def test_the_checkpoint_moves_with_every_event_of_the_log_even_those_it_does_not_show(platform, nc, store, db,
                                                                                         tenant):
    projection = views_for(tenant)
    last = await put(store, tenant, "lockdown", "building", "41", lk.BuildingDisinfected(
        disinfected_by="team", disinfected_at=NOW))  # no view shows a disinfection
    await projected(nc, platform, projection, last)
    assert await db.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1", projection.name) == last


async def test_no_sealed_personal_field_enters_the_views(platform, nc, store, db, tenant):
    projection = views_for(tenant)
    await projected(nc, platform, projection, await a_sealed_building(store, tenant, "t" + tenant[-6:]))
    columns = {r["column_name"] for r in await db.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $1", projection.schema)}
    assert not [c for c in columns if c.endswith("_sealed") or c in ("id_hash", "temperature")]
    rows = await db.fetch(f'SELECT * FROM "{projection.schema}".residents WHERE tenant = $1', tenant)
    assert len(rows) == 8 and not [v for r in rows for v in r.values() if str(v).startswith("v1:")]


async def test_a_committee_s_transaction_sees_its_own_rows_only_in_every_table(platform, nc, store, db, tenant):
    projection, other = views_for(tenant), "o" + tenant[1:]
    town = "town" + uuid.uuid4().hex[:6]
    await a_sealed_building(store, tenant, town)
    await projected(nc, platform, projection, await a_sealed_building(store, other, town))
    tables = [r["table_name"] for r in await db.fetch(
        "SELECT table_name FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'tenant'",
        projection.schema)]
    assert len(tables) == len(projection.tables) - 1  # all but the towns' policies
    filled = 0
    for table in tables:
        rows = f'SELECT tenant, count(*) AS n FROM "{projection.schema}"."{table}" GROUP BY tenant'
        owner_sees = {r["tenant"]: r["n"] for r in await db.fetch(rows)}
        if tenant not in owner_sees and other not in owner_sees:
            continue  # a table the scene leaves empty (check-ins, sampling codes); other tests' rows may be there
        filled += 1
        async with tenant_transaction(db, [tenant]):
            mine = {r["tenant"]: r["n"] for r in await db.fetch(rows)}
        async with tenant_transaction(db, []):
            nobody = await db.fetch(rows)
        assert mine == {tenant: owner_sees.get(tenant)} and owner_sees.get(other) and nobody == [], table
    assert filled >= 18
    async with tenant_transaction(db, []):
        towns = await db.fetchval(f'SELECT count(*) FROM "{projection.schema}".towns')
    assert towns is not None  # a town's policy is every committee's to read


async def test_the_queries_show_the_building_as_the_console_does(platform, nc, store, db, tenant):
    town = "town" + uuid.uuid4().hex[:6]
    last = await a_sealed_building(store, tenant, town)
    live = GatewayViews()
    await projected(nc, platform, live, last)
    async with tenant_transaction(db, [tenant]):
        sheet = await building_sheet(db, tenant, "c1", "41", LATER)
        queue = await supply.queue(db, tenant, "c1", LATER)
        tasks = await health.tasks(db, tenant, "c1", LATER)
        out = await health.out_now(db, tenant, "c1", LATER, building="41")
        cover = await health.coverage(db, tenant, "c1", "41")
        unsampled = await health.unsampled(db, tenant, "t1")
        fevers = await health.fevers(db, tenant, "c1")
        missed = await health.missed_reports(db, tenant, "c1", NOW)
        residents = await places.residents(db, tenant, "c1", limit=3)
        more = await places.residents(db, tenant, "c1", after=residents[-1]["cursor"], limit=100)
        plan = await supply.plan(db, tenant, "c1", DAY, building="41")
        overview = await town_overview(db, town, LATER)
    assert sheet.phase == "sealed" and sheet.totals["households"] == 4 and sheet.totals["residents"] == 8
    assert sheet.totals["sampled"] == 1 and sheet.totals["out_now"] == 1 and sheet.totals["households_not_in_group"] == 3
    assert [q["request_id"] for q in queue] == ["q-med", "q-food", "q-old"]  # the tier the delivery service gave
    assert queue[0]["why"][0] == "紧急药品" and queue[1]["overdue"] and not queue[2]["overdue"]
    assert tasks[0]["overdue"] and out[0]["overdue"] and len(cover["households_missing"]) == 3
    assert len(unsampled) == 7 and fevers[0]["report_id"] == "r1" and sum(len(g["residents"]) for g in missed) == 7
    assert len(residents) == 3 and len(more) == 5 and all(r["id_mask"] == "m" for r in residents + more)
    assert plan[0]["names"] == ["志愿者甲"]
    [compound] = overview["compounds"]
    assert compound["sealed"][0]["building"] == "41" and compound["fevers"] == 1 and compound["deliveries_open"] == 3
    assert compound["rota_gaps"] == 1 and overview["reinforcements"][0]["request_id"] == "rf1"
