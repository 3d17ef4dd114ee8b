"""The HTTP API on real servers: sign-in and its rate limit, commands with idempotency keys, problem
details naming the field, CSRF, the audit trail of roster reads, and committees that cannot see
each other's buildings."""
import uuid

import pytest

from services.delivery.bootstrap import Delivery
from services.gateway.bootstrap import Gateway
from services.lockdown.bootstrap import Lockdown
from services.roster.bootstrap import Roster
from shared.eventlog.store import EventStore
from tests.conftest import eventually
from tests.support.clock import FakeClock
from tests.support.gateway import make_user, register_compound, signed_in
from tests.support.registry import populate_building
from tests.support.running import running
from tests.support.servers import new_tenant

pytestmark = pytest.mark.integration


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def system(platform, clock, tenant, tmp_path):
    async with running(Lockdown(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                                schedule_tenant=tenant),
                       Delivery(platform.nats_url, platform.database_url, clock=clock, schedule_interval=3600,
                                schedule_tenant=tenant),
                       Roster(platform.nats_url, platform.database_url, clock=clock),
                       Gateway(platform.nats_url, platform.database_url, tmp_path / "secrets", clock=clock)) as started:
        yield started[-1]


@pytest.fixture
async def town(system, nc, db, tenant):
    """Two committees of one town, each with a compound and building 41; a cadre of each, a dispatcher."""
    other, town = new_tenant(), "town" + uuid.uuid4().hex[:6]
    store = EventStore(nc)
    for t in (tenant, other):
        await register_compound(store, t, "c1", f"小区{t[-3:]}", town)
        await populate_building(store, t, building="41", floors=2)
    users = {"cadre": f"cadre-{tenant}", "other_cadre": f"cadre-{other}", "dispatch": f"dispatch-{town}"}
    await make_user(nc, users["cadre"], town, {"role": "committee_cadre", "grant_tenant": tenant})
    await make_user(nc, users["other_cadre"], town, {"role": "committee_cadre", "grant_tenant": other})
    await make_user(nc, users["dispatch"], town, {"role": "town_dispatcher"})
    await eventually(lambda: db.fetchval("SELECT count(*) = 3 FROM proj_gateway.users WHERE user_id = ANY($1)",
                                         list(users.values())))
    await eventually(lambda: db.fetchval("SELECT count(*) = 4 FROM proj_gateway_views.households WHERE tenant = $1", other))
    return {"tenant": tenant, "other": other, "town": town, **users}


def path(tenant, rest=""):
    return f"/api/v1/committees/{tenant}/compounds/c1{rest}"


async def test_a_wrong_password_is_a_bilingual_401_and_the_sixth_try_is_held_back(system, town):
    import httpx
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=system.app), base_url="http://louzu.test")
    for _ in range(5):
        wrong = await client.post("/api/v1/session", json={"user_id": town["cadre"], "password": "nope-nope"})
        assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/problem+json"
        assert wrong.json()["message_zh"] == "用户名或密码错误" and wrong.json()["field"] == "password"
    held = await client.post("/api/v1/session", json={"user_id": town["cadre"], "password": "correct-horse-38"})
    assert held.status_code == 429 and held.json()["code"] == "too_many_attempts"


