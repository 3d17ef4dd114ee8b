"""The whole HTTP API as a new user meets it, on real servers: a supply request goes through its
whole life, bad values are refused naming the field before any service sees them, and the town's
administrator gives sign-ins and grants."""
import pytest

from tests.integration.test_gateway_api import clock, path, system, town  # noqa: F401 - fixtures
from tests.support.gateway import make_user, signed_in

pytestmark = pytest.mark.integration


async def test_a_supply_request_is_accepted_assigned_picked_up_and_delivered_over_http(system, town):
    cadre = await signed_in(system.app, town["cadre"])
    base = path(town["tenant"], "/deliveries")
    made = await cadre.post(base, json={"request_id": "req-41-101", "household_id": "41-1-101", "building": "41",
                                        "items": "降压药", "category": "medicine", "urgency": "urgent"})
    assert made.status_code == 200, made.text
    steps = [("accept", {}), ("assign", {"assignee_id": "dz-zhou", "assignee_kind": "volunteer"}),
             ("pick-up", {"note": "门岗取件"}), ("complete", {"confirmed_by_resident": True})]
    positions = [made.json()["position"]]
    for step, body in steps:
        done = await cadre.post(f"{base}/req-41-101/{step}", json=body)
        assert done.status_code == 200, (step, done.text)
        positions.append(done.json()["position"])
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    again = await cadre.post(f"{base}/req-41-101/accept", json={})
    assert again.status_code == 409 and again.json()["code"] == "illegal_transition"


@pytest.mark.parametrize("where, body, field", [
    ("/buildings/41/seal", {"town": "", "reason": "阳性", "ordered_by": "镇防控办"}, "town"),
    ("/buildings/41/seal", {"town": "taopu", "reason": "   ", "ordered_by": "镇防控办"}, "reason"),
    ("/rounds", {"round_id": "r1", "buildings": ["41"], "site": "广场", "starts_at": "0002-02-01T00:00:00Z"},
     "starts_at"),
    ("/rounds", {"round_id": "r1", "buildings": [""], "site": "广场", "starts_at": "2022-03-22T07:00:00+08:00"},
     "buildings.0"),
    ("/deliveries", {"household_id": "41-1-101", "building": "41", "items": "x" * 501, "category": "food"}, "items"),
])
async def test_a_value_out_of_its_limits_is_a_422_naming_the_field_and_appends_nothing(system, town, nc, where, body,
                                                                                        field):
    cadre = await signed_in(system.app, town["cadre"])
    before = (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.last_seq
    refused = await cadre.post(path(town["tenant"], where), json=body)
    assert refused.status_code == 422 and refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["field"] == field and refused.json()["message_zh"] and refused.json()["message_en"]
    assert (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.last_seq == before


async def test_the_town_administrator_gives_a_sign_in_and_a_grant_and_a_cadre_cannot(system, town, nc):
    admin = f"admin-{town['town']}"
    await make_user(nc, admin, town["town"], {"role": "town_admin"})
    cadre = await signed_in(system.app, town["cadre"])
    refused = await cadre.post("/api/v1/users", json={"user_id": "new-one", "display_name": "新人",
                                                      "password": "a-long-passphrase"})
    assert refused.status_code == 404
    office = await signed_in(system.app, admin)
    user_id = f"wang-{town['tenant']}"
    made = await office.post("/api/v1/users", json={"user_id": user_id, "display_name": "王敏",
                                                    "password": "a-long-passphrase"})
    assert made.status_code == 200, made.text
    granted = await office.post(f"/api/v1/users/{user_id}/grants", json={"role": "committee_cadre",
                                                                         "grant_tenant": town["tenant"]})
    assert granted.status_code == 200, granted.text
    elsewhere = await office.post(f"/api/v1/users/{user_id}/grants", json={"role": "committee_cadre",
                                                                           "grant_tenant": "not-in-this-town"})
    assert elsewhere.status_code == 404
    from tests.conftest import eventually

    async def signs_in():
        try:
            return await signed_in(system.app, user_id, "a-long-passphrase")
        except AssertionError:
            return None
    new = await eventually(signs_in)
    whoami = await new.get("/api/v1/session")
    assert whoami.json()["tenants"] == [town["tenant"]]
