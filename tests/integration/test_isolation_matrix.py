"""Every role × every HTTP operation × own and other committee: an operation outside the role, or on
another committee's compound, answers 404 with the same body as something that does not exist; an
operation inside the role on one's own compound is let through (whatever the rules then say)."""
import uuid

import httpx
import pytest

from services.delivery.bootstrap import Delivery
from services.gateway.bootstrap import Gateway
from services.lockdown.bootstrap import Lockdown
from services.registry.bootstrap import Registry
from services.roster.bootstrap import Roster
from services.gateway.domain.access import OPERATIONS
from services.gateway.entrypoints.sessions import COOKIE
from services.gateway.entrypoints.document import openapi_document
from shared.eventlog.store import EventStore
from tests.conftest import eventually
from tests.support.gateway import make_user, register_compound, signed_in
from tests.support.registry import populate_building
from tests.support.running import running
from tests.support.servers import new_tenant

pytestmark = pytest.mark.integration
ROLES = ("town_dispatcher", "committee_cadre", "volunteer", "resident")
BODIES = {"sealBuilding": {"town": "t", "reason": "r", "ordered_by": "o"}, "extendSealing": {"days": 1, "reason": "r"},
          "releaseBuilding": {}, "reportResident": {"household_id": "41-1-101", "resident_id": "x", "temperature": 36.6},
          "scheduleTestingRound": {"round_id": "m1", "buildings": ["41"], "site": "s",
                                   "starts_at": "2022-03-22T07:00:00+08:00"},
          "checkOffSample": {"resident_id": "x", "household_id": "41-1-101", "tube_id": "t"},
          "closeTestingRound": {}, "recordGatePass": {"resident_id": "x", "household_id": "41-1-101",
                                                      "direction": "out", "reason": "就医"},
          "requestDelivery": {"household_id": "41-1-101", "building": "41", "items": "米", "category": "food"},
          "assignDelivery": {"assignee_id": "v"}, "completeDelivery": {},
          "dispatchReinforcement": {"people": [{"person_id": "p", "name": "n", "from_compound": "c"}]}}


@pytest.fixture
async def gateway(platform, tmp_path, tenant):
    async with running(Lockdown(platform.nats_url, platform.database_url, schedule_interval=3600,
                                schedule_tenant=tenant),
                       Delivery(platform.nats_url, platform.database_url, schedule_interval=3600,
                                schedule_tenant=tenant),
                       Roster(platform.nats_url, platform.database_url),
                       Registry(platform.nats_url, platform.database_url),
                       Gateway(platform.nats_url, platform.database_url, tmp_path / "secrets")) as started:
        yield started[-1]


@pytest.fixture
async def committees(gateway, nc, db, tenant):
    other, town = new_tenant(), "town" + uuid.uuid4().hex[:6]
    store = EventStore(nc)
    for t in (tenant, other):
        await register_compound(store, t, "c1", f"小区{t[-3:]}", town)
        await populate_building(store, t, building="41", floors=1, per_floor=1)
    grants = {"town_dispatcher": {"role": "town_dispatcher"},
              "committee_cadre": {"role": "committee_cadre", "grant_tenant": tenant},
              "volunteer": {"role": "volunteer", "grant_tenant": tenant, "grant_compound": "c1"}}
    users = {role: f"{role[:5]}-{tenant}" for role in grants}
    for role, grant in grants.items():
        await make_user(nc, users[role], town, grant)
    await eventually(lambda: db.fetchval("SELECT count(*) = 3 FROM proj_gateway.users WHERE user_id = ANY($1)",
                                         list(users.values())))
    await eventually(lambda: db.fetchval("SELECT count(*) = 2 FROM proj_gateway_views.compounds WHERE town = $1", town))
    return {"own": tenant, "other": other, "town": town, "users": users}


async def client_for(gateway, committees, role) -> httpx.AsyncClient:
    if role != "resident":
        return await signed_in(gateway.app, committees["users"][role])
    cookie, session = gateway.app.state.ctx.sessions.issue("", (committees["own"], "c1", "41", "41-1-101"))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=gateway.app), base_url="http://louzu.test",
                               cookies={COOKIE: cookie}, headers={"X-CSRF-Token": session.csrf})
    return client


def calls(tenant: str, town: str):
    """(operationId, method, path) for every operation, filled in for one committee."""
    for path, item in openapi_document()["paths"].items():
        for method, op in item.items():
            name = op["operationId"]
            if name not in OPERATIONS:
                continue
            filled = (path.replace("{tenant}", tenant).replace("{compound}", "c1").replace("{building}", "41")
                      .replace("{round_id}", "m1").replace("{request_id}", "rq1").replace("{town}", town))
            yield name, method, filled


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_reaches_exactly_its_operations_on_its_own_committee_and_nothing_elsewhere(
        gateway, committees, role):
    client = await client_for(gateway, committees, role)
    nothing = (await client.get("/api/v1/committees/no-such/compounds/c1/rota")).json()
    leaks = []
    for tenant, own in ((committees["own"], True), (committees["other"], False)):
        for name, method, path in calls(tenant, committees["town"]):
            if not own and tenant not in path:
                continue  # names no committee (the caller's own compounds, the town's sign-ins): once is enough
            if name == "importResidents":
                response = await client.post(path, files={"file": ("x.csv", b"a,b\n", "text/csv")})
            elif method == "get":
                response = await client.get(path)
            else:
                response = await client.request(method.upper(), path, json=BODIES.get(name, {}))
            town_wide = name == "getTownOverview" and role == "town_dispatcher"
            allowed = role in OPERATIONS[name] and (own or town_wide or role == "town_dispatcher")
            if allowed:
                if response.status_code in (401, 403) or (response.status_code == 404 and response.json() == nothing):
                    leaks.append((name, tenant == committees["own"], response.status_code, "refused but allowed"))
            elif response.status_code != 404 or response.json() != nothing:
                leaks.append((name, own, response.status_code, response.text[:120]))
            assert response.status_code != 500, (name, response.text)
    assert leaks == []
