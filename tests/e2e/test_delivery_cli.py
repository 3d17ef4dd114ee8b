"""A cadre at night: a resident has no blood-pressure medicine; the request jumps the queue, the
gate-post pair carries it, and a delivery before pick-up is refused with a clear message."""
import json

import pytest

from tests.support.louzu_cli import louzu, start_up, stop

pytestmark = pytest.mark.e2e


def test_an_urgent_medicine_request_goes_first_and_is_carried_to_the_door(tmp_path):
    home = tmp_path / "var"
    up = start_up(home)
    try:
        louzu(home, "delivery", "request", "yinghuayuan", "38-1-101", "--building", "38", "--items", "卫生纸",
              "--category", "daily_goods", "--source", "shop")
        louzu(home, "delivery", "request", "yinghuayuan", "38-2-502", "--building", "38", "--items", "降压药",
              "--category", "medicine", "--source", "shop", "--urgency", "urgent", "--on-behalf")
        queue = _until(home, lambda rows: len(rows) == 2 and rows)
        assert queue[0]["household_id"] == "38-2-502" and queue[0]["why"][0] == "紧急药品"
        rid = queue[0]["request_id"]
        louzu(home, "delivery", "accept", "yinghuayuan", rid)
        louzu(home, "delivery", "assign", "yinghuayuan", rid, "--assignee-id", "gate-38", "--assignee-kind",
              "gate_post_pair")
        early = louzu(home, "delivery", "deliver", "yinghuayuan", rid, check=False)
        assert early.returncode == 1 and "不能确认送达" in early.stderr and "cannot be delivered" in early.stderr
        louzu(home, "delivery", "pickup", "yinghuayuan", rid)
        louzu(home, "delivery", "deliver", "yinghuayuan", rid, "--confirmed-by-resident")
        left = _until(home, lambda rows: len(rows) == 1 and rows)
        assert left[0]["household_id"] == "38-1-101"
        mine = json.loads(louzu(home, "delivery", "mine", "yinghuayuan", "gate-38", "--json").stdout)
        assert mine == []
    finally:
        stop(up)


def _until(home, ready, attempts=100):
    import time
    for _ in range(attempts):
        value = ready(json.loads(louzu(home, "delivery", "queue", "yinghuayuan", "--json").stdout))
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the queue never showed what was expected")
