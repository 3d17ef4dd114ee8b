"""The building roster on real servers: rows and totals follow the events of the registry, lockdown
and delivery services; a roster as of a past moment comes from the log; printed files read back."""
import asyncio
import subprocess
import uuid
from datetime import datetime, timedelta, timezone
from io import BytesIO

import openpyxl
import pytest

from services.delivery.bootstrap import Delivery
from services.lockdown.bootstrap import Lockdown
from services.roster.application.printing import PrintRequest, render
from services.roster.bootstrap import Roster
from services.roster.domain.sheet import totals_of
from services.roster.projections import queries
from shared.commanding import CommandClient
from shared.eventlog.store import EventStore
from tests.conftest import eventually
from tests.support.clock import FakeClock
from tests.support.registry import populate_building
from tests.support.running import running

pytestmark = pytest.mark.integration
LIVE = "proj_roster"


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def services(platform, clock, tenant):
    async with running(Lockdown(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                                schedule_tenant=tenant),
                       Delivery(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                                schedule_tenant=tenant),
                       Roster(platform.nats_url, platform.database_url, clock=clock)) as started:
        yield started


@pytest.fixture
async def building(nc, tenant, services):
    made = await populate_building(EventStore(nc), tenant, building="41")
    reply = await send(nc, tenant, "lockdown", "seal_building", building="41", town="taopu", reason="阳性",
                       ordered_by="镇防控办")
    assert reply["ok"], reply
    return made


async def send(nc, tenant, service, name, **body):
    return await CommandClient(nc, tenant, service).send(name, {
        "command_id": uuid.uuid4().hex, "tenant": tenant, "compound": "c1", "actor": "cadre-1", **body})


async def ok(nc, tenant, service, name, **body):
    reply = await send(nc, tenant, service, name, **body)
    assert reply["ok"], reply
    return reply


async def sheet_when(db, tenant, now, check, building="41"):
    async def ready():
        try:
            sheet = await queries.building_sheet(db, LIVE, tenant, "c1", building, now)
        except queries.UnknownBuilding:
            return None  # the roster projector has not applied the building's events yet
        return sheet if check(sheet) else None
    return await eventually(ready)


async def test_roster_rows_and_totals_follow_the_events_of_the_other_services(building, nc, db, tenant, clock):
    people = [(rid, hh) for hh, rids in building.items() for rid in rids]
    (fever_rid, fever_hh), (ok_rid, ok_hh), (out_rid, out_hh), (gone_rid, gone_hh) = people[:4]
    (sampled_rid, sampled_hh), (absent_rid, absent_hh) = people[4:6]
    await ok(nc, tenant, "lockdown", "join_group", building="41", kind="household", household_id=fever_hh,
             display_name="41-1-101 王")
    await ok(nc, tenant, "lockdown", "report_resident", building="41", household_id=fever_hh, resident_id=fever_rid,
             temperature=38.1)
    await ok(nc, tenant, "lockdown", "report_resident", building="41", household_id=ok_hh, resident_id=ok_rid,
             temperature=36.5)
    await ok(nc, tenant, "lockdown", "record_gate_pass", building="41", resident_id=out_rid, household_id=out_hh,
             direction="out", reason="medical")
    await ok(nc, tenant, "lockdown", "transfer_resident", building="41", resident_id=gone_rid, household_id=gone_hh,
             facility="方舱医院")
    starts = clock() + timedelta(minutes=30)
    await ok(nc, tenant, "lockdown", "schedule_testing_round", round_id="r1", buildings=["41"], site="广场",
             starts_at=starts.isoformat())
    await ok(nc, tenant, "lockdown", "check_off_sample", round_id="r1", resident_id=sampled_rid,
             household_id=sampled_hh, tube_id="t1")
    await ok(nc, tenant, "lockdown", "mark_absent", round_id="r1", resident_id=absent_rid, household_id=absent_hh,
             reason="外地")
    await ok(nc, tenant, "delivery", "request_delivery", household_id=ok_hh, building="41", items="降压药",
             category="medicine", source="shop")

    now = starts + timedelta(minutes=30)
    sheet = await sheet_when(db, tenant, now, lambda s: s.totals.open_deliveries == 1 and s.totals.absent == 1)
    t = sheet.totals
    assert (t.households, t.residents) == (12, 24)
    assert (t.sampled, t.absent, t.not_sampled) == (1, 1, 22)
    assert (t.fever, t.transferred, t.out_now, t.households_not_in_group) == (1, 1, 1, 11)
    assert sheet.current_window == "afternoon"  # 21:00 in Shanghai: the 14:00 window is the current one
    assert t.unreported == 23 - 2  # present residents (24 less the one transferred) less the two who reported
    assert t == totals_of(sheet.households, sheet.current_window)
    lines = {r.resident_id: r for h in sheet.households for r in h.residents}
    assert lines[fever_rid].afternoon == "fever" and lines[ok_rid].afternoon == "ok"
    assert lines[gone_rid].transferred_to == "方舱医院" and lines[out_rid].out_since is not None
    assert (lines[sampled_rid].sampling, lines[absent_rid].sampling) == ("sampled", "absent")
    assert [f for f, _ in sheet.floors()] == [1, 2, 3, 4, 5, 6]
    assert sheet.cadre_name == "李文娟" and sheet.phase == "sealed" and sheet.round_id == "r1"
    assert sheet.masked and all(r.id_number == "m" for r in lines.values())


