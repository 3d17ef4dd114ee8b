"""The town console's live stream over a real HTTP server: each server-sent event carries the log
sequence it reflects, a new event in the town is pushed without asking, and a browser that comes back
with Last-Event-ID is brought up to date from there."""
import uuid

import httpx
import pytest

from services.gateway.bootstrap import Gateway
from services.lockdown.bootstrap import Lockdown
from services.roster.bootstrap import Roster
from shared.commanding import CommandClient
from shared.eventlog.store import EventStore
from shared.infra.system import free_port
from tests.conftest import eventually
from tests.support.gateway import PASSWORD, make_user, register_compound
from tests.support.registry import populate_building
from tests.support.running import running

pytestmark = pytest.mark.integration


@pytest.fixture
async def served(platform, tmp_path, tenant):
    async with running(Lockdown(platform.nats_url, platform.database_url, schedule_interval=3600,
                                schedule_tenant=tenant),
                       Roster(platform.nats_url, platform.database_url),
                       Gateway(platform.nats_url, platform.database_url, tmp_path / "secrets")) as started:
        gateway, port = started[-1], free_port()
        await gateway.serve("127.0.0.1", port)
        yield gateway, f"http://127.0.0.1:{port}"


async def events(lines, count):
    """The next `count` server-sent events as (id, name, data), from one response's line iterator."""
    found, current = [], {}
    async for line in lines:
        if line.startswith(("id:", "event:", "data:")):
            key, _, value = line.partition(":")
            current[key] = current.get(key, "") + value.strip()
        elif line == "" and "event" in current:
            found.append((int(current["id"]), current["event"], current.get("data", "")))
            current = {}
            if len(found) == count:
                return found
    return found


async def test_the_town_stream_pushes_new_events_and_resumes_from_last_event_id(served, nc, db, tenant):
    gateway, url = served
    town = "town" + uuid.uuid4().hex[:6]
    await register_compound(EventStore(nc), tenant, "c1", "樱花苑", town)
    await populate_building(EventStore(nc), tenant, building="41", floors=1)
    await make_user(nc, f"d-{town}", town, {"role": "town_dispatcher"})
    await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway.users WHERE user_id = $1", f"d-{town}"))
    await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway_views.compounds WHERE town = $1", town))
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        signed = await client.post("/api/v1/session", json={"user_id": f"d-{town}", "password": PASSWORD})
        assert signed.status_code == 200
        async with client.stream("GET", f"/town/{town}/events") as live:
            assert live.headers["content-type"].startswith("text/event-stream")
            lines = live.aiter_lines()
            [(first, name, html)] = await events(lines, 1)
            assert name == "overview" and "樱花苑" in html and 'data-building="41"' not in html
            sealed = await CommandClient(nc, tenant, "lockdown").send("seal_building", {
                "command_id": uuid.uuid4().hex, "tenant": tenant, "compound": "c1", "actor": "cadre",
                "building": "41", "town": town, "reason": "阳性", "ordered_by": "镇防控办"})
            assert sealed["ok"], sealed
            [(pushed, _, html)] = await events(lines, 1)
            assert pushed >= sealed["last_seq"] > first and 'data-building="41"' in html
        async with client.stream("GET", f"/town/{town}/events", headers={"Last-Event-ID": str(first)}) as again:
            resumed = await events(again.aiter_lines(), 2)
            assert resumed[0][0] == first and resumed[1][0] >= sealed["last_seq"]
            assert 'data-building="41"' in resumed[1][2]


async def test_an_open_stream_shows_a_committee_that_joins_the_town_and_ends_when_the_grant_is_revoked(
        served, nc, db, tenant):
    """The dispatcher's console stays open for days: a committee that joins the town afterwards
    appears on it without a reload, and a dispatcher whose grant is revoked stops receiving."""
    from tests.support.gateway import USERS_TENANT
    from tests.support.servers import new_tenant

    gateway, url = served
    town, joining = "town" + uuid.uuid4().hex[:6], new_tenant()
    await register_compound(EventStore(nc), tenant, "c1", "樱花苑", town)
    await make_user(nc, f"d-{town}", town, {"role": "town_dispatcher"})
    await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway.users WHERE user_id = $1", f"d-{town}"))
    await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway_views.compounds WHERE town = $1", town))
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        signed = await client.post("/api/v1/session", json={"user_id": f"d-{town}", "password": PASSWORD})
        assert signed.status_code == 200
        async with client.stream("GET", f"/town/{town}/events") as live:
            lines = live.aiter_lines()
            [(_, _, html)] = await events(lines, 1)
            assert "樱花苑" in html and "兰溪苑" not in html
            await register_compound(EventStore(nc), joining, "c9", "兰溪苑", town)  # another committee joins
            while "兰溪苑" not in html:  # within the principal's lifetime plus one look at the reach
                [(_, _, html)] = await events(lines, 1)
            revoked = await CommandClient(nc, USERS_TENANT, "gateway").send("revoke_role", {
                "command_id": uuid.uuid4().hex, "tenant": USERS_TENANT, "compound": "all", "actor": "admin",
                "user_id": f"d-{town}", "role": "town_dispatcher"})
            assert revoked["ok"], revoked
            rest = await events(lines, 100)  # the stream ends: fewer than 100 events, then no more lines
            assert len(rest) < 100
        again = await client.get(f"/town/{town}/events")
        assert again.status_code == 404
