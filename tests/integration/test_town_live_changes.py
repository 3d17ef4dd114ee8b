"""The town stream is pushed when the gateway's read model moves, and re-reads only the committees
whose rows changed: a committee nobody touched is sent as it was read before."""
import uuid

import httpx
import pytest

from shared.commanding import CommandClient
from shared.eventlog.store import EventStore
from tests.conftest import eventually
from tests.integration.test_town_live import events, served  # noqa: F401 - fixture
from tests.support.gateway import PASSWORD, make_user, register_compound
from tests.support.servers import new_tenant
from tests.support.registry import populate_building

pytestmark = pytest.mark.integration


async def test_a_seal_in_one_committee_re_reads_that_committee_only(served, nc, db, tenant):
    gateway, url = served
    town, quiet = "town" + uuid.uuid4().hex[:6], new_tenant()
    store = EventStore(nc)
    await register_compound(store, tenant, "c1", "樱花苑", town)
    await register_compound(store, quiet, "c1", "兰溪苑", town)
    await populate_building(store, tenant, building="41", floors=1)
    await make_user(nc, f"d-{town}", town, {"role": "town_dispatcher"})
    await eventually(lambda: db.fetchval("SELECT count(*) = 2 FROM proj_gateway_views.compounds WHERE town = $1", town))
    await eventually(lambda: db.fetchval("SELECT count(*) = 1 FROM proj_gateway.users WHERE user_id = $1", f"d-{town}"))
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        assert (await client.post("/api/v1/session", json={"user_id": f"d-{town}", "password": PASSWORD})).is_success
        async with client.stream("GET", f"/town/{town}/events") as live:
            lines = live.aiter_lines()
            [(_, _, first)] = await events(lines, 1)
            assert "樱花苑" in first and "兰溪苑" in first
            # a row changed behind the stream's back, with no event: only a re-read of that committee would show it
            await db.execute("UPDATE proj_gateway_views.compounds SET name = '改名苑' WHERE tenant = $1", quiet)
            sealed = await CommandClient(nc, tenant, "lockdown").send("seal_building", {
                "command_id": uuid.uuid4().hex, "tenant": tenant, "compound": "c1", "actor": "cadre",
                "building": "41", "town": town, "reason": "阳性", "ordered_by": "镇防控办"})
            assert sealed["ok"], sealed
            [(pushed, _, html)] = await events(lines, 1)
            assert pushed >= sealed["last_seq"] and 'data-building="41"' in html
            await db.execute("UPDATE proj_gateway_views.compounds SET name = '兰溪苑' WHERE tenant = $1", quiet)
            assert "兰溪苑" in html and "改名苑" not in html  # (the row is put back first: verify compares it)