async def test_sealing_with_an_idempotency_key_twice_appends_once_and_answers_the_same(system, town, nc):
    cadre = await signed_in(system.app, town["cadre"])
    body = {"town": town["town"], "reason": "302 阳性", "ordered_by": "镇防控办"}
    before = (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.last_seq
    first = await cadre.post(path(town["tenant"], "/buildings/41/seal"), json=body, headers={"Idempotency-Key": "k1"})
    again = await cadre.post(path(town["tenant"], "/buildings/41/seal"), json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 200 and first.json()["event_ids"] and not first.json()["duplicate"]
    assert again.json() == {**first.json(), "duplicate": True}
    assert first.headers["Louzu-Position"] == str(first.json()["position"]) and first.json()["position"] > before
    after = (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.last_seq
    assert after - before == len(first.json()["event_ids"])
    refused = await cadre.post(path(town["tenant"], "/buildings/41/seal"), json=body)
    assert refused.status_code == 409 and refused.json()["message_zh"] and refused.json()["type"].startswith("urn:")


async def test_a_committee_cannot_open_another_committee_s_building_and_learns_nothing(system, town):
    other = await signed_in(system.app, town["other_cadre"])
    theirs = await other.get(path(town["tenant"], "/buildings/41/roster"))
    missing = await other.get(path(town["other"], "/buildings/999/roster"))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    sealing = await other.post(path(town["tenant"], "/buildings/41/seal"),
                               json={"town": town["town"], "reason": "x", "ordered_by": "y"})
    assert sealing.status_code == 404
    own = await other.get(path(town["other"], "/buildings/41/roster"))
    assert own.status_code == 200 and own.json()["totals"]["households"] == 4


async def test_validation_names_the_field_and_csrf_is_required(system, town):
    cadre = await signed_in(system.app, town["cadre"])
    bad = await cadre.post(path(town["tenant"], "/buildings/41/reports"),
                           json={"household_id": "41-1-101", "resident_id": "x", "temperature": 50})
    assert bad.status_code == 422 and bad.json()["field"] == "temperature" and bad.json()["message_en"]
    token = cadre.headers.pop("X-CSRF-Token")
    forged = await cadre.post(path(town["tenant"], "/buildings/41/seal"),
                              json={"town": town["town"], "reason": "x", "ordered_by": "y"})
    assert forged.status_code == 403 and forged.json()["code"] == "csrf"
    cadre.headers["X-CSRF-Token"] = token


async def test_every_roster_read_is_in_the_audit_trail(system, town, db):
    cadre = await signed_in(system.app, town["cadre"])
    sheet = await cadre.get(path(town["tenant"], "/buildings/41/roster"), params={"why": "核对名单"})
    assert sheet.status_code == 200 and all(r["id_number"] == "m" for h in sheet.json()["households"]
                                            for r in h["residents"])
    row = await eventually(lambda: db.fetchrow("SELECT * FROM proj_gateway.audit WHERE tenant = $1 AND user_id = $2",
                                               town["tenant"], town["cadre"]))
    assert row["operation"] == "getBuildingRoster" and row["why"] == "核对名单" and "41" in row["what"]


async def test_the_town_overview_covers_the_town_s_committees_and_only_the_dispatcher_sees_it(system, town):
    dispatcher = await signed_in(system.app, town["dispatch"])
    overview = await dispatcher.get(f"/api/v1/towns/{town['town']}/overview")
    assert overview.status_code == 200
    assert {c["tenant"] for c in overview.json()["compounds"]} == {town["tenant"], town["other"]}
    cadre = await signed_in(system.app, town["cadre"])
    assert (await cadre.get(f"/api/v1/towns/{town['town']}/overview")).status_code == 404
    assert (await dispatcher.get("/api/v1/towns/elsewhere/overview")).status_code == 404


async def test_an_unknown_path_and_no_session_are_problem_details_never_a_stack_trace(system, town):
    import httpx
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=system.app), base_url="http://louzu.test")
    nobody = await anonymous.get(path(town["tenant"], "/buildings/41/roster"))
    assert nobody.status_code == 401 and nobody.json()["code"] == "unauthenticated"
    lost = await anonymous.get("/api/v1/nowhere")
    assert lost.status_code == 404 and "Traceback" not in lost.text


async def test_a_scanned_sampling_code_checks_off_its_resident_and_an_unknown_code_names_the_field(system, town, nc,
                                                                                                 db, clock):
    from datetime import timedelta
    from shared.commanding import CommandClient
    cadre = await signed_in(system.app, town["cadre"])
    tenant = town["tenant"]
    starts = (clock() - timedelta(minutes=5)).isoformat()
    assert (await cadre.post(path(tenant, "/rounds"), json={"round_id": "scan1", "buildings": ["41"], "site": "广场",
                                                            "starts_at": starts})).status_code == 200
    resident, household = await db.fetchrow("SELECT resident_id, household_id FROM proj_roster.residents "
                                            "WHERE tenant = $1 LIMIT 1", tenant)
    booked = await CommandClient(nc, tenant, "lockdown").send("book_sampling_code", {
        "command_id": "book-" + resident, "tenant": tenant, "compound": "c1", "actor": "r", "round_id": "scan1",
        "resident_id": resident, "household_id": household, "code": "SH0000000042"})
    assert booked["ok"], booked
    await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway_views.sampling_codes "
                                         "WHERE tenant = $1 AND code = 'SH0000000042'", tenant))
    unknown = await cadre.post(path(tenant, "/rounds/scan1/samples"), json={"code": "SH9999999999", "tube_id": "T1"})
    assert unknown.status_code == 422 and unknown.json()["field"] == "code" and unknown.json()["message_zh"]
    scanned = await cadre.post(path(tenant, "/rounds/scan1/samples"), json={"code": "SH0000000042", "tube_id": "T1"})
    assert scanned.status_code == 200 and scanned.json()["event_ids"]
    row = await eventually(lambda: db.fetchrow("SELECT * FROM proj_lockdown.samples WHERE tenant = $1 "
                                               "AND round_id = 'scan1'", tenant))
    assert (row["resident_id"], row["method"]) == (resident, "code")
