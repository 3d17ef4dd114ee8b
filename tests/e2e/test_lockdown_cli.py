"""A cadre seals a building from the command line at night and follows it through `louzu lockdown`."""
import json

import pytest

from tests.support.louzu_cli import louzu, start_up, stop

pytestmark = pytest.mark.e2e


def test_a_cadre_seals_a_building_and_reads_its_status_tasks_and_notice(tmp_path):
    home = tmp_path / "var"
    up = start_up(home)
    try:
        sealed = louzu(home, "lockdown", "seal", "yinghuayuan", "38", "--reason", "302室阳性病例", "--ordered-by", "镇防控办")
        assert len(json.loads(sealed.stdout)["event_ids"]) == 2
        again = louzu(home, "lockdown", "seal", "yinghuayuan", "38", "--reason", "x", "--ordered-by", "y", check=False)
        assert again.returncode == 1 and "不能重复封控" in again.stderr and "already under lockdown" in again.stderr

        status = _until(home, ["lockdown", "status", "yinghuayuan", "--json"], lambda rows: rows)
        assert status[0]["phase"] == "sealed" and 47.9 <= status[0]["hours_left"] <= 48.0
        tasks = _until(home, ["lockdown", "tasks", "yinghuayuan", "38", "--json"], lambda rows: len(rows) == 10 and rows)
        assert [t["key"] for t in tasks][:2] == ["convene_staff", "print_roster"]

        shopping = louzu(home, "lockdown", "pass", "yinghuayuan", "38", "r1", "--household", "38-1-302",
                         "--direction", "out", "--reason", "买菜", check=False)
        assert shopping.returncode == 1 and "转运、就医除外" in shopping.stderr

        louzu(home, "lockdown", "notice", "yinghuayuan", "38", "sealing_notice", "--compound-name", "樱花苑",
              "--hotline", "021-62345678")
        notices = _until(home, ["lockdown", "notices", "yinghuayuan", "38", "--json"], lambda rows: rows)
        assert "樱花苑38号楼" in notices[0]["text_zh"] and "021-62345678" in notices[0]["text_zh"]
        early = louzu(home, "lockdown", "release", "yinghuayuan", "38", check=False)
        assert early.returncode == 1 and "提前解封必须说明理由" in early.stderr
    finally:
        stop(up)


def _until(home, args, ready, attempts: int = 100):
    import time
    for _ in range(attempts):
        value = ready(json.loads(louzu(home, *args).stdout))
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"louzu {' '.join(args)} never showed what was expected")
