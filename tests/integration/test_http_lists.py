"""The lists of the HTTP API on real servers: paged by cursor with nothing lost or repeated, filtered,
masked, read after one's own write, and a 404 for a committee that is not the caller's."""
import pytest

from tests.integration.test_gateway_api import clock, path, system, town  # noqa: F401 - fixtures
from tests.support.gateway import make_user, signed_in

pytestmark = pytest.mark.integration


async def every_page(client, url, limit, **params):
    rows, after = [], None
    while True:
        got = await client.get(url, params={**params, "limit": limit, **({"after": after} if after else {})})
        assert got.status_code == 200, got.text
        rows += got.json()["items"]
        after = got.json()["next"]
        if after is None:
            return rows


async def test_residents_page_by_cursor_masked_with_nothing_lost_or_repeated(system, town):
    cadre = await signed_in(system.app, town["cadre"])
    whole = await cadre.get(path(town["tenant"], "/residents"), params={"limit": 500})
    assert whole.status_code == 200 and whole.json()["next"] is None
    paged = await every_page(cadre, path(town["tenant"], "/residents"), 3)
    assert [r["resident_id"] for r in paged] == [r["resident_id"] for r in whole.json()["items"]]
    assert len(paged) == len({r["resident_id"] for r in paged}) >= 4
    assert all("id_number" not in r and "phone" not in r for r in paged)
    one = await cadre.get(path(town["tenant"], "/residents"), params={"household_id": "41-1-101"})
    assert {r["household_id"] for r in one.json()["items"]} == {"41-1-101"}


async def test_buildings_and_households_are_listed_and_filtered(system, town):
    cadre = await signed_in(system.app, town["cadre"])
    buildings = await cadre.get(path(town["tenant"], "/buildings"))
    assert [b["building"] for b in buildings.json()["items"]] == ["41"]
    households = await every_page(cadre, path(town["tenant"], "/households"), 1, building="41")
    assert len(households) == 4 and all(h["building"] == "41" for h in households)


async def test_a_fever_reported_is_listed_at_once_by_a_read_that_carries_its_position(system, town):
    cadre = await signed_in(system.app, town["cadre"])
    sealed = await cadre.post(path(town["tenant"], "/buildings/41/seal"),
                              json={"town": town["town"], "reason": "阳性", "ordered_by": "镇防控办"})
    assert sealed.status_code == 200, sealed.text
    residents = (await cadre.get(path(town["tenant"], "/residents"), params={"household_id": "41-1-101"})).json()
    resident = residents["items"][0]["resident_id"]
    report = await cadre.post(path(town["tenant"], "/buildings/41/reports"), json={
        "household_id": "41-1-101", "resident_id": resident, "temperature": 38.4})
    assert report.status_code == 200, report.text
    fevers = await cadre.get(path(town["tenant"], "/fevers"),
                             headers={"Louzu-Position": report.headers["Louzu-Position"]})
    assert [f["resident_id"] for f in fevers.json()["items"]] == [resident]
    tasks = await cadre.get(path(town["tenant"], "/tasks"), params={"building": "41", "position": sealed.json()["position"]})
    assert tasks.status_code == 200 and tasks.json()["items"], tasks.text
    coverage = await cadre.get(path(town["tenant"], "/buildings/41/group/coverage"))
    assert coverage.json()["households"] == 4 and len(coverage.json()["households_missing"]) == 4


async def test_another_committee_s_lists_are_not_found_as_if_they_did_not_exist(system, town):
    other = await signed_in(system.app, town["other_cadre"])
    for rest in ("/residents", "/fevers", "/buildings", "/out-now", "/buildings/41/group/coverage"):
        theirs = await other.get(path(town["tenant"], rest))
        assert theirs.status_code == 404, rest
    missing = await other.get(path(town["other"], "/buildings/999/group/coverage"))
    assert missing.status_code == 404 and missing.json() == theirs.json()


async def test_the_town_administrator_lists_the_town_s_sign_ins_without_their_hashes(system, town, nc):
    admin = f"admin-{town['town']}"
    await make_user(nc, admin, town["town"], {"role": "town_admin"})
    office = await signed_in(system.app, admin)
    users = await every_page(office, "/api/v1/users", 2)
    assert {town["cadre"], town["other_cadre"], town["dispatch"], admin} <= {u["user_id"] for u in users}
    assert all("password_hash" not in u for u in users)
