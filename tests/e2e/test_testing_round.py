"""On the demo compound: a testing round for the fourth sealed building with a staggered
call-down, two residents missed and found by the reconciliation (one bedridden, sampled at the
door), results, one positive tube, its residents transferred, the building disinfected."""
import asyncio
import json
import uuid
from datetime import datetime, timedelta, timezone

import nats
import pytest

from shared.commanding import CommandClient
from tests.support.louzu_cli import louzu, operator_nats_url, start_up, stop

pytestmark = pytest.mark.e2e


def view(home, *args):
    return json.loads(louzu(home, "lockdown", *args, "--json").stdout)


async def drive(home, nats_url: str) -> dict:
    nc = await nats.connect(nats_url)
    client = CommandClient(nc, "yinghuayuan", "lockdown")

    async def send(name, **body):
        reply = await client.send(name, {"command_id": uuid.uuid4().hex, "tenant": "yinghuayuan",
                                         "compound": "yinghuayuan", "actor": "volunteer-1", **body})
        return reply

    try:
        starts = datetime.now(timezone.utc) + timedelta(minutes=30)
        scheduled = await send("schedule_testing_round", round_id="e2e_41", buildings=["41"], site="小区中心广场",
                               starts_at=starts.isoformat(), top_floor=6, floors_per_slot=3, slot_minutes=15)
        assert scheduled["ok"], scheduled
        roster = await asyncio.to_thread(view, home, "roster", "yinghuayuan", "e2e_41")
        assert len(roster) > 20 and all(r["status"] is None for r in roster)
        missed = roster[-2:]  # the two on the ground floor, called down last
        for i, r in enumerate(roster[:-2]):
            reply = await send("check_off_sample", round_id="e2e_41", resident_id=r["resident_id"],
                               household_id=r["household_id"], tube_id=f"41-E{i // 10:02d}")
            assert reply["ok"], reply
        refused = await send("close_testing_round", round_id="e2e_41")
        assert refused["error"]["code"] == "round_not_reconciled"
        bedridden, away = missed
        assert (await send("check_off_sample", round_id="e2e_41", resident_id=bedridden["resident_id"],
                           household_id=bedridden["household_id"], method="door", tube_id="41-E99"))["ok"]
        assert (await send("mark_absent", round_id="e2e_41", resident_id=away["resident_id"],
                           household_id=away["household_id"], reason="在外地出差"))["ok"]
        assert (await send("close_testing_round", round_id="e2e_41"))["ok"]
        assert (await send("record_test_result", round_id="e2e_41", tube_id="41-E01", positive=True))["ok"]
        for tube in ("41-E00", "41-E02", "41-E99"):
            assert (await send("record_test_result", round_id="e2e_41", tube_id=tube, positive=False))["ok"]
        positive = [r for i, r in enumerate(roster[:-2]) if i // 10 == 1]
        flagged = []
        for _ in range(100):
            flagged = await asyncio.to_thread(view, home, "flagged", "yinghuayuan", "e2e_41")
            if len(flagged) == len(positive):
                break
            await asyncio.sleep(0.1)
        assert {f["resident_id"] for f in flagged} == {r["resident_id"] for r in positive}
        for r in flagged:
            assert (await send("transfer_resident", building="41", resident_id=r["resident_id"],
                               household_id=r["household_id"], facility="普陀区定点医院"))["ok"]
        assert (await send("disinfect_building", building="41"))["ok"]
        return {"scheduled": scheduled, "positive": positive, "missed": missed}
    finally:
        await nc.close()


def test_a_testing_round_on_the_demo_compound_misses_nobody(tmp_path):
    home = tmp_path / "var"
    up = start_up(home)
    try:
        demo = louzu(home, "demo")
        assert "86 households, 174 residents" in demo.stdout and "4 buildings sealed" in demo.stdout
        nats_url = operator_nats_url(home)
        outcome = asyncio.run(drive(home, nats_url))
        rounds = view(home, "roster", "yinghuayuan", "e2e_41")
        assert all(r["status"] in ("sampled", "absent") for r in rounds)
        statuses = {r["resident_id"]: (r["status"], r["method"]) for r in rounds}
        bedridden, away = outcome["missed"]
        assert statuses[bedridden["resident_id"]] == ("sampled", "door")
        assert statuses[away["resident_id"]][0] == "absent"
        transfers = [t for t in view(home, "transfers", "yinghuayuan") if t["building"] == "41"]
        assert {t["resident_id"] for t in transfers} == {r["resident_id"] for r in outcome["positive"]}
        assert [d["floors"] for d in view(home, "disinfections", "yinghuayuan") if d["building"] == "41"] == [[]]
        assert "lockdown: equal to a replay of the log" in louzu(home, "verify").stdout
    finally:
        stop(up)
