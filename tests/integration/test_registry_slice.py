"""The registry service over NATS request–reply on real servers."""
import asyncio

import asyncpg
import pytest

from services.registry.bootstrap import Registry
from shared.crypto import KeyStore, seal
from tests.conftest import eventually
from tests.support.registry import base, send

pytestmark = pytest.mark.integration


@pytest.fixture
async def registry(platform):
    running = await Registry(platform.nats_url, platform.database_url).start()
    yield running
    await running.close()


async def compound_with_household(nc, tenant):
    assert (await send(nc, tenant, "register_compound", {**base(tenant), "display_name": "樱花苑", "town": "taopu"}))["ok"]
    assert (await send(nc, tenant, "register_building", {**base(tenant), "building": "38", "entrances": 2, "floors": 6}))["ok"]
    assert (await send(nc, tenant, "register_household", {**base(tenant), "building": "38", "entrance": "1", "room": "302"}))["ok"]


async def register_resident(nc, pool, tenant, rid="r1"):
    key = (await KeyStore(pool).ensure(tenant, [rid]))[rid]
    return await send(nc, tenant, "register_resident", {
        **base(tenant), "resident_id": rid, "household_id": "38-1-302", "full_name": "张三", "sex": "M",
        "birth_year": 1950, "id_hash": "h" + rid, "id_number_sealed": seal(key, "310107195001010012", f"{tenant}/{rid}/id_number"),
        "id_mask": "310107********0012", "phone_sealed": "", "phone_mask": ""})


@pytest.fixture
async def pool(platform):
    p = await asyncpg.create_pool(platform.database_url, min_size=1, max_size=2)
    yield p
    await p.close()


async def test_a_compound_building_and_household_appear_in_the_projection(registry, nc, db, tenant):
    await compound_with_household(nc, tenant)

    async def household_row():
        return await db.fetchrow("SELECT * FROM proj_registry.households WHERE tenant = $1", tenant)
    row = await eventually(household_row)
    assert (row["building"], row["room"], row["floor"]) == ("38", "302", 3)


async def test_a_household_in_an_unknown_building_is_refused_with_a_bilingual_message(registry, nc, tenant):
    await send(nc, tenant, "register_compound", {**base(tenant), "display_name": "樱花苑", "town": "taopu"})
    reply = await send(nc, tenant, "register_household", {**base(tenant), "building": "99", "entrance": "1", "room": "101"})
    assert reply["ok"] is False
    assert reply["error"]["field"] == "building" and "不存在" in reply["error"]["message_zh"]


async def test_a_malformed_command_names_the_field_and_changes_nothing(registry, nc, js_last, tenant):
    before = await js_last()
    reply = await send(nc, tenant, "register_building", {**base(tenant), "building": "38", "entrances": 0, "floors": 6})
    assert reply["ok"] is False and reply["error"]["field"] == "entrances"
    reply = await send(nc, tenant, "register_building", {**base(tenant), "tenant": "someone-else", "building": "1",
                                                           "entrances": 1, "floors": 6})
    assert reply["error"]["code"] == "wrong_tenant"
    assert await js_last() == before


async def test_a_command_retried_after_a_lost_reply_is_applied_once(registry, nc, tenant, js_last):
    await compound_with_household(nc, tenant)
    body = {**base(tenant), "building": "38", "cadre_id": "cadre-gao", "cadre_name": "高莹"}
    first = await send(nc, tenant, "assign_building_cadre", body)
    second = await send(nc, tenant, "assign_building_cadre", body)
    assert first["ok"] and second["ok"] and len(first["event_ids"]) == 1
    assert second["duplicate"] is True and second["last_seq"] == first["last_seq"]
    assert await js_last() == first["last_seq"]


async def test_a_retry_reaching_a_fresh_instance_is_still_applied_once(registry, platform, nc, tenant, js_last):
    await compound_with_household(nc, tenant)
    body = {**base(tenant), "building": "38", "cadre_id": "cadre-li", "cadre_name": "李文娟"}
    first = await send(nc, tenant, "assign_building_cadre", body)
    await registry.close()  # the instance that answered is gone; a new one has an empty cache
    fresh = await Registry(platform.nats_url, platform.database_url).start(projector=False)
    try:
        second = await send(nc, tenant, "assign_building_cadre", body)
    finally:
        await fresh.close()
    assert second["ok"] and second["duplicate"] and await js_last() == first["last_seq"]


async def test_concurrent_commands_on_one_resident_are_all_applied_once_each(registry, nc, pool, db, tenant):
    await compound_with_household(nc, tenant)
    assert (await register_resident(nc, pool, tenant))["ok"]
    replies = await asyncio.gather(*(send(nc, tenant, "verify_resident", {**base(tenant), "resident_id": "r1",
                                                                          "note": f"visit {i}"}) for i in range(20)))
    assert all(r["ok"] for r in replies)
    assert len({r["last_seq"] for r in replies}) == 20


async def test_erasing_a_resident_destroys_their_key_and_blanks_the_views(registry, nc, pool, db, tenant):
    await compound_with_household(nc, tenant)
    await register_resident(nc, pool, tenant)
    reply = await send(nc, tenant, "erase_resident", {**base(tenant), "resident_id": "r1", "reason": "管控结束"})
    assert reply["ok"]
    assert await KeyStore(pool).erase(tenant, "r1")

    async def erased():
        return await db.fetchrow("SELECT * FROM proj_registry.residents WHERE tenant = $1 AND status = 'erased'", tenant)
    row = await eventually(erased)
    assert row["name"] == "（已删除）" and row["id_mask"] == "" and row["id_number_sealed"] == ""
    assert await KeyStore(pool).find(tenant, ["r1"]) == {}


@pytest.fixture
def js_last(nc):
    async def last():
        return (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.last_seq
    return last


async def test_a_malformed_message_on_the_command_subject_gets_a_clear_error_and_blocks_nothing(registry, nc, tenant):
    from shared.eventlog.subjects import command_subject
    import orjson
    garbage = await nc.request(command_subject(tenant, "registry", "register_compound"), b"\xff{not json", timeout=10)
    assert orjson.loads(garbage.data)["error"]["code"] == "malformed_command"
    listed = await nc.request(command_subject(tenant, "registry", "register_compound"), b"[1, 2]", timeout=10)
    assert orjson.loads(listed.data)["error"]["code"] == "malformed_command"
    after = await send(nc, tenant, "register_compound", {**base(tenant), "display_name": "樱花苑", "town": "taopu"})
    assert after["ok"]
