"""A read that follows its own write sees it: a command answers with the stream position of its last
event, and a page or API read that carries it waits for the gateway's read model to get there."""
import re

import pytest

from tests.integration.test_gateway_api import clock, path, system, town  # noqa: F401 - fixtures
from tests.support.gateway import signed_in

pytestmark = pytest.mark.integration


def phase_on(html: str) -> str:
    found = re.search(r'id="phase">([^<]*)<', html)
    assert found, html[:500]
    return found.group(1)


async def test_a_sealed_building_s_page_read_at_once_shows_the_seal_a_hundred_times_in_a_row(system, town):
    cadre = await signed_in(system.app, town["cadre"])
    csrf = cadre.headers["X-CSRF-Token"]
    tenant = town["tenant"]
    seen = []
    for attempt in range(100):
        sealed = await cadre.post(f"/c/{tenant}/c1/seal", data={
            "building": "41", "town": town["town"], "reason": f"阳性 {attempt}", "ordered_by": "镇防控办",
            "csrf_token": csrf}, headers={"Accept": "text/html"})
        assert sealed.status_code == 303 and "position=" in sealed.headers["location"], sealed.text
        page = await cadre.get(sealed.headers["location"], headers={"Accept": "text/html"})
        assert page.status_code == 200, page.text
        seen.append(phase_on(page.text))
        released = await cadre.post(path(tenant, "/buildings/41/release"), json={"reason": "测试结束"})
        assert released.status_code == 200, released.text
        roster = await cadre.get(path(tenant, "/buildings/41/roster"),
                                 headers={"Louzu-Position": released.headers["Louzu-Position"]})
        assert roster.status_code == 200 and roster.json()["phase"] != "sealed", roster.text
    assert seen == ["sealed"] * 100


async def test_a_position_the_read_model_has_not_reached_in_time_is_a_clear_503(system, town, monkeypatch):
    import services.gateway.entrypoints.common as common
    cadre = await signed_in(system.app, town["cadre"])
    sealed = await cadre.post(path(town["tenant"], "/buildings/41/seal"),
                              json={"town": town["town"], "reason": "阳性", "ordered_by": "镇防控办"})
    monkeypatch.setattr(common, "VIEWS", "a_read_model_that_is_not_running")
    late = await cadre.get(path(town["tenant"], "/rota"), headers={"Louzu-Position": sealed.headers["Louzu-Position"]})
    assert late.status_code == 503 and late.headers["content-type"] == "application/problem+json"
    assert late.json()["code"] == "not_yet_visible" and "请几秒后刷新" in late.json()["message_zh"]


async def test_a_position_past_the_end_of_the_log_is_refused_at_once(system, town):
    cadre = await signed_in(system.app, town["cadre"])
    far = await cadre.get(path(town["tenant"], "/rota"), params={"position": 10**12})
    assert far.status_code == 422 and far.json()["field"] == "position"