async def test_a_roster_as_of_a_past_moment_shows_what_the_log_held_then(building, nc, db, tenant, platform):
    households = list(building)
    await sheet_when(db, tenant, datetime.now(timezone.utc), lambda s: s.totals.households == 12)
    before = datetime.now(timezone.utc)
    await asyncio.sleep(0.05)
    await ok(nc, tenant, "lockdown", "join_group", building="41", kind="household", household_id=households[0],
             display_name="群成员")
    await ok(nc, tenant, "delivery", "request_delivery", household_id=households[1], building="41", items="米",
             category="food", source="shop")
    now = datetime.now(timezone.utc)
    live = await sheet_when(db, tenant, now, lambda s: s.totals.open_deliveries == 1
                            and s.totals.households_not_in_group == 11)

    from services.roster.application.printing import assemble
    past = await assemble(nc, platform.database_url, PrintRequest(tenant, "c1", "41", "pdf", "auditor", as_of=before))
    assert past.as_of == before and past.generated_at > now  # as of then, printed now
    assert (past.totals.open_deliveries, past.totals.households_not_in_group) == (0, 12)
    assert (past.totals.households, past.totals.residents) == (live.totals.households, live.totals.residents)
    leftovers = await db.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'proj_roster__asof_%'")
    assert leftovers == 0  # the scratch schema is gone


async def test_a_roster_as_of_a_time_before_the_building_existed_is_a_clear_error(building, nc, tenant, platform):
    from shared.errors import DomainError
    long_ago = datetime(2020, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(DomainError) as refused:
        await render(nc, platform.database_url, PrintRequest(tenant, "c1", "41", "pdf", "auditor", as_of=long_ago))
    assert refused.value.problem.code == "unknown_building" and "41" in refused.value.problem.message_zh


async def test_printed_pdf_and_xlsx_read_back_with_every_name(building, nc, db, tenant, platform, tmp_path):
    await sheet_when(db, tenant, datetime.now(timezone.utc), lambda s: s.totals.residents == 24)
    pdf = await render(nc, platform.database_url, PrintRequest(tenant, "c1", "41", "pdf", "cadre-1"))
    (tmp_path / "r.pdf").write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-layout", str(tmp_path / "r.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    names = [f"居民{room}{i}" for room in ("101", "102", "601", "602") for i in (0, 1)]
    assert all(name in text for name in names) and "41" in text
    xlsx = await render(nc, platform.database_url, PrintRequest(tenant, "c1", None, "xlsx", "cadre-1"))
    book = openpyxl.load_workbook(BytesIO(xlsx))
    cells = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert all(name in cells for name in names)
    assert not any(isinstance(v, str) and v.startswith("=") for v in cells)


async def test_a_clear_print_needs_a_reason_and_is_logged(building, nc, db, tenant, platform):
    from shared.errors import DomainError
    await sheet_when(db, tenant, datetime.now(timezone.utc), lambda s: s.totals.residents == 24)
    with pytest.raises(DomainError):
        await render(nc, platform.database_url, PrintRequest(tenant, "c1", "41", "csv", "cadre-1", clear_reason=" "))
    assert await db.fetchval("SELECT count(*) FROM louzu.pii_access_log WHERE tenant = $1", tenant) == 0
    masked = await render(nc, platform.database_url, PrintRequest(tenant, "c1", "41", "csv", "cadre-1"))
    assert masked.count(b"\n") >= 24
    assert await db.fetchval("SELECT count(*) FROM louzu.pii_access_log WHERE tenant = $1", tenant) == 0


async def test_a_roster_projector_killed_mid_batch_ends_equal_to_a_replay_of_the_log(platform, nc, db, tenant):
    import os
    import signal
    import sys
    from shared.projections.rebuild import verify
    from services.roster.projections.tables import RosterProjection
    store = EventStore(nc)
    await populate_building(store, tenant, building="7", floors=18, per_floor=4, people=3)  # 72 households, 216 people
    await populate_building(store, tenant, building="8", floors=18, per_floor=4, people=3)
    projection = RosterProjection(name=f"roster_{tenant}", schema=f"proj_roster_{tenant}", tenant=tenant)
    last = (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.last_seq
    env = {**os.environ, "NATS_URL": platform.nats_url, "DATABASE_URL": platform.database_url}

    def runner(**extra):
        return subprocess.Popen([sys.executable, "-m", "tests.support.run_projector", projection.name,
                                 projection.schema, tenant, "roster"], env={**env, **extra})

    crashed = runner(LOUZU_TEST_KILL_AT_SEQ=str(last - 300))
    assert await asyncio.to_thread(crashed.wait, 60) == -signal.SIGKILL
    applied = await db.fetchval("SELECT last_seq FROM louzu.projection_checkpoints WHERE name = $1", projection.name)
    assert applied < last - 300
    restarted = runner()
    try:
        await eventually(lambda: db.fetchval("SELECT last_seq >= $2 FROM louzu.projection_checkpoints WHERE name = $1",
                                             projection.name, last), timeout=60)
    finally:
        restarted.terminate()
        await asyncio.to_thread(restarted.wait, 30)
    assert await db.fetchval(f'SELECT count(*) FROM "{projection.schema}".residents') == 2 * 72 * 3
    assert await verify(nc, platform.database_url, projection) == []
