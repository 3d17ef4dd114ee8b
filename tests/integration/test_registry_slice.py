import asyncio
import uuid

import orjson
import pytest

from services.registry.bootstrap import Registry
from shared.eventlog.subjects import command_subject
from tests.conftest import eventually

pytestmark = pytest.mark.integration


async def send(nc, tenant, name, body):
    reply = await nc.request(command_subject(tenant, "registry", name), orjson.dumps(body), timeout=10)
    return orjson.loads(reply.data)


@pytest.fixture
async def registry(platform):
    running = await Registry(platform.nats_url, platform.database_url).start()
    yield running
    await running.close()


def base(tenant, compound="c1"):
    return {"command_id": uuid.uuid4().hex, "tenant": tenant, "compound": compound, "actor": "cadre-1"}


async def test_a_compound_building_and_household_appear_in_the_projection(registry, nc, db, tenant):
    assert (await send(nc, tenant, "register_compound", {**base(tenant), "display_name": "樱花苑", "town": "taopu"}))["ok"]
    assert (await send(nc, tenant, "register_building", {**base(tenant), "building": "38", "entrances": 2, "floors": 6}))["ok"]
    reply = await send(nc, tenant, "register_household", {**base(tenant), "building": "38", "entrance": "1", "room": "302"})
    assert reply["ok"] and len(reply["event_ids"]) == 1

    async def household_row():
        return await db.fetchrow("SELECT * FROM proj_registry.households WHERE tenant = $1", tenant)
    row = await eventually(household_row)
    assert (row["building"], row["room"], row["floor"]) == ("38", "302", 3)


async def test_a_household_in_an_unknown_building_is_refused_with_a_bilingual_message(registry, nc, tenant):
    await send(nc, tenant, "register_compound", {**base(tenant), "display_name": "樱花苑", "town": "taopu"})
    reply = await send(nc, tenant, "register_household", {**base(tenant), "building": "99", "entrance": "1", "room": "101"})
    assert reply["ok"] is False
    assert reply["error"]["field"] == "building" and "不存在" in reply["error"]["message_zh"]
