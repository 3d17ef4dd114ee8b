"""Bad input over real HTTP gets a clear problem and changes nothing: a body that is not JSON is a
400, a field out of its limits a 422 naming it in Chinese and English, a body or an uploaded file
over its limit a 413 — whether its size is declared up front or it arrives in chunks — and the log
has not one event more afterwards."""
from __future__ import annotations

import httpx
import pytest

from services.gateway.entrypoints.limits import MAX_BODY_BYTES, MAX_UPLOAD_BYTES
from tests.support.http_gateway import served_gateway

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(platform, tmp_path_factory):
    with served_gateway(platform, tmp_path_factory.mktemp("secrets")) as running:
        yield running


@pytest.fixture
async def http(served):
    async with httpx.AsyncClient(base_url=served.url, headers=served.signed_in, timeout=30) as client:
        yield client


async def last_seq(nc) -> int:
    return (await nc.jetstream().stream_info("LOUZU_EVENTS")).state.last_seq


def problem(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["status"] == status and body["message_zh"] and body["message_en"]
    assert "Traceback" not in response.text
    return body


async def test_a_body_that_is_not_json_is_a_400_problem_and_changes_nothing(served, http, nc):
    before = await last_seq(nc)
    seal = served.path("/buildings/41/seal")
    broken = await http.post(seal, content=b'{"town": "taopu", "reason": ', headers={"Content-Type": "application/json"})
    assert problem(broken, 400, "invalid_body")["field"] == "body"
    as_text = await http.post(seal, content=b"town=taopu", headers={"Content-Type": "text/plain"})
    assert problem(as_text, 400, "invalid_body")["field"] == "body"
    not_utf8 = await http.post(seal, content=b'{"town": "\xff"}', headers={"Content-Type": "application/json"})
    problem(not_utf8, 400, "invalid_body")
    assert await last_seq(nc) == before


async def test_a_field_out_of_its_limits_is_a_422_naming_it_in_both_languages(served, http, nc):
    before = await last_seq(nc)
    hot = await http.post(served.path("/buildings/41/reports"),
                          json={"household_id": "41-1-101", "resident_id": "p41x101x0", "temperature": 50})
    body = problem(hot, 422, "invalid_field")
    assert body["field"] == "temperature"
    assert body["message_zh"] == "字段「temperature」须不大于 43.0" and "temperature" in body["message_en"]
    long = await http.post(served.path("/buildings/41/seal"),
                           json={"town": served.town, "reason": "阳" * 501, "ordered_by": "镇防控办"})
    body = problem(long, 422, "invalid_field")
    assert body["field"] == "reason" and body["message_zh"] == "字段「reason」最多 500 个字符"
    assert await last_seq(nc) == before


async def test_a_body_over_the_limit_is_a_413_whether_declared_or_streamed(served, http, nc):
    before = await last_seq(nc)
    seal = served.path("/buildings/41/seal")
    big = b'{"town": "' + b"x" * MAX_BODY_BYTES + b'"}'
    declared = await http.post(seal, content=big, headers={"Content-Type": "application/json"})
    assert problem(declared, 413, "too_large")["message_zh"] == "内容过大：最多 1 MB"

    async def chunks():
        for start in range(0, len(big), 64 * 1024):
            yield big[start:start + 64 * 1024]

    streamed = await http.post(seal, content=chunks(), headers={"Content-Type": "application/json"})
    assert "content-length" not in streamed.request.headers
    problem(streamed, 413, "too_large")
    assert await last_seq(nc) == before


async def test_a_file_over_the_upload_limit_is_a_413_and_imports_nothing(served, http, nc, db):
    before = await last_seq(nc)
    households = await db.fetchval("SELECT count(*) FROM proj_roster.households WHERE tenant = $1", served.tenant)
    imports = served.path("/imports")
    just_over = await http.post(imports, files={"file": ("residents.csv", b"x" * (MAX_UPLOAD_BYTES + 1), "text/csv")})
    assert problem(just_over, 413, "too_large")["message_en"] == "the request is too large: at most 5 MB"
    far_over = await http.post(imports, files={"file": ("residents.csv", b"x" * (2 * MAX_UPLOAD_BYTES), "text/csv")})
    problem(far_over, 413, "too_large")
    assert await last_seq(nc) == before
    assert await db.fetchval("SELECT count(*) FROM proj_roster.households WHERE tenant = $1",
                             served.tenant) == households
